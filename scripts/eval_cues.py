"""Evaluate the cue stage on the held-out labelled utterances, and its cost against ASR on the same calls.

    .venv/bin/python scripts/eval_cues.py                     # sentiment + cue macro-F1 on scripts/data/heldout.csv
    .venv/bin/python scripts/eval_cues.py --timing            # + cue stage time / ASR time on real and synthetic calls
    .venv/bin/python scripts/eval_cues.py --tune              # suggest per-label thresholds from the TRAINING set

Cue F1 is per utterance and label (does the utterance carry the cue?), macro-averaged over CUE_LABELS and over its
two groups: the behaviour cues (the 0.85 target) and the outcome cues (pipeline.vocab.OUTCOME_CUES); a cue on
a speaker the label does not apply to is not counted (the detectors are role-aware).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.offline import enforce_offline  # noqa: E402

enforce_offline()

import numpy as np  # noqa: E402

from pipeline.cues import CueDetector, load_cue_rules  # noqa: E402
from pipeline.sentiment import SentimentHead  # noqa: E402
from pipeline.text_encoder import TextEncoder, TextEncoderOptions, embed_utterances  # noqa: E402
from pipeline.vocab import CUE_LABELS, OUTCOME_CUES, SENTIMENT_LABELS  # noqa: E402

DATA = ROOT / "scripts" / "data"
SENTIMENT_TARGET, CUE_TARGET, COST_TARGET = 0.80, 0.85, 0.10


def read_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def true_cues(row: dict[str, str]) -> set[str]:
    return {c for c in (row.get("cues") or "").split(";") if c}


def detect_labels(detector: CueDetector, encoder, texts: list[str], roles: list[str], semantic: bool = True):
    """Per utterance: the set of cue labels found, plus the raw detections."""
    emb = embed_utterances(encoder, texts) if semantic else None
    out = []
    for i, (text, role) in enumerate(zip(texts, roles)):
        if emb is not None:
            rows = np.where(emb.owner == i)[0]
            found = detector.detect_text(text, role, [emb.spans[k] for k in rows], emb.sentences[rows])
        else:
            found = detector.detect_text(text, role)
        out.append(found)
    return [{f[0] for f in found} for found in out], out, emb


def cue_scores(truth: list[set[str]], predicted: list[set[str]]) -> dict[str, dict[str, float]]:
    scores = {}
    for label in CUE_LABELS:
        tp = sum(label in t and label in p for t, p in zip(truth, predicted))
        fp = sum(label not in t and label in p for t, p in zip(truth, predicted))
        fn = sum(label in t and label not in p for t, p in zip(truth, predicted))
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        scores[label] = {"precision": precision, "recall": recall, "f1": f1, "support": tp + fn}
    return scores


def macro(scores: dict[str, dict[str, float]]) -> float:
    return float(np.mean([s["f1"] for s in scores.values()]))


def role_filter(rows: list[dict[str, str]], detector: CueDetector) -> list[set[str]]:
    """Ground truth restricted to labels that apply to each row's role."""
    return [{c for c in true_cues(r) if c in {x.label for x in detector.rules.for_role(r["role"])}} for r in rows]


def evaluate(encoder: TextEncoder, heldout: Path | list, head_dir: Path, cues_file: Path, name: str = "") -> dict[str, float]:
    from sklearn.metrics import classification_report, f1_score

    rows = read_rows(heldout) if isinstance(heldout, Path) else heldout
    name = name or heldout.name
    texts, roles = [r["text"] for r in rows], [r["role"] for r in rows]
    detector = CueDetector(load_cue_rules(cues_file), encoder)
    predicted, found, emb = detect_labels(detector, encoder, texts, roles)
    truth = role_filter(rows, detector)
    scores = cue_scores(truth, predicted)
    pattern_only = cue_scores(truth, [{f[0] for f in fs if f[4] == "pattern"} for fs in found])
    print(f"\nCue detectors on {name} ({len(rows)} utterances)")
    print(f"{'label':<22}{'P':>7}{'R':>7}{'F1':>7}{'n':>5}   pattern-only F1")
    for label in CUE_LABELS:
        s = scores[label]
        print(f"{label:<22}{s['precision']:7.3f}{s['recall']:7.3f}{s['f1']:7.3f}{s['support']:5d}   {pattern_only[label]['f1']:.3f}")
    cue_f1 = macro(scores)
    behaviour = {label: s for label, s in scores.items() if label not in OUTCOME_CUES}
    outcome = {label: s for label, s in scores.items() if label in OUTCOME_CUES}
    print(f"cue macro-F1 {cue_f1:.3f}; patterns alone {macro(pattern_only):.3f}")
    print(f"  behaviour cues ({len(behaviour)} labels) {macro(behaviour):.3f} (target >= {CUE_TARGET}); "
          f"outcome cues ({', '.join(OUTCOME_CUES)}) {macro(outcome):.3f}")

    head = SentimentHead.load(head_dir)
    probs = head.predict(emb.utterance, roles)
    predicted_sentiment = [max(p, key=p.get) for p in probs]
    gold = [r["label"] for r in rows]
    print(f"\nSentiment on {name}")
    print(classification_report(gold, predicted_sentiment, labels=list(SENTIMENT_LABELS), digits=3, zero_division=0))
    sentiment_f1 = float(f1_score(gold, predicted_sentiment, labels=list(SENTIMENT_LABELS), average="macro", zero_division=0))
    print(f"sentiment macro-F1 {sentiment_f1:.3f} (target >= {SENTIMENT_TARGET})")
    return {"sentiment_macro_f1": round(sentiment_f1, 4), "cue_macro_f1": round(cue_f1, 4),
            "cue_behaviour_macro_f1": round(macro(behaviour), 4), "cue_outcome_macro_f1": round(macro(outcome), 4),
            "cue_pattern_only_macro_f1": round(macro(pattern_only), 4)}


