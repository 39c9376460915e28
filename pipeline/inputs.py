"""Find the calls to process: audio files, directories (by extension), or a manifest CSV.

A manifest has a `path` column (relative to the manifest's folder; it may not point outside it), an optional
`call_id`, and any metadata columns (customer_id, agent_id, started_at, ticket_id, reason, ...) that are
passed through to the output. A bad manifest row becomes a failed call, not a crashed batch.
"""

from __future__ import annotations

import csv
import logging
from dataclasses import dataclass
from pathlib import Path

from pipeline.types import CallInput

log = logging.getLogger(__name__)

MANIFEST_SUFFIXES = (".csv",)


@dataclass(frozen=True)
class InputOptions:
    extensions: tuple[str, ...] = (".wav", ".flac", ".ogg", ".mp3")
    recursive: bool = True

    def __post_init__(self) -> None:
        bad = [e for e in self.extensions if not e.startswith(".")]
        if bad:
            raise ValueError(f"extensions must start with '.', got {bad}")


@dataclass(frozen=True)
class InputProblem:
    """An input that cannot even be attempted (bad manifest row, escaping path); reported as a failed call."""

    call_id: str
    path: str
    error_type: str
    message: str
    metadata: dict[str, str]


class InputError(ValueError):
    """The inputs as a whole are unusable (missing path, unreadable manifest)."""


def call_id_for(path: Path, root: Path | None) -> str:
    """Stable id: the path relative to the given root without its extension, '/' separated."""
    rel = path.relative_to(root) if root is not None and path.is_relative_to(root) else Path(path.name)
    return rel.with_suffix("").as_posix()


def discover(items: list[str], options: InputOptions = InputOptions()) -> tuple[list[CallInput], list[InputProblem]]:
    calls: list[CallInput] = []
    problems: list[InputProblem] = []
    exts = tuple(e.lower() for e in options.extensions)
    for item in items:
        path = Path(item)
        if path.is_dir():
            pattern = "**/*" if options.recursive else "*"
            found = sorted(p for p in path.glob(pattern) if p.is_file() and p.suffix.lower() in exts)
            if not found:
                log.warning("%s: no files with extensions %s", path, ", ".join(exts))
            calls += [CallInput(call_id_for(p, path), str(p)) for p in found]
        elif path.is_file() and path.suffix.lower() in MANIFEST_SUFFIXES:
            rows, bad = read_manifest(path)
            calls += rows
            problems += bad
        elif path.is_file():
            calls.append(CallInput(call_id_for(path, None), str(path)))
        else:
            raise InputError(f"{path}: no such file or directory")
    # A bad row's error record already holds its call_id: a later call with that id is a duplicate too.
    seen: dict[str, str] = {p.call_id: p.path or "a bad manifest row" for p in problems}
    unique: list[CallInput] = []
    for call in calls:
        if call.call_id in seen:
            # a distinct id keeps the output one-record-per-call_id; the message names the clash
            dup_id = f"{call.call_id}~dup{sum(p.error_type == 'duplicate_call_id' for p in problems) + 1}"
            problems.append(
                InputProblem(dup_id, call.path, "duplicate_call_id",
                             f"{call.path}: call_id '{call.call_id}' already used by {seen[call.call_id]}", call.metadata)
            )
            continue
        seen[call.call_id] = call.path
        unique.append(call)
    return unique, problems


def resolve_under(root: Path, relative: str) -> Path:
    """`relative` resolved under `root`; raises ValueError if it escapes (.., absolute paths, symlinks out)."""
    if not relative.strip():
        raise ValueError("empty path")
    candidate = Path(relative)
    if candidate.is_absolute():
        raise ValueError(f"absolute path {relative!r} not allowed in a manifest")
    resolved = (root / candidate).resolve()
    if not resolved.is_relative_to(root.resolve()):
        raise ValueError(f"path {relative!r} escapes the manifest folder {root}")
    return resolved


def read_manifest(manifest: Path) -> tuple[list[CallInput], list[InputProblem]]:
    try:
        # surrogateescape: a row with bytes that are not UTF-8 becomes a bad row, not a crash of the whole batch
        handle = open(manifest, newline="", encoding="utf-8-sig", errors="surrogateescape")
    except OSError as exc:
        raise InputError(f"{manifest}: cannot read manifest ({exc.strerror or exc})") from exc
    root = manifest.parent
    calls: list[CallInput] = []
    problems: list[InputProblem] = []
    with handle:
        reader = csv.DictReader(handle)
        try:
            header = reader.fieldnames
        except csv.Error as exc:
            raise InputError(f"{manifest} line 1: unreadable CSV header ({exc})") from exc
        if header and any(_not_utf8(name) for name in header):
            raise InputError(f"{manifest} line 1: header is not valid UTF-8 text (save the manifest as UTF-8)")
        if not reader.fieldnames or "path" not in reader.fieldnames:
            raise InputError(f"{manifest}: manifest needs a 'path' column (found: {reader.fieldnames or 'nothing'})")
        rows = enumerate(reader, start=2)
        while True:
            try:
                line_no, row = next(rows)
            except StopIteration:
                break
            except csv.Error as exc:  # e.g. an unterminated quote swallowing the rest of the file
                raise InputError(f"{manifest} line {reader.line_num}: unreadable CSV ({exc})") from exc
            if any(_not_utf8(v) for v in [*row.values(), *row.keys()] if isinstance(v, str)):
                problems.append(_row_problem(manifest, line_no, _printable_row(row), "bad_manifest_row",
                                             "not valid UTF-8 text (save the manifest as UTF-8)"))
                continue
            if any("\n" in (row.get(key) or "") for key in ("path", "call_id")):
                problems.append(_row_problem(manifest, line_no, row, "bad_manifest_row",
                                             "a path or call_id cell spans several lines (an unbalanced quote?)"))
                continue
            if None in row:  # more cells than header columns
                extra = row.pop(None)
                problems.append(_row_problem(manifest, line_no, row, "bad_manifest_row", f"{len(extra)} cells too many"))
                continue
            metadata = {k: (v or "").strip() for k, v in row.items() if k not in ("path", "call_id") and k}
            rel = (row.get("path") or "").strip()
            try:
                path = resolve_under(root, rel)
            except ValueError as exc:
                problems.append(_row_problem(manifest, line_no, row, "bad_input_path", str(exc)))
                continue
            call_id = (row.get("call_id") or "").strip() or call_id_for(path, root.resolve())
            calls.append(CallInput(call_id, str(path), metadata))
    return calls, problems


def _not_utf8(text: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" for ch in text)


def _printable_row(row: dict) -> dict:
    """A row whose undecodable bytes are shown as U+FFFD, so its error record can be written as JSON."""
    clean = lambda v: v.encode("utf-8", "surrogateescape").decode("utf-8", "replace") if isinstance(v, str) else v
    return {clean(k): clean(v) for k, v in row.items() if k is not None}


def _row_problem(manifest: Path, line_no: int, row: dict, error_type: str, cause: str) -> InputProblem:
    call_id = (row.get("call_id") or "").strip() or f"{manifest.stem}:row{line_no}"
    metadata = {k: (v or "").strip() for k, v in row.items() if k and k not in ("path", "call_id") and isinstance(v, str)}
    return InputProblem(call_id, (row.get("path") or "").strip() if isinstance(row.get("path"), str) else "",
                        error_type, f"{manifest} line {line_no}: {cause}", metadata)

