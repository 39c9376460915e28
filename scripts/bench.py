#!/usr/bin/env python
"""Benchmark the pipeline: real-time factor per stage, peak memory and accuracy on named inputs.

    .venv/bin/python scripts/bench.py                      # the pyannote.audio sample call, 3 repeats
    .venv/bin/python scripts/bench.py --repeat 5 --set asr.beam_size=5
    .venv/bin/python scripts/bench.py --inputs my_calls/*.wav --markdown

Real-time factor (RTF) = processing seconds / audio seconds (lower is faster); medians over repeats. Peak
memory is the process's maximum resident set size. WER is computed where a reference transcript exists
(the pyannote sample's STM). The machine is shared and noisy: compare ratios within one run.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from pathlib import Path

from pipeline.offline import enforce_offline

enforce_offline()

from pipeline.config import load_config  # noqa: E402
from pipeline.evaluation import pyannote_sample, read_stm, word_error_rate  # noqa: E402
from pipeline.process import CallProcessor  # noqa: E402
from pipeline.types import CallInput  # noqa: E402


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def named_inputs(paths: list[str]) -> list[tuple[str, Path, str | None]]:
    """(name, audio path, reference text or None)."""
    if paths:
        return [(Path(p).stem, Path(p), None) for p in paths]
    sample = pyannote_sample()
    return [("pyannote-sample (real phone, 30 s)", sample["wav"], read_stm(sample["stm"]))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--inputs", nargs="*", default=[], help="audio files (default: the pyannote sample call)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per input; medians are reported")
    parser.add_argument("--set", action="append", default=[], dest="overrides", metavar="KEY=VALUE")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table (for the README)")
    args = parser.parse_args()

    config = load_config(overrides=args.overrides)
    start = time.perf_counter()
    processor = CallProcessor(config)
    processor.load_models()
    load_s = time.perf_counter() - start
    rows = []
    for name, path, reference in named_inputs(args.inputs):
        call = CallInput(Path(path).stem, str(path))
        stage_runs: dict[str, list[float]] = {}
        total_runs, wer = [], None
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            record = processor.process(call)
            total_runs.append(time.perf_counter() - t0)
            if record["status"] != "ok":
                print(f"{name}: {record['error']}", file=sys.stderr)
                return 1
            for stage, seconds in record["timing_s"].items():
                stage_runs.setdefault(stage, []).append(seconds)
        duration = record["audio"]["duration_s"]
        if reference is not None:
            wer = word_error_rate(reference, record["transcript"]["text"])
        rtf = {stage: statistics.median(v) / duration for stage, v in stage_runs.items()}
        rows.append((name, duration, rtf, statistics.median(total_runs) / duration, wer))

    stages = sorted({s for row in rows for s in row[2]}, key=lambda s: list(rows[0][2]).index(s) if s in rows[0][2] else 99)
    header = ["input", "audio s", *[f"RTF {s}" for s in stages], "RTF total", "WER"]
    table = [
        [name, f"{dur:.1f}", *[f"{rtf.get(s, 0):.3f}" for s in stages], f"{total:.3f}", "-" if wer is None else f"{wer:.3f}"]
        for name, dur, rtf, total, wer in rows
    ]
    asr = config["asr"]
    print(f"asr: {asr['model']} {asr['compute_type']} beam {asr['beam_size']} threads {asr['cpu_threads']}; "
          f"model load {load_s:.1f} s; peak RSS {peak_rss_mib():.0f} MiB; medians of {args.repeat} runs")
    if args.markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
        for row in table:
            print("| " + " | ".join(row) + " |")
    else:
        widths = [max(len(h), *(len(r[i]) for r in table)) for i, h in enumerate(header)]
        print("  ".join(h.ljust(w) for h, w in zip(header, widths)))
        for row in table:
            print("  ".join(c.ljust(w) for c, w in zip(row, widths)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
