#!/usr/bin/env python
"""The demo behind `make demo`: score the bundled example call(s) and show what came out."""

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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default="out/demo", help="output folder (default: out/demo)")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    scores = out / "scores.jsonl"
    sample = pyannote_sample()["wav"]
    print(f"demo: scoring {sample} (30 s real phone call shipped with pyannote.audio)", file=sys.stderr)
    code = callrisk(["score", str(sample), "-o", str(scores)])
    for record in iter_records(scores):
        summary = {k: record.get(k) for k in ("call_id", "status")}
        if record["status"] == "ok":
            summary["duration_s"] = record["audio"]["duration_s"]
            summary["words"] = len(record["transcript"].get("words", []))
            summary["text"] = record["transcript"]["text"][:160] + "..."
        else:
            summary["error"] = record["error"]
        print(json.dumps(summary, indent=2))
    print(f"demo: wrote {scores}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
