#!/usr/bin/env python
"""Evaluate diarization and speaker roles: DER (no collar and 0.25 s collar), role accuracy (share of speech time
with the right role), diarization real-time factor and peak memory (RSS), printed as a table.

Inputs:
  --sample            pyannote.audio's real 30 s two-party phone call (sample.wav + sample.rttm; no roles)
  --corpus DIR        a rendered synthetic corpus (calls.jsonl + rttm/ + audio), e.g. `callrisk corpus --recipe smoke`
  --as-mono           also evaluate each stereo corpus call mixed down to mono (model path on the same audio)

Words for the roles come from Whisper (`--words asr`, the real pipeline) or from the corpus's own utterance
texts spread over their reference times (`--words reference`, isolates diarization+roles from ASR errors).

Example:
  .venv/bin/python scripts/eval_diarization.py --sample --corpus /tmp/corpus-smoke --limit 4 --json /tmp/diar.json
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.offline import enforce_offline  # noqa: E402

enforce_offline()

from pipeline.diarize import DiarizationOptions, Diarizer, diarization_error_rate, read_rttm  # noqa: E402
from pipeline.roles import assign_roles, role_accuracy, role_map, role_turns  # noqa: E402
from pipeline.types import Audio, SpeakerTurn, Word  # noqa: E402
from pipeline.utterances import build_utterances  # noqa: E402


@dataclass
class Case:
    name: str
    audio_path: str
    reference: list[SpeakerTurn]          # speaker turns
    reference_roles: list[SpeakerTurn]    # same turns labelled with roles; empty when roles are unknown
    reference_words: list[Word]
    as_mono: bool = False
    stereo: bool = False


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def sample_case() -> Case:
    from pipeline.evaluation import pyannote_sample

    paths = pyannote_sample()
    return Case("pyannote-sample", str(paths["wav"]), read_rttm(str(paths["rttm"])), [], [])


def corpus_cases(directory: str, limit: int | None) -> list[Case]:
    root = Path(directory)
    cases = []
    with open(root / "calls.jsonl", encoding="utf-8") as handle:
        for line in handle:
            call = json.loads(line)
            if not call.get("audio"):
                continue
            path = Path(call["audio"]["path"])
            path = path if path.is_absolute() else root / path
            rttm = root / "rttm" / f"{call['call_id']}.rttm"
            reference = read_rttm(str(rttm)) if rttm.exists() else [
                SpeakerTurn(u["start"], u["end"], u["speaker"]) for u in call["utterances"]
            ]
            roles = [SpeakerTurn(u["start"], u["end"], u["role"]) for u in call["utterances"]]
            cases.append(Case(call["call_id"], str(path), reference, roles, _reference_words(call["utterances"]),
                              stereo=call["audio"].get("channels") == 2))
            if limit and len(cases) >= limit:
                break
    return cases


def _reference_words(utterances: list[dict]) -> list[Word]:
    """The reference text of each utterance, its words spread evenly over the utterance's time span."""
    words = []
    for u in sorted(utterances, key=lambda u: u["start"]):
        tokens = u["text"].split()
        step = (u["end"] - u["start"]) / max(1, len(tokens))
        words += [Word(u["start"] + i * step, u["start"] + (i + 1) * step, " " + tok, 1.0) for i, tok in enumerate(tokens)]
    return sorted(words, key=lambda w: w.start)


def load(path: str, as_mono: bool) -> Audio:
    from pipeline.audio import load_audio

    audio = load_audio(path)
    if as_mono and audio.channels == 2:
        audio = replace(audio, samples=audio.samples.mean(axis=0, keepdims=True))
    return audio


