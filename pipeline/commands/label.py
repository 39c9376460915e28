"""`callrisk label`: callback labels (repeat calls within 7/14/30 days) from call metadata."""

from __future__ import annotations

import argparse
import sys

import pandas as pd

from pipeline.commands.common import add_config_arguments, config_from_args
from pipeline.labels import (
    LINK_BY,
    LabelOptions,
    MetadataError,
    label_calls,
    label_columns,
    load_metadata,
    write_labels,
)
from pipeline.vocab import CALLBACK_WINDOWS_DAYS

DESCRIPTION = """\
Link calls of the same customer (and the same ticket or reason, with --link-by) over time and write, for
each window W: is_repeat_<W>d (1 if the previous linked call was at most W days before), repeat_of_<W>d,
callback_<W>d (where the whole window was observed: 1 if a linked call followed within W days, else 0; empty
when the window reaches past the end of the data or --as-of: censored, not negative) and issue_<W>d
(the first call of the chain). Metadata columns: call_id, customer_id, started_at (ISO 8601; naive times are
read in --timezone), optional ticket_id, reason, agent_id. Bad rows are skipped with a warning naming each
row and cause (--strict: fail instead). Exit codes: 0 ok, 1 unusable metadata, 2 bad arguments.
See docs/labels_and_metrics.md."""


def add_labelling_arguments(parser: argparse.ArgumentParser) -> None:
    """The linking options shared by `label` and `metrics`."""
    parser.add_argument("metadata", help="call metadata, .csv or .parquet")
    parser.add_argument(
        "--window", type=int, nargs="+", choices=CALLBACK_WINDOWS_DAYS, default=None,
        metavar="DAYS", help="repeat window(s) in days: 7, 14 and/or 30 (default: labels.windows_days, all three)",
    )
    parser.add_argument(
        "--link-by", choices=LINK_BY, default=None,
        help="calls are linked by customer_id, plus ticket_id or reason if chosen (default: labels.link_by, customer)",
    )
    parser.add_argument(
        "--as-of", metavar="DATETIME",
        help="end of the observation period (ISO 8601); later calls are ignored (default: the latest call)",
    )
    parser.add_argument(
        "--timezone", default=None, metavar="TZ",
        help="IANA time zone of started_at values without an offset (default: labels.default_timezone, UTC)",
    )
    parser.add_argument("--strict", action="store_true", default=None,
                        help="fail on any bad metadata row instead of skipping it (default: labels.strict)")
    add_config_arguments(parser)


def label_options_from_args(args: argparse.Namespace) -> LabelOptions:
    """Flags win over the config's `labels` section, which wins over the built-in defaults."""
    defaults = config_from_args(args)["labels"]
    return LabelOptions(
        window_days=tuple(args.window or defaults["windows_days"]),
        link_by=args.link_by or defaults["link_by"],
        as_of=args.as_of,
        default_timezone=args.timezone or defaults["default_timezone"],
        strict=defaults["strict"] if args.strict is None else args.strict,
    )


def labelled_calls_from_args(args: argparse.Namespace, command: str) -> tuple[pd.DataFrame, LabelOptions] | int:
    """Load and label the metadata; returns (labels, options) or an exit code after printing the error."""
    try:
        options = label_options_from_args(args)
    except ValueError as exc:  # ConfigError included
        print(f"callrisk {command}: error: {exc}", file=sys.stderr)
        return 2
    try:
        return label_calls(load_metadata(args.metadata), options), options
    except MetadataError as exc:
        print(f"callrisk {command}: error: {exc}", file=sys.stderr)
        return 1


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "label", help="callback labels from call metadata", description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example: callrisk label calls.csv -o labels.csv --window 7 30 --link-by customer+ticket",
    )
    add_labelling_arguments(parser)
    parser.add_argument("-o", "--output", required=True, metavar="LABELS.csv",
                        help="where to write the labels (.csv, or .parquet)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    result = labelled_calls_from_args(args, "label")
    if isinstance(result, int):
        return result
    labels, options = result
    write_labels(labels, args.output)
    skipped = len(labels.attrs["skipped_rows"])
    print(f"labelled {len(labels)} calls -> {args.output}"
          + (f" ({skipped} bad row(s) skipped, see warnings)" if skipped else ""))
    for window in options.windows:
        _, _, callback, _ = label_columns(window)
        counts = labels[callback].value_counts(dropna=False)
        print(f"  {window}d: {int(counts.get(1, 0))} followed by a repeat, {int(counts.get(0, 0))} not, "
              f"{int(labels[callback].isna().sum())} censored")
    return 0
