"""One call through every stage: decode -> ASR + diarization -> utterances and roles -> cues, sentiment,
prosody -> risk -> (redaction) -> record. Models load once per processor; a bad call becomes an error record."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from pipeline import __version__
from pipeline.asr import AsrOptions, Transcriber
from pipeline.audio import AudioOptions, load_audio
from pipeline.config import ConfigError, section
from pipeline.cues import DEFAULT_CUES_FILE, CueOptions, CueStage, load_cue_rules
from pipeline.diarize import Diarization, DiarizationOptions, Diarizer, StereoOptions, write_rttm
from pipeline.errors import CallError, NoSpeechError
from pipeline.registry import resolve_model
from pipeline.record import base_record, error_record, speaker_blocks, transcript_block
from pipeline.redact import RedactOptions, redact_record
from pipeline.risk import CallbackRiskModel, RiskOptions
from pipeline.roles import DEFAULT_PHRASES_FILE, RoleOptions, assign_roles, load_phrases, role_map
from pipeline.sentiment import DEFAULT_HEAD_DIR, SentimentHead
from pipeline.types import Audio, CallInput, Transcript
from pipeline.utterances import UtteranceOptions, apply_roles, build_utterances

log = logging.getLogger(__name__)

# Config sections whose values change what a record contains; a change re-processes calls on resume.
RESULT_SECTIONS = ("audio", "asr", "diarization", "utterances", "roles", "cues", "risk", "redaction", "output")
DEFAULT_RISK_MODEL = Path(__file__).resolve().parent.parent / "models" / "default" / "model.json"


def risk_model_file(model: str) -> Path | None:
    """The model.json that `risk.model` names: "default" is the shipped model, "" none, else a file or folder."""
    if not model:
        return None
    path = DEFAULT_RISK_MODEL if model == "default" else Path(model).expanduser()
    return path / "model.json" if path.is_dir() else path


def settings_hash(config: dict[str, Any]) -> str:
    """Changes when anything that shapes a record changes: settings, version, the risk model, cue rules and
    sentiment head files (users retrain and edit those in place)."""
    relevant: dict[str, Any] = {name: config.get(name) for name in RESULT_SECTIONS}
    relevant["version"] = __version__
    cues = config["cues"]
    artefacts = [
        risk_model_file(config["risk"]["model"]),
        Path(cues["cues_file"]) if cues["cues_file"] else DEFAULT_CUES_FILE,
        (Path(cues["sentiment_head"]) if cues["sentiment_head"] else DEFAULT_HEAD_DIR) / "head.json",
        Path(config["roles"]["phrases_file"]) if config["roles"]["phrases_file"] else DEFAULT_PHRASES_FILE,
    ]
    for path in filter(None, artefacts):
        relevant[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None
    return hashlib.sha256(json.dumps(relevant, sort_keys=True).encode()).hexdigest()[:16]


def diarization_options(config: dict[str, Any]) -> DiarizationOptions:
    """The `diarization` section as typed options (0 speaker counts mean "no constraint")."""
    values = dict(config["diarization"])
    stereo = section({"diarization.stereo": values.pop("stereo")}, "diarization.stereo", StereoOptions)
    mapping, agent = values.pop("channel_map"), values.pop("agent_channel")
    if mapping not in ("fixed", "auto") or agent not in (0, 1):
        raise ConfigError("config section 'diarization': channel_map must be fixed or auto, agent_channel 0 or 1")
    for key in ("num_speakers", "min_speakers", "max_speakers"):
        values[key] = values[key] or None
    values["channel_map"] = "auto" if mapping == "auto" else {"agent": agent, "customer": 1 - agent}
    values["stereo"] = stereo
    return section({"diarization": values}, "diarization", DiarizationOptions)


@dataclass(frozen=True)
class RiskSettings:
    """The `risk` section: which model scores calls, and how its output is presented."""

    model: str = "default"
    band_thresholds: tuple[float, float] = (0.2, 0.4)
    top_reasons: int = 3
    evidence_per_reason: int = 3

    def model_path(self) -> Path | None:
        path = risk_model_file(self.model)
        if path is not None and not path.is_file():
            raise ConfigError(f"risk.model: no model file at {path} (train one with `callrisk train`, or set \"\")")
        return path

    def presentation(self) -> RiskOptions:
        try:
            return RiskOptions(tuple(self.band_thresholds), self.top_reasons, self.evidence_per_reason)
        except ValueError as exc:
            raise ConfigError(f"config section 'risk': {exc}") from exc


def load_risk_model(settings: RiskSettings) -> CallbackRiskModel | None:
    path = settings.model_path()
    if path is None:
        return None
    try:
        return CallbackRiskModel.load(path)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"risk.model: {path} is not a callrisk model ({type(exc).__name__}: {exc})") from exc


def rttm_path(folder: str, call_id: str) -> str:
    """<folder>/<call_id>.rttm, the id percent-encoded (all but letters, digits and - _ .; a leading dot too):
    distinct ids get distinct files, and none can leave the folder (/, \\, .., drive letters)."""
    from urllib.parse import quote

    Path(folder).mkdir(parents=True, exist_ok=True)
    name = quote(call_id, safe="-_.")
    if name.startswith("."):
        name = "%2E" + name[1:]
    return str(Path(folder) / (name + ".rttm"))


def role_options(config: dict[str, Any]) -> RoleOptions:
    """The `roles` section, with the phrase lists read from roles.phrases_file ("" = configs/roles.yaml)."""
    values = dict(config["roles"])
    path = values.pop("phrases_file") or DEFAULT_PHRASES_FILE
    try:
        values["agent_phrases"], values["customer_phrases"] = load_phrases(path)
    except ValueError as exc:
        raise ConfigError(f"roles.phrases_file: {exc}") from exc
    return section({"roles": values}, "roles", RoleOptions)


def check_config(config: dict[str, Any]) -> None:
    """Validate every section and find every model before a batch starts (ConfigError / ModelNotFoundError)."""
    from pipeline.batch import BatchOptions

    section(config, "audio", AudioOptions)
    section(config, "batch", BatchOptions)
    section(config, "utterances", UtteranceOptions)
    role_options(config)
    cues = section(config, "cues", CueOptions)
    load_cue_rules(cues.cues_file or DEFAULT_CUES_FILE)  # a malformed cue file stops the batch before it starts
    if cues.enabled and cues.sentiment:
        try:
            SentimentHead.load(cues.sentiment_head or DEFAULT_HEAD_DIR)
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cues.sentiment_head: {exc}") from exc
    diarization_options(config)
    section(config, "redaction", RedactOptions)
    risk = section(config, "risk", RiskSettings)
    risk.presentation()
    load_risk_model(risk)
    asr = section(config, "asr", AsrOptions)
    resolve_model(asr.model, asr.hub_id)
    resolve_model("segmentation-3.0")
    resolve_model("campplus")
    if cues.enabled and (cues.semantic or cues.sentiment):
        resolve_model(cues.encoder)


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
        from pipeline.batch import BatchOptions

        self.config = config
        self.audio_options = section(config, "audio", AudioOptions)
        self.asr_options = section(config, "asr", AsrOptions)
        self.utterance_options = section(config, "utterances", UtteranceOptions)
        self.role_options = role_options(config)
        batch = section(config, "batch", BatchOptions)
        self.overlap_stages = batch.overlap_stages
        self.torch_threads = batch.torch_threads
        self.cue_options = section(config, "cues", CueOptions)
        risk = section(config, "risk", RiskSettings)
        self.risk_options = risk.presentation()
        self.risk_model = load_risk_model(risk)  # small JSON: loaded eagerly
        self.redaction = section(config, "redaction", RedactOptions)
        self.include_words = bool(config["output"]["include_words"])
        self.rttm_dir = config["output"]["rttm_dir"]
        self.settings_hash = settings_hash(config)
        self.diarizer = Diarizer(diarization_options(config))
        self._transcriber: Transcriber | None = None
        self._cue_stage: CueStage | None = None
        self._side = ThreadPoolExecutor(1, thread_name_prefix="diarize") if self.overlap_stages else None

    @property
    def transcriber(self) -> Transcriber:
        if self._transcriber is None:
            self._transcriber = Transcriber(self.asr_options)
        return self._transcriber

    @property
    def cue_stage(self) -> CueStage | None:
        if self._cue_stage is None and self.cue_options.enabled:
            self._cue_stage = CueStage(self.cue_options)
            self._set_torch_threads()  # the encoder may have changed them
        return self._cue_stage

    def _set_torch_threads(self) -> None:
        if self.torch_threads:
            import torch

            torch.set_num_threads(self.torch_threads)

    def load_models(self) -> None:
        """Load every model now (workers call this before their first call)."""
        _ = self.transcriber
        self.diarizer.load()
        _ = self.cue_stage
        self._set_torch_threads()

    def process(self, call: CallInput) -> dict[str, Any]:
        """Never raises for a bad call: failures become `status: "error"` records."""
        timer = StageTimer()
        audio = None
        try:
            with timer.stage("decode"):
                audio = load_audio(call.path, self.audio_options)
            record = self._analyse(call, audio, timer)
        except CallError as exc:
            log.warning("%s failed: %s", call.call_id, exc)
            return error_record(call, self.settings_hash, exc.type, str(exc), audio)
        except Exception as exc:  # a bug or a library failure on odd input: still one record, batch goes on
            log.exception("%s: unexpected failure", call.call_id)
            return error_record(call, self.settings_hash, "internal_error", f"{call.path}: {type(exc).__name__}: {exc}", audio)
        record["timing_s"] = {k: round(v, 3) for k, v in timer.seconds.items()}
        return record

    def _analyse(self, call: CallInput, audio: Audio, timer: StageTimer) -> dict[str, Any]:
        transcript, diarization = self._transcribe_and_diarize(audio, timer)
        if not transcript.words:
            raise NoSpeechError(call.path, "no speech recognised (the recording holds no words)")
        with timer.stage("utterances"):
            utterances = build_utterances(transcript.words, diarization.turns, None, self.utterance_options)
            roles = assign_roles(utterances, diarization, self.role_options)
            apply_roles(utterances, role_map(roles))
        measures = None
        if self.cue_stage is not None:
            with timer.stage("cues"):
                samples = audio.samples if audio.channels > 1 else audio.samples[0]
                measures = self.cue_stage.annotate(utterances, transcript.words, samples, audio.duration_s)
        record = base_record(call, self.settings_hash, "ok")
        record["audio"] = audio.info()
        # Words stay in the record until the end: the risk features (ASR confidence) and redaction (numbers
        # said across two utterances) read them; output.include_words decides only whether they are written.
        record["transcript"] = transcript_block(transcript, self.asr_options.model, include_words=True)
        record.update(speaker_blocks(diarization, roles, utterances))
        if self.rttm_dir:
            write_rttm(diarization, call.call_id, rttm_path(self.rttm_dir, call.call_id))
        if measures is not None:
            record["measures"] = measures
        if self.risk_model is not None:
            with timer.stage("risk"):
                record["risk"] = self.risk_model.explain(record, self.risk_options)
        if self.redaction.enabled:  # last, so risk evidence is masked too
            with timer.stage("redact"):
                redact_record(record, self.redaction)
        if not self.include_words:
            record["transcript"].pop("words", None)
        return record

    def _transcribe_and_diarize(self, audio: Audio, timer: StageTimer) -> tuple[Transcript, Diarization]:
        """ASR and diarization read the same decoded waveform; with overlap_stages they run side by side."""
        if self._side is None:
            with timer.stage("asr"):
                transcript = self.transcriber.transcribe(audio.mono())
            with timer.stage("diarize"):
                diarization = self.diarizer.diarize(audio)
            return transcript, diarization

        def diarize() -> Diarization:
            with timer.stage("diarize"):
                return self.diarizer.diarize(audio)

        pending = self._side.submit(diarize)
        with timer.stage("asr"):
            transcript = self.transcriber.transcribe(audio.mono())
        with timer.stage("asr+diarize_wait"):
            diarization = pending.result()
        return transcript, diarization
