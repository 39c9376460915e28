"""The output record: one JSON object per call (schema: pipeline/schema/call_record.schema.json)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

from pipeline import __version__
from pipeline.diarize import Diarization
from pipeline.roles import RoleAssignment
from pipeline.types import Audio, CallInput, Transcript, Utterance

SCHEMA_VERSION = "1.0"
SCHEMA_PATH = Path(__file__).resolve().parent / "schema" / "call_record.schema.json"
# Metadata columns lifted to the top level: what downstream jobs join on.
LINK_FIELDS = ("customer_id", "agent_id", "ticket_id", "started_at", "reason")


def base_record(call: CallInput, settings_hash: str, status: str) -> dict[str, Any]:
    record: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "call_id": call.call_id,
        "status": status,
        "source_path": call.path,
    }
    for key in LINK_FIELDS:
        record[key] = call.metadata.get(key) or None
    record["metadata"] = dict(call.metadata)
    record["settings_hash"] = settings_hash
    record["callrisk_version"] = __version__
    record["processed_at"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    return record


def error_record(
    call: CallInput, settings_hash: str, error_type: str, message: str, audio: Audio | None = None
) -> dict[str, Any]:
    record = base_record(call, settings_hash, "error")
    if audio is not None:
        record["audio"] = audio.info()
    record["error"] = {"type": error_type, "message": message}
    return record


def transcript_block(transcript: Transcript, model: str, include_words: bool = True) -> dict[str, Any]:
    segments = []
    words: list[dict[str, Any]] = []
    for seg in transcript.segments:
        first = len(words)
        words += [{"start": w.start, "end": w.end, "text": w.text, "probability": w.probability} for w in seg.words]
        segments.append(
            {
                "start": seg.start,
                "end": seg.end,
                "text": seg.text,
                "avg_logprob": seg.avg_logprob,
                "no_speech_prob": seg.no_speech_prob,
                "word_range": [first, len(words) - 1] if seg.words else None,
            }
        )
    block: dict[str, Any] = {
        "model": model,
        "language": transcript.language,
        "language_probability": transcript.language_probability,
        "text": transcript.text,
        "segments": segments,
    }
    if include_words:
        block["words"] = words
    return block


def utterance_dict(utterance: Utterance) -> dict[str, Any]:
    data = dataclasses.asdict(utterance)
    data["start"], data["end"] = round(utterance.start, 3), round(utterance.end, 3)
    data["word_indices"] = list(utterance.word_indices)
    for key in ("sentiment", "prosody"):  # filled by later stages; absent rather than null until then
        if data[key] is None:
            del data[key]
    return data


def speaker_blocks(
    diarization: Diarization, roles: dict[str, RoleAssignment], utterances: list[Utterance]
) -> dict[str, Any]:
    """speakers (with role, confidence, talk time), turns, utterances and how diarization was done."""
    speakers = []
    for speaker in dict.fromkeys(list(diarization.speakers) + [u.speaker for u in utterances]):
        role = roles.get(speaker)
        speakers.append(
            {
                "speaker": speaker,
                "role": role.role if role else "unknown",
                "role_confidence": round(role.confidence, 3) if role else 0.0,
                "role_reason": role.reason if role else "no evidence",
                "talk_time_s": round(diarization.speakers.get(speaker, 0.0), 3),
                "channel": diarization.channel_of.get(speaker),
            }
        )
    return {
        "diarization": {"method": diarization.method, "notes": list(diarization.notes)},
        "speakers": speakers,
        "turns": [{"speaker": t.speaker, "start": round(t.start, 3), "end": round(t.end, 3)} for t in diarization.turns],
        "utterances": [utterance_dict(u) for u in utterances],
    }
