"""`callrisk corpus`: write a synthetic, labelled call corpus (text only, or rendered audio)."""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace


def register(subparsers) -> None:
    from pipeline.corpus.build import RECIPES

    recipes = "\n".join(f"  {name:22s} {r.corpus.calls:>6} calls, seed {r.corpus.seed}, {r.description}"
                        for name, r in RECIPES.items())
    parser = subparsers.add_parser(
        "corpus",
        help="generate a synthetic labelled call corpus",
        description=(
            "Generate synthetic contact-centre calls with known ground truth: metadata.csv, calls.jsonl "
            "(utterances, roles, affect, cue spans, latent outcome, true callback probability and callback "
            "label per 7/14/30-day window), corpus.json; with --audio also audio/<call_id>.wav and "
            "rttm/<call_id>.rttm. Deterministic from --seed. See docs/corpus.md."
        ),
        epilog="recipes (--recipe NAME; --calls/--seed override):\n" + recipes,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--out", required=True, help="output directory (created; existing files are replaced)")
    parser.add_argument("--recipe", choices=sorted(RECIPES), help="a named, documented corpus recipe")
    parser.add_argument("--calls", type=int, help="number of calls (rounded up to whole issue histories)")
    parser.add_argument("--seed", type=int, help="random seed (default 0)")
    parser.add_argument("--id-prefix", default=None, help="prefix of every id (default: s<seed>)")
    parser.add_argument("--audio", action="store_true", help="render audio (slow: see docs/corpus.md)")
    parser.add_argument("--stereo", action="store_true", help="two channels: agent left, customer right")
    parser.add_argument("--telephone", action="store_true",
                        help="telephone channel: 8 kHz G.711 mu-law, 300-3400 Hz band, line noise, level changes")
    parser.add_argument("--crosstalk-db", type=float, default=None,
                        help="stereo only: leak each party into the other channel at this level (e.g. -25)")
    parser.add_argument("--voices", default=None,
                        help="comma-separated voice pool (default all: piper-joe, flite-rms, flite-awb, flite-kal16, "
                             "flite-slt, festival-hts-slt); keep at least one male and one female voice")
    parser.add_argument("--short", action="store_true", help="short calls (a handful of turns)")
    parser.add_argument("--jobs", type=int, default=1, help="rendering processes (audio mode)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pipeline.corpus.build import RECIPES, write_corpus
    from pipeline.corpus.generate import CorpusOptions

    if args.recipe:
        recipe = RECIPES[args.recipe]
        options = recipe.corpus
        audio, stereo, telephone = recipe.audio or args.audio, recipe.stereo or args.stereo, \
            recipe.telephone or args.telephone
    else:
        options = CorpusOptions(calls=1000, seed=0)
        audio, stereo, telephone = args.audio, args.stereo, args.telephone
    overrides = {k: v for k, v in (("calls", args.calls), ("seed", args.seed), ("id_prefix", args.id_prefix))
                 if v is not None}
    options = replace(options, **overrides)
    if args.short:
        options = replace(options, dialogue=replace(options.dialogue, length="short"))
    if options.calls < 1:
        print("callrisk corpus: --calls must be at least 1", file=sys.stderr)
        return 2
    if (stereo or telephone or args.crosstalk_db is not None) and not audio:
        print("callrisk corpus: --stereo/--telephone/--crosstalk-db need --audio", file=sys.stderr)
        return 2
    render_options = None
    if audio:
        from pipeline.corpus.render import RenderOptions

        from pipeline.corpus.voices import VOICES

        voices = None
        if args.voices:
            voices = tuple(v.strip() for v in args.voices.split(",") if v.strip())
            known = {v.name: v.gender for v in VOICES}
            unknown = [v for v in voices if v not in known]
            if unknown or {known[v] for v in voices if v in known} != {"m", "f"}:
                print(f"callrisk corpus: --voices needs known names ({', '.join(known)}) with at least one male "
                      f"and one female voice; got {args.voices!r}", file=sys.stderr)
                return 2
        render_options = RenderOptions(stereo=stereo, telephone=telephone, crosstalk_db=args.crosstalk_db,
                                       voices=voices)
    started = time.time()
    try:
        manifest = write_corpus(args.out, options, render_options, jobs=max(1, args.jobs), recipe=args.recipe,
                                progress=_progress if sys.stderr.isatty() else None)
    except (RuntimeError, ValueError) as exc:
        print(f"callrisk corpus: {exc}", file=sys.stderr)
        return 1
    s = manifest["summary"]
    print(f"wrote {s['calls']} calls ({s['repeat_calls']} repeats, {s['customers']} customers) to {args.out} "
          f"in {time.time() - started:.1f} s; callback rate 30 d {s['callback_rate']['30']:.3f}, "
          f"best AUC 30 d {s['best_auc']['30'] if s['best_auc']['30'] is not None else 'n/a'}")
    if manifest.get("render_stats"):
        r = manifest["render_stats"]
        print(f"audio: {r['audio_seconds']:.0f} s rendered in {r['wall_seconds']:.0f} s "
              f"({r['seconds_per_audio_second']:.3f} s per audio second)")
    return 0


def _progress(done: int, total: int) -> None:
    print(f"\rrendered {done}/{total}", end="" if done < total else "\n", file=sys.stderr, flush=True)
