"""``python -m emulator``: flags and ``EMULATOR_*`` environment variables -> Config -> serve()."""

from __future__ import annotations

import argparse
import logging
import sys

from emulator import __version__
from emulator.config import Config

DESCRIPTION = """\
A local emulator of Amazon EventBridge, Amazon SNS and Amazon Kinesis Data Streams on one port.
Point an AWS SDK at it with endpoint_url (or AWS_ENDPOINT_URL). Every flag can also be set with the
environment variable named after it (EMULATOR_PORT for --port); a flag wins over its variable.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m emulator", description=DESCRIPTION)
    Config.add_arguments(parser)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        config = Config.from_args(args)
    except ValueError as exc:
        parser.error(str(exc))
    level = getattr(logging, str(config.log_level).upper(), None)
    if not isinstance(level, int):
        parser.error(f"--log-level: expected DEBUG, INFO, WARNING or ERROR, got {config.log_level!r}")
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    from emulator.server import serve

    return serve(config)


if __name__ == "__main__":
    sys.exit(main())
