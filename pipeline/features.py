"""Call-level features for the callback-risk model, computed from a scored call record (one JSONL dict).

Every feature is a float with a documented neutral default, so a record without sentiment, prosody, word
timings or ASR words still gives a full vector (never a crash). `FEATURES` lists them with one line each
(docs/features.md is generated from it: `python -m pipeline.features --markdown`).

What a record needs (all optional except `utterances`, which may be empty):
- ``utterances``: dicts with ``role`` (agent/customer/unknown), ``start``/``end`` (s), ``text``, ``cues``
  (dicts with at least ``label``; ``score`` defaults to 1), ``sentiment`` (class -> probability, or a single
  class name), ``overlap`` / ``interruption`` flags.
- ``audio.duration_s``, ``transcript.words[].probability``, utterance ``prosody`` (pitch_var_st, loudness_dbfs,
  speaking_rate_wps from pipeline.prosody). Conversation dynamics are computed from the utterances themselves.

`text_record` builds the same structure from a corpus call's text (ground truth), optionally through a
simulated ASR error profile and a cue stage run on the (corrupted) text, so a model can be trained on
thousands of text-mode calls.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from pipeline.record import utterance_dict
from pipeline.sentiment import valence
from pipeline.types import Cue, Utterance, Word
from pipeline.vocab import CUE_LABELS, CUE_ROLE, SENTIMENT_LABELS

Record = Mapping[str, Any]

CUE_WORDS = {   # plain words for reasons: (when present, when absent)
    "prior_contact": ("The customer said they had contacted us before about this",
                      "The customer did not mention an earlier contact"),
    "problem_persists": ("The customer said the problem is still there", "The customer did not say the problem persists"),
    "confusion_next_steps": ("The customer was unsure what happens next", "The customer was clear about next steps"),
    "escalation_request": ("The customer asked to escalate or complain", "The customer did not ask to escalate"),
    "outcome_rejected": ("The customer was unhappy with the outcome", "The customer did not object to the outcome"),
    "fix_confirmed": ("The customer confirmed the fix worked", "The customer did not confirm that it works now"),
    "agent_deferral": ("The agent deferred or hedged (\"I'll have to check\")", "The agent did not defer"),
    "not_resolved": ("The agent said it is not fully resolved (partly done, cannot be done, or passed on)",
                     "The agent did not say it is left unresolved"),
    "verify_fix": ("The agent checked that the fix worked", "The agent did not check that the fix worked"),
    "next_steps_timeframe": ("The agent gave next steps with a time frame",
                             "The agent gave no time frame for next steps"),
    "recap": ("The agent recapped the call", "The agent did not recap the call"),
    "reference_number": ("The agent gave a reference number", "The agent gave no reference number"),
    "followup_offer": ("The agent offered a follow-up", "The agent did not offer a follow-up"),
}


@dataclass(frozen=True)
class Feature:
    name: str
    description: str
    default: float          # value when the block it needs is missing
    group: str              # features of one group explain together (one reason per group)
    high: str               # plain words when the value is above the training mean
    low: str                # ... and below it


def _cue_features() -> list[Feature]:
    out = []
    for label in CUE_LABELS:
        role = CUE_ROLE[label]
        speaker = f"an {role}" if role == "agent" else f"a {role}"
        on, off = CUE_WORDS[label]
        out += [
            Feature(f"cue_{label}", f"1 if {speaker} utterance carries the `{label}` cue, else 0", 0.0,
                    f"cue:{label}", on, off),
            Feature(f"cue_{label}_count", f"number of {role} utterances carrying `{label}`", 0.0,
                    f"cue:{label}", on, off),
            Feature(f"cue_{label}_first", f"when `{label}` first occurs, as a fraction of the call (0 = start); "
                    "1 when absent", 1.0, f"cue:{label}", on, off),
        ]
    return out


FEATURES: tuple[Feature, ...] = tuple(_cue_features()) + (
    Feature("cust_valence_mean", "customer sentiment valence, mean over customer utterances: P(positive) - "
            "P(negative) - P(frustrated); 0 without sentiment", 0.0, "sentiment:overall",
            "The customer sounded positive overall", "The customer sounded negative overall"),
    Feature("cust_valence_trend", "customer valence in the closing third of the call minus the opening third; "
            "0 when either third has no customer sentiment", 0.0, "sentiment:trend",
            "The customer's mood improved during the call", "The customer's mood got worse during the call"),
    Feature("cust_valence_closing", "mean valence of the customer's last two utterances; 0 without sentiment",
            0.0, "sentiment:closing", "The customer ended the call satisfied", "The customer ended the call unhappy"),
    Feature("cust_frustrated_share", "mean P(frustrated) over customer utterances; 0 without sentiment", 0.0,
            "sentiment:overall", "The customer sounded frustrated", "The customer did not sound frustrated"),
    Feature("cust_frustrated_lines", "customer utterances with P(frustrated) >= 0.5", 0.0, "sentiment:overall",
            "The customer sounded frustrated", "The customer did not sound frustrated"),
    Feature("cust_confused_share", "mean P(confused) over customer utterances; 0 without sentiment", 0.0,
            "sentiment:confused", "The customer sounded confused", "The customer did not sound confused"),
    Feature("cust_negative_share", "mean P(negative) over customer utterances; 0 without sentiment", 0.0,
            "sentiment:overall", "The customer sounded unhappy", "The customer did not sound unhappy"),
    Feature("agent_negative_share", "mean P(negative) + P(frustrated) over agent utterances (\"I can't ...\"); "
            "0 without sentiment", 0.0, "sentiment:agent",
            "The agent delivered bad news or sounded negative", "The agent sounded positive"),
    Feature("log_duration_s", "log(1 + call seconds): audio.duration_s, else the last utterance end; 0 if unknown",
            0.0, "dynamics:duration", "The call was long", "The call was short"),
    Feature("customer_talk_share", "customer speaking time / all speaking time; 0.5 without timed roles", 0.5,
            "dynamics:talk", "The customer did most of the talking", "The agent did most of the talking"),
    Feature("turns_per_min", "utterances per minute; 0 without times", 0.0, "dynamics:turns",
            "Many short turns (back-and-forth)", "Few, long turns"),
    Feature("overlap_share", "share of utterances with overlapping speech; 0 without flags", 0.0,
            "dynamics:overlap", "The speakers often talked over each other", "Little overlapping speech"),
    Feature("customer_interruptions", "customer utterances that interrupt the agent", 0.0, "dynamics:overlap",
            "The customer interrupted the agent", "The customer did not interrupt"),
    Feature("longest_silence_s", "longest gap between consecutive utterances (holds), seconds; 0 without times",
            0.0, "dynamics:silence", "The call had a long silence or hold", "No long silences"),
    Feature("cust_pitch_var", "mean pitch spread (semitones) of the customer's utterances (prosody.pitch_var_st); "
            "0 without prosody", 0.0, "prosody:pitch",
            "The customer's voice was agitated (pitch)", "The customer's voice was calm"),
    Feature("cust_loudness_var", "standard deviation (dB) of the customer's utterance loudness "
            "(prosody.loudness_dbfs); 0 with fewer than two", 0.0, "prosody:loudness",
            "The customer's loudness varied a lot", "The customer's loudness was steady"),
    Feature("cust_speech_rate", "customer words per second: mean prosody.speaking_rate_wps, else words over "
            "utterance time; 0 if unknown", 0.0, "prosody:rate",
            "The customer spoke fast", "The customer spoke slowly"),
    Feature("asr_confidence", "mean ASR word probability (transcript.words); 1 without words", 1.0, "asr",
            "The transcript is reliable", "The transcript is uncertain (low ASR confidence)"),
)
FEATURE_NAMES: tuple[str, ...] = tuple(f.name for f in FEATURES)
FEATURE_BY_NAME: dict[str, Feature] = {f.name: f for f in FEATURES}
# Sentiment features that grow as the mood worsens (the others grow as it improves).
NEGATIVE_AFFECT_FEATURES = ("cust_frustrated_share", "cust_frustrated_lines", "cust_negative_share",
                            "cust_confused_share", "agent_negative_share")
# Features that a text-only (corpus ground truth) record cannot carry: leave them out of text-trained models.
AUDIO_ONLY_FEATURES = ("cust_pitch_var", "cust_loudness_var", "cust_speech_rate", "asr_confidence")
# Call timing and turn-taking that a text-mode record only estimates (word counts, planned gaps); from audio they
# come out on another scale (turns per minute ~2.8 training SDs lower), so a text-trained model misreads them.
TEXT_ESTIMATED_FEATURES = ("log_duration_s", "customer_talk_share", "turns_per_min", "overlap_share",
                           "customer_interruptions", "longest_silence_s")
# Parts of another feature: valence = P(positive) - P(negative) - P(frustrated), and the closing valence is part of
# the mean. Next to cust_valence_mean they get coefficients of the "wrong" sign (a satisfied ending "raising" risk).
SENTIMENT_PARTS = ("cust_valence_closing", "cust_negative_share", "cust_frustrated_share")
# The shipped default model (scripts/train_default_model.py, trained on text-mode records): one presence flag per
# cue plus sentiment without the parts above. Cue counts and first-occurrence times repeat the flag (and flipped
# the sign of some reasons); timing, prosody and ASR confidence are left out as above. `callrisk train` on your
# own scored calls uses every feature.
TEXT_MODEL_FEATURES: tuple[str, ...] = tuple(
    f.name for f in FEATURES
    if f.name not in AUDIO_ONLY_FEATURES + TEXT_ESTIMATED_FEATURES + SENTIMENT_PARTS
    and not f.name.endswith(("_count", "_first")))


@dataclass(frozen=True)
class FeatureOptions:
    min_cue_score: float = 0.5        # cues below this confidence are ignored
    frustrated_threshold: float = 0.5  # P(frustrated) for a "frustrated line"
    closing_utterances: int = 2        # customer utterances averaged for cust_valence_closing

    def __post_init__(self) -> None:
        if not 0 <= self.min_cue_score <= 1 or not 0 < self.frustrated_threshold <= 1 or self.closing_utterances < 1:
            raise ValueError("feature options out of range")


# ---------------------------------------------------------------------------------------------------- records


def sentiment_probs(value: Any) -> dict[str, float] | None:
    """An utterance's sentiment as class -> probability (a bare class name becomes one-hot); None if absent."""
    if value is None:
        return None
    if isinstance(value, str):
        return {label: float(label == value) for label in SENTIMENT_LABELS} if value in SENTIMENT_LABELS else None
    if isinstance(value, Mapping):
        probs = {label: float(value.get(label, 0.0) or 0.0) for label in SENTIMENT_LABELS}
        return probs if any(probs.values()) else None
    return None


