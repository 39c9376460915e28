"""PII redaction: cards (Luhn), accounts, phones, e-mails, spoken numbers; every text field of a record."""

from __future__ import annotations

import copy

import pytest

from pipeline.redact import RedactOptions, find_pii, luhn_ok, redact_record, redact_text, redact_words


@pytest.mark.parametrize(
    "text, kind, secret",
    [
        ("My card is 4111 1111 1111 1111, expiry next year.", "card", "4111 1111 1111 1111"),
        ("card number 5500-0000-0000-0004 thanks", "card", "5500-0000-0000-0004"),
        ("it's four one one one one one one one one one one one one one one one", "card",
         "four one one one one one one one one one one one one one one one"),
        ("Sure, my account number is 5880 1319.", "account", "5880 1319"),
        ("the account is five eight eight oh double one three nine", "account", "five eight eight oh double one three nine"),
        ("call me on 07700 900123 please", "phone", "07700 900123"),
        ("It's +44 7700 900123.", "phone", "+44 7700 900123"),
        ("555-159-8686.", "phone", "555-159-8686"),
        ("my mobile is oh seven seven double oh nine oh oh one two three", "phone",
         "oh seven seven double oh nine oh oh one two three"),
        ("my email is john.smith@example.co.uk", "email", "john.smith@example.co.uk"),
        ("it's j smith at outlook dot com", "email", "j smith at outlook dot com"),
    ],
)
def test_pii_is_found_and_masked(text, kind, secret):
    masked, spans = redact_text(text)
    assert [s.type for s in spans] == [kind]
    a, b = spans[0].char_start, spans[0].char_end
    assert text[a:b] == secret
    assert len(masked) == len(text)  # length-preserving: spans computed before stay valid
    assert masked[:a] == text[:a] and masked[b:] == text[b:]
    assert not any(ch.isdigit() for ch in masked[a:b]) and "#" in masked[a:b]
    for word in secret.replace("-", " ").split():
        assert word not in masked[a:b]


@pytest.mark.parametrize(
    "text",
    [
        "Your reference number is 4 4 8 1 9.",
        "Please quote ticket TK8821903 and case 90021334.",
        "I ordered one phone for two people on the 12th.",
        "It costs 45 pounds for 12 months.",
        "4111 1111 1111 1112 is not a card",      # fails the Luhn check (and is not a phone)
        "I'll be with you in one moment.",
    ],
)
def test_non_pii_is_left_alone(text):
    found = [s for s in find_pii(text) if s.type == "card"] if "1112" in text else find_pii(text)
    assert not found, found


def test_luhn():
    assert luhn_ok("4111111111111111") and luhn_ok("79927398713")
    assert not luhn_ok("4111111111111112")


def test_types_can_be_switched_off_and_options_checked():
    text = "card 4111 1111 1111 1111, email a@b.com"
    _, spans = redact_text(text, RedactOptions(types=("email",)))
    assert [s.type for s in spans] == ["email"]
    with pytest.raises(ValueError, match="redaction.types"):
        RedactOptions(types=("ssn",))
    with pytest.raises(ValueError, match="mask_char"):
        RedactOptions(mask_char="XX")


def test_numbers_split_across_asr_words():
    masked, kinds = redact_words(["my", "card", "is", "4111", "1111", "1111", "1111.", "Thanks."])
    assert masked[:3] == ["my", "card", "is"] and masked[-1] == "Thanks."
    assert masked[3:7] == ["####", "####", "####", "####."]
    assert kinds == [None, None, None, "card", "card", "card", "card", None]


def test_every_text_field_of_a_record():
    text = "Sure, my account number is 5880 1319 and my email is ann@example.com."
    a = text.index("5880")
    record = {
        "transcript": {
            "text": "Hello. " + text,
            "segments": [{"text": text, "start": 0.0}],
            "words": [{"text": w, "start": 0.0} for w in text.split()],
        },
        "utterances": [{
            "text": text,
            "cues": [{"label": "x", "char_start": a - 10, "char_end": a + 9, "evidence": text[a - 10 : a + 9]}],
        }],
        "measures": {"talk_s": {"agent": 1.0}},
    }
    original = copy.deepcopy(record)
    counts = redact_record(record)
    blob = repr(record)
    for secret in ("5880", "1319", "ann@example.com", "example"):
        assert secret not in blob
    utt = record["utterances"][0]
    assert [r["type"] for r in utt["redactions"]] == ["account", "email"]
    cue = utt["cues"][0]
    assert cue["evidence"] == utt["text"][cue["char_start"] : cue["char_end"]]  # spans still line up
    assert cue["evidence"].startswith("number is ####")
    assert cue["evidence_redactions"] == [{"type": "account", "char_start": 10, "char_end": 19}]
    assert record["transcript"]["segments"][0]["text"] == utt["text"]
    words = record["transcript"]["words"]
    assert [w.get("redacted") for w in words].count("account") == 2 and words[0]["text"] == "Sure,"
    assert record["measures"] == original["measures"]
    assert record["redaction"]["counts"] == counts and counts == {"account": 3, "email": 3}  # transcript, segment, utterance text


def test_risk_reason_evidence_words_are_masked():
    """Risk reasons quote a cue's words as `evidence` beside the utterance `text`: both are masked."""
    record = {"risk": {"reasons": [{"text": "The agent gave a reference number", "evidence": [
        {"utterance": 0, "start": 1.0, "end": 2.0, "text": "Sure, your card 4111 1111 1111 1111 is on file.",
         "evidence": "card 4111 1111 1111 1111"}]}]}}
    counts = redact_record(record)
    item = record["risk"]["reasons"][0]["evidence"][0]
    assert "4111" not in item["text"] and "4111" not in item["evidence"]
    assert item["evidence_redactions"] and sum(counts.values()) == 2


def test_role_reason_quotes_are_masked():
    record = {"speakers": [{"speaker": "S0", "role": "agent",
                            "role_reason": 'said "an engineer on 07700 900123 will call"'}]}
    redact_record(record)
    assert "07700" not in record["speakers"][0]["role_reason"] and "engineer" in record["speakers"][0]["role_reason"]


def test_a_number_said_across_two_utterances_is_masked_in_both():
    """The words are searched as one string, so the split number is found there; each piece takes its words' masks."""
    said = ["Sure, you can call me on oh seven seven double oh", "nine double oh one two three."]
    words, pieces, at = [], [], 0
    for text in said:
        tokens = [" " + t for t in text.split()]
        words += [{"text": t} for t in tokens]
        pieces.append({"text": text, "word_indices": [at, at + len(tokens) - 1],
                       "cues": [{"label": "x", "char_start": 0, "char_end": len(text), "evidence": text}]})
        at += len(tokens)
    record = {"transcript": {"text": " ".join(said), "words": words,
                             "segments": [{"text": p["text"], "word_range": p["word_indices"]} for p in pieces]},
              "utterances": pieces}
    redact_record(record)
    for piece in [*record["utterances"], *record["transcript"]["segments"]]:
        assert not any(w in piece["text"] for w in ("seven", "nine", "double", "three")), piece["text"]
        assert piece["text"].startswith(("Sure, you can call me on ", "#"))
        for span in piece["redactions"]:
            assert set(piece["text"][span["char_start"]:span["char_end"]]) == {"#"}
    assert record["utterances"][1]["cues"][0]["evidence"] == record["utterances"][1]["text"]
    assert record["utterances"][1]["cues"][0]["evidence_redactions"] == record["utterances"][1]["redactions"]
    assert "_done" not in record["utterances"][1]["cues"][0]
    assert len(record["utterances"][0]["text"]) == len(said[0])
