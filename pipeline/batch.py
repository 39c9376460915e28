"""Run many calls into one JSONL file: resume, retry, progress and a summary."""

from __future__ import annotations

import logging
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from tqdm import tqdm

from pipeline.audio import file_sha256
from pipeline.inputs import InputProblem
from pipeline.config import section
from pipeline.process import CallProcessor, settings_hash
from pipeline.record import error_record
from pipeline.types import CallInput
from pipeline.workers import WorkerPool
from pipeline.writer import JsonlWriter

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BatchOptions:
    engine: str = "local"        # local | ray
    workers: int = 1             # processes (or Ray actors), each holding its own models
    ray_address: str = ""        # "" = a local Ray instance; a cluster address for many machines
    call_timeout_s: float = 0.0  # > 0: calls run in worker processes, killed past this many seconds
    fsync: bool = True           # flush each record to disk (crash safety) before the next call
    overlap_stages: bool = True  # diarization in a second thread while ASR runs
    torch_threads: int = 2       # torch intra-op threads (diarization, text encoder); 0 = torch's default

    def __post_init__(self) -> None:
        if self.engine not in ("local", "ray"):
            raise ValueError(f"engine must be local or ray, got {self.engine!r}")
        if self.workers < 1:
            raise ValueError(f"workers must be >= 1, got {self.workers}")
        if self.torch_threads < 0:
            raise ValueError(f"torch_threads must be >= 0, got {self.torch_threads}")
        if self.call_timeout_s < 0:
            raise ValueError(f"call_timeout_s must be >= 0 (0 = no limit), got {self.call_timeout_s}")


@dataclass
class BatchSummary:
    ok: int = 0
    failed: int = 0
    skipped: int = 0
    skipped_failed: int = 0  # skipped because already done, but what is done is an error record
    audio_s: float = 0.0
    wall_s: float = 0.0
    failures: list[str] = field(default_factory=list)

    @property
    def any_failed(self) -> bool:
        return bool(self.failed or self.skipped_failed)

    def line(self) -> str:
        rtf = self.wall_s / self.audio_s if self.audio_s else 0.0
        kept = f" ({self.skipped_failed} of them errors; --retry-failed redoes them)" if self.skipped_failed else ""
        return (
            f"{self.ok} ok, {self.failed} failed, {self.skipped} skipped (already done){kept}; "
            f"{self.audio_s / 3600:.2f} h of audio in {self.wall_s:.1f} s (real-time factor {rtf:.3f})"
        )


def plan(calls: list[CallInput], writer: JsonlWriter, settings_hash: str, retry_failed: bool) -> list[CallInput]:
    """Calls still to do. Records that will be redone are removed from the file first (exactly-once)."""
    todo, redo = [], set()
    for call in calls:
        prev = writer.existing.get(call.call_id)
        if prev is None:
            todo.append(call)
            continue
        try:
            same_audio = prev.sha256 is None or prev.sha256 == file_sha256(call.path)
        except OSError:
            same_audio = False
        same = same_audio and prev.settings_hash == settings_hash
        if same and (prev.status == "ok" or not retry_failed):
            continue
        todo.append(call)
        redo.add(call.call_id)
    if redo:
        dropped = writer.drop(lambda rec: rec.get("call_id") in redo)
        log.info("removed %d earlier records to redo them", dropped)
    return todo


def run_batch(
    config: dict[str, Any],
    calls: list[CallInput],
    problems: list[InputProblem],
    output: str | Path,
    overwrite: bool = False,
    retry_failed: bool = False,
    progress: bool | None = None,
) -> BatchSummary:
    options = section(config, "batch", BatchOptions)
    summary = BatchSummary()
    start = time.perf_counter()
    digest = settings_hash(config)
    with JsonlWriter(output, overwrite=overwrite, fsync=options.fsync) as writer:
        for problem in problems:  # inputs that cannot be attempted still get their record
            if problem.call_id in writer.existing:
                summary.skipped += 1
                summary.skipped_failed += 1
                continue
            call = CallInput(problem.call_id, problem.path, problem.metadata)
            writer.write(error_record(call, digest, problem.error_type, problem.message))
            summary.failed += 1
            summary.failures.append(problem.message)
        todo = plan(calls, writer, digest, retry_failed)
        pending = {call.call_id for call in todo}
        for call in calls:
            if call.call_id not in pending:
                summary.skipped += 1
                summary.skipped_failed += writer.existing[call.call_id].status != "ok"
        show = sys.stderr.isatty() if progress is None else progress
        bar = tqdm(total=len(todo), unit="call", disable=not show, file=sys.stderr, dynamic_ncols=True)
        for record in _records(config, options, todo):
            writer.write(record)
            _count(summary, record)
            bar.update(1)
            if summary.audio_s:
                bar.set_postfix(rtf=f"{(time.perf_counter() - start) / summary.audio_s:.3f}", failed=summary.failed)
        bar.close()
    summary.wall_s = time.perf_counter() - start
    return summary


def _records(config: dict[str, Any], options: BatchOptions, todo: list[CallInput]) -> Iterator[dict[str, Any]]:
    if not todo:
        return iter(())
    if options.engine == "ray":
        from pipeline.ray_engine import run_on_ray

        return run_on_ray(config, todo, options.workers, options.ray_address)
    if options.workers == 1 and not options.call_timeout_s:
        processor = CallProcessor(config)  # in this process: no start-up cost, simplest to debug
        return (processor.process(call) for call in todo)
    return WorkerPool(config, options.workers, options.call_timeout_s).run(todo)


def _count(summary: BatchSummary, record: dict[str, Any]) -> None:
    summary.audio_s += (record.get("audio") or {}).get("duration_s", 0.0)
    if record["status"] == "ok":
        summary.ok += 1
    else:
        summary.failed += 1
        summary.failures.append(record["error"]["message"])
