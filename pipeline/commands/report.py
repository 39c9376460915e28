"""`callrisk report`: an offline HTML page to review scored calls (sort, filter, read, listen)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pipeline.report import ReportOptions, write_report
from pipeline.writer import iter_records

DESCRIPTION = """\
Write one self-contained HTML file (no network, no CDN) for reviewing the records of `callrisk score`: a table
of calls sortable and filterable by risk, band, date, agent, reason, duration and cue, a risk distribution
chart, and per call its reasons with evidence, the transcript by role with cues highlighted, the customer's
sentiment over time and an audio player; clicking an utterance, cue or piece of evidence plays from there.
Audio is linked, not embedded: each call's file path is written relative to the report's folder, or to
--audio-root when the report will be published in that folder next to the audio. Records without risk scores
and failed calls are shown too. Exit codes: 0 ok, 1 no records in SCORES, 2 bad arguments. See docs/report.md."""


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "report", help="HTML report for reviewing scored calls", description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example: callrisk report scores.jsonl -o review/report.html --audio-root /data/calls",
    )
    parser.add_argument("scores", metavar="SCORES.jsonl", help="records written by `callrisk score`")
    parser.add_argument("-o", "--output", required=True, metavar="REPORT.html", help="the HTML file to write")
    parser.add_argument("--audio-root", metavar="DIR",
                        help="make audio paths relative to DIR instead of the report's folder "
                             "(the report is to be opened from DIR)")
    parser.add_argument("--title", default=ReportOptions.title, help="page title")
    parser.add_argument("--page-size", type=int, default=ReportOptions.page_size, metavar="N",
                        help=f"table rows per page (default {ReportOptions.page_size})")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    scores = Path(args.scores)
    if not scores.is_file():
        print(f"callrisk report: error: {scores}: no such file", file=sys.stderr)
        return 2
    if args.page_size < 1:
        print("callrisk report: error: --page-size must be at least 1", file=sys.stderr)
        return 2
    records = list(iter_records(scores))
    if not records:
        print(f"callrisk report: error: {scores} holds no records", file=sys.stderr)
        return 1
    options = ReportOptions(title=args.title, audio_root=args.audio_root, page_size=args.page_size)
    out = write_report(records, args.output, options)
    scored = sum(1 for r in records if isinstance(r.get("risk"), dict))
    failed = sum(1 for r in records if r.get("status") == "error")
    print(f"callrisk report: {len(records)} calls ({scored} with risk scores, {failed} failed) -> {out}",
          file=sys.stderr)
    return 0
