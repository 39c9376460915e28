"""Speaker roles from what is said (mono) and from the channel map (stereo)."""

from __future__ import annotations

import pytest

from pipeline.diarize import Diarization
from pipeline.roles import RoleOptions, assign_roles, role_map, speaker_evidence
from pipeline.types import SpeakerTurn, Utterance


def dialogue(*lines: tuple[str, str]) -> list[Utterance]:
    out, t = [], 0.0
    for i, (speaker, text) in enumerate(lines):
        d = 0.3 * len(text.split())
        out.append(Utterance(speaker=speaker, role="unknown", start=t, end=t + d, text=text, word_indices=(i, i)))
        t += d + 0.4
    return out


def diarization_of(utterances, **extra) -> Diarization:
    turns = tuple(SpeakerTurn(u.start, u.end, u.speaker) for u in utterances)
    speakers = {s: sum(t.end - t.start for t in turns if t.speaker == s) for s in {t.speaker for t in turns}}
    return Diarization(turns=turns, method=extra.pop("method", "pyannote"), speakers=speakers,
                       duration_s=turns[-1].end, **extra)


BILLING_CALL = (
    ("S0", "Thank you for calling Northwind, you're speaking with Dana. How can I help you today?"),
    ("S1", "Hi, yes, I'm calling because my bill is way higher than it should be this month."),
    ("S0", "I'm sorry to hear that. Can I have your account number please?"),
    ("S1", "Sure, my account number is four four two one nine."),
    ("S0", "Thank you. For security, could you confirm your date of birth?"),
    ("S1", "The third of March, nineteen eighty."),
    ("S0", "Thanks. I can see on the system there was a late fee. I've gone ahead and removed it."),
    ("S1", "Okay, great, thanks."),
    ("S0", "Is there anything else I can help you with?"),
)


def test_agent_and_customer_from_a_typical_call():
    utterances = dialogue(*BILLING_CALL)
    roles = assign_roles(utterances, diarization_of(utterances))
    assert role_map(roles) == {"S0": "agent", "S1": "customer"}
    assert roles["S0"].confidence > 0.9
    assert "thank you for calling" in roles["S0"].reason


def test_customer_speaking_first_does_not_make_them_the_agent():
    # Outbound-style / answered-by-customer start: the customer says hello first.
    lines = (("S0", "Hello?"),) + BILLING_CALL
    utterances = dialogue(*[(("S1" if s == "S0" else "S0") if i else s, t) for i, (s, t) in enumerate(lines)])
    # S0 says "Hello?" and then the customer lines; S1 the agent lines.
    roles = role_map(assign_roles(utterances, diarization_of(utterances)))
    assert roles == {"S0": "customer", "S1": "agent"}


def test_labels_are_independent_of_speaker_names():
    swapped = [("B" if s == "S0" else "A", t) for s, t in BILLING_CALL]
    roles = role_map(assign_roles(dialogue(*swapped)))
    assert roles == {"B": "agent", "A": "customer"}


def test_hold_and_transfer_phrases_point_to_agent():
    utterances = dialogue(
        ("S0", "Hello."),
        ("S1", "Hello, thanks for holding. Let me put you on a brief hold while I transfer you to billing."),
        ("S0", "Okay. I was charged twice for my order."),
    )
    assert role_map(assign_roles(utterances)) == {"S1": "agent", "S0": "customer"}


def test_no_evidence_gives_unknown_with_reason():
    utterances = dialogue(("S0", "Okay."), ("S1", "Right."), ("S0", "Sure."))
    options = RoleOptions(first_speaker_prior=0.5, min_evidence=1.0)
    roles = assign_roles(utterances, options=options)
    assert {a.role for a in roles.values()} == {"unknown"}
    assert all("evidence" in a.reason for a in roles.values())
    # Turn order alone is a prior, not a decision: it never reaches min_evidence by itself.
    assert options.first_speaker_prior < options.min_evidence


def test_stereo_channel_map_decides():
    utterances = dialogue(("customer", "Thank you for calling, how can I help?"), ("agent", "I'm calling about my bill"))
    stereo = diarization_of(utterances, method="stereo_channels", channel_of={"agent": 0, "customer": 1},
                            channel_roles={"agent": "agent", "customer": "customer"})
    roles = assign_roles(utterances, stereo)
    assert role_map(roles) == {"agent": "agent", "customer": "customer"}  # configured map beats the words
    assert roles["agent"].confidence == 1.0 and "channel 0" in roles["agent"].reason


def test_stereo_auto_map_uses_the_words():
    utterances = dialogue(("ch1", "Thank you for calling, how can I help?"), ("ch0", "I'm calling about my bill"))
    auto = diarization_of(utterances, method="stereo_channels", channel_of={"ch0": 0, "ch1": 1})
    assert role_map(assign_roles(utterances, auto)) == {"ch1": "agent", "ch0": "customer"}


def test_extra_speaker_and_single_speaker():
    utterances = dialogue(*BILLING_CALL, ("S2", "Okay."))
    roles = role_map(assign_roles(utterances, diarization_of(utterances)))
    assert roles == {"S0": "agent", "S1": "customer", "S2": "unknown"}
    single = assign_roles(dialogue(("S0", "Thank you for calling, how can I help you today?")))
    assert role_map(single) == {"S0": "agent"}
    assert role_map(assign_roles(dialogue(("S0", "Mm.")))) == {"S0": "unknown"}


