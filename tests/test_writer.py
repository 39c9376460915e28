from __future__ import annotations

import json

from pipeline.writer import JsonlWriter, iter_records


def test_records_are_whole_lines(tmp_path):
    out = tmp_path / "o.jsonl"
    with JsonlWriter(out) as writer:
        writer.write({"call_id": "a", "status": "ok", "text": "line\nbreak inside"})
        writer.write({"call_id": "b", "status": "error"})
    lines = out.read_text().splitlines()
    assert [json.loads(line)["call_id"] for line in lines] == ["a", "b"]


def test_torn_tail_from_a_crash_is_cut_on_open(tmp_path):
    out = tmp_path / "o.jsonl"
    out.write_text('{"call_id":"a","status":"ok"}\n{"call_id":"b","sta')
    with JsonlWriter(out) as writer:
        assert set(writer.existing) == {"a"}
        writer.write({"call_id": "b", "status": "ok"})
    assert [r["call_id"] for r in iter_records(out)] == ["a", "b"]
    assert out.read_text().endswith("\n")


def test_a_file_that_is_one_torn_line_becomes_empty(tmp_path):
    out = tmp_path / "o.jsonl"
    out.write_text('{"call_id":"a"')
    with JsonlWriter(out) as writer:
        assert writer.existing == {}
    assert out.read_bytes() == b""


def test_drop_rewrites_atomically_and_appending_continues(tmp_path):
    out = tmp_path / "o.jsonl"
    with JsonlWriter(out) as writer:
        for cid, status in [("a", "ok"), ("b", "error"), ("c", "ok")]:
            writer.write({"call_id": cid, "status": status})
        assert writer.drop(lambda r: r["status"] == "error") == 1
        assert set(writer.existing) == {"a", "c"}
        writer.write({"call_id": "b", "status": "ok"})
    assert [r["call_id"] for r in iter_records(out)] == ["a", "c", "b"]
    assert not (tmp_path / "o.jsonl.tmp").exists()


def test_overwrite_starts_afresh(tmp_path):
    out = tmp_path / "o.jsonl"
    out.write_text('{"call_id":"old","status":"ok"}\n')
    with JsonlWriter(out, overwrite=True) as writer:
        assert writer.existing == {}
        writer.write({"call_id": "new", "status": "ok"})
    assert [r["call_id"] for r in iter_records(out)] == ["new"]


def test_damaged_lines_are_skipped_and_resume_goes_on(tmp_path, caplog):
    out = tmp_path / "o.jsonl"
    out.write_bytes(b'{"call_id":"a","status":"ok"}\nnull\n{"call_id":"b","audio":"x"}\n\xff\xfe\n[1]\n'
                    b'{"call_id":"c","status":"ok"}\n')
    with JsonlWriter(out) as writer:
        assert set(writer.existing) == {"a", "b", "c"}
        assert writer.existing["b"].sha256 is None
        writer.write({"call_id": "d", "status": "ok"})
    assert [r["call_id"] for r in iter_records(out)] == ["a", "b", "c", "d"]
    assert "o.jsonl line 2: not a JSON object" in caplog.text


def test_a_whole_last_record_without_its_newline_is_kept(tmp_path):
    out = tmp_path / "o.jsonl"
    out.write_text('{"call_id":"a","status":"ok"}\n{"call_id":"b","status":"ok"}')
    assert [r["call_id"] for r in iter_records(out)] == ["a", "b"]
    with JsonlWriter(out) as writer:
        writer.write({"call_id": "c", "status": "ok"})
    assert [r["call_id"] for r in iter_records(out)] == ["a", "b", "c"]


def test_a_second_writer_on_the_same_output_is_refused(tmp_path):
    import pytest

    from pipeline.writer import OutputBusyError

    out = tmp_path / "o.jsonl"
    with JsonlWriter(out):
        with pytest.raises(OutputBusyError, match=r"o.jsonl: another callrisk run is writing this file"):
            JsonlWriter(out)
    with JsonlWriter(out) as again:      # released on close
        again.write({"call_id": "a", "status": "ok"})
