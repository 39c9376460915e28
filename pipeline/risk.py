"""The callback-risk model: standardisation + logistic regression + calibration, as a scikit-learn estimator.

`CallbackRiskModel` follows the estimator contract (fit / predict_proba / predict / get_params / set_params), so
it drops into a data scientist's own pipelines, grid searches and cross-validation. Calibration is
scikit-learn's `CalibratedClassifierCV(ensemble=False)`: out-of-fold scores (grouped by customer when `groups`
is given to `fit`) fit an isotonic or sigmoid map, applied to the regression fitted on all the data.

Saved models are JSON (coefficients, scaler, calibration map, feature names, band thresholds, versions): they
load without executing code. Predictions always go through the same numpy formula, before and after a save, so
a round trip gives identical probabilities.

`explain(record)` scores one call record and returns its risk band and its top reasons in plain words, each
pointing at the utterances (and times) that carry it.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from pipeline import __version__
from pipeline.features import (
    FEATURE_BY_NAME, NEGATIVE_AFFECT_FEATURES, FeatureOptions, call_features, feature_evidence, feature_matrix,
)

MODEL_FORMAT = "callrisk-risk-model"
MODEL_FORMAT_VERSION = 1
BANDS = ("low", "medium", "high")


@dataclass(frozen=True)
class RiskOptions:
    """How scores are presented (config section `risk`)."""

    band_thresholds: tuple[float, float] = (0.2, 0.4)   # p < first: low; p < second: medium; else high
    top_reasons: int = 3
    evidence_per_reason: int = 3

    def __post_init__(self) -> None:
        lo, hi = self.band_thresholds
        if not 0 < lo < hi < 1 or self.top_reasons < 0 or self.evidence_per_reason < 0:
            raise ValueError("risk.band_thresholds must satisfy 0 < low < high < 1; counts must be >= 0")


def risk_band(probability: float, thresholds: Sequence[float] = RiskOptions.band_thresholds) -> str:
    lo, hi = thresholds
    return "low" if probability < lo else "medium" if probability < hi else "high"


class CallbackRiskModel(ClassifierMixin, BaseEstimator):
    """Calibrated logistic regression on call features.

    X: (n_calls, n_features) array (or DataFrame); column j is feature `feature_names[j]` when names are given
    (needed for `explain`, which computes features from a record). y: 0/1 (callback within the window).
    `fit(X, y, groups=...)`: calibration folds keep each group (customer) on one side.
    """

    def __init__(self, feature_names: Sequence[str] | None = None, C: float = 1.0, calibration: str = "isotonic",
                 cv: int = 5, max_iter: int = 2000, random_state: int = 0):
        self.feature_names = feature_names
        self.C = C
        self.calibration = calibration
        self.cv = cv
        self.max_iter = max_iter
        self.random_state = random_state

    # -- sklearn contract -------------------------------------------------------------------------------------

    def fit(self, X, y, groups=None) -> "CallbackRiskModel":
        if self.calibration not in ("isotonic", "sigmoid", "none"):
            raise ValueError(f"calibration must be isotonic, sigmoid or none, not {self.calibration!r}")
        X, y = validate_data(self, X, y, dtype=np.float64)
        check_classification_targets(y)
        if len(np.unique(y)) != 2:
            raise ValueError(f"Only binary classification is supported: y has {len(np.unique(y))} class(es)")
        if self.feature_names is not None and len(self.feature_names) != X.shape[1]:
            raise ValueError(f"{len(self.feature_names)} feature_names for {X.shape[1]} columns")
        self.classes_ = np.unique(y)
        target = (y == self.classes_[1]).astype(int)
        base = Pipeline([("scale", StandardScaler()),
                         ("logreg", LogisticRegression(C=self.C, max_iter=self.max_iter))])
        if self.calibration == "none":
            base.fit(X, target)
            calibrator: dict[str, Any] = {"method": "none"}
        else:
            calibrated = CalibratedClassifierCV(base, method=self.calibration, ensemble=False,
                                                cv=self._splits(X, target, groups))
            calibrated.fit(X, target)
            fitted = calibrated.calibrated_classifiers_[0]
            base, calibrator = fitted.estimator, _export_calibrator(self.calibration, fitted.calibrators[0])
        scaler, logreg = base.named_steps["scale"], base.named_steps["logreg"]
        self.params_ = {
            "mean": scaler.mean_.tolist(),
            "scale": scaler.scale_.tolist(),
            "coef": logreg.coef_[0].tolist(),
            "intercept": float(logreg.intercept_[0]),
            "calibrator": calibrator,
        }
        self.n_iter_ = logreg.n_iter_
        self.training_ = {"n": int(len(target)), "positive_rate": float(target.mean())}
        return self

    def _splits(self, X, y, groups):
        n_splits = min(self.cv, int(np.bincount(y).min()))
        if n_splits < 2:
            raise ValueError("each class needs at least 2 examples to calibrate (or use calibration='none')")
        if groups is not None:
            groups = np.asarray(groups)
            n_splits = min(n_splits, len(np.unique(groups)))
            # stratified: callbacks clustered in a few customers still reach every training fold when they can
            return list(StratifiedGroupKFold(n_splits=n_splits).split(X, y, groups))
        return list(StratifiedKFold(n_splits, shuffle=True, random_state=self.random_state).split(X, y))

    def raw_logit(self, X) -> np.ndarray:
        """The regression's logit, before calibration (what the per-feature contributions add up to)."""
        check_is_fitted(self, "params_")
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return self._logit(X)

    def predict_proba(self, X) -> np.ndarray:
        logit = self.raw_logit(X)
        p = _calibrate(self.params_["calibrator"], logit)
        return np.column_stack([1.0 - p, p])

    def decision_function(self, X) -> np.ndarray:
        """log-odds of the calibrated probability (> 0 exactly when predict says the positive class)."""
        p = np.clip(self.predict_proba(X)[:, 1], 1e-12, 1 - 1e-12)
        return np.log(p) - np.log1p(-p)

    def predict(self, X) -> np.ndarray:
        positive = self.predict_proba(X)[:, 1] > 0.5   # ties go to the first class, as argmax does
        return self.classes_[positive.astype(int)]

    def _logit(self, X: np.ndarray) -> np.ndarray:
        z = (X - np.asarray(self.params_["mean"])) / np.asarray(self.params_["scale"])
        return z @ np.asarray(self.params_["coef"]) + self.params_["intercept"]

    def contributions(self, X) -> np.ndarray:
        """Per-feature contribution to the logit: coefficient x standardized value (n_calls, n_features)."""
        check_is_fitted(self, "params_")
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return (X - np.asarray(self.params_["mean"])) / np.asarray(self.params_["scale"]) * np.asarray(
            self.params_["coef"])

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        return tags

    # -- records ----------------------------------------------------------------------------------------------

    def _names(self) -> list[str]:
        if self.feature_names is None:
            raise ValueError("this model was fitted without feature_names; it can only score feature arrays")
        return list(self.feature_names)

    def score_records(self, records: Iterable[Mapping[str, Any]], options: FeatureOptions | None = None) -> np.ndarray:
        """P(callback) for each call record."""
        return self.predict_proba(feature_matrix(records, self._names(), options))[:, 1]

    def explain(self, record: Mapping[str, Any], options: RiskOptions | None = None,
                feature_options: FeatureOptions | None = None) -> dict[str, Any]:
        """{"risk": p, "band": low|medium|high, "reasons": [{"text", "feature", "weight", "evidence": [...]}]}.

        Reasons are the feature groups (a cue's presence/count/first time together) with the largest
        contributions to the logit that push the same way as the score (towards high risk when the risk is at or
        above the training rate, else towards low risk); `weight` is the group's summed contribution (logit
        units, + raises risk). Evidence lists the utterances (index, start, end, text) carrying it."""
        options = options or self.risk_options
        names = self._names()
        values = call_features(record, feature_options)
        x = np.array([[values[n] for n in names]], dtype=float)
        risk = float(self.predict_proba(x)[0, 1])
        contrib = self.contributions(x)[0]
        z = (x[0] - np.asarray(self.params_["mean"])) / np.asarray(self.params_["scale"])
        groups: dict[str, list[int]] = {}
        for j, name in enumerate(names):
            groups.setdefault(FEATURE_BY_NAME[name].group, []).append(j)
        direction = 1.0 if risk >= self.training_["positive_rate"] else -1.0
        ranked = sorted(groups.items(), key=lambda g: -direction * sum(contrib[j] for j in g[1]))
        reasons = []
        for group, columns in ranked[: options.top_reasons]:
            weight = float(sum(contrib[j] for j in columns))
            if direction * weight <= 1e-9:
                break
            # The reason's words come from the feature pushing hardest the way the whole group does.
            lead = max(columns, key=lambda j: contrib[j] * np.sign(weight))
            feature = FEATURE_BY_NAME[names[lead]]
            high = bool(z[lead] > 0)
            if feature.name.endswith("_first"):   # an early first occurrence is a low value: say present/absent
                high = values[feature.name[: -len("_first")]] > 0
            good_mood = high != (feature.name in NEGATIVE_AFFECT_FEATURES)
            reasons.append({
                "text": feature.high if high else feature.low,
                "feature": feature.name,
                "weight": round(weight, 4),
                "evidence": feature_evidence(record, group, high if group.startswith("cue:") else good_mood,
                                             options.evidence_per_reason, feature_options),
            })
        return {"risk": round(risk, 6), "band": risk_band(risk, options.band_thresholds), "reasons": reasons}

    @property
    def risk_options(self) -> RiskOptions:
        return getattr(self, "risk_options_", None) or RiskOptions()

    # -- persistence ------------------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        check_is_fitted(self, "params_")
        return {
            "format": MODEL_FORMAT,
            "format_version": MODEL_FORMAT_VERSION,
            "callrisk_version": __version__,
            "estimator": {"C": self.C, "calibration": self.calibration, "cv": self.cv, "max_iter": self.max_iter,
                          "random_state": self.random_state},
            "feature_names": None if self.feature_names is None else list(self.feature_names),
            "n_features_in": int(self.n_features_in_),
            "classes": [_jsonable(c) for c in self.classes_],
            "params": self.params_,
            "training": self.training_,
            "n_iter": np.asarray(self.n_iter_).tolist(),
            "band_thresholds": list(self.risk_options.band_thresholds),
            "metadata": getattr(self, "metadata_", {}),
        }

    def save(self, path: str | os.PathLike) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=1) + "\n", encoding="utf-8")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "CallbackRiskModel":
        if data.get("format") != MODEL_FORMAT or data.get("format_version") != MODEL_FORMAT_VERSION:
            raise ValueError(f"not a {MODEL_FORMAT} v{MODEL_FORMAT_VERSION} file "
                             f"(format={data.get('format')!r}, version={data.get('format_version')!r})")
        model = cls(feature_names=data["feature_names"], **data["estimator"])
        params = data["params"]
        n = int(data["n_features_in"])
        if any(len(params[k]) != n for k in ("mean", "scale", "coef")):
            raise ValueError("model file is inconsistent: coefficient arrays do not match n_features_in")
        if not all(np.isfinite(params[k]).all() for k in ("mean", "scale", "coef")) or min(params["scale"], default=1) <= 0:
            raise ValueError("model file is inconsistent: means, scales and coefficients must be finite, scales > 0")
        _check_calibrator(params["calibrator"])
        if model.feature_names is not None:
            unknown = [f for f in model.feature_names if f not in FEATURE_BY_NAME]
            if unknown:
                raise ValueError(f"model uses features this version does not compute: {', '.join(unknown)}")
        model.params_ = params
        model.n_features_in_ = n
        model.n_iter_ = np.asarray(data.get("n_iter", [0]))
        model.classes_ = np.asarray(data["classes"])
        model.training_ = dict(data["training"])
        model.risk_options_ = RiskOptions(band_thresholds=tuple(data.get("band_thresholds", (0.2, 0.4))))
        model.metadata_ = dict(data.get("metadata") or {})
        return model

    @classmethod
    def load(cls, path: str | os.PathLike) -> "CallbackRiskModel":
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:   # unreadable, not UTF-8, not JSON
            raise ValueError(f"{path}: cannot read model: {exc}") from exc
        if not isinstance(data, dict):
            raise ValueError(f"{path}: malformed model file (a JSON object expected, got {type(data).__name__})")
        try:
            return cls.from_dict(data)
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise ValueError(f"{path}: malformed model file ({exc})") from exc


