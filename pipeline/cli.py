"""The `callrisk` command line: one sub-command per module in pipeline/commands/."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from pipeline.offline import enforce_offline

# Each name is a module pipeline/commands/<name>.py exposing register(subparsers) -> None; the parser it adds
# calls set_defaults(func=run) where run(args) -> int is the exit code.
COMMANDS = ("score", "label", "metrics", "train", "evaluate", "report", "top", "corpus")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="callrisk",
        description=(
            "Score recorded customer-service calls for callback (repeat-call) risk, with time-stamped "
            "evidence. Runs fully offline from packaged model weights."
        ),
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging (-v info, -vv debug)")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"pipeline.commands.{name}")
        except ModuleNotFoundError as exc:  # a command not built yet is simply not offered
            if exc.name != f"pipeline.commands.{name}":
                raise
            continue
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    enforce_offline()
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.WARNING if args.verbose == 0 else logging.INFO if args.verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