def _utterances(record: Record) -> list[Mapping[str, Any]]:
    return [u for u in (record.get("utterances") or []) if isinstance(u, Mapping)]


def _finite(value: Any) -> float | None:
    """A number from a record, or None when it is missing, not a number, NaN or infinite."""
    return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else None


def _time(u: Mapping[str, Any], key: str) -> float | None:
    return _finite(u.get(key))


def call_duration(record: Record) -> float | None:
    audio = record.get("audio")
    stated = _finite(audio.get("duration_s")) if isinstance(audio, Mapping) else None
    if stated is not None and stated > 0:
        return stated
    ends = [t for u in _utterances(record) if (t := _time(u, "end")) is not None]
    return max(ends) if ends and max(ends) > 0 else None


def _position(record: Record, utts: Sequence[Mapping[str, Any]], index: int, duration: float | None) -> float:
    """Where utterance `index` starts, as a fraction of the call (by time when known, else by order)."""
    start = _time(utts[index], "start")
    if start is not None and duration:
        return min(1.0, max(0.0, start / duration))
    return index / max(1, len(utts) - 1) if len(utts) > 1 else 0.0


def cue_hits(record: Record, label: str, options: FeatureOptions | None = None) -> list[tuple[int, Mapping[str, Any]]]:
    """(utterance index, cue dict) for each cue `label` said by its expected role (or an unknown role)."""
    options = options or FeatureOptions()
    role = CUE_ROLE[label]
    hits = []
    for i, u in enumerate(_utterances(record)):
        if u.get("role") not in (role, "unknown", None):
            continue
        for cue in u.get("cues") or []:
            score = 1.0 if cue.get("score") is None else _finite(cue.get("score"))   # no score: a pattern hit
            if cue.get("label") == label and score is not None and score >= options.min_cue_score:
                hits.append((i, cue))
    return hits