def _jsonable(value):
    return value.item() if hasattr(value, "item") else value


def _export_calibrator(method: str, calibrator) -> dict[str, Any]:
    if method == "isotonic":
        x, y = centred_isotonic_knots(calibrator.X_thresholds_, calibrator.y_thresholds_)
        return {"method": "isotonic", "x": x.tolist(), "y": y.tolist()}
    return {"method": "sigmoid", "a": float(calibrator.a_), "b": float(calibrator.b_)}


def centred_isotonic_knots(x, y) -> tuple[np.ndarray, np.ndarray]:
    """One knot per step of an isotonic fit, at the middle of the step (centred isotonic regression).

    Plain isotonic calibration is a staircase: every call on one step gets the same risk (about 30 distinct
    values for a whole corpus), so sorting by risk ties hundreds of calls and throws away the regression's order.
    Interpolating between the steps' middles keeps the calibration and makes the map strictly increasing between
    the first and last knot, so the order survives (selection calls: ECE no worse, expected AUC +0.002)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    starts = np.flatnonzero(np.r_[True, np.diff(y) != 0])
    ends = np.r_[starts[1:], len(y)] - 1
    return (x[starts] + x[ends]) / 2, y[starts]


def _check_calibrator(calibrator: Mapping[str, Any]) -> None:
    """Raise ValueError unless `calibrator` can be applied (checked on load, so scoring never fails on it)."""
    method = calibrator.get("method")
    if method == "isotonic":
        x, y = np.asarray(calibrator["x"], dtype=float), np.asarray(calibrator["y"], dtype=float)
        if x.ndim != 1 or x.shape != y.shape or len(x) < 1 or np.any(np.diff(x) < 0) or not np.isfinite(x).all() \
                or not ((0 <= y) & (y <= 1)).all():
            raise ValueError("isotonic calibrator needs x (increasing) and y (in 0..1) of the same length")
    elif method == "sigmoid":
        if not all(isinstance(calibrator.get(k), (int, float)) and np.isfinite(calibrator[k]) for k in ("a", "b")):
            raise ValueError("sigmoid calibrator needs numbers a and b")
    elif method != "none":
        raise ValueError(f"unknown calibration method {method!r}")


def _calibrate(calibrator: Mapping[str, Any], logit: np.ndarray) -> np.ndarray:
    method = calibrator["method"]
    if method == "isotonic":   # the centred isotonic knots, joined by straight lines, flat beyond the ends
        p = np.interp(logit, np.asarray(calibrator["x"]), np.asarray(calibrator["y"]))
    elif method == "sigmoid":  # sklearn's _SigmoidCalibration: 1 / (1 + exp(a * logit + b))
        p = 1.0 / (1.0 + np.exp(calibrator["a"] * logit + calibrator["b"]))
    elif method == "none":
        p = 1.0 / (1.0 + np.exp(-logit))
    else:
        raise ValueError(f"unknown calibration method {method!r}")
    return np.clip(p, 0.0, 1.0)


# ----------------------------------------------------------------------------------------------------- metrics


def expected_calibration_error(y_true, prob, bins: int = 10) -> float:
    """ECE: sum over equal-width probability bins of (share of calls) x |mean predicted - observed rate|."""
    y_true, prob = np.asarray(y_true, dtype=float), np.asarray(prob, dtype=float)
    if len(y_true) == 0:
        return float("nan")
    index = np.minimum((prob * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        mask = index == b
        if mask.any():
            total += mask.mean() * abs(prob[mask].mean() - y_true[mask].mean())
    return float(total)


def classification_metrics(y_true, prob) -> dict[str, float]:
    """ROC-AUC, PR-AUC (average precision), Brier score, ECE (10 bins), base rate and n."""
    from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

    y_true, prob = np.asarray(y_true, dtype=int), np.asarray(prob, dtype=float)
    both = len(np.unique(y_true)) == 2
    return {
        "n": int(len(y_true)),
        "positive_rate": float(y_true.mean()) if len(y_true) else math.nan,
        "roc_auc": float(roc_auc_score(y_true, prob)) if both else math.nan,
        "pr_auc": float(average_precision_score(y_true, prob)) if both else math.nan,
        "brier": float(brier_score_loss(y_true, prob)) if len(y_true) else math.nan,
        "ece": expected_calibration_error(y_true, prob, 10),
    }


def reliability_table(y_true, prob, bins: int = 10) -> list[dict[str, float]]:
    """Per equal-width bin: calls, mean predicted probability, observed rate (empty bins left out)."""
    y_true, prob = np.asarray(y_true, dtype=float), np.asarray(prob, dtype=float)
    index = np.minimum((prob * bins).astype(int), bins - 1)
    rows = []
    for b in range(bins):
        mask = index == b
        if mask.any():
            rows.append({"bin_low": b / bins, "bin_high": (b + 1) / bins, "n": int(mask.sum()),
                         "predicted": float(prob[mask].mean()), "observed": float(y_true[mask].mean())})
    return rows


def grouped_cv_predictions(model: CallbackRiskModel, X, y, groups, folds: int = 5) -> tuple[np.ndarray, list]:
    """Out-of-fold P(callback) with StratifiedGroupKFold (no group in both train and test of a fold, outcomes
    spread over the folds as evenly as the groups allow); also the splits."""
    from sklearn.base import clone

    X, y, groups = np.asarray(X, dtype=float), np.asarray(y), np.asarray(groups)
    folds = min(folds, len(np.unique(groups)))
    if folds < 2:
        raise ValueError("cross-validation needs at least 2 distinct customers")
    prob = np.full(len(y), np.nan)
    splits = list(StratifiedGroupKFold(n_splits=folds).split(X, y, groups))
    for train, test in splits:
        fitted = clone(model).fit(X[train], y[train], groups=groups[train])
        prob[test] = fitted.predict_proba(X[test])[:, 1]
    return prob, splits
