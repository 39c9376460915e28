"""Train the shipped default callback-risk model on a text-mode corpus (see docs/risk_model.md).

Calls are generated from a corpus recipe (text only, seconds), turned into record-like dicts by
`pipeline.features.text_record` (optionally through a simulated ASR error profile measured on audio), given
cues and sentiment by the real cue stage (--detect) or the corpus's own labels (stand-in), and labelled by the
corpus's ground-truth callbacks. The
model, its card and reliability plot are written by the same code as `callrisk train`.

    python scripts/train_default_model.py -o models/default --recipe train --window 14 --deletion 0.03 --substitution 0.04
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

from pipeline.commands.train import TrainingSet, train_and_report, format_metrics_table
from pipeline.corpus import RECIPES, labelled_calls, read_calls, write_corpus
from pipeline.features import AUDIO_ONLY_FEATURES, FEATURE_NAMES, TEXT_MODEL_FEATURES, AsrErrorProfile, text_record
from pipeline.risk import CallbackRiskModel
from pipeline.utterances import UtteranceOptions


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-o", "--output", required=True, help="model folder (model.json, MODEL_CARD.md, ...)")
    parser.add_argument("--recipe", default="train", choices=sorted(r for r in RECIPES if not RECIPES[r].audio))
    parser.add_argument("--calls", type=int, default=None, help="override the recipe's call count")
    parser.add_argument("--corpus", help="use this existing corpus folder instead of generating one")
    parser.add_argument("--window", type=int, default=14, choices=(7, 14, 30))
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--calibration", default="isotonic", choices=("isotonic", "sigmoid"))
    parser.add_argument("--deletion", type=float, default=0.0, help="simulated ASR deletion rate")
    parser.add_argument("--substitution", type=float, default=0.0, help="simulated ASR substitution rate")
    parser.add_argument("--insertion", type=float, default=0.0, help="simulated ASR insertion rate")
    parser.add_argument("--merge-pause", type=float, default=UtteranceOptions().max_pause_s,
                        help="join one speaker's lines separated by at most this many seconds into one utterance, as "
                             "the audio pipeline does (default: utterances.max_pause_s); a negative value keeps the "
                             "corpus lines")
    parser.add_argument("--features", choices=("default", "all-text"), default="default",
                        help="default: pipeline.features.TEXT_MODEL_FEATURES (cue flags + sentiment); all-text: every "
                             "feature a text record carries")
    parser.add_argument("--detect", action="store_true",
                        help="run the real cue + sentiment stage (pipeline.cues.CueStage) on the text instead of "
                             "using the corpus labels (~0.4 s/call on 2 cores; use --calls 3000-5000)")
    args = parser.parse_args(argv)

    recipe = RECIPES[args.recipe]
    options = recipe.corpus if args.calls is None else type(recipe.corpus)(**{**recipe.corpus.__dict__,
                                                                              "calls": args.calls})
    with tempfile.TemporaryDirectory(prefix="callrisk-train-") as tmp:
        corpus = Path(args.corpus or tmp)
        if not args.corpus:
            write_corpus(corpus, options, recipe=args.recipe)
        calls = read_calls(corpus / "calls.jsonl")
    generated = len(calls)
    calls = labelled_calls(calls, args.window)    # an issue's last allowed call has no follow-up drawn
    unlabelled = generated - len(calls)
    profile = AsrErrorProfile(args.deletion, args.substitution, args.insertion)
    merge = args.merge_pause if args.merge_pause >= 0 else None
    if args.detect:
        from pipeline.cues import CueOptions, CueStage

        stage = CueStage(CueOptions())
        records = [text_record(c, cue_stage=stage.annotate, gold_sentiment=False, asr=profile, merge_pause_s=merge)
                   for c in calls]
    else:
        records = [text_record(c, asr=profile, merge_pause_s=merge) for c in calls]
    cue_source = "pipeline.cues.CueStage on the (corrupted) text" if args.detect else "the corpus's own labels"
    data = TrainingSet(records=records, y=np.array([c["callback"][str(args.window)] for c in calls], dtype=int),
                       customers=np.array([c["customer_id"] for c in calls]), call_ids=[c["call_id"] for c in calls],
                       dropped_censored=0, dropped_unlabelled=unlabelled, dropped_failed=0)
    names = list(TEXT_MODEL_FEATURES) if args.features == "default" else \
        [n for n in FEATURE_NAMES if n not in AUDIO_ONLY_FEATURES]
    model = CallbackRiskModel(feature_names=names, calibration=args.calibration)
    source = args.corpus or f"recipe {args.recipe!r} ({generated} calls, seed {options.seed})"
    description = (f"Synthetic text-mode corpus calls ({source}), cues and sentiment from {cue_source}, simulated ASR "
                   f"WER {profile.wer:.3f} (deletion {profile.deletion_rate}, substitution "
                   f"{profile.substitution_rate}, insertion {profile.insertion_rate}), one speaker's lines joined across pauses "
                   f"<= {merge} s as the audio pipeline does; labels are the corpus's "
                   f"true follow-ups (issue-linked, uncensored; the {unlabelled} issue-final calls, whose follow-up the "
                   "corpus does not simulate, left out). NOT real calls: retrain on your own.")
    result = train_and_report(model, data, args.folds, args.window, Path(args.output),
                              sources={"scores": f"text_record({source})", "labels": "corpus ground truth"},
                              description=description)
    print(format_metrics_table({"cross-validated": result["cv_metrics"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
