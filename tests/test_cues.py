"""Cue detectors: the rule file, patterns, semantic matching of paraphrases, held-out F1, and cues from audio."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from pipeline.cues import (
    CueConfigError, CueDetector, CueOptions, CueStage, load_cue_rules, make_cues,
)
from pipeline.types import Utterance, Word
from pipeline.vocab import CUE_LABELS, CUE_ROLE

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

CLEAR = {  # one plain phrasing per label, with the role it applies to
    "prior_contact": ("customer", "I already called about this last week."),
    "problem_persists": ("customer", "It's still not working."),
    "confusion_next_steps": ("customer", "So what happens now?"),
    "escalation_request": ("customer", "I want to speak to a manager."),
    "outcome_rejected": ("customer", "Well, that's not good enough."),
    "fix_confirmed": ("customer", "Yes, it's working now, thanks."),
    "not_resolved": ("agent", "I'm afraid I can't do that from here."),
    "agent_deferral": ("agent", "I'll have to check with my team."),
    "verify_fix": ("agent", "Can you check if it's working now?"),
    "next_steps_timeframe": ("agent", "You'll get the refund within five working days."),
    "recap": ("agent", "So just to recap, the fee is removed."),
    "reference_number": ("agent", "Your reference number is 4 4 8 1 9."),
    "followup_offer": ("agent", "I'll give you a call on Friday to make sure it's sorted."),
}


@pytest.fixture(scope="module")
def rules():
    return load_cue_rules()


def write_rules(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cues.yaml"
    path.write_text(text)
    return path


def test_default_rule_file_covers_every_label(rules):
    assert {r.label for r in rules.rules} == set(CUE_LABELS)
    for rule in rules.rules:
        assert rule.patterns and rule.examples, rule.label
        assert rule.roles == (CUE_ROLE[rule.label],), rule.label


@pytest.mark.parametrize(
    "text, message",
    [
        ("labels:\n  recap:\n    patterns: ['(unclosed']\n", "labels.recap.patterns[0]: bad regular expression"),
        ("labels:\n  made_up:\n    patterns: ['x']\n", "unknown cue label(s) ['made_up']"),
        ("labels:\n  recap:\n    patterns: ['x']\n    threshold: 2\n", "labels.recap.threshold: must be a number in 0..1"),
        ("labels:\n  recap:\n    roles: [boss]\n    patterns: ['x']\n", "labels.recap.roles"),
        ("labels:\n  recap:\n    patern: ['x']\n", "unknown key(s) ['patern']"),
        ("labels:\n  recap: {}\n", "needs at least one pattern or example"),
        ("labels: [1, 2]\n", "expected a mapping with a 'labels' mapping"),
        ("labels:\n  recap:\n    patterns: x\n", "labels.recap.patterns: must be a list"),
    ],
)
def test_rule_file_errors_name_the_entry(tmp_path, text, message):
    with pytest.raises(CueConfigError, match=None) as err:
        load_cue_rules(write_rules(tmp_path, text))
    assert message in str(err.value)
    assert str(tmp_path / "cues.yaml") in str(err.value)


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(CueConfigError, match="cannot read cue file"):
        load_cue_rules(tmp_path / "nope.yaml")


@pytest.mark.parametrize("label", CUE_LABELS)
def test_patterns_find_each_label_on_its_role(rules, label):
    role, text = CLEAR[label]
    found = CueDetector(rules).detect_text(text, role)
    assert label in {f[0] for f in found}
    hit = next(f for f in found if f[0] == label)
    assert hit[4] == "pattern" and 0 <= hit[2] < hit[3] <= len(text)


def test_detectors_are_role_aware(rules):
    detector = CueDetector(rules)
    customer_text = CLEAR["escalation_request"][1]
    agent_text = CLEAR["agent_deferral"][1]
    customer_labels = {r.label for r in rules.for_role("customer")}
    agent_labels = {r.label for r in rules.for_role("agent")}
    assert not {f[0] for f in detector.detect_text(customer_text, "agent")} & customer_labels
    assert not {f[0] for f in detector.detect_text(agent_text, "customer")} & agent_labels
    # unknown speaker: every label applies
    assert "escalation_request" in {f[0] for f in detector.detect_text(customer_text, "unknown")}
    assert "agent_deferral" in {f[0] for f in detector.detect_text(agent_text, "unknown")}


def test_lookalikes_are_not_cues(rules):
    detector = CueDetector(rules)
    assert not detector.detect_text("No, I haven't called before, this is the first time.", "customer")
    assert not detector.detect_text("Thanks for calling, how can I help?", "agent")
    assert not detector.detect_text("My internet is broken.", "customer")


# The outcome cues (what the agent says was done, how the customer takes it) next to lines that share their words.
OUTCOME_LOOKALIKES = [
    ("fix_confirmed", "customer", "I went through all of this with you last week."),
    ("fix_confirmed", "customer", "Okay, so when will that actually be sorted?"),
    ("fix_confirmed", "customer", "It's still not working now."),
    ("fix_confirmed", "customer", "Yes, it was working yesterday but it's gone off again."),
    ("fix_confirmed", "customer", "The refund still hasn't come through."),
    ("outcome_rejected", "customer", "My broadband keeps dropping out every evening."),
    ("outcome_rejected", "customer", "I want to speak to a manager."),
    ("not_resolved", "agent", "I've removed the charge from your account."),
    ("not_resolved", "agent", "Sorry, I can't hear you very well."),
    ("not_resolved", "agent", "Let me just put you on hold for a moment."),
    # kept out by the labels' `unless` lists (a review's look-alikes)
    ("fix_confirmed", "customer", "It's showing the same error again."),
    ("fix_confirmed", "customer", "It stopped working again last night."),
    ("fix_confirmed", "customer", "An error has come up on the app."),
    ("fix_confirmed", "customer", "You said you fixed it last time."),
    ("outcome_rejected", "customer", "I was hoping you could sort out my bill."),
    ("outcome_rejected", "customer", "It's really frustrating because I work from home."),
    ("not_resolved", "agent", "Sorry to hear you can't get online."),
    ("not_resolved", "agent", "Sorry, I can't find your account, can you confirm your date of birth?"),
]
OUTCOME_LINES = [
    ("fix_confirmed", "customer", "oh yeah its working again on the laptop"),
    ("fix_confirmed", "customer", "Yep, I can see the refund there now."),
    ("outcome_rejected", "customer", "So I just have to wait then."),
    ("outcome_rejected", "customer", "Is that really the best you can offer?"),
    ("not_resolved", "agent", "I'll transfer this to the technical team."),
    ("not_resolved", "agent", "I've done part of it, but the rest needs another team."),
]


def test_unless_vetoes_only_the_sentence_it_matches(tmp_path):
    rules = load_cue_rules(write_rules(tmp_path, "labels:\n  fix_confirmed:\n    roles: [customer]\n"
                                                 "    patterns: ['working now']\n    unless: ['\\bstill\\b']\n"))
    detector = CueDetector(rules)
    assert not detector.detect_text("It's still not working now.", "customer")
    hits = detector.detect_text("Yes, it's working now. It was still broken yesterday.", "customer")
    assert [(h[0], h[2]) for h in hits] == [("fix_confirmed", 10)]
    with pytest.raises(CueConfigError, match=r"labels.fix_confirmed.unless\[0\]: bad regular expression"):
        load_cue_rules(write_rules(tmp_path, "labels:\n  fix_confirmed:\n    patterns: ['x']\n    unless: ['(']\n"))


# Lines as tiny.en wrote them from rendered 8 kHz telephone calls (training-seed corpora, not evaluation ones):
# the words that carry the cue survive while the opening "can/could" or a number is misheard.
TELEPHONE_ASR_LINES = [
    ("verify_fix", "agent", "I corrected the bill. Good you have a look in the app and tell me if the new balance shows."),
    ("verify_fix", "agent", "And you try making us all now."),
    ("verify_fix", "agent", "Can you check you receive the cancellation email?"),
    ("escalation_request", "customer", "I'd like to speak to someone who can actually sort this out."),
    ("escalation_request", "customer", "No. Would be true to your compliance department."),
    ("reference_number", "agent", "If you need to call back just quote reference to K866 -9700."),
    ("next_steps_timeframe", "agent", "You'll see the credit within for working day."),
    ("next_steps_timeframe", "agent", "It should all be done by the end of 30."),
    ("recap", "agent", "We recap the problem is sorted and nothing else is needed from you."),
    ("agent_deferral", "agent", "I'm not 100 % sure how that works."),
    ("verify_fix", "agent", "Can you try loving it again while I'm on the line?"),
    ("reference_number", "agent", "If you need to call back, just quote, reference, TK6, a hundred forty, eight thousand."),
    ("reference_number", "agent", "If you need to call back just load reference, TK3, 23, and 65."),
    ("fix_confirmed", "customer", "No, that's everything. Fantastic. That sorted it. Cheers."),
    ("fix_confirmed", "customer", "No, you sorted it. Thank you."),
    ("not_resolved", "agent", "I'm afraid. I can't see any fault on our size."),
    ("not_resolved", "agent", "sorry. But our system won't let me change that."),
    ("outcome_rejected", "customer", "Right that's a shame."),
    # session 5: lines the detector missed on the 560 selection calls (training seeds)
    ("prior_contact", "customer", "Hi there. I went through all of this with you four days ago."),
    ("prior_contact", "customer", "Well, I I was on the phone with you on Friday about the same thing."),
    ("prior_contact", "customer", "Hi Marcus your colleague told me about a week ago that it would be sick"),
    ("prior_contact", "customer", "Hi Grace. I ran on Saturday and was told it would be sorted."),
    ("problem_persists", "customer", "My bill this month came to 128 dollars and the charge is still there and nobody seems to care"),
    ("problem_persists", "customer", "My account says it's been suspended and I'm still locked out and I'm not pleased."),
    ("problem_persists", "customer", "I'm moving house and need to cancel my service. And the account is still open."),
    ("confusion_next_steps", "customer", "Sorry. I missed that. When is it happening?"),
    ("confusion_next_steps", "customer", "Wait, so should I just wait or call again?"),
    ("confusion_next_steps", "customer", "Well, that's disappointing. I don't really understand what happened next."),
    ("verify_fix", "agent", "I processed the refund of $149 .25. Could you check the refund showed in your app?"),
]
# ... and what the session-5 patterns must leave alone.
TELEPHONE_ASR_LOOKALIKES = [
    ("agent_deferral", "agent", "HMM. The team will call you by Tuesday at the latest."),
    ("prior_contact", "customer", "I ran out of data on Saturday."),
    ("prior_contact", "customer", "The engineer told me the router was fine."),
    ("problem_persists", "customer", "Is the refund still there if I need it?"),
    ("confusion_next_steps", "customer", "When did it happen? On Monday, I think."),
    ("verify_fix", "agent", "Could you confirm the name on your account?"),
    ("verify_fix", "agent", "Can you see the payment options in your app?"),
    ("prior_contact", "customer", "I ran a couple of checks on the router."),
    ("prior_contact", "customer", "I had a call with my bank about the payment."),
    ("problem_persists", "customer", "Hello, are you still there?"),
    ("problem_persists", "customer", "My account is still open, right?"),
    ("confusion_next_steps", "customer", "I don't understand why it drops out when it rains."),
    ("confusion_next_steps", "customer", "When does it happen? Usually in the evening."),
]
# A question that asks why a fault goes on still reports it (the state-question veto must not drop it).
STILL_A_COMPLAINT = [
    ("problem_persists", "customer", "Can you tell me why I'm still being charged?"),
    ("problem_persists", "customer", "Is there a reason the internet is still not working?"),
]


@pytest.mark.parametrize("label,role,text", OUTCOME_LINES + TELEPHONE_ASR_LINES + STILL_A_COMPLAINT)
def test_patterns_find_the_cue_in_plain_and_asr_lines(rules, label, role, text):
    assert label in {f[0] for f in CueDetector(rules).detect_text(text, role)}


@pytest.mark.parametrize("label,role,text", OUTCOME_LOOKALIKES + TELEPHONE_ASR_LOOKALIKES)
def test_lookalikes_stay_out_of_their_cue(rules, label, role, text):
    assert label not in {f[0] for f in CueDetector(rules).detect_text(text, role)}


def test_a_handoff_is_a_deferral_unless_it_comes_with_a_firm_time(rules):
    detector = CueDetector(rules)
    found = lambda text: {f[0] for f in detector.detect_text(text, "agent")}   # noqa: E731
    assert "agent_deferral" in found("I'll need to check with the team and call you back on this number.")
    assert "agent_deferral" not in found("The team will call you by Tuesday at the latest.")


def test_asr_tolerant_patterns_keep_their_lookalikes_out(rules):
    detector = CueDetector(rules)
    for text in ("Can you confirm your date of birth?", "Have you tried restarting the router?",
                 "Do you have the return receipt?", "When did you first notice it?"):
        assert "verify_fix" not in {f[0] for f in detector.detect_text(text, "agent")}, text
    assert "recap" not in {f[0] for f in detector.detect_text("I've removed the charge from the account.", "agent")}


def test_cue_times_come_from_the_words(rules):
    words = [Word(10.0, 10.2, "Hi", 0.9), Word(10.5, 10.8, "it's", 0.9), Word(10.8, 11.0, "still", 0.9),
             Word(11.0, 11.2, "not", 0.9), Word(11.2, 11.7, "working.", 0.9)]
    utt = Utterance("S1", "customer", 10.0, 11.7, "Hi it's still not working.", (0, 4))
    cues = make_cues(utt, words, CueDetector(rules).detect_text(utt.text, utt.role))
    cue = next(c for c in cues if c.label == "problem_persists")
    assert cue.evidence == utt.text[cue.char_start : cue.char_end]
    assert 10.5 <= cue.start < cue.end <= 11.7
    assert cue.start >= 10.5  # "Hi" is not part of the evidence


# ---------------------------------------------------------------- with the real MiniLM


@pytest.fixture(scope="module")
def stage():
    return CueStage(CueOptions())


PARAPHRASES = [  # no pattern matches these (checked below); only their meaning can. None of them is a cues.yaml example.
    ("prior_contact", "customer", "you guys had me on the line for an hour about this on monday"),
    ("prior_contact", "customer", "last time i got through to someone they promised to sort it"),
    ("prior_contact", "customer", "i all ready cold you guys last weak about this"),            # ASR errors
    ("problem_persists", "customer", "it's playing up exactly like it did before the engineer came"),
    ("problem_persists", "customer", "its stil not workin"),                                     # ASR errors
    ("escalation_request", "customer", "i need to speak to whoever is above you"),
    ("escalation_request", "customer", "can i speak to you're man ager please"),                 # ASR errors
    ("confusion_next_steps", "customer", "so am i waiting on you or on them"),
    ("agent_deferral", "agent", "that's beyond what i can see on my screen so i'll pass it up the line"),
    ("verify_fix", "agent", "go ahead and reload it, does the page come up for you"),
    ("recap", "agent", "let me quickly go through what we've sorted today"),
    ("next_steps_timeframe", "agent", "your new bill should land in about a fortnight"),
]


@pytest.mark.slow
def test_semantic_matching_catches_paraphrases(stage):
    pattern_only = CueDetector(stage.rules)
    caught = []
    for label, role, text in PARAPHRASES:
        assert label not in {f[0] for f in pattern_only.detect_text(text, role)}, f"a pattern matches {text!r}"
        utt = Utterance("S1", role, 0.0, 3.0, text, (-1, -1))
        stage.annotate([utt], [])
        hits = [c for c in utt.cues if c.label == label]
        assert all(c.method == "semantic" and 0.5 <= c.score < 0.95 for c in hits)
        caught.append(bool(hits))
    # MiniLM similarity to ~15 examples per label catches only some of these free phrasings (measured 4/12 with the
    # shipped thresholds, which are tuned for precision on the training lines): the floor guards the semantic path
    # against regressions; it is not a claim of full paraphrase recall.
    assert sum(caught) >= 4, [p for p, c in zip(PARAPHRASES, caught) if not c]


@pytest.mark.slow
def test_heldout_cue_f1_floor(stage):
    from eval_cues import cue_scores, detect_labels, macro, read_rows, role_filter

    rows = read_rows(ROOT / "scripts" / "data" / "heldout.csv")
    predicted, _, _ = detect_labels(stage.detector, stage.encoder, [r["text"] for r in rows], [r["role"] for r in rows])
    scores = cue_scores(role_filter(rows, stage.detector), predicted)
    assert macro(scores) >= 0.80, scores
    assert min(s["f1"] for s in scores.values()) >= 0.5, scores


@pytest.mark.slow
def test_stage_fills_utterances_and_measures(stage):
    utts = [
        Utterance("A", "agent", 0.0, 2.0, "Thanks for calling, how can I help?", (-1, -1)),
        Utterance("C", "customer", 2.5, 6.0, "Hi. I rang last week and it's still not working, this is ridiculous!", (-1, -1)),
        Utterance("A", "agent", 16.0, 19.0, "I'll have to check with my team. Your reference number is 5 5 1 0 2.", (-1, -1)),
        Utterance("C", "customer", 19.5, 21.0, "Oh brilliant, thank you so much.", (-1, -1)),
    ]
    measures = stage.annotate(utts, [], duration_s=22.0)
    labels = [{c.label for c in u.cues} for u in utts]
    assert {"prior_contact", "problem_persists"} <= labels[1]
    assert {"agent_deferral", "reference_number"} <= labels[2]
    assert all(u.sentiment and abs(sum(u.sentiment.values()) - 1) < 0.01 for u in utts)
    assert max(utts[1].sentiment, key=utts[1].sentiment.get) in ("frustrated", "negative")
    assert max(utts[3].sentiment, key=utts[3].sentiment.get) == "positive"
    assert measures["customer_valence_delta"] > 0  # unhappy opening, happy close
    assert measures["hold_count"] == 1 and measures["hold_longest_s"] == pytest.approx(10.0)
    assert measures["time_to_first_risk_cue_s"] >= 2.5
    assert measures["cue_counts"]["reference_number"] == 1
    assert all(u.prosody is None for u in utts)  # no audio given


# ---------------------------------------------------------------- from audio, through ASR

LINES = [  # (role, flite voice, text, a cue that must survive ASR)
    ("agent", "kal", "Thank you for calling, my name is Tom, how can I help you today?", None),
    ("customer", "slt", "Hi. I already called you about this last week, and my internet is still not working.",
     "prior_contact"),
    ("agent", "kal", "I am sorry about that. I will have to check with my supervisor, someone will call you back.",
     "agent_deferral"),
    ("customer", "slt", "This is ridiculous. I want to speak to a manager.", "escalation_request"),
    ("agent", "kal", "Of course. Your reference number is four five two one. You will get a call within two working days.",
     "reference_number"),
]


def render_lines(tmp_path: Path) -> tuple[np.ndarray, list[tuple[float, float, str]]]:
    import librosa

    pieces, turns, t = [], [], 0.0
    for i, (role, voice, text, _) in enumerate(LINES):
        wav = tmp_path / f"line{i}.wav"
        subprocess.run(["flite", "-voice", voice, "-t", text, "-o", str(wav)], check=True, capture_output=True)
        y, _ = librosa.load(wav, sr=16_000)
        gap = np.zeros(int(0.6 * 16_000), dtype=np.float32)
        pieces += [y, gap]
        turns.append((t, t + len(y) / 16_000, role))
        t += (len(y) + len(gap)) / 16_000
    return np.concatenate(pieces).astype(np.float32), turns


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("flite") is None, reason="Debian flite is not installed")
def test_cues_found_in_a_call_run_from_audio(stage, tmp_path):
    from pipeline.asr import Transcriber
    from pipeline.types import SpeakerTurn
    from pipeline.utterances import build_utterances

    audio, turns = render_lines(tmp_path)
    transcript = Transcriber().transcribe(audio)
    words = transcript.words
    assert len(words) > 30
    speaker_turns = [SpeakerTurn(a, b, role) for a, b, role in turns]
    utts = build_utterances(words, speaker_turns, roles={"agent": "agent", "customer": "customer"})
    measures = stage.annotate(utts, words, audio)
    found = {(u.role, c.label) for u in utts for c in u.cues}
    for role, _, _, label in LINES:
        if label:
            assert (role, label) in found, (label, [(u.role, u.text) for u in utts])
    for u in utts:
        for c in u.cues:  # time spans fall inside the utterance and the evidence is its text
            assert u.start - 0.05 <= c.start <= c.end <= u.end + 0.05
            assert c.evidence == u.text[c.char_start : c.char_end]
        assert u.prosody and u.prosody["pitch_hz"] and u.prosody["speaking_rate_wps"]
    agent_pitch = np.median([u.prosody["pitch_hz"] for u in utts if u.role == "agent"])
    customer_pitch = np.median([u.prosody["pitch_hz"] for u in utts if u.role == "customer"])
    assert customer_pitch > agent_pitch * 1.3  # slt is a female voice, kal male
    assert measures["talk_ratio_agent"] is not None and measures["first_cue_s"]


def test_patterns_only_stage_loads_no_model():
    stage = CueStage(CueOptions(semantic=False, sentiment=False))
    assert stage.encoder is None and stage.head is None
    utts = [Utterance("C", "customer", 0.0, 2.0, CLEAR["prior_contact"][1], (-1, -1)),
            Utterance("A", "agent", 2.5, 4.0, CLEAR["recap"][1], (-1, -1))]
    measures = stage.annotate(utts, [])
    assert [c.label for c in utts[0].cues] == ["prior_contact"] and utts[0].sentiment is None
    assert measures["cue_counts"] == {"prior_contact": 1, "recap": 1}


def test_options_from_the_config_section():
    from pipeline.config import section

    options = section({"cues": {"encoder_threads": 2, "hold_min_s": 5}}, "cues", CueOptions)
    assert options.encoder_options().threads == 2 and options.prosody_options().hold_min_s == 5
    with pytest.raises(Exception, match="encoder_threads"):
        section({"cues": {"encoder_threads": -1}}, "cues", CueOptions)
