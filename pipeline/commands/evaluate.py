"""`callrisk evaluate`: compare callback-risk models on the same labelled calls."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from pipeline.commands.train import format_metrics_table, training_set
from pipeline.labels import MetadataError
from pipeline.risk import CallbackRiskModel, classification_metrics
from pipeline.vocab import CALLBACK_WINDOWS_DAYS

DESCRIPTION = """\
Score the same labelled calls with each --model (a model.json, or the folder holding one) and print ROC-AUC,
PR-AUC, Brier score and expected calibration error (10 bins) side by side. SCORES and LABELS are as for
`callrisk train`; censored and failed calls are left out. The window defaults to the one the first model was
trained for. Models are read as JSON, never executed. Exit codes: 0 ok, 1 unusable input, 2 bad arguments."""


def register(subparsers) -> None:
    parser = subparsers.add_parser("evaluate", help="compare callback-risk models on labelled calls",
                                   description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scores", help="scored calls, JSONL from `callrisk score`")
    parser.add_argument("labels", help="labels from `callrisk label` (or raw call metadata), .csv or .parquet")
    parser.add_argument("--model", action="append", required=True, metavar="PATH",
                        help="model.json or its folder (repeat to compare)")
    parser.add_argument("--window", type=int, choices=CALLBACK_WINDOWS_DAYS, default=None,
                        help="callback window in days (default: the first model's)")
    parser.add_argument("--csv", metavar="FILE", help="also write the table as CSV")
    parser.set_defaults(func=run)


def model_path(path: str) -> Path:
    p = Path(path)
    return p / "model.json" if p.is_dir() else p


def run(args: argparse.Namespace) -> int:
    try:
        models = {path: CallbackRiskModel.load(model_path(path)) for path in args.model}
    except ValueError as exc:
        print(f"callrisk evaluate: error: {exc}", file=sys.stderr)
        return 2
    first = next(iter(models.values()))
    window = args.window or int(first.metadata_.get("window_days", 14))
    try:
        data = training_set(args.scores, args.labels, window)
    except (OSError, ValueError, MetadataError) as exc:
        print(f"callrisk evaluate: error: {exc}", file=sys.stderr)
        return 1
    if not data.records:
        print("callrisk evaluate: error: no labelled calls to evaluate on", file=sys.stderr)
        return 1
    rows = {}
    for path, model in models.items():
        trained = model.metadata_.get("window_days")
        if trained is not None and int(trained) != window:
            print(f"warning: {path} was trained for a {trained}-day window, evaluated on {window} days",
                  file=sys.stderr)
        rows[path] = classification_metrics(data.y, model.score_records(data.records))
    print(f"{window}-day callback, {len(data.y)} labelled calls "
          f"({data.dropped_censored} censored, {data.dropped_unlabelled} unlabelled, {data.dropped_failed} failed "
          "left out)")
    print(format_metrics_table(rows))
    if args.csv:
        pd.DataFrame([{"model": k, "window_days": window, **v} for k, v in rows.items()]).to_csv(args.csv, index=False)
    return 0
