"""Callback labels on hand-made call histories; every expected value was worked out by hand (see comments)."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import pandas as pd
import pytest

from histories import HISTORY_CSV  # the hand-made call history both test files reason about
from pipeline.cli import main
from pipeline.labels import (
    LabelOptions,
    MetadataError,
    RowProblem,
    label_calls,
    load_metadata,
    parse_timestamps,
    validate_metadata,
    write_labels,
)

# Customer linking, all times UTC. End of data = d1 = 2024-04-02T00:00Z, so a negative needs
# start <= 03-26T00:00 (7d), <= 03-19T00:00 (14d), <= 03-03T00:00 (30d); otherwise censored.
#   a1 -> a2 same day (6 h later): a2 repeats a1 in every window.
#   a2 -> a3 8.75 days: a repeat for 14d and 30d, not 7d.
#   a3 -> a4 20 days: a repeat for 30d only; a4 is the last of A and too late for any negative.
#   b1 alone: negative for 7d and 14d, censored for 30d.
#   c1 -> c2 exactly 7 days (inclusive): c1 positive for 7d; for 14d and 30d its window runs past the end, so it
#   is censored although c2 was seen (labelling only observed windows keeps late labels unbiased).
#   a3 -> a4 is a 30-day repeat, but a3's 30-day window ends 04-09, after the end: censored for 30d.
#   d1 alone, the last call: censored.

EXPECTED_HISTORY = """\
call_id is_repeat_7d repeat_of_7d callback_7d issue_7d is_repeat_14d repeat_of_14d callback_14d issue_14d is_repeat_30d repeat_of_30d callback_30d issue_30d
a1      0            -            1           a1       0             -             1            a1        0             -             1            a1
a2      1            a1           0           a1       1             a1            1            a1        1             a1            1            a1
a3      0            -            0           a3       1             a2            0            a1        1             a2            -            a1
a4      0            -            -           a4       0             -             -            a4        1             a3            -            a1
b1      0            -            0           b1       0             -             0            b1        0             -             -            b1
c1      0            -            1           c1       0             -             -            c1        0             -             -            c1
c2      1            c1           -           c1       1             c1            -            c1        1             c1            -            c1
d1      0            -            -           d1       0             -             -            d1        0             -             -            d1
"""


def literal_table(text: str) -> pd.DataFrame:
    """A whitespace-aligned table as text; '-' stands for an empty (censored / not applicable) cell."""
    table = pd.read_csv(io.StringIO(text), sep=r"\s+", dtype=str, keep_default_na=False)
    return table.replace("-", "")


def as_text(frame: pd.DataFrame, columns) -> pd.DataFrame:
    return frame[list(columns)].astype("string").fillna("").astype(str).reset_index(drop=True)


def frame_from_csv(text: str, source: str = "history.csv") -> pd.DataFrame:
    frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    frame.attrs["source"] = source
    return frame


def assert_labels(actual: pd.DataFrame, expected_text: str) -> None:
    expected = literal_table(expected_text)
    pd.testing.assert_frame_equal(as_text(actual, expected.columns), expected)


def test_censored_end_same_day_and_each_window():
    labels = label_calls(frame_from_csv(HISTORY_CSV), LabelOptions(window_days=(7, 14, 30)))
    assert_labels(labels, EXPECTED_HISTORY)
    assert labels.attrs["end_of_data"] == pd.Timestamp("2024-04-02T00:00:00Z")
    assert labels.loc[1:3, "days_since_previous"].tolist() == [0.25, 8.75, 20.0]
    assert labels["days_since_previous"].isna().tolist() == [True, False, False, False, True, True, False, True]


def test_single_window_only_adds_its_columns():
    labels = label_calls(frame_from_csv(HISTORY_CSV), LabelOptions(window_days=14))
    assert [c for c in labels.columns if c.endswith("d") and "_" in c and c[-2].isdigit()] == [
        "is_repeat_14d", "repeat_of_14d", "callback_14d", "issue_14d"
    ]
    assert labels["callback_14d"].tolist()[:3] == [1, 1, 0]


def test_as_of_ignores_later_calls_and_moves_the_censoring_line():
    # as_of 2024-03-31T00:00Z drops c2 and d1. c1 (03-25 08:00) no longer has a repeat and its 7-day
    # window ends 04-01 08:00 > as_of: censored. b1 and a3 stay negative for 7 days.
    labels = label_calls(frame_from_csv(HISTORY_CSV), LabelOptions(window_days=7, as_of="2024-03-31T00:00:00Z"))
    assert_labels(labels, """\