def call_features(record: Record, options: FeatureOptions | None = None) -> dict[str, float]:
    """All FEATURES of one call record (missing blocks give each feature's documented default)."""
    options = options or FeatureOptions()
    values = {f.name: f.default for f in FEATURES}
    utts = _utterances(record)
    duration = call_duration(record)

    for label in CUE_LABELS:
        hits = cue_hits(record, label, options)
        indices = sorted({i for i, _ in hits})
        if indices:
            values[f"cue_{label}"] = 1.0
            values[f"cue_{label}_count"] = float(len(indices))
            values[f"cue_{label}_first"] = _position(record, utts, indices[0], duration)

    _sentiment_features(values, utts, duration, options)
    _dynamics_features(values, record, utts, duration)
    return values


def _sentiment_features(values: dict[str, float], utts, duration, options: FeatureOptions) -> None:
    customer = [(i, p) for i, u in enumerate(utts) if u.get("role") == "customer"
                and (p := sentiment_probs(u.get("sentiment"))) is not None]
    agent = [p for u in utts if u.get("role") == "agent" and (p := sentiment_probs(u.get("sentiment"))) is not None]
    if customer:
        probs = [p for _, p in customer]
        values["cust_valence_mean"] = float(np.mean([valence(p) for p in probs]))
        values["cust_frustrated_share"] = float(np.mean([p["frustrated"] for p in probs]))
        values["cust_confused_share"] = float(np.mean([p["confused"] for p in probs]))
        values["cust_negative_share"] = float(np.mean([p["negative"] for p in probs]))
        values["cust_frustrated_lines"] = float(sum(p["frustrated"] >= options.frustrated_threshold for p in probs))
        values["cust_valence_closing"] = float(np.mean([valence(p) for p in probs[-options.closing_utterances:]]))
        positions = [_position({}, utts, i, duration) for i, _ in customer]
        opening = [valence(p) for pos, (_, p) in zip(positions, customer) if pos < 1 / 3]
        closing = [valence(p) for pos, (_, p) in zip(positions, customer) if pos >= 2 / 3]
        if opening and closing:
            values["cust_valence_trend"] = float(np.mean(closing) - np.mean(opening))
    if agent:
        values["agent_negative_share"] = float(np.mean([p["negative"] + p["frustrated"] for p in agent]))


