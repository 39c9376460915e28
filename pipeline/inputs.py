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
    seen: dict[str, str] = {}
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
        handle = open(manifest, newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise InputError(f"{manifest}: cannot read manifest ({exc.strerror or exc})") from exc
    root = manifest.parent
    calls: list[CallInput] = []
    problems: list[InputProblem] = []
    with handle:
        reader = csv.DictReader(handle)
        if not reader.fieldnames or "path" not in reader.fieldnames:
            raise InputError(f"{manifest}: manifest needs a 'path' column (found: {reader.fieldnames or 'nothing'})")
        for line_no, row in enumerate(reader, start=2):
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


def _row_problem(manifest: Path, line_no: int, row: dict, error_type: str, cause: str) -> InputProblem:
    call_id = (row.get("call_id") or "").strip() or f"{manifest.stem}:row{line_no}"
    metadata = {k: (v or "").strip() for k, v in row.items() if k and k not in ("path", "call_id") and isinstance(v, str)}
    return InputProblem(call_id, (row.get("path") or "").strip() if isinstance(row.get("path"), str) else "",
                        error_type, f"{manifest} line {line_no}: {cause}", metadata)

