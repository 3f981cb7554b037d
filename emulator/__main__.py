"""``python -m emulator``: flags and ``EMULATOR_*`` environment variables -> Config -> serve()."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from typing import TextIO

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


def configure_logging(level: int, stream: TextIO | None = None) -> None:
    """The server's logging: one line per request at INFO, on standard error."""
    # The Logging HOWTO's "Optimization" settings: a record per request need not find its caller's
    # source line or read thread and process details, which would cost as much as the rest of the line.
    logging._srcfile = None  # type: ignore[attr-defined]
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    stream = stream or sys.stderr
    try:
        handler: logging.Handler = _LineHandler(stream)
    except (AttributeError, OSError, ValueError):  # a stream without a file descriptor
        handler = logging.StreamHandler(stream)
    handler.setFormatter(_Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler])


class _LineHandler(logging.Handler):
    """Writes each line with one ``write`` to a file descriptor, taking no lock.

    A stream handler holds its lock while it writes, so request threads queue up behind the one that
    is writing; one ``write`` of a line (shorter than the pipe buffer) is atomic by itself.
    """

    def __init__(self, stream: TextIO) -> None:
        super().__init__()
        self.stream = stream  # kept, so that its descriptor stays open
        self.fd = stream.fileno()

    def createLock(self) -> None:  # noqa: N802
        self.lock = None

    def emit(self, record: logging.LogRecord) -> None:
        try:
            os.write(self.fd, (self.format(record) + "\n").encode("utf-8", "backslashreplace"))
        except Exception:
            self.handleError(record)


class _Formatter(logging.Formatter):
    """The standard format, with the date and time text made once a second rather than once a line."""

    _cached: tuple[int, str] = (-1, "")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        second, text = self._cached
        if int(record.created) != second:
            second = int(record.created)
            text = time.strftime("%Y-%m-%d %H:%M:%S", self.converter(record.created))
            self._cached = (second, text)
        return f"{text},{int(record.msecs):03d}"


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
    configure_logging(level)
    from emulator.server import serve

    return serve(config)


if __name__ == "__main__":
    sys.exit(main())
