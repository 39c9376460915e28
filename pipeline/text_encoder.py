"""Sentence embeddings from the packaged MiniLM (all-MiniLM-L6-v2): mean pooling over tokens, L2-normalised.

One `TextEncoder` loads the model once; `encode` takes many texts and batches them by length so short call
utterances pay for little padding.
"""

from __future__ import annotations

import logging
import re
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from pipeline.registry import resolve_model

log = logging.getLogger(__name__)

EMBEDDING_DIM = 384


@dataclass(frozen=True)
class TextEncoderOptions:
    model: str = "minilm"        # packaged model name (pipeline.registry) or a local directory
    threads: int = 1             # torch intra-op threads; 0 = leave torch's default
    batch_size: int = 32
    max_tokens: int = 128        # longer texts are truncated (utterances are split into sentences first)
    cache_size: int = 4096       # sentences remembered across calls ("Okay.", "Thank you." recur in every call)

    def __post_init__(self) -> None:
        if self.threads < 0:
            raise ValueError(f"cues.encoder_threads must be >= 0, got {self.threads}")
        if self.batch_size < 1:
            raise ValueError(f"cues.batch_size must be >= 1, got {self.batch_size}")
        if self.cache_size < 0:
            raise ValueError(f"cues.cache_size must be >= 0, got {self.cache_size}")
        if not 8 <= self.max_tokens <= 512:
            raise ValueError(f"cues.max_tokens must be in 8..512, got {self.max_tokens}")


class TextEncoder:
    """Holds one MiniLM; `encode(texts)` -> float32 array (len(texts), 384), unit-length rows."""

    def __init__(self, options: TextEncoderOptions = TextEncoderOptions()):
        import torch
        from transformers import AutoModel, AutoTokenizer

        self.options = options
        self.model_path = str(resolve_model(options.model))
        if options.threads:
            torch.set_num_threads(options.threads)
        log.info("loading text encoder %s from %s", options.model, self.model_path)
        self._torch = torch
        self._tokenizer = AutoTokenizer.from_pretrained(self.model_path, local_files_only=True)
        self._model = AutoModel.from_pretrained(self.model_path, local_files_only=True).eval()
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()

    @property
    def dim(self) -> int:
        return int(self._model.config.hidden_size)

    def token_counts(self, texts: list[str]) -> list[int]:
        return [len(ids) for ids in self._tokenizer(list(texts), truncation=True, max_length=self.options.max_tokens)["input_ids"]]

    def encode(self, texts: list[str] | tuple[str, ...]) -> np.ndarray:
        texts = [t if t.strip() else "." for t in texts]  # an empty string would pool over nothing
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        todo: dict[str, list[int]] = {}
        for i, text in enumerate(texts):
            if text in self._cache:
                out[i] = self._cache[text]
                self._cache.move_to_end(text)
            else:
                todo.setdefault(text, []).append(i)
        if todo:
            unique = list(todo)
            vectors = self._encode(unique)
            for text, vector in zip(unique, vectors):
                out[todo[text]] = vector
                if self.options.cache_size:
                    self._cache[text] = vector
            while len(self._cache) > self.options.cache_size:
                self._cache.popitem(last=False)
        return out

    def _encode(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        order = np.argsort([len(t) for t in texts], kind="stable")  # similar lengths share a batch: less padding
        size = self.options.batch_size
        with self._torch.inference_mode():
            for begin in range(0, len(order), size):
                idx = order[begin : begin + size]
                batch = self._tokenizer(
                    [texts[i] for i in idx], padding=True, truncation=True,
                    max_length=self.options.max_tokens, return_tensors="pt",
                )
                hidden = self._model(**batch).last_hidden_state
                mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                pooled = self._torch.nn.functional.normalize(pooled, p=2, dim=1)
                out[idx] = pooled.numpy()
        return out


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
MIN_CHUNK_WORDS = 2      # one-word sentences ("Okay.", "Hi.") join the next one: fewer, fuller sequences
MAX_CHUNK_WORDS = 40


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences of `text` (ASR text without punctuation is split every 40 words)."""
    spans: list[tuple[int, int]] = []
    begin = 0
    for match in list(_SENTENCE_END.finditer(text)) + [None]:
        end = match.start() if match else len(text)
        if text[begin:end].strip():
            spans += _split_long(text, begin, end)
        if match:
            begin = match.end()
    merged: list[tuple[int, int]] = []
    for span in spans:
        if merged and len(text[merged[-1][0] : merged[-1][1]].split()) < MIN_CHUNK_WORDS:
            merged[-1] = (merged[-1][0], span[1])
        else:
            merged.append(span)
    if len(merged) > 1 and len(text[merged[-1][0] : merged[-1][1]].split()) < MIN_CHUNK_WORDS:
        last = merged.pop()
        merged[-1] = (merged[-1][0], last[1])
    return merged or [(0, len(text))]


def _split_long(text: str, begin: int, end: int) -> list[tuple[int, int]]:
    words = list(re.finditer(r"\S+", text[begin:end]))
    out = []
    for i in range(0, len(words), MAX_CHUNK_WORDS):
        group = words[i : i + MAX_CHUNK_WORDS]
        out.append((begin + group[0].start(), begin + group[-1].end()))
    return out


@dataclass
class UtteranceEmbeddings:
    """Sentence-level embeddings of many utterances and their token-weighted mean per utterance."""

    utterance: np.ndarray                 # (n_utterances, dim), unit length
    sentences: np.ndarray                 # (n_sentences, dim), unit length
    owner: np.ndarray                     # (n_sentences,) index of the utterance each sentence belongs to
    spans: list[tuple[int, int]]          # character span of each sentence in its utterance


def embed_utterances(encoder: TextEncoder, texts: list[str] | tuple[str, ...]) -> UtteranceEmbeddings:
    """One encoder pass over every sentence of every utterance; sentiment uses the pooled vector, cue matching the
    sentence vectors (a cue sentence is not diluted by the rest of a long turn)."""
    spans, owner, chunks = [], [], []
    for i, text in enumerate(texts):
        for span in sentence_spans(text):
            spans.append(span)
            owner.append(i)
            chunks.append(text[span[0] : span[1]])
    sentences = encoder.encode(chunks)
    weights = np.array([max(1, len(c.split())) for c in chunks], dtype=np.float32)
    owner_arr = np.array(owner, dtype=np.int64)
    pooled = np.zeros((len(texts), sentences.shape[1]), dtype=np.float32)
    if len(chunks):
        np.add.at(pooled, owner_arr, sentences * weights[:, None])
    norms = np.linalg.norm(pooled, axis=1, keepdims=True)
    pooled = pooled / np.maximum(norms, 1e-9)
    return UtteranceEmbeddings(pooled, sentences, owner_arr, spans)
