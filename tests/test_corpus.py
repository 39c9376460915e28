"""Synthetic corpus: determinism, label sanity and (slow) rendered audio agreeing with its ground truth."""

from __future__ import annotations

import csv
import json
from collections import Counter
from datetime import datetime

import numpy as np
import pytest

from pipeline.cli import main
from pipeline.corpus import CorpusOptions, DialogueOptions, auc, best_auc, labelled_calls, read_calls, write_corpus
from pipeline.corpus import phrases as P
from pipeline.corpus.generate import generate_calls
from pipeline.corpus.world import MAX_CONTACTS_PER_ISSUE, callback_probabilities
from pipeline.vocab import CUE_LABELS, CUE_ROLE, OUTCOME_CUES, OUTCOMES, ROLES, SENTIMENT_LABELS

N_TEXT = 3000


@pytest.fixture(scope="module")
def text_corpus(tmp_path_factory):
    out = tmp_path_factory.mktemp("corpus_text")
    manifest = write_corpus(out, CorpusOptions(calls=N_TEXT, seed=11))
    return out, manifest, read_calls(out / "calls.jsonl")


def test_same_seed_same_corpus_and_other_seed_differs(tmp_path, text_corpus):
    out, _, _ = text_corpus
    write_corpus(tmp_path / "again", CorpusOptions(calls=N_TEXT, seed=11))
    for name in ("calls.jsonl", "metadata.csv", "corpus.json"):
        assert (tmp_path / "again" / name).read_bytes() == (out / name).read_bytes(), name
    write_corpus(tmp_path / "other", CorpusOptions(calls=200, seed=12))
    other = read_calls(tmp_path / "other" / "calls.jsonl")
    assert {r["call_id"] for r in other}.isdisjoint(r["call_id"] for r in read_calls(out / "calls.jsonl"))


