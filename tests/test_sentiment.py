"""Sentiment head: JSON format (no pickle), probabilities, retraining, and the held-out macro-F1 floor."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from pipeline.sentiment import DEFAULT_HEAD_DIR, HEAD_FILE, SentimentHead, features, fit_head, role_features, valence
from pipeline.vocab import SENTIMENT_LABELS

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))


def toy_data(n: int = 200, dim: int = 8, seed: int = 0):
    """Separable clusters, one per label, so a fitted head must get them right."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(len(SENTIMENT_LABELS), dim)) * 3
    y = [SENTIMENT_LABELS[i % len(SENTIMENT_LABELS)] for i in range(n)]
    x = np.stack([centres[SENTIMENT_LABELS.index(label)] + rng.normal(size=dim) for label in y]).astype(np.float32)
    roles = ["customer" if i % 2 else "agent" for i in range(n)]
    return x, roles, y


def test_role_features():
    assert role_features(["agent", "customer", "unknown"]).tolist() == [[1, 0], [0, 1], [0.5, 0.5]]
    with pytest.raises(ValueError, match="2 embeddings but 1 roles"):
        features(np.zeros((2, 4)), ["agent"])


def test_fit_save_load_predict(tmp_path):
    x, roles, y = toy_data()
    head = fit_head(features(x, roles), y, c=1.0)
    head.info = {"note": "toy"}
    path = head.save(tmp_path)
    payload = json.loads(path.read_text())  # plain JSON: loading executes nothing
    assert payload["format"] == "callrisk-sentiment-head/1" and payload["info"] == {"note": "toy"}
    loaded = SentimentHead.load(tmp_path)
    probs = loaded.predict(x, roles)
    assert all(set(p) == set(SENTIMENT_LABELS) and abs(sum(p.values()) - 1) < 1e-3 for p in probs)
    accuracy = np.mean([max(p, key=p.get) == label for p, label in zip(probs, y)])
    assert accuracy > 0.95
    np.testing.assert_allclose(loaded.predict_proba(x, roles), head.predict_proba(x, roles), atol=1e-4)


def test_load_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="train one with scripts/train_sentiment.py"):
        SentimentHead.load(tmp_path)
    (tmp_path / HEAD_FILE).write_text(json.dumps({"format": "something-else"}))
    with pytest.raises(ValueError, match="not a callrisk-sentiment-head/1 file"):
        SentimentHead.load(tmp_path)
    with pytest.raises(ValueError, match="not in pipeline.vocab.SENTIMENT_LABELS"):
        SentimentHead(("happy",), np.zeros((1, 3)), np.zeros(1))


def test_wrong_embedding_size_is_named():
    head = SentimentHead.load(DEFAULT_HEAD_DIR)
    with pytest.raises(ValueError, match="wrong encoder"):
        head.predict(np.zeros((1, 10), dtype=np.float32), ["agent"])


def test_valence():
    assert valence({"positive": 0.9, "neutral": 0.1}) == pytest.approx(0.9)
    assert valence({"negative": 0.5, "frustrated": 0.5}) == pytest.approx(-1.0)


def test_shipped_head_matches_its_card():
    head = SentimentHead.load(DEFAULT_HEAD_DIR)
    assert set(head.labels) == set(SENTIMENT_LABELS) and head.n_features == 384 + 2
    card = (DEFAULT_HEAD_DIR / "MODEL_CARD.md").read_text()
    assert str(head.info["heldout_macro_f1"]) in card and head.info["train_sha256"] in card


@pytest.mark.slow
def test_heldout_macro_f1_floor():
    from eval_cues import read_rows
    from sklearn.metrics import f1_score

    from pipeline.text_encoder import TextEncoder, embed_utterances

    rows = read_rows(ROOT / "scripts" / "data" / "heldout.csv")
    head = SentimentHead.load(DEFAULT_HEAD_DIR)
    probs = head.predict(embed_utterances(TextEncoder(), [r["text"] for r in rows]).utterance, [r["role"] for r in rows])
    predicted = [max(p, key=p.get) for p in probs]
    f1 = f1_score([r["label"] for r in rows], predicted, labels=list(SENTIMENT_LABELS), average="macro")
    assert f1 >= FLOOR, f1


FLOOR = 0.76


@pytest.mark.slow
def test_training_script_retrains_on_a_users_csv(tmp_path):
    rows = ROOT / "scripts" / "data" / "train_handwritten.csv"
    out = tmp_path / "head"
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "train_sentiment.py"), "--train", str(rows), "--heldout", "",
         "--out", str(out), "--c", "4"],
        capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    head = SentimentHead.load(out)
    assert head.info["train_rows"] > 300 and head.info["C"] == 4.0
    bad = tmp_path / "bad.csv"
    bad.write_text("text,role,label\nhello,agent,happy\n")
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "train_sentiment.py"), "--train", str(bad),
                             "--out", str(tmp_path / "x")], capture_output=True, text=True, timeout=600)
    assert result.returncode != 0 and "bad.csv:2: label 'happy'" in result.stderr
