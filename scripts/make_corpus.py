#!/usr/bin/env python
"""Thin wrapper: `python scripts/make_corpus.py ARGS` == `callrisk corpus ARGS` (see docs/corpus.md)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipeline.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(["corpus", *sys.argv[1:]]))
