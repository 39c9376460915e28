"""`callrisk metrics`: Repeat Call Rate and First Contact Resolution from call metadata."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pipeline.callmetrics import GROUP_BY, MetricsOptions, compute_metrics, format_metrics_table
from pipeline.commands.label import add_labelling_arguments, labelled_calls_from_args

DESCRIPTION = """\
Repeat Call Rate (RCR % = repeat calls / calls x 100) and First Contact Resolution (FCR % = issues resolved
on first contact / issues with a known outcome x 100), overall and by reason, agent or ISO week. Calls are
linked as in `callrisk label` (same options). An issue is a chain of linked calls; it is resolved on first
contact when it has one call and that call's whole window was observed; one-call issues whose window reaches
past the end of the data are censored and left out of FCR. Prints an aligned table; -o also writes CSV.
Exit codes: 0 ok, 1 unusable metadata, 2 bad arguments. See docs/labels_and_metrics.md."""


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "metrics", help="repeat call rate (RCR) and first contact resolution (FCR)", description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example: callrisk metrics calls.csv --window 7 --by reason agent week -o metrics.csv",
    )
    add_labelling_arguments(parser)
    parser.add_argument("--by", nargs="+", choices=GROUP_BY, default=[], metavar="GROUP",
                        help="breakdowns besides the overall row: reason, agent and/or week (ISO week in --timezone)")
    parser.add_argument("-o", "--output", metavar="OUT.csv", help="also write the table as CSV")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    result = labelled_calls_from_args(args, "metrics")
    if isinstance(result, int):
        return result
    labels, options = result
    try:
        metrics = compute_metrics(labels, MetricsOptions(by=tuple(args.by), week_timezone=options.default_timezone))
    except ValueError as exc:
        print(f"callrisk metrics: error: {exc} ({args.metadata})", file=sys.stderr)
        return 1
    print(format_metrics_table(metrics))
    if args.output:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        metrics.to_csv(args.output, index=False, float_format="%.3f")
    return 0
