"""Accuracy measures shared by tests and benchmarks: reference readers and word error rate."""

from __future__ import annotations

import re
from pathlib import Path

from pipeline.registry import package_dir

_PUNCT = re.compile(r"[^\w\s']")


def normalize_text(text: str) -> str:
    """Lower case, no punctuation (hyphens become spaces, curly apostrophes straight ones), single spaces: WER
    counts words, not commas, and role phrases (configs/roles.yaml) match the same text."""
    text = _PUNCT.sub(" ", text.lower().replace("’", "'").replace("-", " "))
    return " ".join(text.split())


def word_error_rate(reference: str, hypothesis: str) -> float:
    import jiwer  # only where WER is measured: the scoring path imports this module for normalize_text

    return float(jiwer.wer(normalize_text(reference), normalize_text(hypothesis)))


def read_stm(path: str | Path) -> str:
    """Reference transcript of an STM file, in time order: `file channel speaker start end text`."""
    rows = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith(";;"):
            continue
        parts = line.split(maxsplit=5)
        if len(parts) == 6:
            rows.append((float(parts[3]), parts[5]))
    return " ".join(text for _, text in sorted(rows))


def pyannote_sample() -> dict[str, Path]:
    """The real 30 s two-party phone call shipped inside pyannote.audio, with its references."""
    root = package_dir("pyannote.audio")
    if root is None:
        raise FileNotFoundError("pyannote.audio is not installed")
    sample = root / "sample"
    return {"wav": sample / "sample.wav", "rttm": sample / "sample.rttm", "stm": sample / "sample.stm"}
