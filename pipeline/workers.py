"""Worker processes that each load the models once and process many calls.

The parent hands one call at a time to each idle worker and collects records. A worker that runs past the
per-call time limit is killed and replaced (the call gets a `timeout` error record); a worker that dies (out of
memory, a crash in native code) costs only its current call (`worker_crashed`). Each worker sends its records
on its own pipe: a worker killed halfway through sending a large record breaks only that pipe, which is thrown
away with the worker (on one shared queue, the half-sent message would block every later read).
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import time
from multiprocessing.connection import Connection, wait
from dataclasses import dataclass
from typing import Any, Iterator

from pipeline.process import settings_hash
from pipeline.record import error_record
from pipeline.types import CallInput

log = logging.getLogger(__name__)

_POLL_S = 0.2


def _worker_main(config: dict[str, Any], tasks: mp.Queue, results: Connection) -> None:
    from pipeline.offline import enforce_offline

    enforce_offline()
    from pipeline.process import CallProcessor

    processor = CallProcessor(config)
    processor.load_models()
    results.send(("ready", None))
    while (call := tasks.get()) is not None:
        results.send(("done", processor.process(call)))


@dataclass
class _Slot:
    process: mp.process.BaseProcess
    tasks: mp.Queue
    results: Connection         # read end of this worker's own pipe
    ready: bool = False
    call: CallInput | None = None
    started: float = 0.0


class WorkerPool:
    worker_main = staticmethod(_worker_main)   # (config, tasks, results) in the child; tests swap in their own

    def __init__(self, config: dict[str, Any], workers: int, call_timeout_s: float = 0.0):
        if workers < 1:
            raise ValueError("workers must be >= 1")
        self.config = config
        self.workers = workers
        self.call_timeout_s = call_timeout_s
        self.settings_hash = settings_hash(config)
        self._ctx = mp.get_context("spawn")  # fork after torch/CTranslate2 threads start is unsafe
        self._slots: list[_Slot] = []

    def _start(self, slot: int) -> _Slot:
        tasks = self._ctx.Queue()
        results, sender = self._ctx.Pipe(duplex=False)
        process = self._ctx.Process(
            target=self.worker_main, args=(self.config, tasks, sender), daemon=True, name=f"callrisk-worker-{slot}"
        )
        process.start()
        sender.close()  # only the worker holds the write end, so its death reads as EOF here
        return _Slot(process, tasks, results)

    def _replace(self, index: int) -> None:
        old = self._slots[index]
        if old.process.is_alive():
            old.process.kill()
        old.process.join(timeout=5)
        old.results.close()
        self._slots[index] = self._start(index)

    def run(self, calls: list[CallInput]) -> Iterator[dict[str, Any]]:
        """Records in completion order, one per call."""
        pending = list(reversed(calls))
        self._slots = [self._start(i) for i in range(min(self.workers, max(1, len(calls))))]
        outstanding = len(calls)
        try:
            while outstanding:
                for slot in self._slots:
                    if slot.ready and slot.call is None and pending:
                        slot.call, slot.started = pending.pop(), time.monotonic()
                        slot.tasks.put(slot.call)
                readable = wait([slot.results for slot in self._slots], timeout=_POLL_S)
                for slot in [s for s in self._slots if s.results in readable]:
                    try:
                        kind, record = slot.results.recv()
                    except (EOFError, OSError):
                        continue  # the worker is gone (maybe mid-send): _check below gives its call a record
                    if kind == "ready":
                        slot.ready = True
                    elif slot.call is not None and record.get("call_id") == slot.call.call_id:
                        slot.call = None
                        outstanding -= 1
                        yield record
                for i, slot in enumerate(self._slots):
                    failure = self._check(slot)
                    if failure is not None:
                        outstanding -= failure["call_id"] is not None
                        if failure["call_id"] is not None:
                            yield failure
                        self._replace(i)
        finally:
            self.close()

    def _check(self, slot: _Slot) -> dict[str, Any] | None:
        """None while the slot is healthy; else an error record for its call (call_id None when idle)."""
        call = slot.call
        if slot.process.is_alive():
            if not (call and self.call_timeout_s and time.monotonic() - slot.started > self.call_timeout_s):
                return None
            kind = "timeout"
            message = f"{call.path}: processing took longer than the limit of {self.call_timeout_s:g} s (batch.call_timeout_s)"
        elif not slot.ready:
            raise RuntimeError(f"{slot.process.name} failed while loading models (exit code {slot.process.exitcode})")
        elif call is None:
            log.warning("%s exited while idle (exit code %s); restarting", slot.process.name, slot.process.exitcode)
            return {"call_id": None}
        else:
            kind = "worker_crashed"
            message = f"{call.path}: worker process died while processing this call (exit code {slot.process.exitcode})"
        log.warning("%s: %s", call.call_id, message)
        slot.call = None
        return error_record(call, self.settings_hash, kind, message)

    def close(self) -> None:
        for slot in self._slots:
            if slot.process.is_alive():
                try:
                    slot.tasks.put(None)
                except (OSError, ValueError):
                    pass
        for slot in self._slots:
            slot.process.join(timeout=5)
            if slot.process.is_alive():
                slot.process.kill()
            slot.results.close()
        self._slots = []
