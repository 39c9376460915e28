#!/usr/bin/env python
"""Benchmark the pipeline end to end: real-time factor per stage, calls per hour, peak memory, accuracy,
and a naive baseline in the same run.

    .venv/bin/python scripts/bench.py                       # default inputs, 1 repeat, with the baseline
    .venv/bin/python scripts/bench.py --repeat 3 --set asr.beam_size=5 --no-baseline
    .venv/bin/python scripts/bench.py --inputs my_calls/*.wav --markdown

Default inputs (named in the table): the real 30 s two-party phone call shipped with pyannote.audio (its STM
gives WER), and synthetic calls from the project's corpus generator, rendered once into out/bench/: mono 16 kHz,
and stereo 8 kHz G.711 telephone (agent left, customer right).

Real-time factor (RTF) = processing seconds / audio seconds (lower is faster); medians over repeats. Stage
times overlap when ASR and diarization run side by side (batch.overlap_stages), so "total" is the wall time
per call, not the sum of the stages. The naive baseline is what a typical script does: per file, load
faster-whisper (tiny.en, default options) and transcribe, then load pyannote's diarization pipeline and run
it; models are reloaded for every file. The machine is shared and noisy: compare ratios within one run.
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

import numpy as np  # noqa: E402

from pipeline.audio import load_audio  # noqa: E402
from pipeline.cli import main as callrisk  # noqa: E402
from pipeline.config import load_config  # noqa: E402
from pipeline.evaluation import pyannote_sample, read_stm, word_error_rate  # noqa: E402
from pipeline.diarize import DiarizationOptions  # noqa: E402
from pipeline.process import CallProcessor  # noqa: E402
from pipeline.types import CallInput  # noqa: E402

BENCH_DIR = Path("out/bench")


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def corpus_calls(kind: str, calls: int) -> list[Path]:
    """Rendered synthetic calls (cached in out/bench/<kind>)."""
    out = BENCH_DIR / kind
    if not (out / "metadata.csv").is_file():
        extra = ["--stereo", "--telephone", "--crosstalk-db", "-25"] if kind == "stereo-telephone" else []
        seed = "31" if kind == "stereo-telephone" else "21"
        if callrisk(["corpus", "--out", str(out), "--calls", str(calls), "--seed", seed, "--audio", *extra]) != 0:
            raise SystemExit(f"could not render the {kind} bench calls")
    return sorted((out / "audio").glob("*.wav"))[:calls]


def named_inputs(paths: list[str], corpus: int) -> list[tuple[str, list[Path], str | None]]:
    """(name, audio files, reference text or None)."""
    if paths:
        return [(Path(p).stem, [Path(p)], None) for p in paths]
    sample = pyannote_sample()
    inputs = [("pyannote sample (real phone, mono)", [sample["wav"]], read_stm(sample["stm"]))]
    if corpus:
        inputs.append((f"synthetic mono 16 kHz ({corpus} calls)", corpus_calls("mono", corpus), None))
        inputs.append((f"synthetic stereo 8 kHz telephone ({corpus} calls)", corpus_calls("stereo-telephone", corpus), None))
    return inputs


def naive_baseline(files: list[Path]) -> float:
    """Seconds to process `files` the naive way: every model reloaded for every file, library defaults
    (faster-whisper's beam 5, pyannote's segmentation step of 0.1 window), one stage after the other."""
    from faster_whisper import WhisperModel

    from pipeline.diarize import build_pyannote_pipeline
    from pipeline.registry import resolve_model

    import torch

    start = time.perf_counter()
    for path in files:
        audio = load_audio(str(path))
        whisper = WhisperModel(str(resolve_model("tiny.en")), device="cpu", compute_type="int8")
        segments, _ = whisper.transcribe(audio.mono(), word_timestamps=True)
        _ = [s.text for s in segments]
        pipeline = build_pyannote_pipeline(DiarizationOptions())
        pipeline({"waveform": torch.from_numpy(audio.mono())[None], "sample_rate": 16000}, num_speakers=2)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--inputs", nargs="*", default=[], help="audio files (default: the named inputs above)")
    parser.add_argument("--corpus-calls", type=int, default=3, help="synthetic calls per kind (0: none)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per input; medians are reported")
    parser.add_argument("--set", action="append", default=[], dest="overrides", metavar="KEY=VALUE")
    parser.add_argument("--baseline", action=argparse.BooleanOptionalAction, default=True,
                        help="also time the naive baseline on the mono inputs (default: on)")
    parser.add_argument("--markdown", action="store_true", help="print Markdown tables (for the README)")
    args = parser.parse_args()

    config = load_config(overrides=args.overrides)
    t0 = time.perf_counter()
    processor = CallProcessor(config)
    processor.load_models()
    load_s = time.perf_counter() - t0
    rows, mono_files, pipeline_mono_s = [], [], 0.0
    for name, files, reference in named_inputs(args.inputs, args.corpus_calls):
        stage_rtf: dict[str, list[float]] = {}
        totals, audio_s, wers = [], 0.0, []
        for path in files:
            call = CallInput(path.stem, str(path))
            runs = []
            for _ in range(args.repeat):
                t = time.perf_counter()
                record = processor.process(call)
                runs.append(time.perf_counter() - t)
                if record["status"] != "ok":
                    print(f"{name}: {record['error']}", file=sys.stderr)
                    return 1
            duration = record["audio"]["duration_s"]
            for stage, seconds in record["timing_s"].items():
                stage_rtf.setdefault(stage, []).append(seconds / duration)
            totals.append(statistics.median(runs))
            audio_s += duration
            if reference is not None:
                wers.append(word_error_rate(reference, record["transcript"]["text"]))
            if record["audio"]["channels"] == 1:
                mono_files.append(path)
                pipeline_mono_s += statistics.median(runs)
        rtf = {stage: float(np.median(v)) for stage, v in stage_rtf.items()}
        total_rtf = sum(totals) / audio_s
        rows.append((name, audio_s, rtf, total_rtf, 3600 / (sum(totals) / len(files)), wers[0] if wers else None))

    stages = [s for s in ("decode", "asr", "diarize", "utterances", "cues", "risk") if any(s in r[2] for r in rows)]
    header = ["input", "audio s", *[f"RTF {s}" for s in stages], "RTF total", "calls/h", "WER"]
    table = [[name, f"{dur:.0f}", *[f"{rtf.get(s, 0):.3f}" for s in stages], f"{total:.3f}", f"{cph:.0f}",
              "-" if wer is None else f"{wer:.3f}"] for name, dur, rtf, total, cph, wer in rows]
    asr = config["asr"]
    print(f"asr {asr['model']} {asr['compute_type']} beam {asr['beam_size']}; diarization step "
          f"{config['diarization']['segmentation_step']}; overlap_stages {config['batch']['overlap_stages']}; "
          f"model load {load_s:.1f} s; peak RSS {peak_rss_mib():.0f} MiB; medians of {args.repeat} run(s)")
    print_table(header, table, args.markdown)

    if args.baseline and mono_files:
        naive_s = naive_baseline(mono_files)
        print(f"\nnaive baseline on the same {len(mono_files)} mono files (models reloaded per file): "
              f"{naive_s:.1f} s vs callrisk {pipeline_mono_s:.1f} s (callrisk also runs roles, cues and risk) -> "
              f"throughput ratio {naive_s / pipeline_mono_s:.2f}x")
    return 0


def print_table(header: list[str], table: list[list[str]], markdown: bool) -> None:
    if markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
        for row in table:
            print("| " + " | ".join(row) + " |")
        return
    widths = [max(len(h), *(len(r[i]) for r in table)) for i, h in enumerate(header)]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths)))
    for row in table:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)))


if __name__ == "__main__":
    sys.exit(main())
