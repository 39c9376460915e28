from __future__ import annotations

import os

import pytest

from conftest import write_tone
from pipeline.inputs import InputError, InputOptions, discover, resolve_under


def test_directory_is_searched_recursively_by_extension(tmp_path):
    write_tone(tmp_path / "a.wav")
    (tmp_path / "sub").mkdir()
    write_tone(tmp_path / "sub" / "b.flac")
    (tmp_path / "sub" / "notes.txt").write_text("x")
    calls, problems = discover([str(tmp_path)])
    assert [c.call_id for c in calls] == ["a", "sub/b"]
    assert not problems
    calls, _ = discover([str(tmp_path)], InputOptions(recursive=False))
    assert [c.call_id for c in calls] == ["a"]


def test_missing_input_is_an_error(tmp_path):
    with pytest.raises(InputError, match="nope.wav: no such file"):
        discover([str(tmp_path / "nope.wav")])


def test_manifest_passes_metadata_and_resolves_relative_paths(tmp_path):
    (tmp_path / "audio").mkdir()
    write_tone(tmp_path / "audio" / "c1.wav")
    manifest = tmp_path / "calls.csv"
    manifest.write_text("path,call_id,customer_id,started_at,reason\naudio/c1.wav,C1,cust9,2026-11-01T10:00:00Z,billing\n")
    calls, problems = discover([str(manifest)])
    assert not problems
    assert calls[0].call_id == "C1"
    assert calls[0].path == str((tmp_path / "audio" / "c1.wav").resolve())
    assert calls[0].metadata == {"customer_id": "cust9", "started_at": "2026-11-01T10:00:00Z", "reason": "billing"}


def test_manifest_paths_cannot_escape(tmp_path):
    root = tmp_path / "m"
    root.mkdir()
    write_tone(tmp_path / "outside.wav")
    write_tone(root / "ok.wav")
    os.symlink(tmp_path / "outside.wav", root / "link.wav")
    manifest = root / "calls.csv"
    manifest.write_text(
        "path,call_id\n"
        "ok.wav,good\n"
        "../outside.wav,dotdot\n"
        f"{tmp_path / 'outside.wav'},absolute\n"
        "link.wav,symlink\n"
        ",empty\n"
        "ok.wav,extra,cell\n"
    )
    calls, problems = discover([str(manifest)])
    assert [c.call_id for c in calls] == ["good"]
    by_id = {p.call_id: p for p in problems}
    assert by_id["dotdot"].error_type == "bad_input_path" and "escapes the manifest folder" in by_id["dotdot"].message
    assert "absolute path" in by_id["absolute"].message
    assert "escapes" in by_id["symlink"].message
    assert "empty path" in by_id["empty"].message
    assert by_id["extra"].error_type == "bad_manifest_row" and "line 7" in by_id["extra"].message
    assert all(str(manifest) in p.message for p in problems)


@pytest.mark.parametrize("content, message", [
    (b"file,call_id\na.wav,1\n", r"bad.csv: manifest needs a 'path' column"),
    (b"pa\xffth,call_id\na.wav,A\n", r"bad.csv line 1: header is not valid UTF-8"),
])
def test_manifest_with_a_bad_header_is_an_error_naming_the_file(tmp_path, content, message):
    manifest = tmp_path / "bad.csv"
    manifest.write_bytes(content)
    with pytest.raises(InputError, match=message):
        discover([str(manifest)])


def test_duplicate_call_ids_are_reported(tmp_path):
    write_tone(tmp_path / "x.wav")
    manifest = tmp_path / "m.csv"
    manifest.write_text("path,call_id\nx.wav,same\nx.wav,same\n")
    calls, problems = discover([str(manifest)])
    assert len(calls) == 1
    assert problems[0].error_type == "duplicate_call_id"
    assert problems[0].call_id == "same~dup1" and "already used" in problems[0].message


def test_resolve_under_allows_subfolders(tmp_path):
    assert resolve_under(tmp_path, "a/b/../c.wav") == (tmp_path / "a" / "c.wav").resolve()


def test_bad_bytes_and_broken_rows_are_bad_rows_and_the_rest_goes_on(tmp_path):
    for name in ("a.wav", "b.wav", "c.wav", "d.wav"):
        write_tone(tmp_path / name)
    manifest = tmp_path / "m.csv"
    manifest.write_bytes(b'path,call_id,reason\na.wav,A,billing\nb.wav,B,caf\xe9\nc.wav,"C\nd.wav,D,refund\n')
    calls, problems = discover([str(manifest)])
    assert [c.call_id for c in calls] == ["A"]
    assert [(p.call_id, p.error_type) for p in problems] == [("B", "bad_manifest_row"),
                                                             ("C\nd.wav,D,refund", "bad_manifest_row")]
    assert "m.csv line 3: not valid UTF-8" in problems[0].message
    assert "unbalanced quote" in problems[1].message
    assert "\ufffd" in problems[0].metadata["reason"]      # shown, and writable as JSON


def test_a_call_reusing_a_bad_rows_id_is_a_duplicate_not_skipped(tmp_path):
    write_tone(tmp_path / "ok.wav")
    manifest = tmp_path / "m.csv"
    manifest.write_text("path,call_id\n../evil.wav,X\nok.wav,X\n")
    calls, problems = discover([str(manifest)])
    assert calls == []
    assert [(p.call_id, p.error_type) for p in problems] == [("X", "bad_input_path"), ("X~dup1", "duplicate_call_id")]