def test_evidence_counts_repeats_at_most_a_few_times():
    text = ["how can I help you"] * 10
    ev = speaker_evidence("S0", text, RoleOptions(max_phrase_hits=3))
    assert ev.agent_points == pytest.approx(3 * 3.0)


def test_custom_phrase_lists_are_used_and_validated():
    options = RoleOptions(agent_phrases=((r"\bbonjour\b", 3.0),), customer_phrases=((r"\bmerci\b", 3.0),))
    utterances = dialogue(("S0", "merci"), ("S1", "bonjour"))
    assert role_map(assign_roles(utterances, options=options)) == {"S0": "customer", "S1": "agent"}
    with pytest.raises(Exception):
        RoleOptions(agent_phrases=((r"(unclosed", 1.0),))


def test_role_accuracy_counts_time_with_the_right_role():
    from pipeline.roles import role_accuracy, role_turns

    reference = [SpeakerTurn(0.0, 4.0, "agent"), SpeakerTurn(4.0, 6.0, "customer")]
    hypothesis = role_turns([SpeakerTurn(0.0, 3.0, "S0"), SpeakerTurn(3.0, 6.0, "S1")], {"S0": "agent", "S1": "customer"})
    assert role_accuracy(reference, hypothesis) == pytest.approx(5.0 / 6.0, abs=0.01)
    assert role_accuracy(reference, role_turns(hypothesis, {})) == 0.0  # all "unknown"
    assert role_accuracy(reference, []) == 0.0  # missed speech is wrong


def test_roles_on_generated_corpus_dialogues():
    """Every generated dialogue (full and short, 15% with the customer speaking first), speakers anonymised
    by order of appearance: at least 95% of words get the right role."""
    from pipeline.corpus.dialogue import DialogueOptions
    from pipeline.corpus.generate import CorpusOptions, generate_calls

    for length in ("full", "short"):
        plans = generate_calls(CorpusOptions(calls=150, seed=4242, dialogue=DialogueOptions(length=length)))
        total = correct = 0
        customer_first = 0
        for plan in plans:
            first = plan.utterances[0].role
            customer_first += first == "customer"
            names = {first: "S0", ("customer" if first == "agent" else "agent"): "S1"}
            utterances = dialogue(*[(names[u.role], u.text) for u in plan.utterances])
            roles = role_map(assign_roles(utterances))
            for u, source in zip(utterances, plan.utterances):
                words = len(source.text.split())
                total += words
                correct += words * (roles[u.speaker] == source.role)
        assert customer_first > 0
        assert correct / total >= 0.95, (length, correct / total)


def test_phrase_file_is_the_users_to_edit(tmp_path):
    from pipeline.config import ConfigError, load_config
    from pipeline.process import role_options

    own = tmp_path / "roles.yaml"
    own.write_text("agent_phrases:\n  - ['\\bbonjour\\b', 3.0]\ncustomer_phrases:\n  - ['\\bmerci\\b', 3.0]\n")
    options = role_options(load_config(overrides=[f"roles.phrases_file={own}"]))
    assert options.agent_phrases == ((r"\bbonjour\b", 3.0),) and options.customer_phrases == ((r"\bmerci\b", 3.0),)
    own.write_text("agent_phrases:\n  - ['(unclosed', 3.0]\ncustomer_phrases:\n  - ['x', 1]\n")
    with pytest.raises(ConfigError, match=r"agent_phrases\[0\] '\(unclosed' is not a valid regular expression"):
        role_options(load_config(overrides=[f"roles.phrases_file={own}"]))
    with pytest.raises(ConfigError, match="cannot read role phrases"):
        role_options(load_config(overrides=[f"roles.phrases_file={tmp_path / 'missing.yaml'}"]))


def test_role_phrases_match_hyphenated_and_curly_apostrophe_words():
    # "wi-fi" and "I’m" reach the phrases as "wi fi" and "i'm" (the same normalisation as the WER measure)
    hyphen = speaker_evidence("S1", ["My wi-fi keeps dropping."], RoleOptions())
    plain = speaker_evidence("S1", ["My wifi keeps dropping."], RoleOptions())
    assert hyphen.customer_points == pytest.approx(plain.customer_points) and hyphen.customer_points > 0
    curly = speaker_evidence("S0", ["You’re speaking with Dana, how can I help?"], RoleOptions())
    straight = speaker_evidence("S0", ["You're speaking with Dana, how can I help?"], RoleOptions())
    assert curly.agent_points == pytest.approx(straight.agent_points) and curly.agent_points > 0


def test_a_speaker_outside_the_stereo_channel_map_is_unknown_without_confidence():
    diarization = Diarization(turns=(SpeakerTurn(0, 2, "agent"),), method="stereo_channels",
                              speakers={"agent": 2.0}, duration_s=3.0, channel_of={"agent": 0},
                              channel_roles={"agent": "agent"})
    utterances = [Utterance("agent", "unknown", 0, 2, "hello", (0, 0)), Utterance("S0", "unknown", 2.5, 3, "hi", (1, 1))]
    roles = assign_roles(utterances, diarization)
    assert (roles["agent"].role, roles["agent"].confidence) == ("agent", 1.0)
    assert (roles["S0"].role, roles["S0"].confidence) == ("unknown", 0.0) and "no turns" in roles["S0"].reason
