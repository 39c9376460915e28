"""Crash-safe JSON Lines output with resume.

Each record is one `write()` of a whole line to a file opened with O_APPEND, so a killed process leaves at most
one torn line at the end; opening the file again cuts it off. Records that will be redone (failed calls on
--retry-failed, calls whose audio or settings changed) are removed first by an atomic rewrite, so every call
ends up in the file exactly once.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExistingRecord:
    call_id: str
    status: str
    sha256: str | None
    settings_hash: str | None


class OutputBusyError(RuntimeError):
    """Another run is writing the same output file."""


def _parse_record(raw: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(raw)
    except ValueError:      # not JSON, or not UTF-8
        return None
    return value if isinstance(value, dict) else None


def iter_records(path: Path) -> Iterator[dict[str, Any]]:
    """Complete records (JSON objects) of a JSONL file; a torn last line, or a line that is not a JSON object,
    is skipped with a warning naming the file and line."""
    with open(path, "rb") as handle:
        for line_no, raw in enumerate(handle, start=1):
            record = _parse_record(raw)
            if record is not None:
                yield record
            elif not raw.endswith(b"\n"):
                log.warning("%s line %d: incomplete last line ignored", path, line_no)
            elif raw.strip():
                log.warning("%s line %d: not a JSON object, ignored", path, line_no)


def _cut_torn_tail(path: Path) -> None:
    """Drop bytes after the last newline: the remains of a write interrupted by a crash. A last line that is a
    whole record and only lacks its newline (a file joined or edited by hand) gets the newline instead."""
    size = path.stat().st_size
    if size == 0:
        return
    with open(path, "rb+") as handle:
        handle.seek(-1, os.SEEK_END)
        if handle.read(1) == b"\n":
            return
        pos = size
        chunk = 1 << 16
        while pos > 0:
            start = max(0, pos - chunk)
            handle.seek(start)
            block = handle.read(pos - start)
            idx = block.rfind(b"\n")
            if idx >= 0:
                keep = start + idx + 1
                break
            pos = start
        else:
            keep = 0
        handle.seek(keep)
        if _parse_record(handle.read(size - keep)) is not None:
            handle.seek(0, os.SEEK_END)
            handle.write(b"\n")
            handle.flush()
            os.fsync(handle.fileno())
            return
        log.warning("%s: removing %d bytes of an interrupted write", path, size - keep)
        handle.truncate(keep)
        handle.flush()
        os.fsync(handle.fileno())


class JsonlWriter:
    """Append-only JSONL writer. `existing` maps call_id -> what the file already holds."""

    def __init__(self, path: str | Path, overwrite: bool = False, fsync: bool = True):
        self.path = Path(path)
        self.fsync = fsync
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = _lock_output(self.path)
        if overwrite and self.path.exists():
            self.path.unlink()
        if self.path.exists():
            _cut_torn_tail(self.path)
        self.existing: dict[str, ExistingRecord] = {}
        if self.path.exists():
            for rec in iter_records(self.path):
                self._remember(rec)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def _remember(self, rec: dict[str, Any]) -> None:
        call_id = rec.get("call_id")
        if isinstance(call_id, str):
            audio = rec.get("audio") if isinstance(rec.get("audio"), dict) else {}
            self.existing[call_id] = ExistingRecord(call_id, rec.get("status", ""), audio.get("sha256"),
                                                    rec.get("settings_hash"))

    def drop(self, should_drop: Callable[[dict[str, Any]], bool]) -> int:
        """Remove records matching `should_drop`, atomically (temp file + rename). Returns how many."""
        if not self.path.exists():
            return 0
        kept, dropped = [], 0
        for rec in iter_records(self.path):
            if should_drop(rec):
                dropped += 1
                self.existing.pop(rec.get("call_id"), None)
            else:
                kept.append(rec)
        if not dropped:
            return 0
        tmp = self.path.with_name(self.path.name + ".tmp")
        with open(tmp, "w", encoding="utf-8") as handle:
            for rec in kept:
                handle.write(encode(rec))
            handle.flush()
            os.fsync(handle.fileno())
        os.close(self._fd)
        os.replace(tmp, self.path)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        return dropped

    def write(self, record: dict[str, Any]) -> None:
        data = encode(record).encode("utf-8")
        view = memoryview(data)
        while view:  # one write() in practice; the loop covers a short write
            written = os.write(self._fd, view)
            view = view[written:]
        if self.fsync:
            os.fsync(self._fd)
        self._remember(record)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        if self._lock >= 0:
            os.close(self._lock)   # releases the lock
            self._lock = -1

    def __enter__(self) -> "JsonlWriter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def encode(record: dict[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False, allow_nan=False, separators=(",", ":")) + "\n"


def _lock_output(path: Path) -> int:
    """An exclusive lock on `<output>.lock` for this run: a second run on the same output would append to a
    file the first one later replaces (drop), losing records, so it is refused instead."""
    lock_path = path.with_name(path.name + ".lock")
    fd = os.open(lock_path, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        os.close(fd)
        raise OutputBusyError(f"{path}: another callrisk run is writing this file (lock {lock_path})") from exc
    return fd

