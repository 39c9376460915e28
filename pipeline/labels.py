"""Callback labels from call metadata: link each customer's calls over time and mark repeats.

Input: one row per call with ``call_id``, ``customer_id``, ``started_at`` and optionally ``ticket_id``,
``reason``, ``agent_id`` (any other columns are passed through). Definitions, for a window of W days
(pipeline.vocab.CALLBACK_WINDOWS_DAYS: 7, 14, 30):

- Linking key: ``customer_id`` (``link_by="customer"``), or customer plus ``ticket_id``
  (``"customer+ticket"``) or plus ``reason`` (``"customer+reason"``). With ticket or reason linking a customer
  with several open issues has one separate history per issue. Calls are ordered by start time in UTC; calls
  with the same start time keep their file order.
- Repeat: ``is_repeat_<W>d = 1`` when the previous call with the same key started at most W x 24 h before
  (inclusive; same-day and same-second calls count). ``repeat_of_<W>d`` is that previous call's id.
- Callback: only where the whole window was observed (started_at + W days <= end of data, where the end of
  data is ``as_of`` or else the latest ``started_at`` in the file): ``callback_<W>d = 1`` when the next call with
  the same key starts at most W x 24 h later, else 0. Otherwise it is left empty (censored), never 0, and also
  when a repeat was already seen: keeping only the late calls that happened to repeat early would bias the
  labels (and FCR) towards callbacks.
- Issue: a chain of calls with the same key in which each call is a repeat of the one before;
  ``issue_<W>d`` is the call id of the chain's first call (pipeline.callmetrics counts FCR over these).
- ``days_since_previous``: days since the previous call with the same key (past information only).
- Time zones: ``started_at`` is ISO 8601; a value with an offset (``Z``, ``-05:00``) is taken as written, a naive
  value is local time in ``default_timezone`` (IANA name, default UTC; an ambiguous local time at a DST change
  is read as the first occurrence, a non-existent one is shifted forward). All comparisons are in UTC.
- With ``as_of``, calls that start after it are ignored, as if the data were extracted at that moment.
- Bad rows (missing call_id/customer_id/started_at or the selected ticket_id/reason, unparseable started_at,
  a call_id already used by an earlier row) are skipped with one warning listing each row (1-based data row,
  header excluded) and its cause; with ``strict=True`` they raise MetadataError instead.
- Left censoring is not corrected: the first calls in the data may be repeats of calls made before it starts.
"""

from __future__ import annotations

import logging
import re
import warnings
import zoneinfo
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, get_args

import numpy as np
import pandas as pd
from pandas.api.types import is_datetime64_any_dtype, is_float_dtype

from pipeline.vocab import CALLBACK_WINDOWS_DAYS

log = logging.getLogger(__name__)

LinkBy = Literal["customer", "customer+ticket", "customer+reason"]
LINK_BY: tuple[str, ...] = get_args(LinkBy)
# Extra key columns (besides customer_id) for each linking mode.
LINK_COLUMNS: dict[str, tuple[str, ...]] = {
    "customer": (),
    "customer+ticket": ("ticket_id",),
    "customer+reason": ("reason",),
}
REQUIRED_COLUMNS = ("call_id", "customer_id", "started_at")
ID_COLUMNS = ("call_id", "customer_id", "ticket_id", "reason", "agent_id")
MAX_LISTED_PROBLEMS = 20
_ROW = "_source_row"
# An explicit UTC offset or Z after the time part (a bare date like 2024-01-05 must not read as offset -05).
_OFFSET = re.compile(r"[T ]\d{1,2}(?::?\d{2}(?::?\d{2}(?:[.,]\d+)?)?)?\s*(?:Z|[+-]\d{2}(?::?\d{2})?)$", re.IGNORECASE)


class MetadataError(ValueError):
    """The metadata file or its rows cannot be used; the message names the file, rows and causes."""


@dataclass(frozen=True)
class RowProblem:
    row: int      # 1-based data row, header excluded
    cause: str


