"""Call-level features: defaults for missing blocks, cue roles and timing, sentiment, dynamics, text-mode records."""

from __future__ import annotations

import math
import random
from pathlib import Path

import numpy as np
import pytest

from pipeline.corpus import CorpusOptions, generate_calls
from pipeline.corpus.io import call_record
from pipeline.features import (
    FEATURE_NAMES,
    FEATURES,
    AsrErrorProfile,
    call_features,
    corrupt_words,
    feature_evidence,
    feature_matrix,
    features_markdown,
    text_record,
)
from pipeline.vocab import CUE_LABELS

ROOT = Path(__file__).resolve().parents[1]


def utt(role, start, end, text, cues=(), sentiment=None, **extra):
    return {"role": role, "start": start, "end": end, "text": text,
            "cues": [{"label": c, "score": 0.9} if isinstance(c, str) else c for c in cues],
            "sentiment": sentiment, **extra}


def test_empty_and_bare_records_give_the_documented_defaults():
    defaults = {f.name: f.default for f in FEATURES}
    for record in ({}, {"utterances": []}, {"utterances": None, "measures": None, "transcript": None},
                   {"status": "ok", "audio": {}, "utterances": [{"text": "hi"}]}):
        values = call_features(record)
        assert list(values) == list(FEATURE_NAMES)
        changed = {k for k in values if values[k] != defaults[k]}
        assert changed <= {"overlap_share", "customer_interruptions"}   # computed as 0 from the one utterance
        assert all(values[k] == 0 for k in changed)


def test_cues_count_only_for_the_expected_role_with_time_of_first_occurrence():
    record = {"audio": {"duration_s": 100.0}, "utterances": [
        utt("agent", 0, 5, "hello"),
        utt("customer", 20, 25, "I already called", ["prior_contact"]),
        utt("agent", 30, 35, "I already called?", ["prior_contact"]),          # wrong role: ignored
        utt("customer", 40, 45, "it still fails", ["problem_persists"]),
        utt("unknown", 60, 65, "still broken", ["problem_persists"]),          # unknown role counts
        utt("agent", 80, 85, "let me check", [{"label": "agent_deferral", "score": 0.2}]),  # below min score
        utt("agent", 90, 95, "ref is 12", ["reference_number"]),
    ]}
    v = call_features(record)
    assert v["cue_prior_contact"] == 1 and v["cue_prior_contact_count"] == 1
    assert v["cue_prior_contact_first"] == pytest.approx(0.2)
    assert v["cue_problem_persists_count"] == 2 and v["cue_problem_persists_first"] == pytest.approx(0.4)
    assert v["cue_agent_deferral"] == 0 and v["cue_agent_deferral_first"] == 1.0
    assert v["cue_reference_number"] == 1 and v["cue_reference_number_first"] == pytest.approx(0.9)
    assert [e["utterance"] for e in feature_evidence(record, "cue:problem_persists", True)] == [3, 4]
    assert feature_evidence(record, "cue:problem_persists", True)[0] == {
        "utterance": 3, "start": 40.0, "end": 45.0, "text": "it still fails"}


def test_sentiment_mean_trend_closing_and_shares():
    pos = {"positive": 0.9, "neutral": 0.1}
    frus = {"frustrated": 0.8, "negative": 0.2}
    record = {"audio": {"duration_s": 90.0}, "utterances": [
        utt("customer", 0, 5, "this is awful", sentiment=frus),
        utt("agent", 10, 15, "sorry, I can't", sentiment="negative"),        # a bare label is one-hot
        utt("customer", 40, 45, "ok", sentiment="neutral"),
        utt("customer", 70, 75, "great, thanks", sentiment=pos),
    ]}
    v = call_features(record)
    valences = [-1.0, 0.0, 0.9]
    assert v["cust_valence_mean"] == pytest.approx(np.mean(valences))
    assert v["cust_valence_trend"] == pytest.approx(0.9 - (-1.0))
    assert v["cust_valence_closing"] == pytest.approx(np.mean(valences[-2:]))
    assert v["cust_frustrated_share"] == pytest.approx(0.8 / 3)
    assert v["cust_frustrated_lines"] == 1
    assert v["agent_negative_share"] == pytest.approx(1.0)
    low = feature_evidence(record, "sentiment:overall", high=False)
    assert low[0]["utterance"] == 0


def test_dynamics_measures_and_asr_confidence():
    record = {
        "audio": {"duration_s": 60.0},
        "utterances": [utt("agent", 0, 10, "a b c", prosody={"pitch_var_st": 9.0}),
                       utt("customer", 9, 14, "one two three four five", interruption=True, overlap=True,
                           prosody={"pitch_var_st": 3.0, "loudness_dbfs": -20.0, "speaking_rate_wps": None}),
                       utt("customer", 15, 16, "yes", prosody={"pitch_var_st": 4.0, "loudness_dbfs": -30.0}),
                       utt("agent", 36, 40, "back")],
        "transcript": {"words": [{"probability": 0.9}, {"probability": 0.7}]},
    }
    v = call_features(record)
    assert v["log_duration_s"] == pytest.approx(math.log1p(60))
    assert v["customer_talk_share"] == pytest.approx(6 / 20)
    assert v["longest_silence_s"] == pytest.approx(20.0)
    assert v["turns_per_min"] == pytest.approx(4.0)
    assert v["customer_interruptions"] == 1 and v["overlap_share"] == pytest.approx(1 / 4)
    assert v["cust_speech_rate"] == pytest.approx(1.0)   # no prosody rate: 6 words over 6 s of customer speech
    assert v["cust_pitch_var"] == pytest.approx(3.5)     # customer utterances only
    assert v["cust_loudness_var"] == pytest.approx(5.0)
    assert v["asr_confidence"] == pytest.approx(0.8)


