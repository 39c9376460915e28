"""Build scripts/data/sentiment_train.csv: corpus-generator lines + hand-written training lines.

Provenance (see scripts/data/README.md):
- `corpus`: distinct utterances of pipeline.corpus (synthetic calls, labels are the phrasing's affect and cue spans),
  training phrasings only (phrase_split="train"), capped per (role, label) so agent small talk does not swamp the
  rare classes;
- `asr_style`: a share of those lowercased with punctuation removed, as tiny.en often returns them;
- `handwritten`: scripts/data/train_handwritten.csv, written for this project, separate from the held-out set.
Any line whose normalised text equals a held-out line is dropped, so held-out stays unseen.

    .venv/bin/python scripts/data/build_training_set.py [--calls 400 --seed 101]
"""

from __future__ import annotations

import argparse
import csv
import random
import re
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

DATA = Path(__file__).resolve().parent
FIELDS = ["text", "role", "label", "cues", "source"]


def normalise(text: str) -> str:
    return re.sub(r"[^a-z0-9 ]+", "", text.lower()).strip()


def asr_style(text: str) -> str:
    """Lowercase, no punctuation except apostrophes: how a small ASR model often writes a line."""
    return re.sub(r"\s+", " ", re.sub(r"[^\w' ]+", " ", text.lower())).strip()


def read(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def corpus_lines(calls: int, seed: int, cap: int) -> list[dict[str, str]]:
    from pipeline.corpus import CorpusOptions, DialogueOptions, generate_calls

    by_class: dict[tuple[str, str], dict[str, dict[str, str]]] = defaultdict(dict)
    # only the generator's training phrasings: its held-out phrasings stay unseen for corpus-level evaluations
    options = CorpusOptions(calls=calls, seed=seed, dialogue=DialogueOptions(phrase_split="train"))
    for call in generate_calls(options):
        for utt in call.utterances:
            cues = ";".join(sorted({c.label for c in utt.cues}))
            by_class[(utt.role, utt.sentiment)].setdefault(
                utt.text, {"text": utt.text, "role": utt.role, "label": utt.sentiment, "cues": cues, "source": "corpus"}
            )
    rng = random.Random(seed)
    rows = []
    for key in sorted(by_class):
        lines = list(by_class[key].values())
        # lines with cues are kept first: they are what the thresholds are tuned on
        lines.sort(key=lambda r: (not r["cues"], rng.random()))
        rows += lines[:cap]
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=400)
    parser.add_argument("--seed", type=int, default=101)
    parser.add_argument("--cap", type=int, default=220, help="distinct corpus lines kept per (role, label)")
    parser.add_argument("--asr-share", type=float, default=0.3)
    parser.add_argument("--out", type=Path, default=DATA / "sentiment_train.csv")
    args = parser.parse_args()

    held_out = {normalise(r["text"]) for r in read(DATA / "heldout.csv")}
    rng = random.Random(args.seed)
    rows = corpus_lines(args.calls, args.seed, args.cap)
    rows += [dict(r, source="asr_style", text=asr_style(r["text"])) for r in rows if rng.random() < args.asr_share]
    rows += [dict(r, source="handwritten") for r in read(DATA / "train_handwritten.csv")]
    seen: set[str] = set()
    kept = []
    for row in rows:
        key = normalise(row["text"])
        if not key or key in held_out or (row["text"], row["role"]) in seen:
            continue
        seen.add((row["text"], row["role"]))
        kept.append(row)
    with open(args.out, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=FIELDS)
        writer.writeheader()
        writer.writerows(kept)
    print(f"{len(kept)} lines -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