call_id is_repeat_7d callback_7d
a1      0            1
a2      1            0
a3      0            0
a4      0            -
b1      0            0
c1      0            -
""")
    # A late as_of observes every window: nothing left censored among calls at least 7 days before it.
    late = label_calls(frame_from_csv(HISTORY_CSV), LabelOptions(window_days=7, as_of="2024-05-01"))
    assert late["callback_7d"].tolist() == [1, 0, 0, 0, 0, 1, 0, 0]


# Customer K has several open issues at once; customer M reuses ticket id T1 (tickets are per customer).
# k5 only sets the end of data (2024-06-30) so that every earlier window is observed.
SEVERAL_ISSUES_CSV = """\
call_id,customer_id,started_at,ticket_id,reason
k1,K,2024-05-01T10:00:00Z,T1,billing
k2,K,2024-05-02T10:00:00Z,T2,internet
m1,M,2024-05-03T10:00:00Z,T1,billing
k3,K,2024-05-04T10:00:00Z,T1,billing
k4,K,2024-05-20T10:00:00Z,T2,billing
k5,K,2024-06-30T00:00:00Z,T9,other
"""


def test_several_open_issues_customer_linking_merges_them():
    # One chain for K: k1 -> k2 (1 day) -> k3 (2 days); k4 is 16 days after k3; k5 41 days after k4.
    labels = label_calls(frame_from_csv(SEVERAL_ISSUES_CSV), LabelOptions(window_days=7, link_by="customer"))
    assert_labels(labels, """\
call_id is_repeat_7d repeat_of_7d callback_7d issue_7d
k1      0            -            1           k1
k2      1            k1           1           k1
m1      0            -            0           m1
k3      1            k2           0           k1
k4      0            -            0           k4
k5      0            -            -           k5
""")


def test_several_open_issues_ticket_linking_keeps_chains_apart():
    # K/T1: k1 -> k3 (3 days). K/T2: k2 -> k4 (18 days: a repeat for 30d only). M/T1 is not K's T1.
    labels = label_calls(
        frame_from_csv(SEVERAL_ISSUES_CSV), LabelOptions(window_days=(7, 30), link_by="customer+ticket")
    )
    assert_labels(labels, """\
call_id is_repeat_7d repeat_of_7d callback_7d issue_7d is_repeat_30d repeat_of_30d callback_30d issue_30d
k1      0            -            1           k1       0             -             1            k1
k2      0            -            0           k2       0             -             1            k2
m1      0            -            0           m1       0             -             0            m1
k3      1            k1           0           k1       1             k1            0            k1
k4      0            -            0           k4       1             k2            0            k2
k5      0            -            -           k5       0             -             -            k5
""")


def test_several_open_issues_reason_linking():
    # K/billing: k1 -> k3 (3 days) -> k4 (16 days). K/internet: k2. M/billing: m1.
    labels = label_calls(
        frame_from_csv(SEVERAL_ISSUES_CSV), LabelOptions(window_days=(7, 30), link_by="customer+reason")
    )
    assert_labels(labels, """\
call_id is_repeat_7d repeat_of_7d callback_7d issue_7d is_repeat_30d repeat_of_30d callback_30d issue_30d
k1      0            -            1           k1       0             -             1            k1
k2      0            -            0           k2       0             -             0            k2
m1      0            -            0           m1       0             -             0            m1
k3      1            k1           0           k1       1             k1            1            k1
k4      0            -            0           k4       1             k3            0            k1
k5      0            -            -           k5       0             -             -            k5
""")


def test_time_zones_are_compared_in_utc():
    # z1 23:30-05:00 on Jan 5 is 04:30Z on Jan 6: 30 min AFTER z2 (04:00Z Jan 6), so z1 repeats z2.
    # z3 04:15Z Jan 13 is 6 d 23 h 45 min after z1: a 7-day repeat (read naively it would be 7 d 4 h 45 min).
    # z3 is also the end of the data, so z1's own window (to 04:30Z Jan 13) is not fully observed: censored.
    text = """\
call_id,customer_id,started_at
z1,Z,2024-01-05T23:30:00-05:00
z2,Z,2024-01-06T04:00:00Z
z3,Z,2024-01-13T04:15:00Z
"""
    labels = label_calls(frame_from_csv(text), LabelOptions(window_days=7))
    assert_labels(labels, """\