@dataclass(frozen=True)
class LabelOptions:
    """How calls are linked and labelled. ``window_days`` takes one window or several."""

    window_days: int | tuple[int, ...] = CALLBACK_WINDOWS_DAYS
    link_by: LinkBy = "customer"
    as_of: str | pd.Timestamp | None = None
    default_timezone: str = "UTC"
    strict: bool = False
    windows: tuple[int, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        raw = (self.window_days,) if isinstance(self.window_days, (int, np.integer)) else tuple(self.window_days)
        if not raw or any(isinstance(w, bool) or not isinstance(w, (int, np.integer)) or w <= 0 for w in raw):
            raise ValueError(f"window_days must be positive whole days, got {self.window_days!r}")
        object.__setattr__(self, "windows", tuple(sorted({int(w) for w in raw})))
        if self.link_by not in LINK_BY:
            raise ValueError(f"link_by must be one of {', '.join(LINK_BY)}, got {self.link_by!r}")
        try:
            zoneinfo.ZoneInfo(self.default_timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
            raise ValueError(f"unknown time zone {self.default_timezone!r} (use an IANA name like Europe/Berlin)")
        self.as_of_utc()  # fail early on an unparseable as_of

    def as_of_utc(self) -> pd.Timestamp | None:
        if self.as_of is None:
            return None
        parsed = parse_timestamps(pd.Series([self.as_of]), self.default_timezone).iloc[0]
        if pd.isna(parsed):
            raise ValueError(f"as_of {self.as_of!r} is not an ISO 8601 date/time")
        return parsed

    @property
    def key_columns(self) -> tuple[str, ...]:
        return ("customer_id",) + LINK_COLUMNS[self.link_by]


def label_columns(window: int) -> tuple[str, str, str, str]:
    """Names of the columns added for one window: is_repeat, repeat_of, callback, issue."""
    return (f"is_repeat_{window}d", f"repeat_of_{window}d", f"callback_{window}d", f"issue_{window}d")


def load_metadata(path: str | Path) -> pd.DataFrame:
    """Read call metadata from CSV or Parquet, as written (ids as text). Raises MetadataError naming the file."""
    path = Path(path)
    if not path.is_file():
        raise MetadataError(f"{path}: no such file")
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            frame = pd.read_parquet(path)
        elif suffix in (".csv", ".txt"):
            # Ids stay text ("007" is not 7); only a blank cell is missing. A row with more cells than the
            # header must fail, not silently become an index or lose cells.
            with warnings.catch_warnings():
                warnings.simplefilter("error", pd.errors.ParserWarning)
                frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig", index_col=False)
        else:
            raise MetadataError(f"{path}: unsupported metadata format {suffix!r} (use .csv or .parquet)")
    except MetadataError:
        raise
    except Exception as exc:  # pandas/pyarrow parse errors carry the line or column that failed
        raise MetadataError(f"{path}: cannot read metadata: {exc}") from exc
    frame.attrs["source"] = str(path)
    return frame


def parse_timestamps(values: pd.Series, default_timezone: str = "UTC") -> pd.Series:
    """ISO 8601 text or datetimes to UTC timestamps; naive values are local to default_timezone; NaT if bad."""
    if is_datetime64_any_dtype(values):
        stamps = values if values.dt.tz is not None else _localize(values, default_timezone)
        return stamps.dt.tz_convert("UTC").astype("datetime64[us, UTC]")
    text = values.astype("string").str.strip()
    present = text.notna() & (text != "")
    aware = present & text.str.contains(_OFFSET, na=False)
    naive = present & ~aware
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[us, UTC]")
    if aware.any():
        out[aware] = _to_datetime(text[aware], utc=True).dt.as_unit("us")
    if naive.any():
        local = _to_datetime(text[naive], utc=False)
        out[naive] = _localize(local, default_timezone).dt.tz_convert("UTC").dt.as_unit("us")
    return out


def _to_datetime(text: pd.Series, utc: bool) -> pd.Series:
    """Parse all at once; if pandas refuses the batch (one odd value, e.g. an offset on a naive-looking value),
    parse value by value so only the odd ones become NaT (a bad row), not the whole file an error."""
    try:
        parsed = pd.to_datetime(text, format="ISO8601", utc=utc, errors="coerce")
        if utc or parsed.dt.tz is None:
            return parsed
    except (TypeError, ValueError):
        pass
    one = lambda v: pd.to_datetime(v, format="ISO8601", utc=utc, errors="coerce")
    values = [one(v) for v in text]
    if not utc:
        values = [v if v is pd.NaT or v.tzinfo is None else pd.NaT for v in values]
    return pd.Series(pd.to_datetime(values, utc=utc), index=text.index)


def _localize(stamps: pd.Series, timezone: str) -> pd.Series:
    return stamps.dt.tz_localize(
        timezone, ambiguous=np.ones(len(stamps), dtype=bool), nonexistent="shift_forward"
    )


def _as_text(values: pd.Series) -> pd.Series:
    """Ids and categories as stripped text, blank -> missing; integral floats (Parquet ints with nulls) lose '.0'."""
    if is_float_dtype(values) and values.dropna().eq(values.dropna().round()).all():
        values = values.astype("Int64")
    text = values.astype("string").str.strip()
    return text.mask(text == "")


def _normalise_columns(frame: pd.DataFrame) -> pd.DataFrame:
    known = set(REQUIRED_COLUMNS) | set(ID_COLUMNS)
    renames = {c: str(c).strip().lower() for c in frame.columns if str(c).strip().lower() in known}
    return frame.rename(columns=renames)


def validate_metadata(
    frame: pd.DataFrame, options: LabelOptions, source: str | None = None
) -> tuple[pd.DataFrame, list[RowProblem]]:
    """Good rows (ids as text, ``started_at_utc`` added) and the problems of the bad ones.

    Raises MetadataError when a required column is missing altogether.
    """
    source = source or frame.attrs.get("source", "<metadata>")
    calls = _normalise_columns(frame).reset_index(drop=True)
    needed = REQUIRED_COLUMNS + LINK_COLUMNS[options.link_by]
    missing = [c for c in needed if c not in calls.columns]
    if missing:
        why = f" (needed for --link-by {options.link_by})" if set(missing) & {"ticket_id", "reason"} else ""
        raise MetadataError(
            f"{source}: missing column(s) {', '.join(missing)}{why}; found: {', '.join(map(str, calls.columns))}"
        )
    for column in ID_COLUMNS:
        if column in calls.columns:
            calls[column] = _as_text(calls[column])
    calls[_ROW] = np.arange(1, len(calls) + 1)
    calls["started_at_utc"] = parse_timestamps(calls["started_at"], options.default_timezone)

    causes: dict[int, list[str]] = {}

    def flag(mask: pd.Series, describe) -> None:
        for index in np.flatnonzero(mask.to_numpy(dtype=bool)):
            causes.setdefault(int(index), []).append(describe(int(index)))

    flag(calls["call_id"].isna(), lambda i: "missing call_id")
    flag(calls["customer_id"].isna(), lambda i: "missing customer_id")
    raw_time = calls["started_at"].astype("string").str.strip()
    blank_time = raw_time.isna() | (raw_time == "")
    flag(blank_time, lambda i: "missing started_at")
    flag(~blank_time & calls["started_at_utc"].isna(),
         lambda i: f"unparseable started_at {calls['started_at'].iloc[i]!r} (expected ISO 8601, "
                   "e.g. 2024-01-05T09:30:00+01:00)")
    for column in LINK_COLUMNS[options.link_by]:
        flag(calls[column].isna(), lambda i, c=column: f"missing {c} (needed for --link-by {options.link_by})")
    # Duplicates among otherwise good rows only: a bad first row must not take a good second row down with it.
    clean = ~calls.index.isin(list(causes))
    first_row = calls[_ROW].where(clean).groupby(calls["call_id"], sort=False).transform("min")
    flag(clean & first_row.notna() & (first_row != calls[_ROW]),
         lambda i: f"duplicate call_id {calls['call_id'].iloc[i]!r} (first at row {int(first_row.iloc[i])})")

    problems = [RowProblem(row=i + 1, cause="; ".join(c)) for i, c in sorted(causes.items())]
    good = calls.drop(index=list(causes)).reset_index(drop=True)
    return good, problems


def describe_problems(source: str, problems: list[RowProblem]) -> str:
    listed = "; ".join(f"row {p.row}: {p.cause}" for p in problems[:MAX_LISTED_PROBLEMS])
    more = f"; and {len(problems) - MAX_LISTED_PROBLEMS} more" if len(problems) > MAX_LISTED_PROBLEMS else ""
    return f"{source}: {len(problems)} bad row(s): {listed}{more}"


def label_calls(frame: pd.DataFrame, options: LabelOptions = LabelOptions()) -> pd.DataFrame:
    """Add repeat and callback labels (see module docstring) to call metadata, keeping the input row order.

    Bad rows are dropped with a warning (``options.strict``: MetadataError); the dropped rows are listed in
    ``result.attrs["skipped_rows"]`` and the end of data used for censoring in ``result.attrs["end_of_data"]``.
    """
    source = frame.attrs.get("source", "<metadata>")
    calls, problems = validate_metadata(frame, options, source)
    if problems:
        message = describe_problems(source, problems)
        if options.strict:
            raise MetadataError(message)
        log.warning("skipping %s", message)
    as_of = options.as_of_utc()
    if as_of is not None:
        later = calls["started_at_utc"] > as_of
        if later.any():
            log.info("%s: ignoring %d call(s) after as_of %s", source, int(later.sum()), as_of.isoformat())
        calls = calls[~later].reset_index(drop=True)
    if calls.empty:
        raise MetadataError(f"{source}: no valid calls to label" + (" on or before as_of" if as_of else ""))
    end_of_data = as_of if as_of is not None else calls["started_at_utc"].max()

    keys = list(options.key_columns)
    ordered = calls.sort_values(keys + ["started_at_utc", _ROW], kind="stable")
    by_key = ordered.groupby(keys, sort=False)
    start = ordered["started_at_utc"]
    since_previous = start - by_key["started_at_utc"].shift(1)
    until_next = by_key["started_at_utc"].shift(-1) - start
    previous_id = by_key["call_id"].shift(1)

    ordered = ordered.assign(days_since_previous=since_previous / pd.Timedelta(days=1))
    for window in options.windows:
        is_repeat, repeat_of, callback, issue = label_columns(window)
        span = pd.Timedelta(days=window)
        repeated = (since_previous <= span).fillna(False).astype(bool)
        followed = (until_next <= span).fillna(False).astype(bool)
        observed = start + span <= end_of_data
        # Only fully observed windows get a label, whatever happened in them: keeping the late calls whose repeat
        # happened to come early (and dropping the rest) would leave only positives at the end of the data and
        # bias both the training labels and FCR upwards of the truth.
        labels = pd.Series(pd.NA, index=ordered.index, dtype="Int8")
        labels[observed] = followed[observed].astype("int8")
        ordered[is_repeat] = repeated.astype("int8")
        ordered[repeat_of] = previous_id.where(repeated)
        ordered[callback] = labels
        ordered[issue] = ordered["call_id"].where(~repeated).ffill()  # new key => not a repeat => new chain

    result = ordered.sort_values(_ROW).drop(columns=[_ROW]).reset_index(drop=True)
    result.attrs = {"source": source, "skipped_rows": problems, "end_of_data": end_of_data}
    return result


def write_labels(labels: pd.DataFrame, path: str | Path) -> None:
    """CSV (times as ISO 8601 UTC, censored labels empty) or Parquet (typed), by the file suffix."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    out = labels.copy()
    out.attrs = {}  # run details (skipped rows, end of data) are not file metadata
    if path.suffix.lower() == ".parquet":
        out.to_parquet(path, index=False)
        return
    out["started_at_utc"] = out["started_at_utc"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    out.to_csv(path, index=False)
