"""One call through every stage: decode -> ASR -> (later stages) -> record. Models load once per processor."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from contextlib import contextmanager
from typing import Any, Iterator

from pipeline import __version__
from pipeline.asr import AsrOptions, Transcriber
from pipeline.audio import AudioOptions, load_audio
from pipeline.config import section
from pipeline.errors import CallError, NoSpeechError
from pipeline.registry import resolve_model
from pipeline.record import base_record, error_record, transcript_block
from pipeline.types import CallInput

log = logging.getLogger(__name__)

# Config sections whose values change what a record contains; a change re-processes calls on resume.
RESULT_SECTIONS = ("audio", "asr", "output")


def settings_hash(config: dict[str, Any]) -> str:
    relevant = {name: config.get(name) for name in RESULT_SECTIONS}
    relevant["version"] = __version__
    return hashlib.sha256(json.dumps(relevant, sort_keys=True).encode()).hexdigest()[:16]


def check_config(config: dict[str, Any]) -> None:
    """Validate every section and find every model before a batch starts (ConfigError / ModelNotFoundError)."""
    from pipeline.batch import BatchOptions

    section(config, "audio", AudioOptions)
    section(config, "batch", BatchOptions)
    asr = section(config, "asr", AsrOptions)
    resolve_model(asr.model, asr.hub_id)


class StageTimer:
    """Wall time per stage for one call, reported in the record and by the benchmark."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start


class CallProcessor:
    def __init__(self, config: dict[str, Any]):
        self.config = config
        self.audio_options = section(config, "audio", AudioOptions)
        self.asr_options = section(config, "asr", AsrOptions)
        self.include_words = bool(config["output"]["include_words"])
        self.settings_hash = settings_hash(config)
        self._transcriber: Transcriber | None = None

    @property
    def transcriber(self) -> Transcriber:
        if self._transcriber is None:
            self._transcriber = Transcriber(self.asr_options)
        return self._transcriber

    def load_models(self) -> None:
        """Load every model now (workers call this before their first call)."""
        _ = self.transcriber

    def process(self, call: CallInput) -> dict[str, Any]:
        """Never raises for a bad call: failures become `status: "error"` records."""
        timer = StageTimer()
        audio = None
        try:
            with timer.stage("decode"):
                audio = load_audio(call.path, self.audio_options)
            with timer.stage("asr"):
                transcript = self.transcriber.transcribe(audio.mono())
            if not transcript.words:
                raise NoSpeechError(call.path, "no speech recognised (the recording holds no words)")
        except CallError as exc:
            log.warning("%s failed: %s", call.call_id, exc)
            return error_record(call, self.settings_hash, exc.type, str(exc), audio)
        except Exception as exc:  # a bug or a library failure on odd input: still one record, batch goes on
            log.exception("%s: unexpected failure", call.call_id)
            return error_record(call, self.settings_hash, "internal_error", f"{call.path}: {type(exc).__name__}: {exc}", audio)
        record = base_record(call, self.settings_hash, "ok")
        record["audio"] = audio.info()
        record["transcript"] = transcript_block(transcript, self.asr_options.model, self.include_words)
        record["timing_s"] = {k: round(v, 3) for k, v in timer.seconds.items()}
        return record
