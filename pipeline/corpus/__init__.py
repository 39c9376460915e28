"""Synthetic, labelled contact-centre calls with known callback ground truth (see docs/corpus.md).

    from pipeline.corpus import CorpusOptions, generate_calls, write_corpus, best_auc
    write_corpus("/tmp/corpus", CorpusOptions(calls=1000, seed=7))          # text only, seconds
    best_auc("/tmp/corpus/calls.jsonl", 30)
"""

from __future__ import annotations

from pipeline.corpus.build import RECIPES, Recipe, write_corpus
from pipeline.corpus.dialogue import DialogueOptions
from pipeline.corpus.generate import CorpusOptions, generate_calls
from pipeline.corpus.io import auc, best_auc, expected_auc, labelled_calls, read_calls
from pipeline.corpus.world import WorldOptions

__all__ = [
    "RECIPES", "CorpusOptions", "DialogueOptions", "Recipe", "WorldOptions", "auc", "best_auc", "expected_auc",
    "generate_calls", "labelled_calls", "read_calls", "write_corpus",
]
