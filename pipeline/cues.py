"""Cue detection: phrase patterns from configs/cues.yaml plus semantic matching of each sentence against the
labels' example sentences (MiniLM cosine, per-label threshold). Role-aware: customer cues on customer lines, agent
cues on agent lines, both when the role is unknown.

`CueStage` (bottom) is the stage the pipeline calls: one encoder pass per call gives cues, sentiment and, with
audio, prosody, and returns the call-level `measures`.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import yaml

from pipeline.config import ConfigError
from pipeline.types import SAMPLE_RATE, Cue, Utterance, Word
from pipeline.vocab import CUE_LABELS, ROLES

log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CUES_FILE = REPO_ROOT / "configs" / "cues.yaml"
LABEL_KEYS = {"roles", "patterns", "examples", "counter_examples", "threshold", "unless"}
_SENTENCE_END = re.compile(r"[.!?]")


class CueConfigError(ConfigError):
    """configs/cues.yaml is malformed; the message names the label and entry."""


@dataclass(frozen=True)
class CueRule:
    label: str
    roles: tuple[str, ...]
    patterns: tuple[re.Pattern[str], ...]
    examples: tuple[str, ...]
    counter_examples: tuple[str, ...]
    threshold: float
    unless: tuple[re.Pattern[str], ...] = ()   # a hit whose sentence matches one of these is not this cue

    def vetoed(self, text: str, start: int, end: int) -> bool:
        """True when the sentence around text[start:end] matches an `unless` pattern."""
        if not self.unless:
            return False
        left = max((m.end() for m in _SENTENCE_END.finditer(text, 0, start)), default=0)
        right = next((m.end() for m in _SENTENCE_END.finditer(text, end)), len(text))
        sentence = text[left:right]
        return any(p.search(sentence) for p in self.unless)


@dataclass(frozen=True)
class CueRules:
    rules: tuple[CueRule, ...]
    pattern_score: float
    source: str
    background: tuple[str, ...] = ()   # ordinary call sentences: a semantic match must be closer to a label than these
    margin: float = 0.0                # ... by at least this much cosine

    def for_role(self, role: str) -> list[CueRule]:
        """Rules that apply to a speaker role; any role other than agent / customer gets them all."""
        return [r for r in self.rules if role in r.roles or role not in ("agent", "customer")]


def load_cue_rules(path: Path | str = DEFAULT_CUES_FILE) -> CueRules:
    """Read and validate the cue file; every error names the file, label and entry."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CueConfigError(f"{path}: cannot read cue file ({exc.strerror or exc})") from exc
    except UnicodeDecodeError as exc:
        raise CueConfigError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except yaml.YAMLError as exc:
        raise CueConfigError(f"{path}: not valid YAML ({exc})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("labels"), dict):
        raise CueConfigError(f"{path}: expected a mapping with a 'labels' mapping")
    unknown_top = set(data) - {"defaults", "labels"}
    if unknown_top:
        raise CueConfigError(f"{path}: unknown top-level key(s) {sorted(unknown_top)} (known: defaults, labels)")
    defaults = data.get("defaults") or {}
    pattern_score = _number(defaults.get("pattern_score", 0.95), f"{path}: defaults.pattern_score")
    default_threshold = _number(defaults.get("threshold", 0.62), f"{path}: defaults.threshold")
    margin = _number(defaults.get("margin", 0.0), f"{path}: defaults.margin")
    extra_defaults = set(defaults) - {"pattern_score", "threshold", "background", "margin"}
    if extra_defaults:
        raise CueConfigError(
            f"{path}: unknown key(s) defaults.{sorted(extra_defaults)} (known: pattern_score, threshold, margin, background)"
        )
    background = tuple(_strings(defaults.get("background", []), f"{path}: defaults.background"))
    labels = data["labels"]
    unknown = [name for name in labels if name not in CUE_LABELS]
    if unknown:
        raise CueConfigError(f"{path}: unknown cue label(s) {unknown}; labels are {list(CUE_LABELS)}")
    missing = [name for name in CUE_LABELS if name not in labels]
    if missing:
        log.warning("%s: no detector for cue label(s) %s", path, missing)
    rules = []
    for name, spec in labels.items():
        where = f"{path}: labels.{name}"
        if not isinstance(spec, dict):
            raise CueConfigError(f"{where}: must be a mapping")
        extra = set(spec) - LABEL_KEYS
        if extra:
            raise CueConfigError(f"{where}: unknown key(s) {sorted(extra)} (known: {sorted(LABEL_KEYS)})")
        roles = tuple(_strings(spec.get("roles", ["agent", "customer"]), f"{where}.roles"))
        bad_roles = [r for r in roles if r not in ROLES or r == "unknown"]
        if bad_roles or not roles:
            raise CueConfigError(f"{where}.roles: {bad_roles or roles} - use agent and/or customer")
        patterns = _regexes(spec.get("patterns", []), f"{where}.patterns")
        unless = _regexes(spec.get("unless", []), f"{where}.unless")
        examples = tuple(_strings(spec.get("examples", []), f"{where}.examples"))
        counter = tuple(_strings(spec.get("counter_examples", []), f"{where}.counter_examples"))
        threshold = _number(spec.get("threshold", default_threshold), f"{where}.threshold")
        if not patterns and not examples:
            raise CueConfigError(f"{where}: needs at least one pattern or example")
        rules.append(CueRule(name, roles, patterns, examples, counter, threshold, unless))
    return CueRules(tuple(rules), pattern_score, str(path), background, margin)


def _regexes(value: Any, where: str) -> tuple[re.Pattern[str], ...]:
    compiled = []
    for i, pattern in enumerate(_strings(value, where)):
        try:
            compiled.append(re.compile(pattern, re.IGNORECASE))
        except re.error as exc:
            raise CueConfigError(f"{where}[{i}]: bad regular expression {pattern!r}: {exc}") from exc
    return tuple(compiled)


def _strings(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise CueConfigError(f"{where}: must be a list of non-empty strings")
    return value


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise CueConfigError(f"{where}: must be a number in 0..1, got {value!r}")
    return float(value)


class CueDetector:
    """Patterns + semantic matching. Example embeddings are computed once, when an encoder is given."""

    def __init__(self, rules: CueRules, encoder=None):
        self.rules = rules
        self.encoder = encoder
        self._examples: dict[str, np.ndarray] = {}
        self._counters: dict[str, np.ndarray] = {}
        self._background = np.zeros((0, 1), dtype=np.float32)
        if encoder is not None:
            texts = [t for r in rules.rules for t in r.examples + r.counter_examples] + list(rules.background)
            vectors = encoder.encode(texts)
            self._background = vectors[len(vectors) - len(rules.background) :]
            i = 0
            for rule in rules.rules:
                self._examples[rule.label] = vectors[i : i + len(rule.examples)]
                i += len(rule.examples)
                self._counters[rule.label] = vectors[i : i + len(rule.counter_examples)]
                i += len(rule.counter_examples)

    @property
    def semantic(self) -> bool:
        return self.encoder is not None

    def detect_text(
        self,
        text: str,
        role: str,
        sentence_spans: Sequence[tuple[int, int]] = (),
        sentence_vectors: np.ndarray | None = None,
    ) -> list[tuple[str, float, int, int, str]]:
        """(label, score, char_start, char_end, method) for one utterance; sentence vectors enable semantics."""
        found: list[tuple[str, float, int, int, str]] = []
        background = None
        if sentence_vectors is not None and len(self._background):
            background = (sentence_vectors @ self._background.T).max(axis=1)
        for rule in self.rules.for_role(role):
            hits = []
            for pattern in rule.patterns:
                for match in pattern.finditer(text):
                    if match.end() > match.start() and not any(_overlaps(match.span(), h) for h in hits) \
                            and not rule.vetoed(text, *match.span()):
                        hits.append(match.span())
            found += [(rule.label, self.rules.pattern_score, a, b, "pattern") for a, b in sorted(hits)]
            if sentence_vectors is None or not len(self._examples.get(rule.label, ())):
                continue
            sims = sentence_vectors @ self._examples[rule.label].T
            best = sims.max(axis=1)
            counters = self._counters[rule.label]
            best_counter = (sentence_vectors @ counters.T).max(axis=1) if len(counters) else np.full(len(best), -1.0)
            if background is not None:
                best_counter = np.maximum(best_counter, background)
            for k, (a, b) in enumerate(sentence_spans):
                if best[k] < rule.threshold or best[k] < best_counter[k] + self.rules.margin:
                    continue
                if any(_overlaps((a, b), h) for h in hits) or rule.vetoed(text, a, b):
                    continue  # a pattern already explains this sentence, or it is a look-alike
                score = 0.5 + 0.5 * (float(best[k]) - rule.threshold) / max(1e-6, 1.0 - rule.threshold)
                found.append((rule.label, round(min(score, 0.94), 4), a, b, "semantic"))
        return found


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def word_char_spans(text: str, words: Sequence[Word]) -> list[tuple[int, int, Word]]:
    """Where each word of an utterance sits in its text (ASR words are joined with spaces; tolerate drift)."""
    spans = []
    cursor = 0
    lower = text.lower()
    for word in words:
        token = word.text.strip().lower()
        if not token:
            continue
        at = lower.find(token, cursor)
        if at < 0:
            continue
        spans.append((at, at + len(token), word))
        cursor = at + len(token)
    return spans


def time_span(utt: Utterance, spans: list[tuple[int, int, Word]], char_start: int, char_end: int) -> tuple[float, float]:
    """Time of a character span: its words' times, else a linear share of the utterance."""
    inside = [w for a, b, w in spans if a < char_end and char_start < b]
    if inside:
        return round(min(w.start for w in inside), 3), round(max(w.end for w in inside), 3)
    n = max(1, len(utt.text))
    dur = utt.end - utt.start
    return round(utt.start + dur * char_start / n, 3), round(utt.start + dur * char_end / n, 3)


def utterance_words(utt: Utterance, words: Sequence[Word]) -> list[Word]:
    first, last = utt.word_indices
    if first < 0 or last < first or not words:
        return []
    return list(words[first : last + 1])


def make_cues(
    utt: Utterance, words: Sequence[Word], found: list[tuple[str, float, int, int, str]]
) -> list[Cue]:
    spans = word_char_spans(utt.text, utterance_words(utt, words))
    cues = []
    for label, score, a, b, method in found:
        start, end = time_span(utt, spans, a, b)
        cues.append(Cue(label, score, a, b, start, end, utt.text[a:b], method))
    return sorted(cues, key=lambda c: (c.char_start, c.label))


# ---------------------------------------------------------------- the stage


@dataclass(frozen=True)
class CueOptions:
    """configs/default.yaml section `cues`."""

    enabled: bool = True
    cues_file: str = ""                 # "" = configs/cues.yaml of this checkout; else a path to your own
    semantic: bool = True               # MiniLM matching against example sentences (patterns always run)
    sentiment: bool = True
    sentiment_head: str = ""            # "" = models/sentiment_head of this checkout; else a directory
    prosody: bool = True
    encoder: str = "minilm"             # packaged model name or a local MiniLM directory
    encoder_threads: int = 1
    batch_size: int = 32
    hold_min_s: float = 8.0
    pitch_fmin_hz: float = 60.0
    pitch_fmax_hz: float = 400.0

    def __post_init__(self) -> None:
        self.encoder_options()  # their own checks name the bad key
        self.prosody_options()

    def encoder_options(self):
        from pipeline.text_encoder import TextEncoderOptions

        return TextEncoderOptions(model=self.encoder, threads=self.encoder_threads, batch_size=self.batch_size)

    def prosody_options(self):
        from pipeline.prosody import ProsodyOptions

        return ProsodyOptions(fmin_hz=self.pitch_fmin_hz, fmax_hz=self.pitch_fmax_hz, hold_min_s=self.hold_min_s)


class CueStage:
    """Loads the cue rules, MiniLM and the sentiment head once; `annotate` fills each utterance's cues, sentiment and
    prosody in place and returns the call's `measures`."""

    def __init__(self, options: CueOptions = CueOptions()):
        from pipeline.sentiment import DEFAULT_HEAD_DIR, SentimentHead
        from pipeline.text_encoder import TextEncoder

        self.options = options
        self.rules = load_cue_rules(options.cues_file or DEFAULT_CUES_FILE)
        need_encoder = options.semantic or options.sentiment
        self.encoder = TextEncoder(options.encoder_options()) if need_encoder else None
        self.detector = CueDetector(self.rules, self.encoder if options.semantic else None)
        self.head = SentimentHead.load(options.sentiment_head or DEFAULT_HEAD_DIR) if options.sentiment else None
        self.prosody_options = options.prosody_options()

    def annotate(
        self,
        utterances: Sequence[Utterance],
        words: Sequence[Word],
        audio: np.ndarray | None = None,
        duration_s: float | None = None,
    ) -> dict[str, Any]:
        """utterances: in call order, with roles; words: the call's ASR words (Utterance.word_indices index them);
        audio: 16 kHz float32, mono (n,) or per channel (channels, n), for prosody (None skips it)."""
        from pipeline.prosody import call_measures, utterance_prosody
        from pipeline.text_encoder import embed_utterances

        texts = [u.text for u in utterances]
        emb = embed_utterances(self.encoder, texts) if self.encoder is not None and texts else None
        sentiments = self.head.predict(emb.utterance, [u.role for u in utterances]) if self.head and emb else None
        for i, utt in enumerate(utterances):
            if emb is not None and self.detector.semantic:
                rows = np.where(emb.owner == i)[0]
                found = self.detector.detect_text(utt.text, utt.role, [emb.spans[k] for k in rows], emb.sentences[rows])
            else:
                found = self.detector.detect_text(utt.text, utt.role)
            utt.cues = make_cues(utt, words, found)
            if sentiments is not None:
                utt.sentiment = sentiments[i]
            if audio is not None and self.options.prosody:
                utt.prosody = utterance_prosody(audio, utt.start, utt.end, utterance_words(utt, words), self.prosody_options)
        if duration_s is None and audio is not None:
            duration_s = audio.shape[-1] / SAMPLE_RATE
        return call_measures(utterances, duration_s, self.prosody_options)
