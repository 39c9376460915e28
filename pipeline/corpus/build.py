"""Build a corpus directory: generate the calls, render audio when asked, write the ground truth.

Also holds the named recipes (sizes, seeds, modes) so the default train/eval corpora are reproducible.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from typing import Callable

from pipeline.corpus.dialogue import DialogueOptions
from pipeline.corpus.generate import CorpusOptions, generate_calls
from pipeline.corpus.io import GENERATOR_VERSION, CorpusWriter, summary


@dataclass(frozen=True)
class Recipe:
    description: str
    corpus: CorpusOptions
    audio: bool = False
    stereo: bool = False
    telephone: bool = False


# Train and eval corpora use different seeds and id prefixes, so no customer, agent or call id is shared.
# Training recipes never use the held-out phrasings; "eval" corpora mix seen and unseen phrasings (about one in
# five phrasings of the larger banks is unseen); "eval-unseen" uses only the held-out ones where a bank has them.
_TRAIN = DialogueOptions(phrase_split="train")
RECIPES: dict[str, Recipe] = {
    "train": Recipe("text-only training corpus",
                    CorpusOptions(calls=20_000, seed=1001, id_prefix="tr", dialogue=_TRAIN)),
    "eval": Recipe("text-only held-out corpus", CorpusOptions(calls=5_000, seed=2002, id_prefix="ev")),
    "eval-unseen": Recipe("text-only held-out corpus in held-out phrasings",
                          CorpusOptions(calls=5_000, seed=2012, id_prefix="evu",
                                        dialogue=DialogueOptions(phrase_split="heldout"))),
    "train-audio": Recipe("rendered training calls (mono 16 kHz)",
                          CorpusOptions(calls=200, seed=1101, id_prefix="tra", dialogue=_TRAIN), audio=True),
    "eval-audio": Recipe("rendered held-out calls (mono 16 kHz)",
                         CorpusOptions(calls=100, seed=2202, id_prefix="eva"), audio=True),
    "eval-audio-telephone": Recipe("rendered held-out calls, stereo 8 kHz G.711 telephone channel",
                                   CorpusOptions(calls=100, seed=2303, id_prefix="evt"),
                                   audio=True, stereo=True, telephone=True),
    "smoke": Recipe("a few short rendered calls for quick checks",
                    CorpusOptions(calls=4, seed=7, id_prefix="smk", dialogue=DialogueOptions(length="short")),
                    audio=True),
}


def write_corpus(out_dir: str | os.PathLike, options: CorpusOptions, render_options=None, jobs: int = 1,
                 recipe: str | None = None, progress: Callable[[int, int], None] | None = None) -> dict:
    """Generate and write a corpus; with `render_options` (a render.RenderOptions) also render the audio.
    Returns the manifest written to corpus.json."""
    plans = generate_calls(options)
    writer = CorpusWriter(out_dir, audio=render_options is not None)
    render_stats = None
    if render_options is None:
        for plan in plans:
            writer.add(plan)
    else:
        from pipeline.corpus.render import render_all   # audio dependencies only when rendering

        render_stats = render_all(plans, render_options, out_dir, writer, jobs=jobs, progress=progress)
    manifest = {
        "generator_version": GENERATOR_VERSION,
        "recipe": recipe,
        "options": _jsonable(asdict(options)),
        "render": _jsonable(asdict(render_options)) if render_options is not None else None,
        "render_stats": render_stats,
        "summary": summary(plans),
    }
    writer.close(manifest)
    return manifest


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value