def corpus_rows(calls: int, seed: int = 9090) -> list[dict[str, str]]:
    """Distinct utterances of generated calls in the generator's held-out phrasings (never in the training set)."""
    from pipeline.corpus import CorpusOptions, DialogueOptions, generate_calls

    options = CorpusOptions(calls=calls, seed=seed, dialogue=DialogueOptions(phrase_split="heldout"))
    rows: dict[tuple[str, str], dict[str, str]] = {}
    for call in generate_calls(options):
        for u in call.utterances:
            cues = ";".join(sorted({c.label for c in u.cues}))
            rows.setdefault((u.role, u.text), {"text": u.text, "role": u.role, "label": u.sentiment, "cues": cues})
    return list(rows.values())


def tune(encoder: TextEncoder, train: Path, cues_file: Path, verbose: bool = True) -> None:
    """Best semantic threshold per label on the training lines (patterns fixed), to copy into configs/cues.yaml."""
    rows = read_rows(train)
    rules = load_cue_rules(cues_file)
    detector = CueDetector(rules, encoder)
    texts, roles = [r["text"] for r in rows], [r["role"] for r in rows]
    truth = role_filter(rows, detector)
    emb = embed_utterances(encoder, texts)
    print(f"{'label':<22}{'current':>8}{'best':>7}{'F1 now':>8}{'F1 best':>8}")
    for rule in rules.rules:
        results = {}
        for threshold in np.arange(0.40, 0.81, 0.02):
            detector.rules = rules.__class__(
                tuple(r if r.label != rule.label else r.__class__(**{**r.__dict__, "threshold": float(threshold)})
                      for r in rules.rules), rules.pattern_score, rules.source, rules.background, rules.margin)
            predicted = []
            for i, (text, role) in enumerate(zip(texts, roles)):
                idx = np.where(emb.owner == i)[0]
                predicted.append({f[0] for f in detector.detect_text(text, role, [emb.spans[k] for k in idx], emb.sentences[idx])})
            results[round(float(threshold), 2)] = cue_scores(truth, predicted)[rule.label]["f1"]
        best = max(results, key=lambda t: (results[t], -abs(t - rule.threshold)))
        if verbose:
            print(rule.label, " ".join(f"{t:.2f}:{f:.3f}" for t, f in results.items()))
        now = results.get(round(rule.threshold, 2), float("nan"))
        print(f"{rule.label:<22}{rule.threshold:8.2f}{best:7.2f}{now:8.3f}{results[best]:8.3f}")
    detector.rules = rules


def timing_calls(synthetic: int, seed: int = 4242):
    """(name, 16 kHz mono audio, speaker turns, role map): pyannote's real 30 s phone call (reference turns,
    roles unknown) and `synthetic` rendered corpus calls (true turns and roles)."""
    import soundfile as sf

    from pipeline.evaluation import pyannote_sample
    from pipeline.types import SpeakerTurn

    calls = []
    sample = pyannote_sample()
    audio, rate = sf.read(sample["wav"], dtype="float32")
    turns = []
    for line in Path(sample["rttm"]).read_text().splitlines():
        parts = line.split()
        if parts and parts[0] == "SPEAKER":
            start, dur = float(parts[3]), float(parts[4])
            turns.append(SpeakerTurn(start, start + dur, parts[7]))
    assert rate == 16_000
    calls.append(("pyannote-sample", audio, turns, {}))
    if synthetic:
        import librosa

        from pipeline.corpus import CorpusOptions, generate_calls
        from pipeline.corpus.render import RenderOptions, render_call

        for plan in generate_calls(CorpusOptions(calls=synthetic, seed=seed))[:synthetic]:
            mix, rate, _ = render_call(plan, RenderOptions())
            mono = mix.mean(axis=0) if mix.ndim == 2 else mix
            if rate != 16_000:
                mono = librosa.resample(mono, orig_sr=rate, target_sr=16_000)
            turns = [SpeakerTurn(u.start, u.end, u.role) for u in plan.utterances]
            calls.append((plan.call_id, mono.astype(np.float32), turns, {"agent": "agent", "customer": "customer"}))
    return calls


