"""RCR / FCR on hand-made call histories; expected numbers worked out by hand in the comments."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest

from histories import HISTORY_CSV  # the hand-made call history both test files reason about
from pipeline.callmetrics import MetricsOptions, compute_metrics, format_metrics_table, iso_week
from pipeline.cli import main
from pipeline.labels import LabelOptions, label_calls, write_labels

# End of data = d1 (2024-04-02T00:00Z). Per window, calls linked by customer:
#  7d: chains [a1 a2] [a3] [a4] [b1] [c1 c2] [d1]; repeats a2, c2. One-call chains: a3 and b1 observed without
#      a repeat (resolved), a4 and d1 too close to the end (censored).
# 14d: chains [a1 a2 a3] [a4] [b1] [c1 c2] [d1]; repeats a2 a3 c2; b1 resolved; a4, d1 and [c1 c2] censored
#      (an issue is censored when its first call's window runs past the end, even if a repeat was already seen:
#      counting only the late issues that went wrong early would bias FCR down).
# 30d: chains [a1 a2 a3 a4] [b1] [c1 c2] [d1]; repeats a2 a3 a4 c2; b1 (30 days not yet seen), [c1 c2] and d1
#      censored; [a1 ...] (window to 03-31) is the one known issue, not resolved.

# 7d breakdowns: calls count in their own group, issues in the group of their first call.
#  reason: billing calls a1 a2 a3 c1 c2 (repeats a2 c2), issues a1 a3 c1 (a3 resolved);
#          internet calls a4 b1, issues a4 (censored) b1 (resolved); (missing) d1 (censored: FCR n/a).
#  agent:  ann calls a1 a3 b1 c2 d1 (repeat c2), issues a1 a3 b1 d1 (a3 b1 resolved, d1 censored);
#          bob calls a2 a4 c1 (repeat a2), issues a4 (censored) c1 (not resolved).
#  week:   W09 a1 a2 | W10 a3 b1 | W13 a4 c1 | W14 c2 d1 (ISO weeks of 2024, UTC).
EXPECTED_7D_BREAKDOWN = """\
window_days group_by group     calls repeat_calls rcr_pct issues issues_censored issues_resolved_first_contact fcr_pct
7           overall  all       8     2            25.000  6      2               2                             50.000
7           reason   (missing) 1     0            0.000   1      1               0                             -
7           reason   billing   5     2            40.000  3      0               1                             33.333
7           reason   internet  2     0            0.000   2      1               1                             100.000
7           agent    ann       5     1            20.000  4      1               2                             66.667
7           agent    bob       3     1            33.333  2      1               0                             0.000
7           week     2024-W09  2     1            50.000  1      0               0                             0.000
7           week     2024-W10  2     0            0.000   2      0               2                             100.000
7           week     2024-W13  2     0            0.000   2      1               0                             0.000
7           week     2024-W14  2     1            50.000  1      1               0                             -
"""


def history(text: str = HISTORY_CSV) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)


def literal_table(text: str) -> pd.DataFrame:
    table = pd.read_csv(io.StringIO(text), sep=r"\s+", dtype=str, keep_default_na=False)
    return table.replace("-", "")


def test_overall_rcr_and_fcr_for_each_window():
    metrics = compute_metrics(label_calls(history(), LabelOptions(window_days=(7, 14, 30))))
    assert metrics[["window_days", "group_by", "group", "calls", "repeat_calls", "issues", "issues_censored",
                    "issues_resolved_first_contact"]].values.tolist() == [
        [7, "overall", "all", 8, 2, 6, 2, 2],
        [14, "overall", "all", 8, 3, 5, 3, 1],
        [30, "overall", "all", 8, 4, 4, 3, 0],
    ]
    assert metrics["rcr_pct"].tolist() == pytest.approx([25.0, 37.5, 50.0])
    # FCR leaves censored issues out: 2 of 4, 1 of 2, 0 of 1.
    assert metrics["fcr_pct"].tolist() == pytest.approx([50.0, 50.0, 0.0])


def test_breakdowns_by_reason_agent_and_week():
    labels = label_calls(history(), LabelOptions(window_days=7))
    metrics = compute_metrics(labels, MetricsOptions(by=("reason", "agent", "week")))
    expected = literal_table(EXPECTED_7D_BREAKDOWN)
    actual = metrics.astype(object).where(metrics.notna(), "")
    for column in ("rcr_pct", "fcr_pct"):
        actual[column] = [f"{v:.3f}" if v != "" else "" for v in actual[column]]
    pd.testing.assert_frame_equal(actual.astype(str), expected)


def test_linking_choice_changes_fcr_for_a_customer_with_several_issues():
    # K has tickets T1 (k1, k3 three days later) and T2 (k2, k4 eighteen days later); k5 only sets the end
    # of data; M's T1 is another customer's ticket. 7-day window:
    #   by ticket:   issues [k1 k3] [k2] [m1] [k4] [k5]: k2 m1 k4 resolved, k5 censored -> FCR 3/4; repeats k3.
    #   by customer: issues [k1 k2 k3] [m1] [k4] [k5]:  m1 k4 resolved, k5 censored    -> FCR 2/3; repeats k2 k3.
    text = """\
