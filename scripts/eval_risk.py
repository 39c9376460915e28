"""Evaluate a callback-risk model on held-out corpus calls against the best achievable AUC.

The corpus knows each call's true callback probability, so the AUC of those probabilities against the drawn
labels is the best any model can reach on that corpus (`pipeline.corpus.best_auc`). This prints the model's
ROC-AUC, that best AUC, the gap (with a 90% bootstrap interval over calls), and the expected calibration error
(10 bins), with the issue's pass marks (gap <= 0.03, ECE <= 0.05). It also prints the gap in *expected* AUC
(`pipeline.corpus.expected_auc`: averaged over every draw of the labels from the true probabilities), which
does not depend on the luck of one draw and so moves less from one sample of calls to the next.
Several corpora (each with its --scores) are pooled into one set of calls.

    # calls processed from audio by `callrisk score` (records joined to the corpus on call_id):
    python scripts/eval_risk.py --model models/default --corpus /tmp/eval-audio --scores /tmp/eval-audio.jsonl
    # two held-out audio corpora pooled:
    python scripts/eval_risk.py --model models/default --corpus A --scores A.jsonl --corpus B --scores B.jsonl
    # diagnostic: the same records with the corpus's own cues (and/or sentiments) put in, to see what a
    # perfect cue (sentiment) stage would win on these ASR words:
    python scripts/eval_risk.py --model models/default --corpus A --scores A.jsonl --gold cues --gold sentiment
    # text mode: records built from the corpus text, optionally through a simulated ASR error profile:
    python scripts/eval_risk.py --model models/default --corpus /tmp/eval --deletion 0.03 --substitution 0.04
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

from pipeline.commands.evaluate import model_path
from pipeline.commands.train import read_records
from pipeline.corpus import best_auc, expected_auc, labelled_calls, read_calls
from pipeline.corpus.world import MAX_CONTACTS_PER_ISSUE
from pipeline.features import AsrErrorProfile, sentiment_probs, text_record
from pipeline.risk import CallbackRiskModel, classification_metrics

MAX_AUC_GAP = 0.03
MAX_ECE = 0.05


def with_corpus_labels(record: dict, call: dict, parts: set[str]) -> dict:
    """A copy of a scored record whose cues and/or sentiments (`parts`) are replaced by the corpus's own labels:
    each corpus line's labels go to the record utterance of the same role that overlaps it most in time (a
    line's sentiments averaged per utterance). What the model would score with a perfect cue or sentiment
    stage on the same ASR words and utterances: it splits the audio gap between those stages and the rest."""
    record = json.loads(json.dumps(record))
    utterances = record.get("utterances") or []
    matched: dict[int, list[dict]] = {}
    for line in call["utterances"]:
        same_role = [i for i, u in enumerate(utterances) if u.get("role") == line["role"]]
        if same_role:
            best = max(same_role, key=lambda i: min(utterances[i]["end"], line["end"])
                       - max(utterances[i]["start"], line["start"]))
            matched.setdefault(best, []).append(line)
    for i, u in enumerate(utterances):
        lines = matched.get(i, [])
        if "cues" in parts:
            u["cues"] = [{"label": cue["label"], "score": 1.0} for line in lines for cue in line["cues"]]
        if "sentiment" in parts and lines:
            probs = [sentiment_probs(line["sentiment"]) for line in lines]
            u["sentiment"] = {label: float(np.mean([p[label] for p in probs])) for label in probs[0]}
    return record


def evaluate(model: CallbackRiskModel, calls: list[dict], records: list[dict], window: int,
             bootstrap: int = 1000) -> dict:
    by_id = {r.get("call_id"): r for r in records if r.get("status", "ok") == "ok"}
    labelled = labelled_calls(calls, window)
    kept = [c for c in labelled if c["call_id"] in by_id]
    key = str(window)
    y = np.array([bool(c["callback"][key]) for c in kept], dtype=int)
    truth = np.array([c["true_callback_prob"][key] for c in kept])
    prob = model.score_records([by_id[c["call_id"]] for c in kept])
    metrics = classification_metrics(y, prob)
    metrics["best_auc"] = best_auc(kept, window)
    metrics["auc_gap"] = metrics["best_auc"] - metrics["roc_auc"]
    metrics["calls_in_corpus"] = len(calls)
    metrics["unlabelled_calls"] = len(calls) - len(labelled)
    metrics["true_prob_ece"] = classification_metrics(y, truth)["ece"]
    metrics["expected_auc"] = expected_auc(truth, prob)
    metrics["expected_best_auc"] = expected_auc(truth, truth)
    metrics["expected_auc_gap"] = metrics["expected_best_auc"] - metrics["expected_auc"]
    rng, gaps = np.random.default_rng(0), []
    for _ in range(bootstrap):
        i = rng.integers(0, len(y), len(y))
        if 0 < y[i].sum() < len(i):
            gaps.append(roc_auc_score(y[i], truth[i]) - roc_auc_score(y[i], prob[i]))
    metrics["auc_gap_90"] = [float(np.percentile(gaps, 5)), float(np.percentile(gaps, 95))] if gaps else None
    return metrics


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="model.json or its folder")
    parser.add_argument("--corpus", required=True, action="append",
                        help="corpus folder (calls.jsonl with true probabilities); repeat to pool several")
    parser.add_argument("--scores", action="append",
                        help="records from `callrisk score` for the calls of the --corpus at the same position "
                             "(else text mode)")
    parser.add_argument("--window", type=int, default=None, help="days (default: the model's window)")
    parser.add_argument("--deletion", type=float, default=0.0, help="text mode: simulated ASR deletion rate")
    parser.add_argument("--substitution", type=float, default=0.0, help="text mode: simulated substitution rate")
    parser.add_argument("--insertion", type=float, default=0.0, help="text mode: simulated insertion rate")
    parser.add_argument("--gold", action="append", choices=("cues", "sentiment"), default=[],
                        help="diagnostic, with --scores: replace the records' cues / sentiments by the corpus's own "
                             "labels (repeatable) to see how much of the gap those stages cost")
    parser.add_argument("--json", help="also write the numbers here")
    args = parser.parse_args(argv)

    model = CallbackRiskModel.load(model_path(args.model))
    window = args.window or int(model.metadata_.get("window_days", 14))
    if args.scores and len(args.scores) != len(args.corpus):
        parser.error("give one --scores per --corpus (or none for text mode)")
    calls, records = [], []
    profile = AsrErrorProfile(args.deletion, args.substitution, args.insertion)
    if args.gold and not args.scores:
        parser.error("--gold needs --scores (text mode already uses the corpus's labels)")
    for i, corpus in enumerate(args.corpus):
        corpus_calls = read_calls(Path(corpus) / "calls.jsonl")
        planted = sum(c["contact_number"] >= MAX_CONTACTS_PER_ISSUE and c["callback"][str(window)] is not None
                      for c in corpus_calls)
        if planted:
            print(f"warning: {corpus} was made by an older generator: its {planted} issue-final calls carry a "
                  "'no callback' label the calls cannot reveal, which lowers every model's AUC (docs/corpus.md); "
                  "regenerate the corpus's calls.jsonl to compare with current figures", file=sys.stderr)
        calls += corpus_calls
        if not args.scores:
            records += [text_record(c, asr=profile) for c in corpus_calls]
            continue
        scored = read_records(args.scores[i])
        if args.gold:
            by_id = {c["call_id"]: c for c in corpus_calls}
            scored = [with_corpus_labels(r, by_id[r["call_id"]], set(args.gold)) if r.get("call_id") in by_id
                      and r.get("status", "ok") == "ok" else r for r in scored]
        records += scored
    mode = f"records {', '.join(args.scores)}" if args.scores else f"text mode, simulated WER {profile.wer:.3f}"
    if args.gold:
        mode += f", corpus {' and '.join(args.gold)} put in (diagnostic)"
    m = evaluate(model, calls, records, window)
    low, high = m["auc_gap_90"] or (float("nan"), float("nan"))
    print(f"{args.model} on {', '.join(args.corpus)} ({mode}), {window}-day callback: "
          f"{m['n']} of {m['calls_in_corpus']} calls ({m['unlabelled_calls']} issue-final calls have no label)")
    print(f"  ROC-AUC {m['roc_auc']:.4f}   best achievable {m['best_auc']:.4f}   gap {m['auc_gap']:.4f} "
          f"(90% bootstrap {low:.3f} to {high:.3f}; {'ok' if m['auc_gap'] <= MAX_AUC_GAP else 'FAIL'}: <= {MAX_AUC_GAP})")
    print(f"  expected AUC over label draws {m['expected_auc']:.4f}   best {m['expected_best_auc']:.4f}   "
          f"gap {m['expected_auc_gap']:.4f}")
    print(f"  ECE {m['ece']:.4f} ({'ok' if m['ece'] <= MAX_ECE else 'FAIL'}: <= {MAX_ECE})   "
          f"PR-AUC {m['pr_auc']:.4f}   Brier {m['brier']:.4f}   callback rate {m['positive_rate']:.3f}   "
          f"(true probabilities' own ECE {m['true_prob_ece']:.4f})")
    if args.json:
        Path(args.json).write_text(json.dumps({"window_days": window, "mode": mode, **m}, indent=1) + "\n")
    return 0 if m["auc_gap"] <= MAX_AUC_GAP and m["ece"] <= MAX_ECE else 1


if __name__ == "__main__":
    sys.exit(main())
