"""Ground-truth files of a corpus directory: metadata.csv, calls.jsonl, corpus.json, rttm/<call_id>.rttm.

Writers take finished `CallPlan`s (with times filled when audio was rendered); `best_auc` reads calls.jsonl.
"""

from __future__ import annotations

import csv
import json
import math
import os
from collections import Counter
from dataclasses import asdict
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from pipeline.corpus.world import CallPlan
from pipeline.vocab import CALLBACK_WINDOWS_DAYS, OUTCOMES

GENERATOR_VERSION = "2"   # 2: an issue's last allowed call has unknown (null) labels, not "no callback"
METADATA_COLUMNS = ("call_id", "customer_id", "agent_id", "started_at", "reason", "ticket_id")


def speaker_id(plan: CallPlan, role: str) -> str:
    return plan.agent.id if role == "agent" else plan.customer.id


def _overlaps(plan: CallPlan) -> list[bool]:
    """Whether another speaker talks during each utterance: from real times if rendered, else from the plan."""
    utts = plan.utterances
    if utts and utts[0].start is not None:
        flags = []
        for i, u in enumerate(utts):
            flags.append(any(o.role != u.role and o.start < u.end and u.start < o.end
                             for j, o in enumerate(utts) if j != i))
        return flags
    flags = [False] * len(utts)
    for i, u in enumerate(utts):
        if u.backchannel or (u.gap_before < 0 and i > 0):
            flags[i] = True
            flags[i - 1] = True
    return flags


def call_record(plan: CallPlan, audio: dict[str, Any] | None = None) -> dict[str, Any]:
    overlaps = _overlaps(plan)
    holds = []
    for i, u in enumerate(plan.utterances):
        if u.hold_before > 0:
            hold = {"before_utterance": i, "seconds": u.hold_before}
            if u.start is not None:
                hold["start"], hold["end"] = round(u.start - u.hold_before, 3), u.start
            holds.append(hold)
    return {
        "call_id": plan.call_id,
        "customer_id": plan.customer.id,
        "agent_id": plan.agent.id,
        "issue_id": plan.issue_id,
        "ticket_id": plan.ticket_id,
        "reason": plan.reason,
        "started_at": plan.started_at.isoformat(),
        "contact_number": plan.contact_number,
        "repeat_of": plan.previous.call_id if plan.previous else None,
        "outcome": plan.outcome,
        "true_callback_prob": plan.true_callback_prob,
        "callback": plan.callback,
        "next_call_id": plan.next_call_id,
        "days_to_next": plan.days_to_next,
        "latent": {
            "agent_skill": round(plan.agent.skill, 4),
            "customer_propensity": round(plan.customer.propensity, 4),
            "customer_patience": round(plan.customer.patience, 4),
        },
        "audio": audio,
        "holds": holds,
        "utterances": [
            {
                "speaker": speaker_id(plan, u.role),
                "role": u.role,
                "text": u.text,
                "start": u.start,
                "end": u.end,
                "sentiment": u.sentiment,
                "intent": u.intent,
                "backchannel": u.backchannel,
                "overlap": overlaps[i],
                "cues": [asdict(c) for c in u.cues],
            }
            for i, u in enumerate(plan.utterances)
        ],
    }


def metadata_row(plan: CallPlan) -> dict[str, str]:
    return {
        "call_id": plan.call_id,
        "customer_id": plan.customer.id,
        "agent_id": plan.agent.id,
        "started_at": plan.started_at.isoformat(),
        "reason": plan.reason,
        "ticket_id": plan.ticket_id,
    }


def rttm_lines(plan: CallPlan) -> list[str]:
    """One SPEAKER line per utterance (NIST RTTM), in time order."""
    lines = []
    for u in sorted(plan.utterances, key=lambda u: u.start):
        lines.append(f"SPEAKER {plan.call_id} 1 {u.start:.3f} {u.end - u.start:.3f} <NA> <NA> "
                     f"{speaker_id(plan, u.role)} <NA> <NA>")
    return lines


