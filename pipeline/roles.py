"""Speaker -> role (agent / customer / unknown), with a confidence and the reason.

Stereo calls with a configured channel map: the map decides. Otherwise the words decide: agents greet and offer
help, check identity, put people on hold and transfer them; customers say why they are calling and talk about
"my" account, bill or router. Speaking first is a weak prior toward agent, never enough on its own.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml

from pipeline.diarize import Diarization
from pipeline.evaluation import normalize_text
from pipeline.types import SpeakerTurn, Utterance

DEFAULT_PHRASES_FILE = Path(__file__).resolve().parent.parent / "configs" / "roles.yaml"
Phrases = tuple[tuple[str, float], ...]   # (regular expression on lower-cased text without punctuation, weight)


def load_phrases(path: str | Path = DEFAULT_PHRASES_FILE) -> tuple[Phrases, Phrases]:
    """(agent_phrases, customer_phrases) from a YAML file; a bad entry is a ValueError naming file and entry."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ValueError(f"{path}: cannot read role phrases ({exc})") from exc
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected agent_phrases and customer_phrases lists")
    lists = []
    for key in ("agent_phrases", "customer_phrases"):
        entries = data.get(key)
        if not isinstance(entries, list) or not entries:
            raise ValueError(f"{path}: '{key}' must be a non-empty list of [regex, weight]")
        phrases = []
        for i, entry in enumerate(entries):
            if not (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], str)
                    and isinstance(entry[1], (int, float)) and not isinstance(entry[1], bool)):
                raise ValueError(f"{path}: {key}[{i}] must be [regex, weight], got {entry!r}")
            try:
                re.compile(entry[0])
            except re.error as exc:
                raise ValueError(f"{path}: {key}[{i}] {entry[0]!r} is not a valid regular expression ({exc})") from exc
            phrases.append((entry[0], float(entry[1])))
        lists.append(tuple(phrases))
    return lists[0], lists[1]


@dataclass(frozen=True)
class RoleOptions:
    """How roles are decided on mono calls (and on stereo with `channel_map: auto`)."""

    # Defaults: configs/roles.yaml (roles.phrases_file points `callrisk score` at another file).
    agent_phrases: Phrases = field(default_factory=lambda: load_phrases()[0])
    customer_phrases: Phrases = field(default_factory=lambda: load_phrases()[1])
    first_speaker_prior: float = 0.5   # evidence points toward "agent" for whoever speaks first (inbound calls)
    pronoun_weight: float = 4.0        # ("you" - "I/my") share of a speaker's words, times this: weak style cue
    min_evidence: float = 1.0          # below this margin the roles stay "unknown"
    confidence_scale: float = 0.6      # logistic slope from evidence margin to confidence
    max_phrase_hits: int = 3           # one phrase repeated many times counts at most this often

    def __post_init__(self) -> None:
        for pattern, _ in self.agent_phrases + self.customer_phrases:
            re.compile(pattern)
        if self.min_evidence < 0 or self.confidence_scale <= 0:
            raise ValueError("min_evidence must be >= 0 and confidence_scale > 0")


@dataclass(frozen=True)
class RoleAssignment:
    speaker: str
    role: str          # pipeline.vocab.ROLES
    confidence: float  # 0..1
    reason: str


@dataclass(frozen=True)
class SpeakerEvidence:
    """Per-speaker text evidence: positive points toward agent."""

    speaker: str
    agent_points: float
    customer_points: float
    style_points: float
    matched: tuple[str, ...]

    @property
    def net(self) -> float:
        return self.agent_points - self.customer_points + self.style_points


_YOU = re.compile(r"\b(you|your|you're|yours)\b")
_ME = re.compile(r"\b(i|my|i'm|i've|me|mine)\b")


def speaker_evidence(speaker: str, texts: Sequence[str], options: RoleOptions) -> SpeakerEvidence:
    text = " ".join(normalize_text(t) for t in texts)
    matched: list[str] = []

    def points(phrases) -> float:
        total = 0.0
        for pattern, weight in phrases:
            hits = [m.group(0) for m in re.finditer(pattern, text)]
            if hits:
                total += weight * min(len(hits), options.max_phrase_hits)
                matched.append(hits[0])
        return total

    agent, customer = points(options.agent_phrases), points(options.customer_phrases)
    n_words = max(1, len(text.split()))
    style = options.pronoun_weight * (len(_YOU.findall(text)) - len(_ME.findall(text))) / n_words
    return SpeakerEvidence(speaker, agent, customer, style, tuple(matched))