def _dynamics_features(values: dict[str, float], record: Record, utts, duration) -> None:
    if duration:
        values["log_duration_s"] = math.log1p(duration)
    timed = [(u, s, e) for u in utts if (s := _time(u, "start")) is not None and (e := _time(u, "end")) is not None]
    talk = {"agent": 0.0, "customer": 0.0}
    for u, s, e in timed:
        if u.get("role") in talk:
            talk[u["role"]] += max(0.0, e - s)
    if talk["agent"] + talk["customer"] > 0:
        values["customer_talk_share"] = talk["customer"] / (talk["agent"] + talk["customer"])
    if timed and duration and duration >= 1.0:   # a per-minute rate of a sub-second "call" means nothing
        values["turns_per_min"] = len(timed) / (duration / 60.0)
        ordered = sorted(timed, key=lambda t: t[1])
        furthest, gaps = ordered[0][2], [0.0]
        for _, s, e in ordered[1:]:
            gaps.append(s - furthest)
            furthest = max(furthest, e)
        values["longest_silence_s"] = max(0.0, max(gaps))
    if utts:
        values["overlap_share"] = sum(bool(u.get("overlap")) for u in utts) / len(utts)
        values["customer_interruptions"] = float(sum(bool(u.get("interruption")) for u in utts
                                                     if u.get("role") == "customer"))
    customer_timed = [(u, s, e) for u, s, e in timed if u.get("role") == "customer" and e > s]
    customer_talk = sum(e - s for _, s, e in customer_timed)
    if customer_talk > 0.2:   # as pipeline.prosody: too little talk for a rate
        words = sum(len(str(u.get("text", "")).split()) for u, _, _ in customer_timed)
        values["cust_speech_rate"] = words / customer_talk
    _prosody_features(values, [u for u in utts if u.get("role") == "customer"])
    words = ((record.get("transcript") or {}).get("words") or []) if isinstance(record.get("transcript"), Mapping) else []
    probs = [p for w in words if isinstance(w, Mapping) and (p := _finite(w.get("probability"))) is not None]
    if probs:
        values["asr_confidence"] = float(np.mean(probs))


def _prosody_number(u: Mapping[str, Any], key: str) -> float | None:
    prosody = u.get("prosody")
    return _finite(prosody.get(key)) if isinstance(prosody, Mapping) else None


