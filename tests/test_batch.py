"""Batch behaviour with real models: kill and resume, worker processes, per-call time limit."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import soundfile as sf

from conftest import write_tone
from pipeline.cli import main
from pipeline.writer import iter_records

pytestmark = pytest.mark.slow

VOLATILE = ("processed_at", "timing_s", "source_path")


def stable(record: dict) -> dict:
    return {k: v for k, v in record.items() if k not in VOLATILE}


def test_killed_batch_resumes_with_every_call_exactly_once(tmp_path, short_call):
    calls = tmp_path / "calls"
    calls.mkdir()
    for i in range(5):
        shutil.copy(short_call, calls / f"c{i}.wav")
    out = tmp_path / "scores.jsonl"
    cmd = [sys.executable, "-m", "pipeline.cli", "score", str(calls), "-o", str(out)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if out.exists() and out.read_bytes().count(b"\n") >= 2:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "batch finished before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = [r["call_id"] for r in iter_records(out)]
    assert 2 <= len(done_before) < 5
    with open(out, "ab") as handle:  # what a kill in the middle of a write leaves behind
        handle.write(b'{"schema_version":"1.0","call_id":"c4","sta')

    assert main(["score", str(calls), "-o", str(out)]) == 0
    records = list(iter_records(out))
    assert sorted(r["call_id"] for r in records) == [f"c{i}" for i in range(5)]
    assert all(r["status"] == "ok" for r in records)
    assert out.read_bytes().endswith(b"\n")
    assert [r["call_id"] for r in records[: len(done_before)]] == done_before  # nothing written was lost


def test_worker_processes_give_the_same_records(tmp_path, short_call):
    calls = tmp_path / "calls"
    calls.mkdir()
    shutil.copy(short_call, calls / "a.wav")
    (calls / "broken.wav").write_text("not audio")
    one, two = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    assert main(["score", str(calls), "-o", str(one)]) == 1
    assert main(["score", str(calls), "-o", str(two), "--set", "batch.workers=2"]) == 1
    by_id = lambda path: {r["call_id"]: stable(r) for r in iter_records(path)}  # noqa: E731
    assert by_id(one) == by_id(two)


def test_a_call_past_the_time_limit_is_stopped_and_the_batch_goes_on(tmp_path, sample_call):
    calls = tmp_path / "calls"
    calls.mkdir()
    speech, rate = sf.read(sample_call["wav"], dtype="float32")
    sf.write(calls / "long.wav", np.tile(speech, 6), rate)  # 3 minutes: far past the limit below
    write_tone(calls / "short.wav", seconds=1.0)             # finishes well inside it
    out = tmp_path / "scores.jsonl"
    code = main(["score", str(calls), "-o", str(out), "--set", "batch.call_timeout_s=3"])
    assert code == 1
    records = {r["call_id"]: r for r in iter_records(out)}
    assert records["long"]["error"]["type"] == "timeout"
    assert "long.wav" in records["long"]["error"]["message"]
    assert records["short"]["error"]["type"] == "no_speech"  # processed normally, by a fresh worker


def test_ray_engine_gives_the_same_records_as_the_local_engine(tmp_path, short_call):
    calls = tmp_path / "calls"
    calls.mkdir()
    shutil.copy(short_call, calls / "a.wav")
    speech, rate = sf.read(short_call, dtype="float32")
    sf.write(calls / "b.flac", speech[: rate * 8], rate)
    (calls / "bad.wav").write_text("not audio")
    local, on_ray = tmp_path / "local.jsonl", tmp_path / "ray.jsonl"
    assert main(["score", str(calls), "-o", str(local)]) == 1
    assert main(["score", str(calls), "-o", str(on_ray), "--engine", "ray", "--workers", "2"]) == 1
    by_id = lambda path: {r["call_id"]: stable(r) for r in iter_records(path)}  # noqa: E731
    assert set(by_id(local)) == {"a", "b", "bad"}
    assert by_id(on_ray) == by_id(local)


def test_rttm_file_names_are_distinct_and_stay_in_their_folder(tmp_path):
    from pathlib import Path

    from pipeline.process import rttm_path

    ids = ["team/1", "team__1", "team%2F1", "..", ".hidden", "C:evil", "a\\b", "plain-id_1.x"]
    paths = [Path(rttm_path(str(tmp_path), call_id)) for call_id in ids]
    assert len(set(paths)) == len(ids)
    assert all(p.parent == tmp_path and p.name.endswith(".rttm") and not p.name.startswith(".") for p in paths)
    assert ":" not in "".join(p.name for p in paths)
    assert paths[-1].name == "plain-id_1.x.rttm"


def _half_sending_worker(config, tasks, results):
    """Stands in for the real worker: call "bad" dies halfway through sending a large record."""
    import os
    import struct

    results.send(("ready", None))
    while (call := tasks.get()) is not None:
        if call.call_id == "bad":
            os.write(results.fileno(), struct.pack("!i", 10_000_000) + b"x" * 4096)   # header + a sliver of body
            os._exit(3)
        results.send(("done", {"call_id": call.call_id, "status": "ok"}))


def test_a_worker_dying_mid_send_costs_only_its_call(tmp_path):
    """The killed worker's half-sent message must not block records from the others (it did on a shared queue)."""
    from pipeline.config import load_config
    from pipeline.types import CallInput
    from pipeline.workers import WorkerPool

    class Pool(WorkerPool):
        worker_main = staticmethod(_half_sending_worker)

    calls = [CallInput(name, str(tmp_path / f"{name}.wav")) for name in ("a", "bad", "b", "c")]
    started = time.monotonic()
    records = list(Pool(load_config(), workers=2).run(calls))
    assert time.monotonic() - started < 60
    by_id = {r["call_id"]: r for r in records}
    assert sorted(by_id) == ["a", "b", "bad", "c"] and len(records) == 4
    assert by_id["bad"]["status"] == "error" and by_id["bad"]["error"]["type"] == "worker_crashed"
    assert all(by_id[c]["status"] == "ok" for c in ("a", "b", "c"))
