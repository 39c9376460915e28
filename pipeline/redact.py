"""PII redaction: card numbers (Luhn-checked), account numbers, phone numbers and e-mail addresses, written as
digits or spoken ("four five six seven ..."), masked in every text field of a record.

Masks keep the length of the text (each letter or digit becomes `mask_char`), so character spans computed before
redaction (cue spans, word offsets) stay valid. Every masked span is recorded as {type, char_start, char_end}.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Sequence

PII_TYPES = ("card", "account", "phone", "email")

DIGIT_WORDS = {"zero": "0", "oh": "0", "o": "0", "nought": "0", "one": "1", "two": "2", "three": "3", "four": "4",
               "for": "4", "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9"}
REPEAT_WORDS = {"double": 2, "triple": 3}
TOKEN = re.compile(r"\+?\d+|[A-Za-z]+")
GAP = re.compile(r"^[\s,.\-()/]*$")        # what may sit between the digits of one number
EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
SPOKEN_EMAIL = re.compile(
    r"\b(?:[a-z]\s)?[a-z0-9._-]+\s(?:at|@)\s[a-z0-9-]+(?:\s(?:dot|\.)\s[a-z]{2,10}){1,3}\b", re.IGNORECASE
)
ACCOUNT_CONTEXT = re.compile(r"\b(?:account|acct|customer|membership|member|policy|sort code|iban|bank)\b", re.I)
REFERENCE_CONTEXT = re.compile(r"\b(?:reference|ref|ticket|case|order|complaint|incident|job|claim)\b", re.I)
PHONE_CONTEXT = re.compile(r"\b(?:phone|mobile|cell|landline|number to reach|call me on|ring me on|contact number)\b", re.I)


@dataclass(frozen=True)
class RedactOptions:
    """configs/default.yaml section `redaction`."""

    enabled: bool = False
    types: tuple[str, ...] = PII_TYPES
    spoken_numbers: bool = True       # "four five six seven ..." counts as a number
    min_account_digits: int = 6       # shorter runs are left alone unless a card / phone rule fits
    mask_char: str = "#"

    def __post_init__(self) -> None:
        object.__setattr__(self, "types", tuple(self.types))
        unknown = [t for t in self.types if t not in PII_TYPES]
        if unknown:
            raise ValueError(f"redaction.types: unknown {unknown}; known: {list(PII_TYPES)}")
        if len(self.mask_char) != 1:
            raise ValueError(f"redaction.mask_char must be one character, got {self.mask_char!r}")
        if self.min_account_digits < 4:
            raise ValueError("redaction.min_account_digits must be >= 4")


@dataclass(frozen=True)
class Redaction:
    type: str
    char_start: int
    char_end: int

    def as_dict(self) -> dict[str, Any]:
        return {"type": self.type, "char_start": self.char_start, "char_end": self.char_end}


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _number_runs(text: str, spoken: bool) -> list[tuple[int, int, str]]:
    """(start, end, digits) of each run of digits / digit words ("double five" = 55), separators allowed between."""
    runs: list[tuple[int, int, str]] = []
    digits, start, end, repeat = "", -1, -1, 1

    def close() -> None:
        nonlocal digits, start, end, repeat
        if digits:
            runs.append((start, end, digits))
        digits, start, end, repeat = "", -1, -1, 1

    for match in TOKEN.finditer(text):
        token = match.group().lower()
        if start >= 0 and not GAP.match(text[end : match.start()]):
            close()
        if token.lstrip("+").isdigit():
            value = token.lstrip("+")
        elif spoken and token in REPEAT_WORDS:
            start = match.start() if start < 0 else start
            end, repeat = match.end(), REPEAT_WORDS[token]
            continue
        elif spoken and token in DIGIT_WORDS and (digits or repeat > 1 or token not in ("o", "for")):
            value = DIGIT_WORDS[token]   # "o" and "for" only continue a number, they never start one
        else:
            close()
            continue
        start = match.start() if start < 0 else start
        digits += value * repeat
        end, repeat = match.end(), 1
    close()
    return runs


def _classify(text: str, start: int, digits: str, options: RedactOptions) -> str | None:
    before = text[max(0, start - 40) : start]
    n = len(digits)
    if 13 <= n <= 19 and luhn_ok(digits):
        return "card"
    if ACCOUNT_CONTEXT.search(before) and n >= options.min_account_digits:
        return "account"
    if PHONE_CONTEXT.search(before) and 7 <= n <= 15:
        return "phone"
    if (n in (10, 11) and digits[0] in "01") or (text[start] == "+" and 8 <= n <= 15) or n == 10:
        return "phone"
    if REFERENCE_CONTEXT.search(before):
        return None      # ticket and case numbers are not personal data, and downstream joins use them
    if n >= max(8, options.min_account_digits):
        return "account"  # a long bare number: personal until shown otherwise
    return None


def find_pii(text: str, options: RedactOptions = RedactOptions()) -> list[Redaction]:
    found: list[Redaction] = []
    if "email" in options.types:
        for pattern in (EMAIL, SPOKEN_EMAIL):
            found += [Redaction("email", m.start(), m.end()) for m in pattern.finditer(text)]
    for start, end, digits in _number_runs(text, options.spoken_numbers):
        kind = _classify(text, start, digits, options)
        if kind in options.types and not any(r.char_start < end and start < r.char_end for r in found):
            found.append(Redaction(kind, start, end))
    return sorted(found, key=lambda r: r.char_start)


def mask(text: str, spans: Sequence[Redaction], mask_char: str = "#") -> str:
    chars = list(text)
    for r in spans:
        for i in range(r.char_start, r.char_end):
            if chars[i].isalnum() or chars[i] in "@+":
                chars[i] = mask_char
    return "".join(chars)


def redact_text(text: str, options: RedactOptions = RedactOptions()) -> tuple[str, list[Redaction]]:
    spans = find_pii(text, options)
    return (mask(text, spans, options.mask_char) if spans else text), spans


def redact_words(texts: Sequence[str], options: RedactOptions = RedactOptions()) -> tuple[list[str], list[str | None]]:
    """ASR words, one string each: numbers span several words, so the words are joined, searched and split back.
    Returns the masked words and, per word, the type of PII it was part of (None if untouched)."""
    joined, offsets, cursor = [], [], 0
    for word in texts:
        offsets.append(cursor)
        joined.append(word)
        cursor += len(word) + 1
    text = " ".join(joined)
    spans = find_pii(text, options)
    if not spans:
        return list(texts), [None] * len(texts)
    masked = mask(text, spans, options.mask_char)
    out, kinds = [], []
    for word, at in zip(texts, offsets):
        out.append(masked[at : at + len(word)])
        kinds.append(next((r.type for r in spans if r.char_start < at + len(word) and at < r.char_end), None))
    return out, kinds


def redact_record(record: dict[str, Any], options: RedactOptions = RedactOptions()) -> dict[str, int]:
    """Mask PII in place in every text field of a JSON record: any `text`, `evidence` or `role_reason` string, any `words` list of
    {text: ...}. Masked spans go beside the field (`redactions`, `evidence_redactions`; words get `redacted`).
    Cue evidence inside an utterance is re-cut from the masked utterance text so spans stay consistent.
    Returns counts per PII type."""
    counts: dict[str, int] = {}

    def note(spans: Sequence[Redaction]) -> None:
        for r in spans:
            counts[r.type] = counts.get(r.type, 0) + 1

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
            return
        if not isinstance(node, dict):
            return
        original = node.get("text")
        if isinstance(original, str):
            node["text"], spans = redact_text(original, options)
            if spans:
                node["redactions"] = [r.as_dict() for r in spans]
                note(spans)
            for cue in _recut_cue_evidence(node, original, spans):
                cue["_done"] = True   # its evidence is masked: the walk into `cues` must not mask it again
        if isinstance(node.get("role_reason"), str):   # quotes the phrase that gave a speaker its role
            node["role_reason"], spans = redact_text(node["role_reason"], options)
            note(spans)
        if isinstance(node.get("evidence"), str) and not node.pop("_done", False):
            node["evidence"], spans = redact_text(node["evidence"], options)
            if spans:
                node["evidence_redactions"] = [r.as_dict() for r in spans]
                note(spans)
        words = node.get("words")
        if isinstance(words, list) and words and all(isinstance(w, dict) and isinstance(w.get("text"), str) for w in words):
            masked, kinds = redact_words([w["text"] for w in words], options)
            for w, text, kind in zip(words, masked, kinds):
                w["text"] = text
                if kind:
                    w["redacted"] = kind
        for key, value in node.items():
            if key != "words" and isinstance(value, (dict, list)):
                walk(value)

    transcript = record.get("transcript") if isinstance(record.get("transcript"), dict) else {}
    words = transcript.get("words") if isinstance(transcript.get("words"), list) else []
    originals = [w.get("text") if isinstance(w, dict) else None for w in words]
    walk(record)
    if words:
        pieces = [*(transcript.get("segments") or []), *(record.get("utterances") or [])]
        _mask_from_words(pieces, words, originals)
    record["redaction"] = {"enabled": True, "types": list(options.types), "counts": counts}
    return counts


def _mask_from_words(pieces: Sequence[Any], words: list[dict[str, Any]], originals: list[str | None]) -> None:
    """A number said across two segments or utterances is masked in the words (searched as one string) but not
    in either piece's own text. Each piece whose text is its words joined takes their masks (same lengths, so
    char spans, and cue evidence re-cut from them, stay valid)."""
    for piece in pieces:
        if not isinstance(piece, dict) or not isinstance(piece.get("text"), str):
            continue
        span = piece.get("word_indices") or piece.get("word_range")
        if not (isinstance(span, list) and len(span) == 2 and all(isinstance(i, int) for i in span)):
            continue
        first, last = span
        if not 0 <= first <= last < len(words) or not any(words[i].get("redacted") for i in range(first, last + 1)):
            continue
        said = originals[first : last + 1]
        if any(not isinstance(w, str) for w in said):
            continue
        joined = "".join(said)
        lead = len(joined) - len(joined.lstrip())
        masked = "".join(words[i]["text"] for i in range(first, last + 1))[lead:][: len(piece["text"])]
        if joined.strip() != piece["text"] or len(masked) != len(piece["text"]) or masked == piece["text"]:
            continue   # text not built from these words (or already masked): leave it to the text search
        spans, at = [Redaction(**r) for r in piece.get("redactions") or []], -lead
        for i in range(first, last + 1):
            changed = [k for k, (a, b) in enumerate(zip(originals[i], words[i]["text"])) if a != b]
            if words[i].get("redacted") and changed:
                spans.append(Redaction(words[i]["redacted"], max(0, at + changed[0]), at + changed[-1] + 1))
            at += len(originals[i])
        before, piece["text"] = piece["text"], masked
        piece["redactions"] = [r.as_dict() for r in spans]
        _recut_cue_evidence(piece, before, spans)


def _recut_cue_evidence(node: dict[str, Any], original: str, spans: Sequence[Redaction]) -> list[dict[str, Any]]:
    """Each cue whose evidence is its span of `original` takes that span of the masked `node["text"]` (same
    length), with the masks inside it as `evidence_redactions`. Returns the cues it re-cut."""
    recut = []
    for cue in node.get("cues") or []:
        a, b = cue.get("char_start"), cue.get("char_end")
        if isinstance(cue.get("evidence"), str) and isinstance(a, int) and original[a:b] == cue["evidence"]:
            cue["evidence"] = node["text"][a:b]
            inside = [Redaction(r.type, max(r.char_start, a) - a, min(r.char_end, b) - a)
                      for r in spans if r.char_start < b and a < r.char_end]
            if inside:
                cue["evidence_redactions"] = [r.as_dict() for r in inside]
            recut.append(cue)
    return recut
