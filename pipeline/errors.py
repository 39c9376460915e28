"""Errors that fail one call (the batch goes on). Each carries the file and a plain cause."""

from __future__ import annotations


class CallError(Exception):
    """One call could not be processed. `type` goes into the error record."""

    type = "call_error"

    def __init__(self, path: str, cause: str):
        super().__init__(f"{path}: {cause}")
        self.path = path
        self.cause = cause


class AudioDecodeError(CallError):
    type = "not_audio"


class EmptyAudioError(CallError):
    type = "empty_audio"


class SilentAudioError(CallError):
    type = "silent_audio"


class InvalidSamplesError(CallError):
    type = "invalid_samples"


class AudioTooLongError(CallError):
    type = "too_long"


class InputPathError(CallError):
    type = "bad_input_path"


class CallTimeoutError(CallError):
    type = "timeout"


class NoSpeechError(CallError):
    type = "no_speech"