class CorpusWriter:
    """Writes one corpus directory; records are appended as calls finish (audio mode can take a while)."""

    def __init__(self, out_dir: str | os.PathLike, audio: bool):
        self.out = Path(out_dir)
        self.out.mkdir(parents=True, exist_ok=True)
        if audio:
            (self.out / "rttm").mkdir(exist_ok=True)
            (self.out / "audio").mkdir(exist_ok=True)
        self.audio = audio
        columns = METADATA_COLUMNS + (("path",) if audio else ())
        self._meta_file = open(self.out / "metadata.csv", "w", newline="", encoding="utf-8")
        self._meta = csv.DictWriter(self._meta_file, fieldnames=columns)
        self._meta.writeheader()
        self._calls = open(self.out / "calls.jsonl", "w", encoding="utf-8")

    def add(self, plan: CallPlan, audio: dict[str, Any] | None = None) -> None:
        row = metadata_row(plan)
        if self.audio:
            row["path"] = audio["path"]
            (self.out / "rttm" / f"{plan.call_id}.rttm").write_text("\n".join(rttm_lines(plan)) + "\n")
        self._meta.writerow(row)
        self._calls.write(json.dumps(call_record(plan, audio), ensure_ascii=False) + "\n")

    def close(self, manifest: dict[str, Any]) -> None:
        self._meta_file.close()
        self._calls.close()
        (self.out / "corpus.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")


def read_calls(path: str | os.PathLike) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def auc(scores: list[float], labels: list[bool]) -> float:
    """ROC AUC by ranks (ties count one half); nan when only one class is present."""
    return expected_auc([float(y) for y in labels], scores)   # labels are probabilities of 0 or 1


def expected_auc(true_probs: Sequence[float], scores: Sequence[float]) -> float:
    """The ROC AUC of `scores` when the labels are drawn from `true_probs` (each call a positive with its
    probability), as expected correctly ordered (positive, negative) pairs over expected pairs (ties half): within
    a hair of the mean AUC over many draws, without the luck of one draw of labels."""
    p = np.asarray(true_probs, dtype=float)
    order = np.argsort(np.asarray(scores, dtype=float), kind="mergesort")
    p, s = p[order], np.asarray(scores, dtype=float)[order]
    won, negatives_below, i = 0.0, 0.0, 0
    while i < len(s):
        j = i
        while j < len(s) and s[j] == s[i]:
            j += 1
        pos, neg = p[i:j].sum(), (1 - p[i:j]).sum()
        won += pos * negatives_below + 0.5 * pos * neg
        negatives_below += neg
        i = j
    pairs = p.sum() * (1 - p).sum() - (p * (1 - p)).sum()   # a call is never paired with itself
    return float(won / pairs) if pairs > 0 else float("nan")


def best_auc(calls: str | os.PathLike | Iterable[dict[str, Any]], window: int | str = 30) -> float:
    """The ROC AUC of the true callback probabilities against the corpus's callback labels for `window` days:
    no model can beat it on this corpus, short of luck. Accepts a calls.jsonl path or its records."""
    key = str(int(window))
    records = labelled_calls(read_calls(calls) if isinstance(calls, (str, os.PathLike)) else calls, key)
    return auc([r["true_callback_prob"][key] for r in records], [bool(r["callback"][key]) for r in records])


def labelled_calls(calls: Iterable[dict[str, Any]], window: int | str) -> list[dict[str, Any]]:
    """The calls whose `window`-day callback is known: an issue's last allowed call (label None) is left out."""
    return [c for c in calls if c["callback"][str(int(window))] is not None]


def _finite(value: float) -> float | None:
    """JSON has no NaN: a window without both classes has no AUC."""
    return None if math.isnan(value) else round(value, 4)


def _callback_rate(records: list[dict[str, Any]], window: int) -> float | None:
    known = [r["callback"][str(window)] for r in labelled_calls(records, window)]
    return round(float(np.mean(known)), 4) if known else None


def summary(plans: list[CallPlan]) -> dict[str, Any]:
    """Corpus statistics written into corpus.json."""
    records = [{"true_callback_prob": p.true_callback_prob, "callback": p.callback} for p in plans]
    cues = Counter(c.label for p in plans for u in p.utterances for c in u.cues)
    sentiments = Counter(u.sentiment for p in plans for u in p.utterances)
    return {
        "calls": len(plans),
        "customers": len({p.customer.id for p in plans}),
        "agents": len({p.agent.id for p in plans}),
        "issues": len({p.issue_id for p in plans}),
        "repeat_calls": sum(1 for p in plans if p.previous is not None),
        "outcomes": {o: sum(1 for p in plans if p.outcome == o) for o in OUTCOMES},
        "unlabelled_calls": sum(1 for p in plans if p.callback[str(CALLBACK_WINDOWS_DAYS[0])] is None),
        "callback_rate": {str(w): _callback_rate(records, w) for w in CALLBACK_WINDOWS_DAYS},
        "best_auc": {str(w): _finite(best_auc(records, w)) for w in CALLBACK_WINDOWS_DAYS},
        "utterances": sum(sentiments.values()),
        "sentiments": dict(sorted(sentiments.items())),
        "cues": dict(sorted(cues.items())),
    }