def _prosody_features(values: dict[str, float], customer: Sequence[Mapping[str, Any]]) -> None:
    """From the per-utterance `prosody` dicts of pipeline.prosody.utterance_prosody (absent in text mode)."""
    pitch = [v for u in customer if (v := _prosody_number(u, "pitch_var_st")) is not None]
    loudness = [v for u in customer if (v := _prosody_number(u, "loudness_dbfs")) is not None]
    rate = [v for u in customer if (v := _prosody_number(u, "speaking_rate_wps")) is not None]
    if pitch:
        values["cust_pitch_var"] = float(np.mean(pitch))
    if len(loudness) >= 2:
        values["cust_loudness_var"] = float(np.std(loudness))
    if rate:
        values["cust_speech_rate"] = float(np.mean(rate))


def feature_matrix(records: Iterable[Record], names: Sequence[str] = FEATURE_NAMES,
                   options: FeatureOptions | None = None) -> np.ndarray:
    """(n_calls, len(names)) float array, columns in `names` order."""
    unknown = [n for n in names if n not in FEATURE_BY_NAME]
    if unknown:
        raise ValueError(f"unknown feature(s): {', '.join(unknown)}")
    rows = []
    for record in records:
        values = call_features(record, options)
        rows.append([values[n] for n in names])
    return np.asarray(rows, dtype=float).reshape(len(rows), len(names))


# --------------------------------------------------------------------------------------------------- evidence


def _evidence(utts, i: int) -> dict[str, Any]:
    u = utts[i]
    return {"utterance": i, "start": _time(u, "start"), "end": _time(u, "end"), "text": str(u.get("text", ""))}


def _cue_evidence(utts, i: int, cue: Mapping[str, Any]) -> dict[str, Any]:
    """An utterance's evidence narrowed to one cue in it: the cue's start/end when it has them, and its words."""
    item = _evidence(utts, i)
    start, end = _time(cue, "start"), _time(cue, "end")
    if start is not None and end is not None and item["start"] is not None and item["end"] is not None \
            and item["start"] - 0.05 <= start <= end <= item["end"] + 0.05:
        item["start"], item["end"] = start, end
    if isinstance(cue.get("evidence"), str) and cue["evidence"]:
        item["evidence"] = cue["evidence"]   # a string named "evidence": redaction masks it like a cue's
    return item


def feature_evidence(record: Record, group: str, high: bool, limit: int = 3,
                     options: FeatureOptions | None = None) -> list[dict[str, Any]]:
    """The utterances that carry a feature group's value in this call (at most `limit`, in time order).

    Cue groups point at the cue in each utterance that has it: its time and words (none when it is absent: an
    absence has no moment);
    sentiment groups at the customer's (or agent's) most telling utterances: the most positive ones when `high`
    (a high-valence reason), else the most negative; overlap at interruptions; other groups at nothing."""
    utts = _utterances(record)
    kind, _, name = group.partition(":")
    chosen: list[int] = []
    if kind == "cue":
        # The cue's own moment and words (first hit per utterance), so a reviewer lands on what was said.
        first_hit: dict[int, Mapping[str, Any]] = {}
        for i, cue in cue_hits(record, name, options):
            first_hit.setdefault(i, cue)
        return [_cue_evidence(utts, i, first_hit[i]) for i in sorted(first_hit)[:limit]]
    elif kind == "sentiment":
        role = "agent" if name == "agent" else "customer"
        scored = [(i, p) for i, u in enumerate(utts) if u.get("role") == role
                  and (p := sentiment_probs(u.get("sentiment"))) is not None]
        if name == "closing":
            scored = scored[-(options or FeatureOptions()).closing_utterances:]
        key = {"confused": lambda p: p["confused"], "agent": lambda p: p["negative"] + p["frustrated"]}.get(
            name, lambda p: -valence(p) if not high else valence(p))
        ranked = sorted(scored, key=lambda ip: -key(ip[1]))
        chosen = sorted(i for i, p in ranked[:limit] if key(p) > 0.25)
    elif group == "dynamics:overlap":
        chosen = [i for i, u in enumerate(utts) if u.get("interruption") or u.get("overlap")][:limit]
    return [_evidence(utts, i) for i in chosen]


# --------------------------------------------------------------------------------------- text-mode records


@dataclass(frozen=True)
class AsrErrorProfile:
    """Word errors to simulate on ground-truth text, as rates per reference word (measured on audio: see
    docs/risk_model.md). Substitutions draw a word from the same call, the commonest real confusion kind."""

    deletion_rate: float = 0.0
    substitution_rate: float = 0.0
    insertion_rate: float = 0.0

    def __post_init__(self) -> None:
        rates = (self.deletion_rate, self.substitution_rate, self.insertion_rate)
        if any(r < 0 for r in rates) or self.deletion_rate + self.substitution_rate > 1:
            raise ValueError("ASR error rates must be >= 0 and deletion + substitution <= 1")

    @property
    def wer(self) -> float:
        return self.deletion_rate + self.substitution_rate + self.insertion_rate