def timing(calls: int, profile: bool = False) -> dict[str, float]:
    """Wall time of ASR (tiny.en int8) and of the cue stage (encoder, cues, sentiment, prosody) on the same calls."""
    from pipeline.asr import Transcriber
    from pipeline.cues import CueOptions, CueStage
    from pipeline.utterances import build_utterances

    transcriber = Transcriber()
    stage = CueStage(CueOptions())
    items = timing_calls(calls)
    # first use compiles librosa's numba kernels (cached on disk after) and warms the encoder: not part of the figure
    from pipeline.prosody import utterance_prosody

    utterance_prosody(items[0][1][: 16_000 * 2], 0.0, 2.0)
    stage.encoder.encode(["warm up the encoder", "and its batching"])
    transcriber.transcribe(items[0][1][: 16_000 * 5])
    asr_total = cue_total = audio_total = 0.0
    n_utts = 0
    print(f"\n{'call':<22}{'audio s':>8}{'utts':>6}{'ASR s':>8}{'cues s':>8}{'ratio':>7}")
    for name, audio, turns, roles in items:
        t0 = time.perf_counter()
        words = transcriber.transcribe(audio).words
        t1 = time.perf_counter()
        utts = build_utterances(words, turns, roles)
        t2 = time.perf_counter()
        if profile:
            import cProfile
            import pstats

            prof = cProfile.Profile()
            prof.enable()
        stage.annotate(utts, words, audio)
        t3 = time.perf_counter()
        if profile:
            prof.disable()
            pstats.Stats(prof).sort_stats("cumulative").print_stats(12)
        asr_s, cue_s = t1 - t0, t3 - t2
        asr_total += asr_s
        cue_total += cue_s
        audio_total += len(audio) / 16_000
        n_utts += len(utts)
        print(f"{name:<22}{len(audio) / 16_000:8.1f}{len(utts):6d}{asr_s:8.2f}{cue_s:8.3f}{cue_s / asr_s:7.1%}")
    ratio = cue_total / asr_total
    print(f"{'total':<22}{audio_total:8.1f}{n_utts:6d}{asr_total:8.2f}{cue_total:8.3f}{ratio:7.1%}"
          f"   ({1000 * cue_total / max(1, n_utts):.1f} ms per utterance; target <= {COST_TARGET:.0%} of ASR)")
    return {"asr_s": round(asr_total, 3), "cue_stage_s": round(cue_total, 3), "cue_over_asr": round(ratio, 4),
            "utterances": n_utts, "audio_s": round(audio_total, 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description="Held-out F1 of sentiment and cue detectors; cue-stage cost vs ASR.")
    parser.add_argument("--heldout", type=Path, default=DATA / "heldout.csv")
    parser.add_argument("--train", type=Path, default=DATA / "sentiment_train.csv")
    parser.add_argument("--head", type=Path, default=ROOT / "models" / "sentiment_head")
    parser.add_argument("--cues", type=Path, default=ROOT / "configs" / "cues.yaml")
    parser.add_argument("--tune", action="store_true", help="suggest thresholds from the training set and exit")
    parser.add_argument("--timing", action="store_true", help="also time the cue stage against ASR")
    parser.add_argument("--calls", type=int, default=3, help="synthetic calls to time (plus the real sample)")
    parser.add_argument("--profile", action="store_true", help="with --timing: where the cue stage spends its time")
    parser.add_argument("--corpus", type=int, default=0,
                        help="also score N generated calls in the generator's held-out phrasings")
    parser.add_argument("--json", type=Path, default=None, help="write the numbers here")
    args = parser.parse_args()

    encoder = TextEncoder(TextEncoderOptions())
    if args.tune:
        tune(encoder, args.train, args.cues)
        return 0
    results = evaluate(encoder, args.heldout, args.head, args.cues)
    if args.corpus:
        scores = evaluate(encoder, corpus_rows(args.corpus), args.head, args.cues, f"{args.corpus} corpus calls, held-out phrasings")
        results.update({f"corpus_{k}": v for k, v in scores.items()})
    if args.timing:
        results.update(timing(args.calls, args.profile))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n")
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