def test_feature_matrix_orders_columns_and_rejects_unknown_names():
    records = [{"utterances": [utt("agent", 0, 1, "x", ["recap"])]}, {}]
    X = feature_matrix(records, ["cue_recap", "asr_confidence"])
    assert X.tolist() == [[1.0, 1.0], [0.0, 1.0]]
    with pytest.raises(ValueError, match="unknown feature"):
        feature_matrix(records, ["cue_recap", "nope"])


@pytest.fixture(scope="module")
def corpus_calls():
    return [call_record(p) for p in generate_calls(CorpusOptions(calls=60, seed=3, id_prefix="tf"))]


def test_text_record_carries_the_corpus_ground_truth_without_asr_errors(corpus_calls):
    for call in corpus_calls:
        record = text_record(call)
        assert [u["text"] for u in record["utterances"]] == [u["text"] for u in call["utterances"]]
        v = call_features(record)
        for label in CUE_LABELS:
            said = any(c["label"] == label for u in call["utterances"] for c in u["cues"])
            assert v[f"cue_{label}"] == float(said), (call["call_id"], label)
        starts = [u["start"] for u in record["utterances"]]
        assert starts == sorted(starts) and record["audio"]["duration_s"] >= record["utterances"][-1]["end"]


def test_text_record_joins_one_speakers_lines_like_the_audio_pipeline(corpus_calls):
    for call in corpus_calls:
        merged = text_record(call, merge_pause_s=1.5)
        utts = merged["utterances"]
        assert len(utts) < len(call["utterances"])
        assert " ".join(u["text"] for u in utts) == " ".join(u["text"] for u in call["utterances"])
        # consecutive utterances alternate speakers unless a long silence (a hold) lies between them
        for a, b in zip(utts, utts[1:]):
            assert a["speaker"] != b["speaker"] or b["start"] - a["end"] > 1.5
        # every gold cue survives the join, its char span now pointing at its words in the joined text
        original = [(c["label"], u["text"][c["char_start"]:c["char_end"]]) for u in call["utterances"] for c in u["cues"]]
        joined = [(c["label"], u["text"][c["char_start"]:c["char_end"]]) for u in utts for c in u["cues"]]
        assert joined == original
        assert call_features(merged)["turns_per_min"] < call_features(text_record(call))["turns_per_min"]


def test_asr_error_profile_hits_its_rates_and_loses_cues(corpus_calls):
    rng = random.Random(0)
    words = [f"w{i}" for i in range(20000)]
    out, kept = corrupt_words(words, AsrErrorProfile(deletion_rate=0.1, substitution_rate=0.05), rng, ["zz"])
    assert sum(not k for k in kept) / len(words) == pytest.approx(0.15, abs=0.01)
    assert len(out) == pytest.approx(0.9 * len(words), rel=0.02)
    clean = sum(call_features(text_record(c))["cue_verify_fix"] for c in corpus_calls)
    noisy = sum(call_features(text_record(c, asr=AsrErrorProfile(deletion_rate=0.6)))["cue_verify_fix"]
                for c in corpus_calls)
    assert clean > 0 and noisy < clean
    with pytest.raises(ValueError):
        AsrErrorProfile(deletion_rate=0.8, substitution_rate=0.5)


def test_text_record_runs_a_given_cue_stage_on_the_text(corpus_calls):
    from pipeline.types import Cue

    def stage(utterances, words):   # a trivial detector: "reference" anywhere in an agent line
        assert len(words) == sum(len(u.text.split()) for u in utterances)
        for u in utterances:
            if u.role == "agent" and "reference" in u.text.lower():
                u.cues = [Cue("reference_number", 1.0, 0, 1, u.start, u.end, u.text[:1], "pattern")]

    call = next(c for c in corpus_calls if any("reference" in u["text"].lower() and u["role"] == "agent"
                                               for u in c["utterances"]))
    v = call_features(text_record(call, cue_stage=stage))
    assert v["cue_reference_number"] == 1
    assert sum(v[f"cue_{label}"] for label in CUE_LABELS) == 1


def test_docs_features_md_is_generated_from_FEATURES():
    assert (ROOT / "docs" / "features.md").read_text() == features_markdown()


@pytest.mark.parametrize("record", [
    {"utterances": [{"role": "customer", "start": -5, "end": -2, "text": "x", "cues": [{"label": "recap", "score": None}]}]},
    {"transcript": {"words": [{"text": "a", "probability": None}, {"text": "b", "probability": float("nan")}]}},
    {"utterances": [{"role": "customer", "start": 0, "end": 1e-300, "text": "hello there"}]},
])
def test_odd_values_in_a_record_give_finite_features(record):
    import json

    values = call_features(record)
    assert all(math.isfinite(v) and abs(v) < 1e6 for v in values.values()), values
    json.dumps(values, allow_nan=False)