def corrupt_words(words: Sequence[str], profile: AsrErrorProfile, rng: random.Random,
                  pool: Sequence[str]) -> tuple[list[str], list[bool]]:
    """(new words, for each input word whether it survived unchanged)."""
    out, kept = [], []
    for word in words:
        u = rng.random()
        if u < profile.deletion_rate:
            kept.append(False)
        elif u < profile.deletion_rate + profile.substitution_rate:
            out.append(rng.choice(pool) if pool else word)
            kept.append(out[-1] == word)
        else:
            out.append(word)
            kept.append(True)
        if profile.insertion_rate and rng.random() < profile.insertion_rate and pool:
            out.append(rng.choice(pool))
    return out, kept


# A cue stage annotates utterances in place given the call's words (fills .cues, and .sentiment when it can):
# pipeline.cues.CueStage(options).annotate fits (its audio argument defaults to None: no prosody in text mode).
CueStage = Callable[[list[Utterance], list[Word]], Any]
SPEECH_WORDS_PER_S = 2.7      # text-mode timing: typical conversational rate ...
TURN_GAP_S = 0.4              # ... and pause between turns


def text_record(call: Mapping[str, Any], cue_stage: CueStage | None = None, asr: AsrErrorProfile | None = None,
                seed: int = 0, gold_sentiment: bool = True, merge_pause_s: float | None = None) -> dict[str, Any]:
    """A record-like dict from a corpus call (calls.jsonl): utterances with role and (possibly corrupted) text,
    times estimated from word counts (or the rendered times when present), cues from `cue_stage` run on that
    text, or the corpus's own cue labels when `cue_stage` is None (a stand-in that drops a cue whose words the
    simulated ASR mangled). Sentiment is the corpus label one-hot when `gold_sentiment` and the stage left none.

    `merge_pause_s`: join one speaker's consecutive lines separated by at most this silence into one utterance,
    as the audio pipeline does (pipeline.utterances.UtteranceOptions.max_pause_s), so turn counts, closing
    sentiment and cue positions look like those of records scored from audio. None keeps the corpus lines."""
    rng = random.Random(f"{call.get('call_id', '')}:{seed}")
    profile = asr or AsrErrorProfile()
    source = list(call.get("utterances") or [])
    pool = [w for u in source for w in str(u.get("text", "")).split()]
    holds = {h.get("before_utterance"): float(h.get("seconds", 0.0)) for h in call.get("holds") or []}
    lines: list[_Line] = []
    clock = 0.0
    for i, src in enumerate(source):
        words, kept = corrupt_words(str(src.get("text", "")).split(), profile, rng, pool)
        start, end = src.get("start"), src.get("end")
        if start is None or end is None:
            start = clock + TURN_GAP_S + holds.get(i, 0.0)
            end = start + max(0.3, len(words) / SPEECH_WORDS_PER_S)
        clock = max(clock, float(end))
        text = " ".join(words)
        cues = [span for c in src.get("cues") or []
                if (span := _surviving_gold_span(c, str(src.get("text", "")), kept)) is not None]
        line = _Line(str(src.get("speaker", src.get("role", ""))), str(src.get("role", "unknown")), float(start),
                     float(end), text, len(words), bool(src.get("overlap")), cues,
                     [sentiment_probs(src.get("sentiment"))])
        if merge_pause_s is not None and lines and lines[-1].speaker == line.speaker \
                and line.start - lines[-1].end <= merge_pause_s:
            lines[-1].extend(line)
        else:
            lines.append(line)
    utterances: list[Utterance] = []
    word_index = 0
    for line in lines:
        utt = Utterance(speaker=line.speaker, role=line.role, start=line.start, end=line.end, text=line.text,
                        word_indices=(word_index, word_index + max(0, line.n_words - 1)), overlap=line.overlap)
        word_index += line.n_words
        if cue_stage is None:
            utt.cues = [Cue(label=label, score=1.0, char_start=lo, char_end=hi, start=utt.start, end=utt.end,
                            evidence=line.text[lo:hi], method="gold") for label, lo, hi in line.cues]
        utterances.append(utt)
    if cue_stage is not None:
        cue_stage(utterances, text_words(utterances))
    if gold_sentiment:
        for utt, line in zip(utterances, lines):
            if utt.sentiment is None:
                utt.sentiment = line.sentiment()
    duration = clock + TURN_GAP_S if utterances else 0.0
    return {
        "call_id": call.get("call_id"),
        "customer_id": call.get("customer_id"),
        "status": "ok",
        "audio": {"duration_s": round(duration, 3)},
        "utterances": [utterance_dict(u) for u in utterances],
        "measures": {},
    }


