"""Options shared by the sub-commands that run the pipeline."""

from __future__ import annotations

import argparse
from typing import Any

from pipeline.config import load_config


def add_config_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="FILE", help="YAML file overriding configs/default.yaml (only the keys you change)")
    parser.add_argument(
        "--set", metavar="KEY=VALUE", action="append", default=[], dest="overrides",
        help="override one setting, e.g. --set asr.model=base --set asr.beam_size=5 (repeatable)",
    )


def config_from_args(args: argparse.Namespace) -> dict[str, Any]:
    return load_config(args.config, args.overrides)
