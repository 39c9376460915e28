"""`callrisk train`: scored calls + callback labels -> a calibrated callback-risk model with its model card."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pipeline import __version__
from pipeline.features import AUDIO_ONLY_FEATURES, FEATURE_NAMES, FEATURES, feature_matrix
from pipeline.labels import LabelOptions, MetadataError, label_calls, label_columns, load_metadata
from pipeline.risk import CallbackRiskModel, classification_metrics, grouped_cv_predictions, reliability_table
from pipeline.vocab import CALLBACK_WINDOWS_DAYS

log = logging.getLogger(__name__)

DESCRIPTION = """\
Train the callback-risk model on your own calls. SCORES is the JSONL written by `callrisk score`; LABELS is the
CSV/Parquet written by `callrisk label` (or raw call metadata: call_id, customer_id, started_at, ... which is
then labelled here, linking by customer). Records and labels are joined on call_id; calls whose label is empty
(censored: too close to the end of the data to know) and failed records are left out. The model is
cross-validated with folds grouped by customer_id (no customer in both train and test) and reports ROC-AUC,
PR-AUC, Brier score and expected calibration error (10 bins); then it is fitted on all the calls. Written into
the -o folder: model.json (loads without executing code), MODEL_CARD.md, reliability.png, cv_predictions.csv.
Exit codes: 0 ok, 1 unusable input, 2 bad arguments. See docs/risk_model.md."""


@dataclass
class TrainingSet:
    records: list[dict[str, Any]]
    y: np.ndarray
    customers: np.ndarray
    call_ids: list[str]
    dropped_censored: int
    dropped_unlabelled: int        # scored calls missing from the labels (or whose label is unknown)
    dropped_failed: int            # records with status "error"


def read_records(path: str | Path) -> list[dict[str, Any]]:
    records = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                try:
                    record = json.loads(line)
                except ValueError as exc:
                    raise ValueError(f"{path}:{n}: not JSON ({exc})") from exc
                if not isinstance(record, dict):
                    raise ValueError(f"{path}:{n}: not a record (a JSON object expected)")
                records.append(record)
    return records


def load_labels(path: str | Path, window: int) -> pd.DataFrame:
    """call_id, customer_id and callback_<window>d (float, NaN = censored); raw metadata is labelled first."""
    frame = load_metadata(path)
    column = label_columns(window)[2]
    labelled = sorted(c for c in frame.columns if re.fullmatch(r"callback_\d+d", str(c)))
    if column not in frame.columns and labelled:
        # relabelling here would silently drop the linking, as-of date and time zone the file was made with
        raise MetadataError(f"{path}: has {', '.join(labelled)} but not {column}: label with "
                            f"`callrisk label ... --window {window}` or train with --window "
                            f"{labelled[0][len('callback_'):-1]}")
    if column not in frame.columns:
        frame = label_calls(frame, LabelOptions(window_days=(window,)))
    missing = [c for c in ("call_id", "customer_id", column) if c not in frame.columns]
    if missing:
        raise MetadataError(f"{path}: missing column(s) {', '.join(missing)}")
    labels = frame[["call_id", "customer_id", column]].copy()
    labels[column] = pd.to_numeric(labels[column].replace("", np.nan), errors="coerce")
    return labels.rename(columns={column: "callback"}).drop_duplicates("call_id")


def training_set(scores: str | Path, labels_path: str | Path, window: int) -> TrainingSet:
    records = read_records(scores)
    labels = load_labels(labels_path, window).set_index("call_id")
    kept, y, customers, ids = [], [], [], []
    censored = unlabelled = failed = 0
    for record in records:
        if record.get("status", "ok") != "ok":
            failed += 1
            continue
        call_id = str(record.get("call_id"))
        if call_id not in labels.index:
            unlabelled += 1
            continue
        row = labels.loc[call_id]
        if pd.isna(row["callback"]):
            censored += 1
            continue
        kept.append(record)
        y.append(int(row["callback"]))
        customers.append(str(row["customer_id"] or record.get("customer_id") or call_id))
        ids.append(call_id)
    return TrainingSet(kept, np.asarray(y, dtype=int), np.asarray(customers), ids, censored, unlabelled, failed)


def register(subparsers) -> None:
    parser = subparsers.add_parser("train", help="train a calibrated callback-risk model", description=DESCRIPTION,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scores", help="scored calls, JSONL from `callrisk score`")
    parser.add_argument("labels", help="labels from `callrisk label` (or raw call metadata), .csv or .parquet")
    parser.add_argument("-o", "--output", required=True, metavar="DIR", help="folder for the model and its card")
    parser.add_argument("--window", type=int, choices=CALLBACK_WINDOWS_DAYS, default=14,
                        help="callback window in days (default 14)")
    parser.add_argument("--folds", type=int, default=5, help="grouped cross-validation folds (default 5)")
    parser.add_argument("--calibration", choices=("isotonic", "sigmoid"), default="isotonic",
                        help="calibration map (default isotonic, centred so the risk keeps the regression's order; "
                             "sigmoid for small data sets)")
    parser.add_argument("--C", type=float, default=1.0, dest="C", help="inverse L2 regularisation (default 1.0)")
    parser.add_argument("--text-features", action="store_true",
                        help=f"leave out the features a text-only record lacks ({', '.join(AUDIO_ONLY_FEATURES)})")
    parser.add_argument("--description", default="", help="one line on what the training calls are (model card)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.folds < 2:
        print("callrisk train: error: --folds must be at least 2", file=sys.stderr)
        return 2
    try:
        data = training_set(args.scores, args.labels, args.window)
    except (OSError, ValueError, MetadataError) as exc:
        print(f"callrisk train: error: {exc}", file=sys.stderr)
        return 1
    if not len(data.y):
        print(f"callrisk train: error: no call_id of {args.scores} has a label in {args.labels} (window "
              f"{args.window} d; censored and failed calls are left out)", file=sys.stderr)
        return 1
    if len(np.unique(data.y)) < 2 or len(np.unique(data.customers)) < args.folds:
        print(f"callrisk train: error: need both outcomes and at least {args.folds} customers among the "
              f"{len(data.y)} labelled calls", file=sys.stderr)
        return 1
    names = [n for n in FEATURE_NAMES if not (args.text_features and n in AUDIO_ONLY_FEATURES)]
    model = CallbackRiskModel(feature_names=names, C=args.C, calibration=args.calibration)
    try:
        result = train_and_report(model, data, args.folds, args.window, Path(args.output),
                                  sources={"scores": str(args.scores), "labels": str(args.labels)},
                                  description=args.description)
    except ValueError as exc:   # e.g. a fold whose training part has one outcome only
        callers = len(np.unique(data.customers[data.y == 1]))
        print(f"callrisk train: error: {exc}. The {int(data.y.sum())} callbacks come from {callers} customer(s); "
              f"try fewer --folds (now {args.folds}) or more labelled calls", file=sys.stderr)
        return 1
    print(format_metrics_table({"cross-validated": result["cv_metrics"]}))
    print(f"model written to {Path(args.output) / 'model.json'}")
    return 0


def train_and_report(model: CallbackRiskModel, data: TrainingSet, folds: int, window: int, out: Path,
                     sources: dict[str, str], description: str = "") -> dict[str, Any]:
    """Grouped CV metrics, then the final fit on all calls; writes model.json, MODEL_CARD.md, reliability.png
    and cv_predictions.csv into `out`. Returns the metadata stored in the model."""
    X = feature_matrix(data.records, model.feature_names)
    prob, splits = grouped_cv_predictions(model, X, data.y, data.customers, folds)
    metrics = classification_metrics(data.y, prob)
    model.fit(X, data.y, groups=data.customers)
    model.metadata_ = {
        "window_days": window,
        "trained_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "callrisk_version": __version__,
        "sources": sources,
        "description": description,
        "calls": int(len(data.y)),
        "customers": int(len(np.unique(data.customers))),
        "positive_rate": float(data.y.mean()),
        "dropped": {"censored": data.dropped_censored, "not_in_labels": data.dropped_unlabelled,
                    "failed_records": data.dropped_failed},
        "cv": {"folds": len(splits), "grouped_by": "customer_id", "metrics": metrics,
               "reliability": reliability_table(data.y, prob)},
    }
    out.mkdir(parents=True, exist_ok=True)
    model.save(out / "model.json")
    pd.DataFrame({"call_id": data.call_ids, "customer_id": data.customers, "callback": data.y,
                  "cv_probability": prob}).to_csv(out / "cv_predictions.csv", index=False)
    reliability_plot(data.y, prob, out / "reliability.png", f"{window}-day callback, {len(splits)}-fold grouped CV")
    (out / "MODEL_CARD.md").write_text(model_card(model), encoding="utf-8")
    return {"cv_metrics": metrics, "metadata": model.metadata_}


def reliability_plot(y, prob, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = reliability_table(y, prob)
    fig, ax = plt.subplots(figsize=(5, 5), dpi=100)
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", label="perfect calibration")
    ax.plot([r["predicted"] for r in rows], [r["observed"] for r in rows], marker="o", label="model")
    for r in rows:
        ax.annotate(str(r["n"]), (r["predicted"], r["observed"]), fontsize=7, xytext=(3, -9),
                    textcoords="offset points")
    ax.set_xlabel("predicted probability (bin mean)")
    ax.set_ylabel("observed callback rate")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_title(title, fontsize=10)
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def format_metrics_table(rows: dict[str, dict[str, float]]) -> str:
    columns = ("n", "positive_rate", "roc_auc", "pr_auc", "brier", "ece")
    width = max(12, *(len(k) for k in rows))
    lines = [f"{'':{width}} " + " ".join(f"{c:>13}" for c in columns)]
    for name, m in rows.items():
        cells = [f"{m[c]:>13d}" if c == "n" else f"{m[c]:>13.4f}" for c in columns]
        lines.append(f"{name:{width}} " + " ".join(cells))
    return "\n".join(lines)


def model_card(model: CallbackRiskModel) -> str:
    meta = model.metadata_
    m = meta["cv"]["metrics"]
    coefs = sorted(zip(model.feature_names, model.params_["coef"]), key=lambda t: -abs(t[1]))
    descriptions = {f.name: f.description for f in FEATURES}
    lines = [
        "# Callback-risk model card", "",
        f"- Trained: {meta['trained_at']} with callrisk {meta['callrisk_version']}",
        f"- Predicts: probability that the customer calls again about the same issue within "
        f"{meta['window_days']} days (a repeat call linked by `callrisk label`).",
        f"- Training data: {meta['calls']} labelled calls from {meta['customers']} customers "
        f"(callback rate {meta['positive_rate']:.3f}); scores `{meta['sources'].get('scores')}`, labels "
        f"`{meta['sources'].get('labels')}`." + (f" {meta['description']}" if meta.get("description") else ""),
        f"- Left out: {meta['dropped']['censored']} censored calls (window not yet observed), "
        f"{meta['dropped']['not_in_labels']} calls without a label (not in the labels, or unknown), "
        f"{meta['dropped']['failed_records']} "
        "failed records.",
        f"- Model: standardised features -> L2 logistic regression (C={model.C}) -> "
        f"{'centred isotonic' if model.calibration == 'isotonic' else model.calibration} "
        "calibration on grouped out-of-fold scores. Stored as JSON (model.json), no code executed on load.",
        "",
        f"## Cross-validated metrics ({meta['cv']['folds']} folds grouped by customer_id)", "",
        "| ROC-AUC | PR-AUC | Brier | ECE (10 bins) | n |", "|---|---|---|---|---|",
        f"| {m['roc_auc']:.4f} | {m['pr_auc']:.4f} | {m['brier']:.4f} | {m['ece']:.4f} | {m['n']} |", "",
        "Reliability plot: reliability.png (per-bin mean prediction vs observed rate, calls per bin annotated).", "",
        f"Risk bands: low < {model.risk_options.band_thresholds[0]} <= medium < "
        f"{model.risk_options.band_thresholds[1]} <= high.", "",
        "## Largest coefficients (per standard deviation of the feature; + raises risk)", "",
        "| feature | coefficient | meaning |", "|---|---|---|",
    ]
    lines += [f"| `{n}` | {c:+.3f} | {descriptions[n]} |" for n, c in coefs[:15]]
    lines += ["", "## Use and limits", "",
              "The model learns the callback behaviour of the calls it was trained on. Scores transfer only to "
              "calls like them (same kind of business, customers, agents, recording and language). Retrain on "
              "your own scored calls and labels (`callrisk label` then `callrisk train`) before relying on "
              "scores, and check the calibration of the new model on held-out calls (`callrisk evaluate`).", ""]
    return "\n".join(lines)
