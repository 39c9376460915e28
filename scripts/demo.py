#!/usr/bin/env python
"""The demo behind `make demo`: score the bundled example calls and show what came out.

Inputs: the real 30 s two-party phone call shipped inside pyannote.audio, and four short synthetic
contact-centre calls rendered by the project's corpus generator (`callrisk corpus --recipe smoke`, seeded, so
the same calls every time) with their metadata CSV used as the manifest. Writes scores.jsonl and the QA
report (report.html) into --out and prints the riskiest calls.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pipeline.offline import enforce_offline

enforce_offline()

from pipeline.cli import main as callrisk  # noqa: E402
from pipeline.evaluation import pyannote_sample  # noqa: E402
from pipeline.writer import iter_records  # noqa: E402


def summarize(record: dict) -> dict:
    summary = {k: record.get(k) for k in ("call_id", "status", "customer_id", "reason")}
    if record["status"] != "ok":
        summary["error"] = record["error"]
        return summary
    summary["duration_s"] = record["audio"]["duration_s"]
    summary["speakers"] = {s["speaker"]: s["role"] for s in record.get("speakers", [])}
    if "risk" in record:
        summary["risk"] = {k: record["risk"][k] for k in ("risk", "band")}
        summary["reasons"] = [r["text"] for r in record["risk"]["reasons"]]
    utterances = record.get("utterances", [])
    summary["first_utterances"] = [f'{u["role"]}: {u["text"]}' for u in utterances[:3]]
    summary["cues"] = sorted({c["label"] for u in utterances for c in u.get("cues", [])})
    return summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="out/demo", help="output folder (default: out/demo)")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    corpus = out / "corpus"
    if not (corpus / "metadata.csv").is_file():
        print(f"demo: rendering 4 short synthetic calls into {corpus}", file=sys.stderr)
        if callrisk(["corpus", "--recipe", "smoke", "--out", str(corpus)]) != 0:
            return 1
    scores = out / "scores.jsonl"
    sample = pyannote_sample()["wav"]
    print(f"demo: scoring {sample} (real phone call) and {corpus / 'metadata.csv'} (manifest)", file=sys.stderr)
    code = callrisk(["score", str(sample), str(corpus / "metadata.csv"), "-o", str(scores)])
    for record in iter_records(scores):
        print(json.dumps(summarize(record), indent=2))
    report = out / "report.html"
    if callrisk(["report", str(scores), "-o", str(report), "--title", "callrisk demo"]) != 0:
        return 1
    print(f"demo: wrote {scores} and {report} (open it in a browser); riskiest calls:", file=sys.stderr)
    callrisk(["top", str(scores), "-n", "3"])
    return code


if __name__ == "__main__":
    sys.exit(main())
