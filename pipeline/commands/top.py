"""`callrisk top`: the riskiest calls and why, as an aligned table in the terminal."""

from __future__ import annotations

import argparse
import sys
import unicodedata
from pathlib import Path
from typing import Any, Mapping

from pipeline.writer import iter_records

DESCRIPTION = """\
Print the N calls with the highest callback risk in SCORES (records of `callrisk score`), riskiest first (ties
by call id), with call id, risk, band, agent, contact reason and, below each, its top reasons with the time of
the first piece of evidence. Calls without a risk score and failed calls are counted in the last line but
not listed. Exit codes: 0 ok (also when --band leaves no call), 1 when no record in SCORES has a risk score
(nothing to rank: score the calls with a risk model first), 2 bad arguments."""

BANDS = ("low", "medium", "high")
COLUMNS = ("#", "call_id", "risk", "band", "agent", "reason")


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "top", help="the riskiest calls and their reasons", description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example: callrisk top scores.jsonl -n 20 --band high",
    )
    parser.add_argument("scores", metavar="SCORES.jsonl", help="records written by `callrisk score`")
    parser.add_argument("-n", type=int, default=20, metavar="N", help="how many calls (default 20)")
    parser.add_argument("--band", choices=BANDS, help="only calls in this risk band")
    parser.add_argument("--reasons", type=int, default=3, metavar="K", help="reasons shown per call (default 3, 0: none)")
    parser.set_defaults(func=run)


def printable(value: Any, limit: int = 60) -> str:
    """One line of visible text: control characters (escape sequences, newlines) from the data are dropped."""
    text = "" if value is None else str(value)
    text = "".join(" " if ch in "\t\n\r" else ch for ch in text if unicodedata.category(ch)[0] != "C" or ch in "\t\n\r")
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def _clock(seconds: Any) -> str:
    if not isinstance(seconds, (int, float)):
        return "?"
    minutes, sec = divmod(float(seconds), 60)
    return f"{int(minutes)}:{sec:04.1f}"


def scored(record: Mapping[str, Any]) -> bool:
    risk = record.get("risk")
    return isinstance(risk, Mapping) and isinstance(risk.get("risk"), (int, float))


def rank(records: list[Mapping[str, Any]], n: int, band: str | None = None) -> list[Mapping[str, Any]]:
    chosen = [r for r in records if scored(r) and (band is None or r["risk"].get("band") == band)]
    chosen.sort(key=lambda r: (-float(r["risk"]["risk"]), str(r.get("call_id"))))
    return chosen[:n]


def format_top(rows: list[Mapping[str, Any]], reasons: int = 3) -> str:
    table = [COLUMNS]
    for i, r in enumerate(rows, start=1):
        table.append((str(i), printable(r.get("call_id"), 40), f"{float(r['risk']['risk']):.3f}",
                      printable(r["risk"].get("band"), 8), printable(r.get("agent_id"), 20) or "-",
                      printable(r.get("reason"), 30) or "-"))
    widths = [max(len(row[j]) for row in table) for j in range(len(COLUMNS))]
    right = {0, 2}   # numbers right-aligned

    def line(row: tuple[str, ...]) -> str:
        return "  ".join(cell.rjust(w) if j in right else cell.ljust(w) for j, (cell, w) in enumerate(zip(row, widths))).rstrip()

    out = [line(table[0]), line(tuple("-" * w for w in widths))]
    indent = " " * (widths[0] + 2)
    for row, record in zip(table[1:], rows):
        out.append(line(row))
        for reason in (record["risk"].get("reasons") or [])[:reasons]:
            weight = reason.get("weight")
            sign = "+" if isinstance(weight, (int, float)) and weight > 0 else "-"
            evidence = reason.get("evidence") or []
            where = ""
            if evidence:
                first = evidence[0]
                said = first.get("evidence") or first.get("text")   # the cue's own words when it has them
                where = f"  @{_clock(first.get('start'))} \"{printable(said, 50)}\""
            out.append(f"{indent}{sign} {printable(reason.get('text'), 80)}{where}")
    return "\n".join(out)


def run(args: argparse.Namespace) -> int:
    scores = Path(args.scores)
    if not scores.is_file():
        print(f"callrisk top: error: {scores}: no such file", file=sys.stderr)
        return 2
    if args.n < 1 or args.reasons < 0:
        print("callrisk top: error: -n must be at least 1 and --reasons at least 0", file=sys.stderr)
        return 2
    records = list(iter_records(scores))
    n_scored = sum(1 for r in records if scored(r))
    failed = sum(1 for r in records if r.get("status") == "error")
    if not n_scored:
        print(f"callrisk top: no risk scores in {scores} ({len(records)} records, {failed} failed): nothing to rank. "
              "Score the calls with a risk model first.", file=sys.stderr)
        return 1
    rows = rank(records, args.n, args.band)
    if rows:
        print(format_top(rows, args.reasons))
    band = f" in band {args.band}" if args.band else ""
    print(f"\n{len(rows)} of {n_scored} scored calls shown{band}; {len(records) - n_scored - failed} without a risk "
          f"score and {failed} failed not listed.")
    return 0