@dataclass
class _Line:
    """One utterance of a text-mode record while it is assembled (corpus lines may be joined into one)."""

    speaker: str
    role: str
    start: float
    end: float
    text: str
    n_words: int
    overlap: bool
    cues: list[tuple[str, int, int]]                 # gold cue label and char span in `text`
    sentiments: list[dict[str, float] | None]         # gold sentiment of each joined corpus line

    def extend(self, other: "_Line") -> None:
        shift = len(self.text) + 1 if self.text else 0
        self.cues += [(label, lo + shift, hi + shift) for label, lo, hi in other.cues]
        self.text = f"{self.text} {other.text}" if self.text else other.text
        self.end = max(self.end, other.end)
        self.n_words += other.n_words
        self.overlap = self.overlap or other.overlap
        self.sentiments += other.sentiments

    def sentiment(self) -> dict[str, float] | None:
        """Gold sentiment of the (joined) line: the mean of its corpus lines' one-hot labels."""
        known = [s for s in self.sentiments if s is not None]
        return {label: sum(s[label] for s in known) / len(known) for label in SENTIMENT_LABELS} if known else None


def text_words(utterances: Sequence[Utterance]) -> list[Word]:
    """Words spread evenly over each utterance's time (text mode has no ASR timings), indexed as word_indices."""
    words: list[Word] = []
    for u in utterances:
        tokens = u.text.split()
        step = (u.end - u.start) / max(1, len(tokens))
        words += [Word(u.start + k * step, u.start + (k + 1) * step, " " + t, 1.0) for k, t in enumerate(tokens)]
    return words


def _surviving_gold_span(cue: Mapping[str, Any], text: str, kept: Sequence[bool]) -> tuple[str, int, int] | None:
    """A gold cue's (label, char span), or None when most of its words were lost to simulated ASR errors. The
    span stays in the original text's coordinates (an approximation once words were dropped or inserted)."""
    lo, hi = int(cue.get("char_start", 0)), int(cue.get("char_end", len(text)))
    spans = [m.span() for m in re.finditer(r"\S+", text)]
    inside = [k for (s, e), k in zip(spans, kept) if s < hi and e > lo]
    if inside and sum(inside) < 0.5 * len(inside):
        return None
    return str(cue["label"]), lo, hi


def features_markdown() -> str:
    lines = ["# Call-level features (generated by `python -m pipeline.features --markdown`)", "",
             "Computed by `pipeline.features.call_features(record)` from one scored call record. A missing block "
             "(no sentiment, no times, no prosody, no ASR words) gives the default shown, never an error. "
             "Cue features count only the role that is expected to say the cue (`pipeline.vocab.CUE_ROLE`: the "
             "customer's cues from the customer, the agent's from the agent); utterances with role "
             "`unknown` count for either.", "", "| feature | default | description |", "|---|---|---|"]
    lines += [f"| `{f.name}` | {f.default:g} | {f.description} |" for f in FEATURES]
    lines += ["", f"Left out of text-trained models (a text record cannot carry them): "
              f"{', '.join(f'`{n}`' for n in AUDIO_ONLY_FEATURES)}.", "",
              "The shipped default model (trained on text-mode records) uses "
              f"{', '.join(f'`{n}`' for n in TEXT_MODEL_FEATURES)} (`TEXT_MODEL_FEATURES`): it also leaves out the "
              "timing a text record only estimates "
              f"({', '.join(f'`{n}`' for n in TEXT_ESTIMATED_FEATURES)}), the cue counts and first times, and the "
              f"parts of the customer's valence ({', '.join(f'`{n}`' for n in SENTIMENT_PARTS)}), whose "
              "coefficients next to the mean valence read the wrong way round. "
              "`callrisk train` on your own scored calls uses every feature.", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    import sys

    if "--markdown" in sys.argv:
        print(features_markdown(), end="")
