"""Screenshot of the `callrisk report` page for a scores file, with one call opened (for the README).

    python scripts/report_screenshot.py scores.jsonl -o docs/report.png [--call ID] [--size 1500x1200]

Renders the report into a temporary folder and has headless Chromium (Debian's `chromium`) save a PNG; the
call shown is --call, else the riskiest call (the first call when there are no risk scores). Nothing is
fetched from the network.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.report import ReportOptions, write_report  # noqa: E402
from pipeline.writer import iter_records  # noqa: E402

CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--hide-scrollbars", "--mute-audio")


def pick_call(records: list[dict]) -> str:
    scored = [r for r in records if isinstance(r.get("risk"), dict)]
    if scored:
        return max(scored, key=lambda r: (r["risk"].get("risk", 0), len(r.get("utterances") or [])))["call_id"]
    ok = [r for r in records if r.get("status") == "ok"] or records
    return ok[0]["call_id"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scores", help="records written by `callrisk score`")
    parser.add_argument("-o", "--output", required=True, help="PNG to write")
    parser.add_argument("--call", help="call id to open (default: the riskiest)")
    parser.add_argument("--size", default="1500x1200", help="window WIDTHxHEIGHT in CSS pixels (default 1500x1200)")
    parser.add_argument("--title", default=ReportOptions.title)
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    args = parser.parse_args(argv)
    if not Path(args.scores).is_file():
        print(f"{args.scores}: no such file", file=sys.stderr)
        return 1
    records = list(iter_records(Path(args.scores)))
    if not records:
        print(f"{args.scores}: no records", file=sys.stderr)
        return 1
    width, height = (int(v) for v in args.size.lower().split("x"))
    call_id = args.call or pick_call(records)
    out = Path(args.output).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="callrisk-shot-") as tmp:
        page = write_report(records, Path(tmp) / "report.html", ReportOptions(title=args.title))
        command = [args.chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp}/profile", f"--window-size={width},{height}",
                   "--virtual-time-budget=3000", f"--screenshot={out}",
                   page.as_uri() + "#call=" + quote(call_id, safe="")]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    if done.returncode != 0 or not out.exists():
        print(f"chromium failed ({done.returncode}): {done.stderr[-2000:]}", file=sys.stderr)
        return 1
    print(f"{out} ({width}x{height}, call {call_id})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