call_id,customer_id,started_at,ticket_id
k1,K,2024-05-01T10:00:00Z,T1
k2,K,2024-05-02T10:00:00Z,T2
m1,M,2024-05-03T10:00:00Z,T1
k3,K,2024-05-04T10:00:00Z,T1
k4,K,2024-05-20T10:00:00Z,T2
k5,K,2024-06-30T00:00:00Z,T9
"""
    by_ticket = compute_metrics(label_calls(history(text), LabelOptions(window_days=7, link_by="customer+ticket")))
    by_customer = compute_metrics(label_calls(history(text), LabelOptions(window_days=7, link_by="customer")))
    assert by_ticket.loc[0, ["repeat_calls", "issues", "issues_censored", "issues_resolved_first_contact"]].tolist() == [1, 5, 1, 3]
    assert by_ticket.loc[0, "fcr_pct"] == pytest.approx(75.0)
    assert by_ticket.loc[0, "rcr_pct"] == pytest.approx(100 / 6)
    assert by_customer.loc[0, ["repeat_calls", "issues", "issues_censored", "issues_resolved_first_contact"]].tolist() == [2, 4, 1, 2]
    assert by_customer.loc[0, "fcr_pct"] == pytest.approx(200 / 3)


def test_iso_weeks_follow_the_reporting_time_zone_and_iso_years():
    stamps = pd.Series(pd.to_datetime(["2024-03-04T04:30:00Z", "2024-12-30T12:00:00Z", "2021-01-03T12:00:00Z"], utc=True))
    # 04:30Z Monday is still Sunday evening in New York; Dec 30 2024 is in ISO week 1 of 2025; Jan 3 2021 in 2020-W53.
    assert iso_week(stamps).tolist() == ["2024-W10", "2025-W01", "2020-W53"]
    assert iso_week(stamps, "America/New_York").tolist() == ["2024-W09", "2025-W01", "2020-W53"]


def test_metrics_from_labels_read_back_from_csv(tmp_path: Path):
    labels = label_calls(history(), LabelOptions())
    write_labels(labels, tmp_path / "labels.csv")
    options = MetricsOptions(by=("reason", "week"))
    pd.testing.assert_frame_equal(
        compute_metrics(pd.read_csv(tmp_path / "labels.csv"), options), compute_metrics(labels, options)
    )


def test_grouping_needs_its_column():
    labels = label_calls(history("call_id,customer_id,started_at\nq1,Q,2024-01-01\n"), LabelOptions(window_days=7))
    with pytest.raises(ValueError, match="cannot group by agent: the metadata has no 'agent_id' column"):
        compute_metrics(labels, MetricsOptions(by=("agent",)))
    with pytest.raises(ValueError, match="unknown grouping"):
        MetricsOptions(by=("colour",))


def test_table_is_aligned():
    metrics = compute_metrics(label_calls(history(), LabelOptions(window_days=7)), MetricsOptions(by=("reason",)))
    lines = format_metrics_table(metrics).splitlines()
    assert lines[0].split() == ["window", "by", "group", "calls", "repeats", "RCR", "%", "issues", "censored",
                                "FCR", "issues", "FCR", "%"]
    assert len(lines) == 2 + 4 and len({len(line) for line in lines}) == 1  # last column right-aligned
    assert lines[3].split() == ["7d", "reason", "(missing)", "1", "0", "0.0", "1", "1", "0", "n/a"]
    assert lines[4].split() == ["7d", "reason", "billing", "5", "2", "40.0", "3", "0", "1", "33.3"]


def test_cli_metrics_end_to_end(tmp_path: Path, capsys):
    metadata = tmp_path / "calls.csv"
    metadata.write_text(HISTORY_CSV)
    out = tmp_path / "metrics.csv"
    assert main(["metrics", str(metadata), "--window", "7", "--by", "reason", "agent", "week", "-o", str(out)]) == 0
    pd.testing.assert_frame_equal(
        pd.read_csv(out, dtype=str, keep_default_na=False), literal_table(EXPECTED_7D_BREAKDOWN)
    )
    table = capsys.readouterr().out.splitlines()
    assert table[0].startswith("window  by") and len(table) == 2 + 10
    assert table[2].split() == ["7d", "overall", "all", "8", "2", "25.0", "6", "2", "2", "50.0"]


def test_cli_metrics_errors(tmp_path: Path, capsys):
    metadata = tmp_path / "calls.csv"
    metadata.write_text("call_id,customer_id,started_at\nq1,Q,2024-01-01\n")
    assert main(["metrics", str(metadata), "--by", "agent"]) == 1
    assert "no 'agent_id' column" in capsys.readouterr().err
    assert main(["metrics", str(metadata), "--link-by", "customer+reason"]) == 1
    assert "missing column(s) reason" in capsys.readouterr().err
    assert main(["metrics", str(metadata), "--as-of", "soon"]) == 2
    assert main(["metrics", str(metadata), "--window", "7"]) == 0