def assign_roles(
    utterances: Sequence[Utterance], diarization: Diarization | None = None, options: RoleOptions | None = None
) -> dict[str, RoleAssignment]:
    """Roles for every speaker in `diarization` (and any speaker that has utterances)."""
    options = options or RoleOptions()
    speakers = list(dict.fromkeys(
        ([t.speaker for t in diarization.turns] if diarization else []) + [u.speaker for u in utterances]
    ))
    if diarization is not None and diarization.channel_roles:
        return {
            s: RoleAssignment(s, diarization.channel_roles[s], 1.0,
                              f"stereo channel {diarization.channel_of.get(s)} mapped by configuration")
            if s in diarization.channel_roles else
            RoleAssignment(s, "unknown", 0.0, "no turns on either stereo channel for this speaker")
            for s in speakers
        }
    if not speakers:
        return {}
    by_speaker: dict[str, list[str]] = {s: [] for s in speakers}
    for u in utterances:
        by_speaker[u.speaker].append(u.text)
    evidence = {s: speaker_evidence(s, by_speaker[s], options) for s in speakers}
    first = _first_speaker(utterances, diarization)
    return _decide(speakers, evidence, first, options)


def role_map(assignments: dict[str, RoleAssignment]) -> dict[str, str]:
    return {s: a.role for s, a in assignments.items()}


def _first_speaker(utterances: Sequence[Utterance], diarization: Diarization | None) -> str | None:
    if utterances:
        return min(utterances, key=lambda u: u.start).speaker
    if diarization and diarization.turns:
        return diarization.turns[0].speaker
    return None


def _decide(speakers: list[str], evidence: dict[str, SpeakerEvidence], first: str | None,
            options: RoleOptions) -> dict[str, RoleAssignment]:
    score = {s: evidence[s].net + (options.first_speaker_prior if s == first else 0.0) for s in speakers}
    ranked = sorted(speakers, key=lambda s: score[s], reverse=True)
    result: dict[str, RoleAssignment] = {}
    if len(speakers) == 1:
        s = speakers[0]
        margin = evidence[s].net  # one voice: only its own words count, not the order
        role = "agent" if margin > 0 else "customer"
        if abs(margin) < options.min_evidence:
            return {s: RoleAssignment(s, "unknown", 0.5, "one speaker and too little role evidence")}
        return {s: RoleAssignment(s, role, _confidence(margin, options), _explain(evidence[s], None))}
    # The most agent-like voice is the agent, the least agent-like the customer.
    agent, customer = ranked[0], ranked[-1]
    margin = score[agent] - score[customer]
    if margin < options.min_evidence:
        reason = f"too little role evidence (margin {margin:.2f} < {options.min_evidence})"
        return {s: RoleAssignment(s, "unknown", 0.5, reason) for s in speakers}
    confidence = _confidence(margin, options)
    prior = "; spoke first" if first == agent else ""
    result[agent] = RoleAssignment(agent, "agent", confidence, _explain(evidence[agent], customer) + prior)
    result[customer] = RoleAssignment(customer, "customer", confidence, _explain(evidence[customer], agent))
    for s in speakers:
        if s in result:
            continue
        # Extra voices (a transfer, a supervisor, misclustering): labelled only on their own clear evidence.
        own = evidence[s].net
        if abs(own) >= options.min_evidence:
            role = "agent" if own > 0 else "customer"
            result[s] = RoleAssignment(s, role, _confidence(abs(own), options), _explain(evidence[s], None))
        else:
            result[s] = RoleAssignment(s, "unknown", 0.5, "additional speaker without role evidence")
    return result


def _confidence(margin: float, options: RoleOptions) -> float:
    return round(1.0 / (1.0 + math.exp(-options.confidence_scale * abs(margin))), 3)


def _explain(evidence: SpeakerEvidence, other: str | None) -> str:
    said = ", ".join(f'"{m}"' for m in evidence.matched[:4]) or "no role phrases"
    tail = f" vs {other}" if other else ""
    return f"said {said} (agent {evidence.agent_points:.1f} / customer {evidence.customer_points:.1f}){tail}"


def role_accuracy(reference: Sequence[SpeakerTurn], hypothesis: Sequence[SpeakerTurn], step_s: float = 0.01) -> float:
    """Share of reference speech time whose role (the turn's `speaker` field holds the role) is also a role
    the hypothesis gives at that moment. Missed speech counts as wrong; each overlapping reference role counts."""
    if not reference:
        return float("nan")
    end = max(t.end for t in list(reference) + list(hypothesis))
    n = int(np.ceil(end / step_s)) + 1

    def grid(turns, role):
        mask = np.zeros(n, dtype=bool)
        for t in turns:
            if t.speaker == role:
                mask[int(round(t.start / step_s)) : int(round(t.end / step_s))] = True
        return mask

    total = correct = 0
    for role in {t.speaker for t in reference}:
        ref, hyp = grid(reference, role), grid(hypothesis, role)
        total += int(ref.sum())
        correct += int((ref & hyp).sum())
    return correct / total if total else float("nan")


def role_turns(turns: Sequence[SpeakerTurn], roles: dict[str, str]) -> list[SpeakerTurn]:
    """Turns relabelled with their speaker's role."""
    return [SpeakerTurn(t.start, t.end, roles.get(t.speaker, "unknown")) for t in turns]
