"""Contact-centre repeat metrics from labelled calls (the output of pipeline.labels.label_calls).

For each window W (days) and each group (overall, or by reason / agent_id / ISO week):

- Repeat Call Rate, ``rcr_pct`` = repeat_calls / calls x 100, where ``calls`` counts every labelled call in the
  group and ``repeat_calls`` those with ``is_repeat_<W>d = 1`` (a call whose previous linked call started at most
  W days earlier). Right censoring does not affect it: whether a call is a repeat depends only on the past.
- First Contact Resolution, ``fcr_pct`` = issues_resolved_first_contact / (issues - issues_censored) x 100.
  An issue is a chain of linked calls (``issue_<W>d``), each call a repeat of the one before. It was resolved on
  first contact when the chain has exactly one call and that call's ``callback_<W>d`` is 0, i.e. its whole
  window was observed without a repeat. A one-call chain whose window reaches past the end of the data is
  censored: its outcome is unknown, so it is left out of both numerator and denominator (counted in
  ``issues_censored``). A chain with two or more calls is known not to be resolved on first contact.
- Grouping: a call counts in the group of its own reason / agent / week; an issue counts in the group of its
  first call (the agent who took the first contact, the reason and week it was opened). Weeks are ISO weeks
  (``2024-W05``) of the start time in ``week_timezone``. A missing reason or agent is its own group
  ``(missing)``. A percentage is empty (NaN) when its denominator is 0.
- Left censoring is not corrected: the first calls in the data may be repeats of calls made before it starts,
  so RCR is slightly low (and FCR slightly high) for the first W days of data.
"""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass
from typing import Literal, get_args

import pandas as pd
from pandas.api.types import is_datetime64_any_dtype

from pipeline.labels import label_columns

GroupBy = Literal["reason", "agent", "week"]
GROUP_BY: tuple[str, ...] = get_args(GroupBy)
GROUP_COLUMNS = {"reason": "reason", "agent": "agent_id", "week": "week"}
MISSING_GROUP = "(missing)"
METRIC_COLUMNS = (
    "window_days", "group_by", "group", "calls", "repeat_calls", "rcr_pct",
    "issues", "issues_censored", "issues_resolved_first_contact", "fcr_pct",
)
_CALLBACK_COLUMN = re.compile(r"^callback_(\d+)d$")


@dataclass(frozen=True)
class MetricsOptions:
    """Breakdowns besides the overall row, and the time zone in which weeks start."""

    by: tuple[GroupBy, ...] = ()
    week_timezone: str = "UTC"

    def __post_init__(self) -> None:
        unknown = [b for b in self.by if b not in GROUP_BY]
        if unknown:
            raise ValueError(f"unknown grouping {unknown}; choose from {', '.join(GROUP_BY)}")
        try:
            zoneinfo.ZoneInfo(self.week_timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
            raise ValueError(f"unknown time zone {self.week_timezone!r}")


def labelled_windows(labels: pd.DataFrame) -> tuple[int, ...]:
    """The windows (days) for which ``labels`` carries callback columns."""
    return tuple(sorted(int(m.group(1)) for c in labels.columns if (m := _CALLBACK_COLUMN.match(str(c)))))


def iso_week(started_at_utc: pd.Series, timezone: str = "UTC") -> pd.Series:
    """'YYYY-Www' ISO week of each start time, as seen in ``timezone``."""
    stamps = started_at_utc
    if not is_datetime64_any_dtype(stamps):  # labels read back from CSV
        stamps = pd.to_datetime(stamps, format="ISO8601", utc=True)
    calendar = stamps.dt.tz_convert(timezone).dt.isocalendar()
    return calendar["year"].astype(str) + "-W" + calendar["week"].astype(str).str.zfill(2)


def compute_metrics(labels: pd.DataFrame, options: MetricsOptions = MetricsOptions()) -> pd.DataFrame:
    """RCR and FCR per window: one overall row, then one row per group of each breakdown in ``options.by``."""
    windows = labelled_windows(labels)
    if not windows:
        raise ValueError("no callback_<W>d columns: pass the output of pipeline.labels.label_calls")
    calls = labels.copy()
    for grouping in options.by:
        column = GROUP_COLUMNS[grouping]
        if grouping == "week":
            calls["week"] = iso_week(calls["started_at_utc"], options.week_timezone)
        elif column not in calls.columns:
            raise ValueError(f"cannot group by {grouping}: the metadata has no {column!r} column")
        calls[column] = calls[column].astype("string").fillna(MISSING_GROUP)

    calls["_overall"] = "all"
    tables = []
    for window in windows:
        is_repeat, _, callback, issue = label_columns(window)
        chain_length = calls.groupby(issue)[issue].transform("size")
        one_call = chain_length == 1
        # An issue whose first call's window was not fully observed is censored, however it went (see labels).
        calls["_censored"] = calls[callback].isna()
        calls["_resolved"] = one_call & (calls[callback] == 0).fillna(False).astype(bool)
        first_calls = calls[calls["call_id"] == calls[issue]]
        for grouping in ("overall", *options.by):
            column = "_overall" if grouping == "overall" else GROUP_COLUMNS[grouping]
            table = _summarise(calls, first_calls, is_repeat, column)
            tables.append(table.assign(window_days=window, group_by=grouping))
    return pd.concat(tables, ignore_index=True)[list(METRIC_COLUMNS)]


def _summarise(calls: pd.DataFrame, first_calls: pd.DataFrame, is_repeat: str, column: str) -> pd.DataFrame:
    """One row per value of ``column``: calls in the group by their own value, issues by their first call's."""
    per_call = calls.groupby(column)[is_repeat].agg(calls="size", repeat_calls="sum")
    per_issue = first_calls.groupby(column).agg(
        issues=("_censored", "size"),
        issues_censored=("_censored", "sum"),
        issues_resolved_first_contact=("_resolved", "sum"),
    )
    # Every issue's first call is a call of the same group, so groups without issues only lack issue counts.
    table = per_call.join(per_issue, how="left").fillna(0).astype("int64").sort_index()
    known = table["issues"] - table["issues_censored"]
    table["rcr_pct"] = 100.0 * table["repeat_calls"] / table["calls"]
    table["fcr_pct"] = (100.0 * table["issues_resolved_first_contact"] / known.where(known > 0)).astype(float)
    return table.rename_axis("group").reset_index()


def format_metrics_table(metrics: pd.DataFrame) -> str:
    """An aligned plain-text table: text columns left, numbers right, percentages to one decimal."""
    headers = ("window", "by", "group", "calls", "repeats", "RCR %",
               "issues", "censored", "FCR issues", "FCR %")
    text_columns = 3

    def pct(value: float) -> str:
        return "n/a" if pd.isna(value) else f"{value:.1f}"

    body = [
        (f"{r.window_days}d", r.group_by, str(r.group), str(r.calls), str(r.repeat_calls), pct(r.rcr_pct),
         str(r.issues), str(r.issues_censored), str(r.issues_resolved_first_contact), pct(r.fcr_pct))
        for r in metrics.itertuples(index=False)
    ]
    widths = [max(len(row[i]) for row in [headers, *body]) for i in range(len(headers))]

    def line(cells) -> str:
        return "  ".join(
            cell.ljust(w) if i < text_columns else cell.rjust(w) for i, (cell, w) in enumerate(zip(cells, widths))
        ).rstrip()

    return "\n".join([line(headers), line("-" * w for w in widths), *(line(row) for row in body)])
