"""The QA report: one self-contained, offline HTML file of scored calls (records from `callrisk score`).

The page is a static template (pipeline/report_assets/) with the calls embedded as one JSON document in a
`<script type="application/json">` block. Every `<`, `>` and `&` in that JSON is written as a \\u escape, so no
string in a record (a transcript saying `</script>`, say) can end the block; the page's script renders every
record string with textContent, never as markup. Audio is linked, never embedded: each call's `<audio>` source
is the path of its file relative to the report's folder (or to --audio-root, the folder the report will stand
in when it is published next to the audio).
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping
from urllib.parse import quote

from pipeline.vocab import (
    AGENT_PREVENTIVE_CUES,
    AGENT_RISK_CUES,
    CUE_LABELS,
    CUSTOMER_PREVENTIVE_CUES,
    CUSTOMER_RISK_CUES,
    SENTIMENT_LABELS,
)

ASSETS = Path(__file__).resolve().parent / "report_assets"
_MARKER = re.compile(r"/\*@(\w+)@\*/")
# JSON stays valid with these written as \u escapes; in HTML they could start a tag, a comment or an entity.
_UNSAFE_IN_SCRIPT = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


@dataclass(frozen=True)
class ReportOptions:
    title: str = "Callback risk report"
    audio_root: str | None = None   # the folder audio paths are made relative to (default: the report's folder)
    page_size: int = 50             # table rows per page
    decimals: int = 3               # rounding of probabilities and times in the embedded data


def cue_family(label: str) -> str:
    if label in CUSTOMER_RISK_CUES:
        return "customer_risk"
    if label in AGENT_RISK_CUES:
        return "agent_risk"
    if label in AGENT_PREVENTIVE_CUES + CUSTOMER_PREVENTIVE_CUES:
        return "preventive"
    return "other"


def audio_src(source_path: str | None, base_dir: Path) -> str | None:
    """URL of the call's audio relative to `base_dir` ('/'-separated, percent-encoded); relative source paths
    are taken from the current directory, as `callrisk score` was given them."""
    if not source_path:
        return None
    path = Path(os.path.abspath(source_path))
    rel = os.path.relpath(path, os.path.abspath(base_dir))
    return quote(Path(rel).as_posix(), safe="/")


def _round(value: Any, decimals: int) -> Any:
    return round(float(value), decimals) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


# Utterances are embedded as arrays, not objects (5,000 long calls would otherwise spend most of the page on key
# names); the page's script decodes a call's utterances when it is opened. Field order:
UTTERANCE_FIELDS = ("speaker", "role", "start", "end", "text", "flags", "cues", "sentiment")
CUE_FIELDS = ("label", "score", "char_start", "char_end", "start", "end", "method")
OVERLAP, INTERRUPTION = 1, 2   # bits of "flags"


def _flatten(measures: Mapping[str, Any], decimals: int, prefix: str = "") -> dict[str, Any]:
    """Call-level measures as 'name' or 'name.key' -> number or text (one level of nesting is unfolded)."""
    flat: dict[str, Any] = {}
    for key, value in measures.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and not prefix:
            flat.update(_flatten(value, decimals, name + "."))
        elif isinstance(value, bool) or not isinstance(value, (int, float)):
            if not isinstance(value, (Mapping, list)):
                flat[name] = _text(value)
        else:
            flat[name] = _round(value, decimals)
    return flat


def call_entry(record: Mapping[str, Any], base_dir: Path, decimals: int = 3) -> dict[str, Any]:
    """What the page needs of one record: table fields plus the detail (utterances without word lists)."""
    r = lambda v: _round(v, decimals)  # noqa: E731
    audio = record.get("audio") or {}
    risk = record.get("risk") if isinstance(record.get("risk"), Mapping) else None
    utterances = []
    cue_labels: dict[str, None] = {}
    for u in record.get("utterances") or []:
        cues = []
        for c in u.get("cues") or []:
            label = str(c.get("label", ""))
            cue_labels[label] = None
            cues.append([label, r(c.get("score")), c.get("char_start"), c.get("char_end"), r(c.get("start")),
                         r(c.get("end")), _text(c.get("method"))])
        sentiment = u.get("sentiment")
        utterances.append([
            _text(u.get("speaker")), _text(u.get("role")) or "unknown", r(u.get("start")), r(u.get("end")),
            _text(u.get("text")) or "", (OVERLAP if u.get("overlap") else 0) | (INTERRUPTION if u.get("interruption") else 0),
            cues,
            [r(sentiment.get(k)) for k in SENTIMENT_LABELS] if isinstance(sentiment, Mapping) else None,
        ])
    reasons = []
    if risk:
        for reason in risk.get("reasons") or []:
            reasons.append({
                "text": _text(reason.get("text")) or "", "feature": _text(reason.get("feature")),
                "weight": r(reason.get("weight")),
                "evidence": [{"utterance": e.get("utterance"), "start": r(e.get("start")), "end": r(e.get("end")),
                              "text": _text(e.get("evidence")) or _text(e.get("text")) or ""}   # cue words first
                             for e in reason.get("evidence") or []],
            })
    measures = record.get("measures")
    error = record.get("error") or {}
    return {
        "id": _text(record.get("call_id")) or "",
        "status": _text(record.get("status")) or "",
        "risk": r(risk.get("risk")) if risk else None,
        "band": _text(risk.get("band")) if risk else None,
        "agent": _text(record.get("agent_id")),
        "customer": _text(record.get("customer_id")),
        "ticket": _text(record.get("ticket_id")),
        "reason": _text(record.get("reason")),
        "started": _text(record.get("started_at")),
        "duration": r(audio.get("duration_s")),
        "cueLabels": list(cue_labels),
        "error": {"type": _text(error.get("type")), "message": _text(error.get("message"))} if error else None,
        "src": audio_src(record.get("source_path"), base_dir),
        "source": _text(record.get("source_path")),
        "metadata": {str(k): _text(v) for k, v in (record.get("metadata") or {}).items()},
        "speakers": [{"speaker": _text(s.get("speaker")), "role": _text(s.get("role")),
                      "talk": r(s.get("talk_time_s")), "why": _text(s.get("role_reason"))}
                     for s in record.get("speakers") or []],
        "measures": _flatten(measures, decimals) if isinstance(measures, Mapping) else None,
        "reasons": reasons,
        "u": utterances,
    }


def report_data(records: Iterable[Mapping[str, Any]], base_dir: Path, options: ReportOptions) -> dict[str, Any]:
    calls = [call_entry(rec, base_dir, options.decimals) for rec in records]
    return {
        "title": options.title,
        "pageSize": options.page_size,
        "cueLabels": list(CUE_LABELS),
        "cueFamilies": {label: cue_family(label) for label in CUE_LABELS},
        "sentimentLabels": list(SENTIMENT_LABELS),
        "utteranceFields": list(UTTERANCE_FIELDS),
        "cueFields": list(CUE_FIELDS),
        "calls": calls,
    }


def script_json(data: Any) -> str:
    """JSON that is safe inside <script type="application/json">: no '<', '>' or '&' appear literally."""
    text = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return re.sub("[<>&\u2028\u2029]", lambda m: _UNSAFE_IN_SCRIPT[m.group()], text)


def render_html(records: Iterable[Mapping[str, Any]], base_dir: Path, options: ReportOptions = ReportOptions()) -> str:
    """The whole report page. `base_dir`: the folder audio paths are relative to."""
    script = (ASSETS / "report.js").read_text(encoding="utf-8")
    parts = {
        "TITLE": html.escape(options.title),
        "CSS": (ASSETS / "report.css").read_text(encoding="utf-8"),
        "JS": script,
        # The page's own script is the only one allowed to run: a defence in depth should markup ever slip in.
        "SCRIPT_HASH": "sha256-" + base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode(),
        "DATA": script_json(report_data(records, base_dir, options)),
    }
    template = (ASSETS / "report.html").read_text(encoding="utf-8")
    return _MARKER.sub(lambda m: parts[m.group(1)], template)  # one pass: inserted text is never re-scanned


def write_report(records: Iterable[Mapping[str, Any]], out_path: str | os.PathLike,
                 options: ReportOptions = ReportOptions()) -> Path:
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    base_dir = Path(options.audio_root) if options.audio_root else out.parent
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(render_html(records, base_dir, options), encoding="utf-8")
    os.replace(tmp, out)
    return out
