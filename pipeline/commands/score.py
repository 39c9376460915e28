"""`callrisk score`: audio files, folders or a manifest CSV -> one JSON line per call."""

from __future__ import annotations

import argparse
import sys

from pipeline.commands.common import add_config_arguments, config_from_args
from pipeline.config import ConfigError, section
from pipeline.inputs import InputError, InputOptions, discover
from pipeline.registry import ModelNotFoundError
from pipeline.writer import OutputBusyError

DESCRIPTION = """\
Transcribe and score recorded calls. INPUT may be audio files (WAV incl. G.711 u-law/A-law, FLAC, OGG, MP3),
folders (searched recursively for input.extensions) or a manifest CSV with a `path` column (relative to the
manifest's folder), an optional `call_id` and metadata columns (customer_id, agent_id, started_at, ticket_id,
reason, ...) that are copied to the output. Writes one JSON object per call to OUTPUT (JSON Lines). Calls
already in OUTPUT with the same audio and settings are skipped, so an interrupted run can simply be started
again. A call that fails gets a record with status "error"; the exit code is 1 when any call failed."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "score", help="transcribe and score calls into JSON Lines", description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("inputs", nargs="+", metavar="INPUT", help="audio file, folder or manifest .csv")
    parser.add_argument("-o", "--output", required=True, metavar="OUTPUT", help="JSONL file to append to")
    add_config_arguments(parser)
    parser.add_argument("--engine", choices=("local", "ray"), help="where calls run (default: batch.engine, local)")
    parser.add_argument("--workers", type=int, metavar="N", help="worker processes / Ray actors (default: batch.workers)")
    parser.add_argument("--overwrite", action="store_true", help="start OUTPUT afresh instead of resuming")
    parser.add_argument("--retry-failed", action="store_true", help="redo calls whose earlier record is an error")
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                        help="progress bar on stderr (default: only when stderr is a terminal)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pipeline.batch import run_batch  # imports the ML stack: keep --help fast
    from pipeline.process import check_config

    try:
        config = config_from_args(args)
        if args.engine:
            config["batch"]["engine"] = args.engine
        if args.workers is not None:
            config["batch"]["workers"] = args.workers
        calls, problems = discover(args.inputs, section(config, "input", InputOptions))
        check_config(config)
    except (ConfigError, InputError, ModelNotFoundError) as exc:
        print(f"callrisk score: error: {exc}", file=sys.stderr)
        return 2
    try:
        summary = run_batch(config, calls, problems, args.output, args.overwrite, args.retry_failed, args.progress)
    except OutputBusyError as exc:
        print(f"callrisk score: error: {exc}", file=sys.stderr)
        return 2
    print(f"callrisk score: {summary.line()} -> {args.output}", file=sys.stderr)
    for message in summary.failures[:20]:
        print(f"  failed: {message}", file=sys.stderr)
    if len(summary.failures) > 20:
        print(f"  ... and {len(summary.failures) - 20} more (see status=error records)", file=sys.stderr)
    return 1 if summary.any_failed else 0