def kind_of(audio: Audio) -> str:
    rate = f"{audio.source_rate // 1000}k" if audio.source_rate % 1000 == 0 else str(audio.source_rate)
    return f"{'stereo' if audio.channels == 2 else 'mono'}-{rate}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sample", action="store_true", help="evaluate pyannote.audio's sample call")
    parser.add_argument("--corpus", action="append", default=[], help="rendered corpus directory (repeatable)")
    parser.add_argument("--limit", type=int, default=None, help="at most this many calls per corpus")
    parser.add_argument("--as-mono", action="store_true", help="also evaluate stereo corpus calls mixed to mono")
    parser.add_argument("--words", choices=("asr", "reference"), default="asr", help="word source for roles")
    parser.add_argument("--segmentation-step", type=float, default=DiarizationOptions.segmentation_step)
    parser.add_argument("--edge-trim-db", type=float, default=DiarizationOptions.edge_trim_db,
                        help="mono: trim turn edges out of frames this close to the noise floor (0 = off)")
    parser.add_argument("--num-speakers", type=int, default=2, help="0 = automatic")
    parser.add_argument("--channel-map", choices=("fixed", "auto"), default="fixed",
                        help="stereo: agent=0/customer=1 (fixed) or roles from the words (auto)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0 = torch default)")
    parser.add_argument("--json", help="write per-call results here")
    args = parser.parse_args(argv)

    cases = [sample_case()] if args.sample else []
    for directory in args.corpus:
        found = corpus_cases(directory, args.limit)
        cases += found
        if args.as_mono:
            cases += [replace(c, name=c.name + "+mono", as_mono=True) for c in found if c.stereo]
    if not cases:
        parser.error("nothing to evaluate: give --sample and/or --corpus DIR")
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)

    options = DiarizationOptions(
        num_speakers=args.num_speakers or None,
        segmentation_step=args.segmentation_step,
        edge_trim_db=args.edge_trim_db,
        channel_map="auto" if args.channel_map == "auto" else {"agent": 0, "customer": 1},
    )
    diarizer = Diarizer(options)
    audios = {id(c): load(c.audio_path, c.as_mono) for c in cases}
    # Stereo first: its peak memory is measured before the mono models are loaded.
    cases.sort(key=lambda c: audios[id(c)].channels != 2)
    load_s = None
    runs = {}
    for case in cases:
        if load_s is None and audios[id(case)].channels == 1:
            start = time.perf_counter()
            diarizer.load()  # timed apart: real-time factors are per call, with the models loaded
            load_s = time.perf_counter() - start
        start = time.perf_counter()
        diarization = diarizer.diarize(audios[id(case)])
        runs[id(case)] = (diarization, time.perf_counter() - start, peak_rss_mb())

    rows = []

    transcriber = None
    for case in cases:
        audio = audios[id(case)]
        diarization, elapsed, rss = runs[id(case)]
        duration = audio.duration_s
        row = {
            "input": case.name, "kind": kind_of(audio), "method": diarization.method,
            "duration_s": round(duration, 1), "speakers": len(diarization.speakers),
            "der": diarization_error_rate(case.reference, diarization.turns, 0.0, duration),
            "der_collar_0.25": diarization_error_rate(case.reference, diarization.turns, 0.25, duration),
            "rtf": elapsed / duration, "seconds": elapsed, "peak_rss_mb": rss,
            "role_accuracy": None,
        }
        if case.reference_roles:
            if args.words == "asr":
                if transcriber is None:
                    from pipeline.asr import Transcriber

                    transcriber = Transcriber()
                words = transcriber.transcribe(audio.mono()).words
            else:
                words = case.reference_words
            utterances = build_utterances(words, diarization.turns)
            roles = role_map(assign_roles(utterances, diarization))
            row["role_accuracy"] = role_accuracy(case.reference_roles, role_turns(diarization.turns, roles))
            row["roles"] = roles
        rows.append(row)
    print_table(rows)
    if load_s is not None:
        print(f"mono model load: {load_s:.1f} s (not in RTF); peak RSS of the whole run: {peak_rss_mb():.0f} MB")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2) + "\n")
    return 0


def print_table(rows: list[dict]) -> None:
    header = f"{'input':<28} {'kind':<10} {'method':<16} {'dur s':>6} {'spk':>3} {'DER':>6} {'DER.25':>6} " \
             f"{'roles':>6} {'RTF':>6} {'RSS MB':>7}"
    print(header)
    print("-" * len(header))
    for r in rows:
        roles = "  n/a" if r["role_accuracy"] is None else f"{100 * r['role_accuracy']:5.1f}%"
        print(f"{r['input'][:28]:<28} {r['kind']:<10} {r['method']:<16} {r['duration_s']:>6.1f} {r['speakers']:>3} "
              f"{100 * r['der']:5.1f}% {100 * r['der_collar_0.25']:5.1f}% {roles:>6} {r['rtf']:6.3f} "
              f"{r['peak_rss_mb']:7.0f}")
    by_kind: dict[str, list[dict]] = {}
    for r in rows:
        by_kind.setdefault(f"{r['kind']} {r['method']}", []).append(r)
    print("-" * len(header))
    for kind, group in sorted(by_kind.items()):
        total = sum(r["duration_s"] for r in group)
        roles = [r for r in group if r["role_accuracy"] is not None]
        mean = lambda key: sum(r[key] * r["duration_s"] for r in group) / total  # noqa: E731
        role_text = (f"{100 * sum(r['role_accuracy'] * r['duration_s'] for r in roles) / sum(r['duration_s'] for r in roles):5.1f}%"
                     if roles else "  n/a")
        print(f"{'ALL ' + kind:<55} {total:>6.0f}     {100 * mean('der'):5.1f}% {100 * mean('der_collar_0.25'):5.1f}% "
              f"{role_text:>6} {sum(r['seconds'] for r in group) / total:6.3f} {max(r['peak_rss_mb'] for r in group):7.0f}")


if __name__ == "__main__":
    sys.exit(main())
