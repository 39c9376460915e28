"""The callback-risk estimator: sklearn contract, JSON persistence, grouped CV, calibration, reasons, CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, StratifiedGroupKFold, cross_val_score
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import check_estimator

import pipeline.risk as risk_module
from pipeline.cli import main
from pipeline.corpus import CorpusOptions, write_corpus
from pipeline.corpus.io import labelled_calls, read_calls
from pipeline.features import text_record
from pipeline.risk import (
    CallbackRiskModel,
    centred_isotonic_knots,
    RiskOptions,
    classification_metrics,
    expected_calibration_error,
    grouped_cv_predictions,
    risk_band,
)


def synthetic(n=3000, seed=0, d=4):
    """Features with a known logistic truth, plus customer groups of ~3 calls each."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    true_p = 1 / (1 + np.exp(-(X @ np.array([1.2, -0.8, 0.5, 0.0][:d]) - 0.7)))
    y = (rng.random(n) < true_p).astype(int)
    groups = rng.integers(0, n // 3, size=n)
    return X, y, groups, true_p


def test_sklearn_estimator_checks_pass():
    failed = [r["check_name"] for r in check_estimator(CallbackRiskModel(), on_fail=None) if r["status"] == "failed"]
    assert failed == []


def test_clone_params_pipeline_and_cross_validation():
    X, y, groups, _ = synthetic(900)
    model = CallbackRiskModel(C=0.5, calibration="sigmoid")
    assert clone(model).get_params() == model.get_params()
    assert model.set_params(C=2.0).C == 2.0
    scores = cross_val_score(make_pipeline(StandardScaler(), model), X, y, groups=groups, cv=GroupKFold(3),
                             scoring="roc_auc")
    assert scores.min() > 0.7
    with pytest.raises(ValueError, match="calibration"):
        CallbackRiskModel(calibration="platt").fit(X, y)


@pytest.mark.parametrize("method", ["isotonic", "sigmoid"])
def test_numpy_scoring_matches_sklearns_calibrated_classifier(method):
    X, y, groups, _ = synthetic(1200, seed=1)
    model = CallbackRiskModel(calibration=method).fit(X, y, groups=groups)
    splits = list(StratifiedGroupKFold(5).split(X, y, groups))
    reference = CalibratedClassifierCV(
        Pipeline([("scale", StandardScaler()), ("logreg", LogisticRegression(max_iter=2000))]),
        method=method, ensemble=False, cv=splits).fit(X, y)
    if method == "sigmoid":
        np.testing.assert_allclose(model.predict_proba(X), reference.predict_proba(X), atol=1e-9)
        return
    # isotonic: sklearn's steps, each replaced by one knot at its middle
    fitted = reference.calibrated_classifiers_[0]
    knots = centred_isotonic_knots(fitted.calibrators[0].X_thresholds_, fitted.calibrators[0].y_thresholds_)
    expected = np.interp(fitted.estimator.decision_function(X), *knots)
    np.testing.assert_allclose(model.predict_proba(X)[:, 1], expected, atol=1e-9)


def test_centred_isotonic_knots_sit_mid_step_and_keep_the_order():
    x, y = centred_isotonic_knots([0, 1, 1, 2, 4, 5, 8], [0.1, 0.1, 0.2, 0.2, 0.2, 0.5, 0.5])
    np.testing.assert_allclose(x, [0.5, 2.5, 6.5])   # steps [0,1], [1,4], [5,8]
    np.testing.assert_allclose(y, [0.1, 0.2, 0.5])
    X, y, groups, _ = synthetic(3000, seed=2)
    model = CallbackRiskModel().fit(X, y, groups=groups)
    prob, logit = model.predict_proba(X)[:, 1], model.raw_logit(X)
    knots = np.asarray(model.params_["calibrator"]["x"])
    inside = (logit > knots[0]) & (logit < knots[-1])
    assert inside.mean() > 0.8 and np.all(np.diff(knots) > 0)
    # between the first and last knot no two calls with different scores share a risk: sorting keeps the order
    order = np.argsort(logit[inside])
    assert np.all(np.diff(prob[inside][order]) > 0)


def test_json_round_trip_gives_identical_probabilities_and_needs_no_pickle(tmp_path):
    X, y, groups, _ = synthetic(800, seed=2)
    names = ["cue_recap", "cue_verify_fix", "cust_valence_mean", "log_duration_s"]
    model = CallbackRiskModel(feature_names=names).fit(X, y, groups=groups)
    path = tmp_path / "model.json"
    model.save(path)
    data = json.loads(path.read_text())               # plain JSON, readable without this package
    assert data["feature_names"] == names and data["params"]["calibrator"]["method"] == "isotonic"
    loaded = CallbackRiskModel.load(path)
    assert np.array_equal(loaded.predict_proba(X), model.predict_proba(X))
    assert loaded.get_params() == model.get_params()
    source = Path(risk_module.__file__).read_text()
    assert "pickle" not in source and "joblib" not in source
    path.write_text(json.dumps({**data, "format": "something-else"}))
    with pytest.raises(ValueError, match="not a callrisk-risk-model"):
        CallbackRiskModel.load(path)
    path.write_text(json.dumps({**data, "feature_names": ["cue_recap", "no_such_feature", "a", "b"]}))
    with pytest.raises(ValueError, match="no_such_feature"):
        CallbackRiskModel.load(path)


def test_grouped_cross_validation_never_shares_a_customer():
    X, y, groups, _ = synthetic(600, seed=3)
    prob, splits = grouped_cv_predictions(CallbackRiskModel(calibration="sigmoid"), X, y, groups, folds=5)
    assert len(splits) == 5 and not np.isnan(prob).any()
    for train, test in splits:
        assert not set(groups[train]) & set(groups[test])
    model = CallbackRiskModel()
    for train, test in model._splits(X, y, groups):     # the calibration folds inside fit, too
        assert not set(groups[train]) & set(groups[test])


@pytest.mark.parametrize("method", ["isotonic", "sigmoid"])
def test_probabilities_are_calibrated_on_held_out_synthetic_data(method):
    X, y, groups, _ = synthetic(6000, seed=4)
    Xt, yt, _, true_p = synthetic(6000, seed=5)
    prob = CallbackRiskModel(calibration=method).fit(X, y, groups=groups).predict_proba(Xt)[:, 1]
    assert expected_calibration_error(yt, prob) < 0.03
    assert np.mean(np.abs(prob - true_p)) < 0.05
    assert expected_calibration_error(yt, np.clip(prob * 1.6, 0, 1)) > 0.08   # the metric sees miscalibration


def test_risk_bands():
    assert [risk_band(p, (0.2, 0.4)) for p in (0.0, 0.19, 0.2, 0.39, 0.4, 1.0)] == \
        ["low", "low", "medium", "medium", "high", "high"]
    with pytest.raises(ValueError):
        RiskOptions(band_thresholds=(0.5, 0.3))


@pytest.fixture(scope="module")
def text_corpus(tmp_path_factory):
    """A small text-mode corpus, its scored records (text_record) and labels from `callrisk label`."""
    root = tmp_path_factory.mktemp("corpus")
    write_corpus(root, CorpusOptions(calls=500, seed=9, id_prefix="trk"))
    calls = read_calls(root / "calls.jsonl")
    with open(root / "scores.jsonl", "w") as f:
        for call in calls:
            f.write(json.dumps(text_record(call)) + "\n")
        f.write(json.dumps({"call_id": "broken", "status": "error", "error": {"type": "x", "message": "y"}}) + "\n")
    assert main(["label", str(root / "metadata.csv"), "-o", str(root / "labels.csv"), "--window", "14"]) == 0
    return root


def test_explain_gives_band_and_reasons_pointing_at_utterances(text_corpus):
    from pipeline.features import FEATURE_NAMES, AUDIO_ONLY_FEATURES, feature_matrix

    calls = labelled_calls(read_calls(text_corpus / "calls.jsonl"), 14)
    records = [text_record(c) for c in calls]
    names = [n for n in FEATURE_NAMES if n not in AUDIO_ONLY_FEATURES]
    y = np.array([c["callback"]["14"] for c in calls], dtype=int)
    model = CallbackRiskModel(feature_names=names, calibration="sigmoid").fit(
        feature_matrix(records, names), y, groups=[c["customer_id"] for c in calls])
    options = RiskOptions(band_thresholds=(0.2, 0.4), top_reasons=3)
    pointed = 0
    for record in records[:60]:
        out = model.explain(record, options)
        assert out["band"] == risk_band(out["risk"], (0.2, 0.4))
        assert out["risk"] == pytest.approx(model.score_records([record])[0], abs=1e-6)
        assert 1 <= len(out["reasons"]) <= 3
        sign = 1 if out["risk"] >= model.training_["positive_rate"] else -1
        weights = [r["weight"] for r in out["reasons"]]
        assert all(sign * w > 0 for w in weights) and weights == sorted(weights, key=lambda w: -sign * w)
        for reason in out["reasons"]:
            assert reason["text"] and reason["feature"] in names
            for ev in reason["evidence"]:
                utterance = record["utterances"][ev["utterance"]]
                assert ev["text"] == utterance["text"]
                if reason["feature"].startswith("cue_"):
                    # the cue itself: its words and (when it has times) its moment inside the utterance
                    label = reason["feature"][4:].removesuffix("_count").removesuffix("_first")
                    cue = next(c for c in utterance["cues"] if c["label"] == label)
                    assert ev["evidence"] == cue["evidence"] and ev["evidence"] in utterance["text"]
                    assert utterance["start"] - 0.05 <= ev["start"] <= ev["end"] <= utterance["end"] + 0.05
                else:
                    assert (ev["start"], ev["end"]) == (utterance["start"], utterance["end"])
                pointed += 1
    assert pointed > 30


def test_cli_train_then_evaluate_end_to_end(text_corpus, tmp_path, capsys):
    scores, labels = str(text_corpus / "scores.jsonl"), str(text_corpus / "labels.csv")
    out_a, out_b = tmp_path / "a", tmp_path / "b"
    assert main(["train", scores, labels, "-o", str(out_a), "--window", "14", "--folds", "3",
                 "--text-features"]) == 0
    # Raw metadata works as LABELS too (labelled on the fly); sigmoid calibration for the second model.
    assert main(["train", scores, str(text_corpus / "metadata.csv"), "-o", str(out_b), "--window", "14",
                 "--folds", "3", "--calibration", "sigmoid"]) == 0
    assert (out_a / "reliability.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    card = (out_a / "MODEL_CARD.md").read_text()
    model = CallbackRiskModel.load(out_a / "model.json")
    meta = model.metadata_
    assert meta["window_days"] == 14 and meta["dropped"]["failed_records"] == 1
    assert f"{meta['calls']} labelled calls from {meta['customers']} customers" in card
    assert "retrain" in card.lower() and "ROC-AUC" in card
    assert 0.6 < meta["cv"]["metrics"]["roc_auc"] < 1 and meta["cv"]["metrics"]["ece"] < 0.1
    cv = (out_a / "cv_predictions.csv").read_text().splitlines()
    assert len(cv) == meta["calls"] + 1
    capsys.readouterr()
    table = tmp_path / "table.csv"
    assert main(["evaluate", scores, labels, "--model", str(out_a), "--model", str(out_b / "model.json"),
                 "--csv", str(table)]) == 0
    printed = capsys.readouterr().out
    assert str(out_a) in printed and str(out_b / "model.json") in printed and "roc_auc" in printed
    rows = table.read_text().splitlines()
    assert len(rows) == 3 and rows[0].startswith("model,window_days,n,")
    assert main(["evaluate", scores, labels, "--model", str(tmp_path / "missing.json")]) == 2


def test_shipped_default_model_uses_the_documented_features_and_ranks_held_out_calls(text_corpus):
    from pipeline.corpus import best_auc
    from pipeline.features import TEXT_MODEL_FEATURES
    from pipeline.process import DEFAULT_RISK_MODEL

    model = CallbackRiskModel.load(DEFAULT_RISK_MODEL)   # JSON, no code executed
    assert tuple(model.feature_names) == TEXT_MODEL_FEATURES
    assert (DEFAULT_RISK_MODEL.parent / "MODEL_CARD.md").is_file()
    calls = labelled_calls(read_calls(text_corpus / "calls.jsonl"), 14)   # a seed the shipped model never saw
    y = np.array([c["callback"]["14"] for c in calls], dtype=int)
    auc = classification_metrics(y, model.score_records([text_record(c) for c in calls]))["roc_auc"]
    # corpus labels as cues here (no detector errors): close to what the true probabilities allow
    assert auc > best_auc(calls, 14) - 0.08, (auc, best_auc(calls, 14))


def test_eval_risk_script_pools_corpora_and_reports_expected_auc(text_corpus, tmp_path, capsys):
    import sys

    from pipeline.process import DEFAULT_RISK_MODEL

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
    import eval_risk

    out = tmp_path / "eval.json"
    eval_risk.main(["--model", str(DEFAULT_RISK_MODEL), "--corpus", str(text_corpus), "--corpus", str(text_corpus),
                    "--json", str(out)])
    m = json.loads(out.read_text())
    calls = read_calls(text_corpus / "calls.jsonl")
    assert m["calls_in_corpus"] == 2 * len(calls)
    # an issue's last allowed call has no label (its follow-up is not simulated): left out, and counted
    assert m["unlabelled_calls"] == 2 * sum(c["callback"]["14"] is None for c in calls) > 0
    assert m["n"] == m["calls_in_corpus"] - m["unlabelled_calls"]
    assert 0.5 < m["expected_auc"] <= m["expected_best_auc"] <= 1
    assert m["auc_gap_90"][0] <= m["auc_gap"] <= m["auc_gap_90"][1]
    assert "expected AUC over label draws" in capsys.readouterr().out


def test_eval_risk_warns_about_a_corpus_with_planted_issue_final_labels(text_corpus, tmp_path, capsys):
    import sys

    from pipeline.process import DEFAULT_RISK_MODEL

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
    import eval_risk

    old = tmp_path / "old"
    old.mkdir()
    with open(old / "calls.jsonl", "w") as f:   # as generator version 1 wrote them: probability 0, "no callback"
        for call in read_calls(text_corpus / "calls.jsonl"):
            if call["callback"]["14"] is None:
                call["callback"] = {w: False for w in call["callback"]}
                call["true_callback_prob"] = {w: 0.0 for w in call["true_callback_prob"]}
            f.write(json.dumps(call) + "\n")
    eval_risk.main(["--model", str(DEFAULT_RISK_MODEL), "--corpus", str(old)])
    assert "older generator" in capsys.readouterr().err
    eval_risk.main(["--model", str(DEFAULT_RISK_MODEL), "--corpus", str(text_corpus)])
    assert "older generator" not in capsys.readouterr().err


def test_eval_risk_gold_labels_go_to_the_overlapping_utterance_of_the_same_role():
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
    from eval_risk import with_corpus_labels

    record = {"call_id": "c1", "utterances": [
        {"role": "agent", "start": 0.0, "end": 4.0, "text": "it is fix now", "cues": [{"label": "recap", "score": 0.9}],
         "sentiment": {"positive": 0.1, "neutral": 0.9, "negative": 0.0, "frustrated": 0.0, "confused": 0.0}},
        {"role": "customer", "start": 4.2, "end": 9.0, "text": "great it works", "cues": []},
    ]}
    call = {"call_id": "c1", "utterances": [
        {"role": "agent", "start": 0.1, "end": 2.0, "sentiment": "neutral", "cues": [{"label": "verify_fix"}]},
        {"role": "agent", "start": 2.2, "end": 3.9, "sentiment": "positive", "cues": []},
        {"role": "customer", "start": 4.3, "end": 6.0, "sentiment": "positive", "cues": []},
        {"role": "customer", "start": 6.1, "end": 8.9, "sentiment": "frustrated", "cues": [{"label": "problem_persists"}]},
    ]}
    cues_only = with_corpus_labels(record, call, {"cues"})
    assert [c["label"] for c in cues_only["utterances"][0]["cues"]] == ["verify_fix"]     # detected "recap" replaced
    assert [c["label"] for c in cues_only["utterances"][1]["cues"]] == ["problem_persists"]
    assert cues_only["utterances"][0]["sentiment"] == record["utterances"][0]["sentiment"]
    both = with_corpus_labels(record, call, {"cues", "sentiment"})
    assert both["utterances"][0]["sentiment"]["neutral"] == pytest.approx(0.5)
    assert both["utterances"][1]["sentiment"]["frustrated"] == pytest.approx(0.5)
    assert record["utterances"][0]["cues"][0]["label"] == "recap"                        # the input is not changed


def test_cli_train_errors_are_one_clear_line(tmp_path, capsys):
    """A labels file made for another window, a non-record line, no matching ids, and callbacks that come from
    too few customers for the folds: exit 1 with the cause, never a traceback or a silent relabelling."""
    rows = ["call_id,customer_id,started_at,callback_7d"]
    rows += [f"k{i},K{i},2024-01-0{1 + i % 5}T00:00:00Z,{int(i < 4)}" for i in range(12)]
    labels = tmp_path / "labels.csv"
    labels.write_text("\n".join(rows) + "\n")
    scores = tmp_path / "scores.jsonl"
    scores.write_text("".join(json.dumps({"call_id": f"k{i}", "status": "ok"}) + "\n" for i in range(12)))
    out = str(tmp_path / "m")

    assert main(["train", str(scores), str(labels), "-o", out, "--window", "14"]) == 1
    assert "has callback_7d but not callback_14d" in capsys.readouterr().err
    clustered = tmp_path / "clustered.csv"   # all 4 callbacks from customer K0 (4 calls of 12)
    clustered.write_text("\n".join(["call_id,customer_id,started_at,callback_7d"] + [
        f"k{i},K{0 if i < 4 else i},2024-01-0{1 + i % 5}T00:00:00Z,{int(i < 4)}" for i in range(12)]) + "\n")
    assert main(["train", str(scores), str(clustered), "-o", out, "--window", "7"]) == 1
    assert "come from 1 customer(s); try fewer --folds" in capsys.readouterr().err
    other = tmp_path / "other.jsonl"
    other.write_text(json.dumps({"call_id": "zz", "status": "ok"}) + "\n")
    assert main(["train", str(other), str(labels), "-o", out, "--window", "7"]) == 1
    assert "no call_id of" in capsys.readouterr().err
    listed = tmp_path / "list.jsonl"
    listed.write_text(json.dumps({"call_id": "k1", "status": "ok"}) + "\n[1, 2]\n")
    assert main(["train", str(listed), str(labels), "-o", out, "--window", "7"]) == 1
    assert "list.jsonl:2: not a record" in capsys.readouterr().err


@pytest.mark.parametrize("damage", ["unknown method", "isotonic without y", "zero scale"])
def test_a_damaged_model_file_fails_on_load_not_while_scoring(tmp_path, damage):
    from pipeline.process import DEFAULT_RISK_MODEL

    data = json.loads(DEFAULT_RISK_MODEL.read_text())
    if damage == "unknown method":
        data["params"]["calibrator"]["method"] = "platt"
    elif damage == "isotonic without y":
        del data["params"]["calibrator"]["y"]
    else:
        data["params"]["scale"][0] = 0.0
    path = tmp_path / "model.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match=r"model.json: malformed model file"):
        CallbackRiskModel.load(path)
