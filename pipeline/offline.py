"""Offline by construction: no implicit hub downloads, no telemetry."""

from __future__ import annotations

import os
import warnings

OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "PYANNOTE_METRICS_ENABLED": "false",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",   # no "Loading weights" bars in batch logs
    "TRANSFORMERS_VERBOSITY": "error",
}


def enforce_offline() -> None:
    """Set the offline variables unless the user explicitly allowed the hub (CALLRISK_ALLOW_HUB=1)."""
    allow_hub = os.environ.get("CALLRISK_ALLOW_HUB") == "1"
    for key, value in OFFLINE_ENV.items():
        if allow_hub and key in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
            continue
        os.environ[key] = value
    # pyannote warns at import that torchcodec cannot load; audio is always passed in memory, so it is harmless.
    warnings.filterwarnings("ignore", message=r"(?s).*torchcodec is not installed correctly")
    # Keep numba's JIT cache out of site-packages so a read-only install does not recompile every run.
    os.environ.setdefault("NUMBA_CACHE_DIR", os.path.join(cache_dir(), "numba"))


def is_offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "0") not in ("0", "", "false")


def cache_dir() -> str:
    """Writable cache for assembled models (Whisper base) and JIT artefacts."""
    base = os.environ.get("CALLRISK_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "callrisk"
    )
    os.makedirs(base, exist_ok=True)
    return base
