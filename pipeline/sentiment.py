"""Utterance sentiment: a multinomial logistic-regression head over MiniLM utterance embeddings.

Features: the utterance embedding (pipeline.text_encoder.embed_utterances) plus the speaker role (agent / customer;
unknown sits between the two). The head is plain numbers in JSON (no pickle): loading it executes nothing.
Train one with scripts/train_sentiment.py.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from pipeline.vocab import SENTIMENT_LABELS

DEFAULT_HEAD_DIR = Path(__file__).resolve().parent.parent / "models" / "sentiment_head"
HEAD_FILE = "head.json"
FORMAT = "callrisk-sentiment-head/1"
ROLE_FEATURES = ("agent", "customer")


def role_features(roles: Sequence[str]) -> np.ndarray:
    """One column per role in ROLE_FEATURES; an unknown role is half of each."""
    out = np.zeros((len(roles), len(ROLE_FEATURES)), dtype=np.float32)
    for i, role in enumerate(roles):
        if role in ROLE_FEATURES:
            out[i, ROLE_FEATURES.index(role)] = 1.0
        else:
            out[i, :] = 1.0 / len(ROLE_FEATURES)
    return out


def features(embeddings: np.ndarray, roles: Sequence[str]) -> np.ndarray:
    if len(roles) != len(embeddings):
        raise ValueError(f"{len(embeddings)} embeddings but {len(roles)} roles")
    return np.hstack([embeddings.astype(np.float32), role_features(roles)])


@dataclass
class SentimentHead:
    labels: tuple[str, ...]
    coef: np.ndarray          # (n_labels, n_features)
    intercept: np.ndarray     # (n_labels,)
    encoder: str = "minilm"
    info: dict[str, Any] = field(default_factory=dict)   # provenance and metrics, written to the JSON

    def __post_init__(self) -> None:
        unknown = [label for label in self.labels if label not in SENTIMENT_LABELS]
        if unknown:
            raise ValueError(f"sentiment head has labels {unknown} not in pipeline.vocab.SENTIMENT_LABELS")
        if self.coef.shape != (len(self.labels), self.coef.shape[1]) or self.intercept.shape != (len(self.labels),):
            raise ValueError(f"sentiment head shapes do not match {len(self.labels)} labels")

    @property
    def n_features(self) -> int:
        return int(self.coef.shape[1])

    def predict_proba(self, embeddings: np.ndarray, roles: Sequence[str]) -> np.ndarray:
        x = features(embeddings, roles)
        if x.shape[1] != self.n_features:
            raise ValueError(f"head expects {self.n_features} features, got {x.shape[1]} (wrong encoder?)")
        logits = x @ self.coef.T + self.intercept
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        return p / p.sum(axis=1, keepdims=True)

    def predict(self, embeddings: np.ndarray, roles: Sequence[str]) -> list[dict[str, float]]:
        """Per utterance: every SENTIMENT_LABELS class -> probability (classes the head lacks get 0)."""
        proba = self.predict_proba(embeddings, roles)
        return [
            {label: round(float(row[self.labels.index(label)]), 4) if label in self.labels else 0.0
             for label in SENTIMENT_LABELS}
            for row in proba
        ]

    def save(self, directory: Path) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / HEAD_FILE
        payload = {
            "format": FORMAT,
            "labels": list(self.labels),
            "encoder": self.encoder,
            "features": f"{self.n_features - len(ROLE_FEATURES)}-dim mean-pooled sentence embedding + role {list(ROLE_FEATURES)}",
            "coef": np.round(self.coef, 6).tolist(),
            "intercept": np.round(self.intercept, 6).tolist(),
            "saved_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "info": self.info,
        }
        path.write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
        return path

    @classmethod
    def load(cls, directory: Path | str = DEFAULT_HEAD_DIR) -> SentimentHead:
        path = Path(directory)
        path = path / HEAD_FILE if path.is_dir() else path
        try:
            payload = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise FileNotFoundError(
                f"sentiment head {path} not found: train one with scripts/train_sentiment.py"
            ) from exc
        except ValueError as exc:   # not UTF-8, not JSON
            raise ValueError(f"{path}: not a sentiment head file ({exc})") from exc
        if not isinstance(payload, dict) or payload.get("format") != FORMAT:
            found = payload.get("format") if isinstance(payload, dict) else type(payload).__name__
            raise ValueError(f"{path}: not a {FORMAT} file (format={found!r})")
        try:
            return cls(
                labels=tuple(payload["labels"]),
                coef=np.asarray(payload["coef"], dtype=np.float32),
                intercept=np.asarray(payload["intercept"], dtype=np.float32),
                encoder=payload.get("encoder", "minilm"),
                info=payload.get("info", {}),
            )
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise ValueError(f"{path}: malformed sentiment head ({type(exc).__name__}: {exc})") from exc


def fit_head(
    x: np.ndarray, y: Sequence[str], c: float, seed: int = 0, sample_weight: np.ndarray | None = None
) -> SentimentHead:
    """Multinomial logistic regression with balanced class weights (the rare classes matter most)."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=c, class_weight="balanced", max_iter=5000, random_state=seed)
    model.fit(x, list(y), sample_weight=sample_weight)
    labels = tuple(str(label) for label in model.classes_)
    return SentimentHead(labels, model.coef_.astype(np.float32), model.intercept_.astype(np.float32))


def valence(sentiment: dict[str, float]) -> float:
    """-1..1: P(positive) - P(negative) - P(frustrated); the one definition the measures and risk features use."""
    return float(sentiment.get("positive", 0.0) - sentiment.get("negative", 0.0) - sentiment.get("frustrated", 0.0))