call_id is_repeat_7d repeat_of_7d callback_7d
z1      1            z2           -
z2      0            -            1
z3      1            z1           -
""")
    assert labels["started_at_utc"].tolist() == [
        pd.Timestamp("2024-01-06T04:30Z"), pd.Timestamp("2024-01-06T04:00Z"), pd.Timestamp("2024-01-13T04:15Z")
    ]


def test_naive_times_use_the_default_timezone():
    # n1 is 23:30 local. In New York (UTC-5 in January) that is 04:30Z Jan 6, 6 d 23 h 45 min before n2;
    # read as UTC it is 7 d 4 h 45 min before n2.
    text = """\
call_id,customer_id,started_at
n1,N,2024-01-05 23:30
n2,N,2024-01-13T04:15:00Z
"""
    new_york = label_calls(frame_from_csv(text), LabelOptions(window_days=7, default_timezone="America/New_York"))
    utc = label_calls(frame_from_csv(text), LabelOptions(window_days=7))
    assert new_york["is_repeat_7d"].tolist() == [0, 1]
    assert utc["is_repeat_7d"].tolist() == [0, 0]
    assert new_york["started_at_utc"].iloc[0] == pd.Timestamp("2024-01-06T04:30Z")


def test_parse_timestamps_offsets_dates_and_garbage():
    parsed = parse_timestamps(
        pd.Series(["2024-01-05", "2024-01-05T10:00:00+05:30", "2024-07-01 12:00", "31/12/2024", "", None]),
        "Europe/Berlin",
    )
    assert parsed.iloc[0] == pd.Timestamp("2024-01-04T23:00Z")     # bare date: midnight Berlin (UTC+1)
    assert parsed.iloc[1] == pd.Timestamp("2024-01-05T04:30Z")     # offset wins over the default zone
    assert parsed.iloc[2] == pd.Timestamp("2024-07-01T10:00Z")     # summer time, UTC+2
    assert parsed.iloc[3:].isna().all()


def test_parse_timestamps_odd_but_valid_forms():
    """Nanoseconds, a one-digit hour with an offset, a stray zone name: parsed, or NaT for that value only."""
    parsed = parse_timestamps(pd.Series(["2024-01-03T09:00:00.123456789Z", "2024-01-03T9:00:00-05:00",
                                         "2024-01-05 10:00", "2024-01-05T10:00:00 UTC"]), "UTC")
    assert parsed.iloc[0] == pd.Timestamp("2024-01-03T09:00:00.123456Z")
    assert parsed.iloc[1] == pd.Timestamp("2024-01-03T14:00Z")
    assert parsed.iloc[2] == pd.Timestamp("2024-01-05T10:00Z")
    assert pd.isna(parsed.iloc[3])        # a zone name is not ISO 8601: that row is bad, the others stand


BAD_ROWS_CSV = """\
call_id,customer_id,started_at,ticket_id
x1,X,2024-02-01T10:00:00Z,T1
,X,2024-02-02T10:00:00Z,T1
x3,X,2024-02-30T10:00:00Z,T1
x1,Y,2024-02-03T10:00:00Z,T2
x5,,2024-02-04T10:00:00Z,T2
x6,X,2024-02-05T10:00:00Z,
x7,X,,T1
"""
# Rows are data rows counted from 1 after the header.
EXPECTED_PROBLEMS = [
    RowProblem(2, "missing call_id"),
    RowProblem(3, "unparseable started_at '2024-02-30T10:00:00Z' (expected ISO 8601, e.g. 2024-01-05T09:30:00+01:00)"),
    RowProblem(4, "duplicate call_id 'x1' (first at row 1)"),
    RowProblem(5, "missing customer_id"),
    RowProblem(7, "missing started_at"),
]


def test_bad_rows_are_skipped_with_a_warning_naming_file_rows_and_causes(caplog):
    with caplog.at_level(logging.WARNING, logger="pipeline.labels"):
        labels = label_calls(frame_from_csv(BAD_ROWS_CSV, "calls.csv"), LabelOptions(window_days=7))
    assert labels["call_id"].tolist() == ["x1", "x6"]
    assert labels.attrs["skipped_rows"] == EXPECTED_PROBLEMS
    assert labels["is_repeat_7d"].tolist() == [0, 1]  # x6 (customer X, 4 days after x1) repeats x1
    warning = caplog.records[-1].getMessage()
    assert "calls.csv: 5 bad row(s)" in warning
    assert "row 2: missing call_id" in warning and "row 4: duplicate call_id 'x1' (first at row 1)" in warning


def test_missing_ticket_is_a_bad_row_only_when_linking_by_ticket():
    labels = label_calls(frame_from_csv(BAD_ROWS_CSV, "calls.csv"), LabelOptions(window_days=7, link_by="customer+ticket"))
    assert [p.row for p in labels.attrs["skipped_rows"]] == [2, 3, 4, 5, 6, 7]
    assert labels.attrs["skipped_rows"][4].cause == "missing ticket_id (needed for --link-by customer+ticket)"


def test_strict_raises_with_every_bad_row():
    with pytest.raises(MetadataError) as error:
        label_calls(frame_from_csv(BAD_ROWS_CSV, "calls.csv"), LabelOptions(window_days=7, strict=True))
    message = str(error.value)
    assert message.startswith("calls.csv: 5 bad row(s): row 2: missing call_id; row 3: unparseable")
    assert "row 7: missing started_at" in message


def test_missing_column_and_bad_options_are_clear_errors():
    with pytest.raises(MetadataError, match=r"calls.csv: missing column\(s\) ticket_id \(needed for --link-by"):
        label_calls(frame_from_csv(HISTORY_CSV, "calls.csv"), LabelOptions(link_by="customer+ticket"))
    with pytest.raises(MetadataError, match="missing column.*customer_id"):
        label_calls(frame_from_csv("call_id,started_at\nq,2024-01-01\n", "calls.csv"))
    with pytest.raises(ValueError, match="time zone"):
        LabelOptions(default_timezone="Mars/Olympus")
    with pytest.raises(ValueError, match="window_days"):
        LabelOptions(window_days=0)
    with pytest.raises(ValueError, match="as_of"):
        LabelOptions(as_of="next tuesday")


def test_parquet_round_trip_matches_csv(tmp_path: Path):
    csv_path = tmp_path / "calls.csv"
    csv_path.write_text(HISTORY_CSV)
    from_csv = label_calls(load_metadata(csv_path), LabelOptions())

    # Parquet as a data warehouse would write it: typed timestamps (another offset), integer-like ids as text.
    typed = pd.read_csv(io.StringIO(HISTORY_CSV), dtype=str, keep_default_na=False)
    typed["started_at"] = pd.to_datetime(typed["started_at"], utc=True).dt.tz_convert("Asia/Tokyo")
    parquet_path = tmp_path / "calls.parquet"
    typed.to_parquet(parquet_path, index=False)
    from_parquet = label_calls(load_metadata(parquet_path), LabelOptions())
    assert_labels(from_parquet, EXPECTED_HISTORY)
    label_cols = [c for c in from_csv.columns if c not in ("started_at", "reason")]
    pd.testing.assert_frame_equal(as_text(from_parquet, label_cols), as_text(from_csv, label_cols))

    out = tmp_path / "labels.parquet"
    write_labels(from_parquet, out)
    back = pd.read_parquet(out)
    pd.testing.assert_frame_equal(as_text(back, label_cols), as_text(from_parquet, label_cols))
    assert str(back["callback_30d"].dtype) == "Int8" and back["callback_30d"].isna().sum() == 6


def test_integer_ids_in_parquet_stay_whole(tmp_path: Path):
    frame = pd.DataFrame({
        "call_id": [101, 102, 103],
        "customer_id": [7.0, 7.0, None],  # an int column with a null arrives as float
        "started_at": ["2024-01-01T00:00Z", "2024-01-02T00:00Z", "2024-01-03T00:00Z"],
    })
    frame.to_parquet(tmp_path / "ids.parquet", index=False)
    labels = label_calls(load_metadata(tmp_path / "ids.parquet"), LabelOptions(window_days=7))
    assert labels["call_id"].tolist() == ["101", "102"]
    assert labels["repeat_of_7d"].tolist()[1] == "101"
    assert labels.attrs["skipped_rows"] == [RowProblem(3, "missing customer_id")]


def test_load_metadata_errors_name_the_file(tmp_path: Path):
    with pytest.raises(MetadataError, match="nothere.csv: no such file"):
        load_metadata(tmp_path / "nothere.csv")
    (tmp_path / "calls.xlsx").write_text("x")
    with pytest.raises(MetadataError, match=r"calls.xlsx: unsupported metadata format '.xlsx'"):
        load_metadata(tmp_path / "calls.xlsx")
    (tmp_path / "ragged.csv").write_text("call_id,customer_id,started_at\na,b,2024-01-01,extra,cells\n")
    with pytest.raises(MetadataError, match="ragged.csv: cannot read metadata"):
        load_metadata(tmp_path / "ragged.csv")


# --- the CLI end to end -------------------------------------------------------------------------------------


def test_cli_label_writes_the_expected_csv(tmp_path: Path, capsys):
    metadata = tmp_path / "calls.csv"
    metadata.write_text(HISTORY_CSV)
    out = tmp_path / "out" / "labels.csv"
    assert main(["label", str(metadata), "-o", str(out), "--window", "7", "30"]) == 0
    written = pd.read_csv(out, dtype=str, keep_default_na=False)
    expected = literal_table(EXPECTED_HISTORY)
    columns = [c for c in expected.columns if "14d" not in c]
    pd.testing.assert_frame_equal(written[columns], expected[columns])
    assert "callback_14d" not in written.columns
    assert written["started_at_utc"].tolist()[0] == "2024-03-01T09:00:00Z"
    stdout = capsys.readouterr().out
    # 7d: positives a1 c1, negatives a2 a3 b1, censored a4 c2 d1. 30d: positives a1 a2, censored the rest.
    assert "labelled 8 calls" in stdout
    assert "7d: 2 followed by a repeat, 3 not, 3 censored" in stdout
    assert "30d: 2 followed by a repeat, 0 not, 6 censored" in stdout


def test_cli_label_bad_rows_exit_codes(tmp_path: Path, capsys):
    metadata = tmp_path / "calls.csv"
    metadata.write_text(BAD_ROWS_CSV)
    out = tmp_path / "labels.csv"
    assert main(["label", str(metadata), "-o", str(out), "--strict"]) == 1
    assert not out.exists()
    err = capsys.readouterr().err
    assert f"{metadata}: 5 bad row(s): row 2: missing call_id" in err

    assert main(["label", str(metadata), "-o", str(out)]) == 0
    assert pd.read_csv(out)["call_id"].tolist() == ["x1", "x6"]
    assert "5 bad row(s) skipped" in capsys.readouterr().out


def test_cli_label_usage_and_file_errors(tmp_path: Path, capsys):
    metadata = tmp_path / "calls.csv"
    metadata.write_text(HISTORY_CSV)
    out = str(tmp_path / "labels.csv")
    assert main(["label", str(metadata), "-o", out, "--timezone", "Nowhere/Town"]) == 2
    assert main(["label", str(tmp_path / "missing.csv"), "-o", out]) == 1
    assert main(["label", str(metadata), "-o", out, "--link-by", "customer+ticket"]) == 1
    err = capsys.readouterr().err
    assert "unknown time zone 'Nowhere/Town'" in err and "missing.csv: no such file" in err
    assert "missing column(s) ticket_id" in err
    with pytest.raises(SystemExit) as exited:  # argparse: only 7, 14 or 30
        main(["label", str(metadata), "-o", out, "--window", "10"])
    assert exited.value.code == 2


def test_cli_label_reads_defaults_from_config(tmp_path: Path, capsys):
    metadata = tmp_path / "calls.csv"
    metadata.write_text(HISTORY_CSV)
    out = tmp_path / "labels.csv"
    assert main(["label", str(metadata), "-o", str(out), "--set", "labels.windows_days=[7]"]) == 0
    assert "callback_7d" in pd.read_csv(out).columns and "callback_30d" not in pd.read_csv(out).columns
    # a config value is overridden by the flag, and a bad config value is an error naming the key
    assert main(["label", str(metadata), "-o", str(out), "--set", "labels.windows_days=[7]", "--window", "30"]) == 0
    assert "callback_30d" in pd.read_csv(out).columns
    assert main(["label", str(metadata), "-o", str(out), "--set", "labels.link_by=[x]"]) == 2
    assert "'labels.link_by' must be string" in capsys.readouterr().err


def test_a_good_row_is_not_a_duplicate_of_a_bad_one():
    frame = pd.read_csv(io.StringIO("call_id,customer_id,started_at\nx,,2024-01-01T10:00Z\nx,A,2024-01-02T10:00Z\n"))
    good, problems = validate_metadata(frame, LabelOptions(window_days=7))
    assert good["call_id"].tolist() == ["x"] and good["customer_id"].tolist() == ["A"]
    assert problems == [RowProblem(1, "missing customer_id")]