def test_same_seed_same_corpus_across_processes(tmp_path):
    """String hashing is randomised per process: nothing may depend on it."""
    import os
    import subprocess
    import sys

    outputs = []
    for hash_seed in ("1", "2"):
        out = tmp_path / f"h{hash_seed}"
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        subprocess.run([sys.executable, "-m", "pipeline.cli", "corpus", "--out", str(out), "--calls", "300",
                        "--seed", "4"], check=True, env=env, capture_output=True,
                       cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        outputs.append((out / "calls.jsonl").read_bytes())
    assert outputs[0] == outputs[1]


def test_metadata_matches_calls(text_corpus):
    out, manifest, calls = text_corpus
    with open(out / "metadata.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["call_id", "customer_id", "agent_id", "started_at", "reason", "ticket_id"]
    assert len(rows) == len(calls) == manifest["summary"]["calls"] >= N_TEXT
    for row, rec in zip(rows, calls):
        for key in row:
            assert row[key] == rec[key]
        assert datetime.fromisoformat(row["started_at"]).utcoffset() is not None
    offsets = {datetime.fromisoformat(r["started_at"]).utcoffset() for r in rows}
    assert len(offsets) >= 2, "two sites: the file mixes UTC offsets"


def test_utterance_labels_are_valid(text_corpus):
    _, _, calls = text_corpus
    for rec in calls:
        assert rec["outcome"] in OUTCOMES
        assert rec["audio"] is None
        roles = {u["role"] for u in rec["utterances"]}
        assert roles == {"agent", "customer"} and roles <= set(ROLES)
        speakers = {u["role"]: u["speaker"] for u in rec["utterances"]}
        assert speakers == {"agent": rec["agent_id"], "customer": rec["customer_id"]}
        for u in rec["utterances"]:
            assert u["text"].strip() and u["start"] is None and u["end"] is None
            assert u["sentiment"] in SENTIMENT_LABELS
            for cue in u["cues"]:
                assert cue["label"] in CUE_LABELS
                span = u["text"][cue["char_start"]:cue["char_end"]]
                assert span and span == span.strip() and len(span) >= 8, (u["text"], cue)
                assert u["role"] == CUE_ROLE[cue["label"]], (cue, u)


def test_callback_labels_follow_the_corpus_timeline(text_corpus):
    _, _, calls = text_corpus
    by_id = {r["call_id"]: r for r in calls}
    followers = {r["repeat_of"]: r for r in calls if r["repeat_of"]}
    for rec in calls:
        p = rec["true_callback_prob"]
        assert 0 < p["7"] <= p["14"] <= p["30"] < 1
        cb = rec["callback"]
        nxt = followers.get(rec["call_id"])
        if rec["contact_number"] == MAX_CONTACTS_PER_ISSUE:   # the history stops: follow-up unknown, not "no"
            assert cb == {"7": None, "14": None, "30": None} and nxt is None and rec["next_call_id"] is None
            continue
        assert cb["7"] <= cb["14"] <= cb["30"]
        assert (nxt is not None) == cb["30"] == (rec["next_call_id"] is not None)
        if nxt:
            days = (datetime.fromisoformat(nxt["started_at"]) - datetime.fromisoformat(rec["started_at"])
                    ).total_seconds() / 86400
            assert (nxt["customer_id"], nxt["reason"], nxt["issue_id"]) == \
                (rec["customer_id"], rec["reason"], rec["issue_id"])
            assert nxt["contact_number"] == rec["contact_number"] + 1
            for w in ("7", "14", "30"):
                assert cb[w] == (days <= int(w))
        if rec["repeat_of"]:
            earlier = datetime.fromisoformat(by_id[rec["repeat_of"]]["started_at"])
            assert earlier < datetime.fromisoformat(rec["started_at"])


def test_true_probabilities_are_calibrated_and_best_auc_is_computed(text_corpus):
    out, manifest, all_calls = text_corpus
    calls = labelled_calls(all_calls, 30)
    assert 0 < manifest["summary"]["unlabelled_calls"] == len(all_calls) - len(calls) < 0.05 * len(all_calls)
    for w in ("7", "14", "30"):
        mean_p = np.mean([r["true_callback_prob"][w] for r in calls])
        rate = np.mean([r["callback"][w] for r in calls])
        assert abs(mean_p - rate) < 0.03, (w, mean_p, rate)
    from sklearn.metrics import roc_auc_score

    ref = roc_auc_score([r["callback"]["30"] for r in calls], [r["true_callback_prob"]["30"] for r in calls])
    assert best_auc(out / "calls.jsonl", 30) == pytest.approx(ref, abs=1e-9)
    assert 0.65 < ref < 0.97  # informative, but far from a giveaway
    assert manifest["summary"]["best_auc"]["30"] == pytest.approx(ref, abs=1e-4)
    assert auc([0.1, 0.4, 0.4, 0.9], [False, True, False, True]) == pytest.approx(0.875)


def test_cues_are_informative_but_not_deterministic(text_corpus):
    _, _, calls = text_corpus
    per_outcome = {o: Counter() for o in OUTCOMES}
    n_outcome = Counter(r["outcome"] for r in calls)
    for rec in calls:
        labels = {c["label"] for u in rec["utterances"] for c in u["cues"]}
        per_outcome[rec["outcome"]].update(labels)
    for label in CUE_LABELS:
        rates = {o: per_outcome[o][label] / n_outcome[o] for o in OUTCOMES}
        assert sum(1 for r in rates.values() if r > 0) >= 2, (label, rates)   # never tied to one outcome
        if label not in OUTCOME_CUES:   # an echo of the outcome may be (an escalating agent always says so)
            assert max(rates.values()) < 0.97, (label, rates)
        if label != "prior_contact":
            assert max(rates.values()) - min(rates.values()) > 0.1, (label, rates)   # but informative
    repeats = [r for r in calls if r["repeat_of"]]
    firsts = [r for r in calls if not r["repeat_of"]]

    def share(rs):
        return np.mean([any(c["label"] == "prior_contact" for u in r["utterances"] for c in u["cues"]) for r in rs])

    assert share(repeats) > 0.7 and share(firsts) < 0.1


def test_dialogue_variety_and_openings(text_corpus):
    _, _, calls = text_corpus
    texts = {s: set() for s in SENTIMENT_LABELS}
    for rec in calls:
        for u in rec["utterances"]:
            if u["role"] == "customer":
                texts[u["sentiment"]].add(u["text"])
    assert len(texts["frustrated"]) > 500 and len(texts["confused"]) > 100, {k: len(v) for k, v in texts.items()}
    assert all(len(v) > 50 for v in texts.values())
    first_roles = Counter(r["utterances"][0]["role"] for r in calls)
    assert 0.05 < first_roles["customer"] / len(calls) < 0.3   # the agent usually, not always, speaks first
    assert any(u["backchannel"] and u["overlap"] for r in calls for u in r["utterances"])
    assert any(r["holds"] for r in calls)


def test_text_mode_is_fast(tmp_path):
    import time

    started = time.perf_counter()
    write_corpus(tmp_path, CorpusOptions(calls=5000, seed=3))
    assert time.perf_counter() - started < 20   # ~2.5 s on one core; generous for a loaded CI box


def test_cli_writes_a_corpus(tmp_path, capsys):
    assert main(["corpus", "--out", str(tmp_path / "c"), "--calls", "50", "--seed", "5", "--short"]) == 0
    assert "wrote" in capsys.readouterr().out
    calls = read_calls(tmp_path / "c" / "calls.jsonl")
    assert len(calls) >= 50 and json.loads((tmp_path / "c" / "corpus.json").read_text())["options"]["seed"] == 5
    assert main(["corpus", "--out", str(tmp_path / "d"), "--calls", "5", "--stereo"]) == 2
    # A recipe fixes seed, prefix and phrasing split; --calls shrinks it for the test.
    assert main(["corpus", "--recipe", "eval-unseen", "--calls", "40", "--out", str(tmp_path / "r")]) == 0
    manifest = json.loads((tmp_path / "r" / "corpus.json").read_text())
    assert manifest["recipe"] == "eval-unseen" and manifest["options"]["seed"] == 2012
    assert manifest["options"]["dialogue"]["phrase_split"] == "heldout"
    assert all(r["call_id"].startswith("evu-") for r in read_calls(tmp_path / "r" / "calls.jsonl"))


# ----------------------------------------------------------------------------------------------- audio (slow)

def _frame_db(x: np.ndarray, rate: int, hop_s: float = 0.01) -> np.ndarray:
    hop = int(rate * hop_s)
    n = len(x) // hop
    return 20 * np.log10(np.sqrt(np.mean(x[: n * hop].reshape(n, hop) ** 2, axis=1)) + 1e-7)


def _check_energy_matches_turns(signal: np.ndarray, rate: int, turns: list[tuple[float, float]]) -> None:
    """Speech energy sits inside the turns and not outside them; every turn starts and ends with speech."""
    db = _frame_db(signal, rate)
    t = (np.arange(len(db)) + 0.5) * 0.01
    inside = np.zeros(len(db), bool)
    near = np.zeros(len(db), bool)
    for start, end in turns:
        inside |= (t >= start) & (t < end)
        near |= (t >= start - 0.05) & (t < end + 0.05)
    outside = ~near
    floor = np.percentile(db[outside], 95)
    speech = np.percentile(db[inside], 75)   # turns hold pauses between words and sentences
    assert speech - floor > 15, (speech, floor)
    for start, end in turns:
        onset = db[(t >= start) & (t < start + 0.2)]
        offset = db[(t >= end - 0.2) & (t < end)]
        assert onset.max() > floor + 10 and offset.max() > floor + 10, (start, end, floor)


@pytest.mark.slow
def test_rendered_calls_agree_with_their_ground_truth(tmp_path):
    import soundfile as sf

    from pipeline.corpus.render import RenderOptions

    options = CorpusOptions(calls=2, seed=5, dialogue=DialogueOptions(length="short", hold_prob=1.0))
    modes = {
        "mono": RenderOptions(),
        "stereo": RenderOptions(stereo=True),
        "telephone": RenderOptions(stereo=True, telephone=True),
    }
    times = {}
    for mode, render in modes.items():
        out = tmp_path / mode
        manifest = write_corpus(out, options, render)
        assert manifest["render_stats"]["audio_seconds"] > 5
        calls = read_calls(out / "calls.jsonl")
        with open(out / "metadata.csv", newline="") as f:
            rows = list(csv.DictReader(f))
        assert [r["call_id"] for r in rows] == [c["call_id"] for c in calls]
        for row, rec in zip(rows, calls):
            info = sf.info(str(out / row["path"]))
            audio = rec["audio"]
            assert row["path"] == audio["path"]
            assert info.samplerate == audio["sample_rate"] == (8000 if render.telephone else 16000)
            assert info.channels == audio["channels"] == (2 if render.stereo else 1)
            assert info.subtype == ("ULAW" if render.telephone else "PCM_16")
            assert info.frames / info.samplerate == pytest.approx(audio["duration_s"], abs=1e-3)
            assert audio["voices"]["agent"]["voice"] != audio["voices"]["customer"]["voice"]
            utts = rec["utterances"]
            assert all(0 < u["start"] < u["end"] <= audio["duration_s"] for u in utts)
            # RTTM: one line per utterance, same times and speakers.
            rttm = [line.split() for line in (out / "rttm" / f"{rec['call_id']}.rttm").read_text().splitlines()]
            expected = sorted((u["start"], u["end"] - u["start"], u["speaker"]) for u in utts)
            assert len(rttm) == len(expected)
            for r, (start, duration, speaker) in zip(rttm, expected):
                assert (r[0], r[1], r[7]) == ("SPEAKER", rec["call_id"], speaker)
                assert float(r[3]) == pytest.approx(start, abs=1e-3)
                assert float(r[4]) == pytest.approx(duration, abs=2e-3)
            assert any(h["end"] - h["start"] >= 2.9 for h in rec["holds"])
            for hold in rec["holds"]:   # nobody speaks during a hold
                assert not any(u["start"] < hold["end"] - 1e-3 and hold["start"] + 1e-3 < u["end"] for u in utts)
            for u in utts:   # overlap flags agree with the times
                talks_over = any(o["role"] != u["role"] and o["start"] < u["end"] and u["start"] < o["end"]
                                 for o in utts)
                assert u["overlap"] == talks_over, u
            samples, rate = sf.read(str(out / row["path"]), dtype="float32", always_2d=True)
            if render.stereo:
                for channel, role in enumerate(("agent", "customer")):
                    _check_energy_matches_turns(samples[:, channel], rate,
                                                [(u["start"], u["end"]) for u in utts if u["role"] == role])
            else:
                _check_energy_matches_turns(samples[:, 0], rate, [(u["start"], u["end"]) for u in utts])
        times[mode] = [[(u["start"], u["end"], u["text"]) for u in c["utterances"]] for c in calls]
    # The channel layout changes neither the words nor the timing.
    assert times["mono"] == times["stereo"] == times["telephone"]


def test_held_out_phrasings_never_appear_in_training_corpora():
    from pipeline.corpus import generate_calls

    def cue_texts(split):
        calls = generate_calls(CorpusOptions(calls=1500, seed=21, dialogue=DialogueOptions(phrase_split=split)))
        spans = {}
        for call in calls:
            for u in call.utterances:
                for c in u.cues:
                    spans.setdefault(c.label, set()).add(u.text[c.char_start:c.char_end])
        return spans

    train, heldout = cue_texts("train"), cue_texts("heldout")
    for label in ("confusion_next_steps", "escalation_request", "agent_deferral"):
        assert train[label] and heldout[label]
        assert train[label].isdisjoint(heldout[label]), label


def test_every_call_pairs_a_male_and_a_female_voice_and_people_keep_theirs():
    from pipeline.corpus import generate_calls
    from pipeline.corpus.render import RenderOptions, voices_for

    calls = generate_calls(CorpusOptions(calls=400, seed=8))
    seen: dict[str, str] = {}
    names = Counter()
    for call in calls:
        voices = voices_for(call, RenderOptions())
        assert {voices["agent"].voice.gender, voices["customer"].voice.gender} == {"m", "f"}
        for person, role in ((call.agent.id, "agent"), (call.customer.id, "customer")):
            assert seen.setdefault(person, voices[role].voice.name) == voices[role].voice.name
            names[voices[role].voice.name] += 1
        assert 0.94 <= voices["agent"].pitch <= 1.06 and 0.9 <= voices["agent"].rate <= 1.11
    assert len(names) == 6   # every voice in use


def test_expected_auc_averages_the_auc_over_label_draws():
    import random as _random

    from pipeline.corpus import auc, expected_auc

    rng = _random.Random(5)
    labels = [rng.random() < 0.3 for _ in range(200)]
    scores = [round(rng.random(), 1) for _ in labels]            # ties count one half, as in `auc`
    from sklearn.metrics import roc_auc_score

    assert expected_auc([float(y) for y in labels], scores) == pytest.approx(roc_auc_score(labels, scores))
    truth = [rng.random() for _ in range(300)]
    noisy = [t + rng.gauss(0, 0.3) for t in truth]
    assert 0.5 < expected_auc(truth, noisy) < expected_auc(truth, truth) < 1
    # the mean of many drawn-label AUCs converges to it
    draws = [auc(noisy, [rng.random() < t for t in truth]) for _ in range(400)]
    assert sum(draws) / len(draws) == pytest.approx(expected_auc(truth, noisy), abs=0.01)


def test_outcome_cues_echo_the_outcome_without_moving_the_probability():
    """fix_confirmed / outcome_rejected / not_resolved are labelled on the lines that show the outcome, but the
    callback probability comes from the outcome itself: removing those spans leaves every probability unchanged."""
    echo = set(OUTCOME_CUES)
    plans = generate_calls(CorpusOptions(calls=300, seed=77))
    seen = Counter()
    for plan in plans:
        before = callback_probabilities(plan)
        for utt in plan.utterances:
            seen.update(c.label for c in utt.cues if c.label in echo)
            utt.cues = [c for c in utt.cues if c.label not in echo]
        assert callback_probabilities(plan) == before
    assert set(seen) == echo
    # the labelled lines are picked by text: each must still be a line of the bank the dialogue draws from
    assert set(P.FIX_CONFIRMED_CORES) <= set(P.POSITIVE_CORE)
    assert set(P.CUSTOMER_REACTION_GRUDGING) <= set(P.CUSTOMER_REACTION_NEUTRAL)
    assert set(P.CUSTOMER_CLOSING_FIXED) <= set(P.CUSTOMER_CLOSING["positive"])


def test_repeat_callers_say_which_call_this_is():
    from pipeline.corpus.dialogue import NTH

    # "this is the {nth} time I'm calling": every repeat contact an issue can have gets its own ordinal
    assert sorted(NTH) == list(range(2, MAX_CONTACTS_PER_ISSUE + 1))
