"""The command line as users and containers run it: a subprocess, real signals, the Dockerfile's lines."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LISTENING = re.compile(r"listening on http://([\d.]+):(\d+)")


@contextmanager
def emulator_process(*args: str, env: dict[str, str] | None = None) -> Iterator[tuple[subprocess.Popen, str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "emulator", *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = _wait_listening(process)
        yield process, url
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
        process.stderr.close()


def _wait_listening(process: subprocess.Popen) -> str:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line:
            raise AssertionError(f"the emulator exited with {process.wait()} before listening")
        match = LISTENING.search(line)
        if match:
            return f"http://{match.group(1)}:{match.group(2)}"
    raise AssertionError("the emulator did not start listening")


def _get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def test_help_explains_every_flag_and_its_environment_variable() -> None:
    result = subprocess.run([sys.executable, "-m", "emulator", "--help"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0
    for flag in ("--host", "--port", "--log-level", "--default-account", "--default-region",
                 "--kinesis-transition-seconds"):
        assert flag in result.stdout
    for variable in ("EMULATOR_HOST", "EMULATOR_PORT", "EMULATOR_DEFAULT_ACCOUNT", "EMULATOR_DEFAULT_REGION"):
        assert variable in result.stdout


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_the_server_cleanly_within_two_seconds(signum: int) -> None:
    with emulator_process("--port", "0") as (process, url):
        assert _get_json(url + "/_emulator/health")["services"]
        started = time.monotonic()
        process.send_signal(signum)
        assert process.wait(timeout=5) == 0
        assert time.monotonic() - started < 2.0
        assert "Traceback" not in process.stderr.read()


def test_a_port_in_use_is_one_line_and_exit_status_1() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "emulator", "--port", str(port)], cwd=ROOT, capture_output=True, text=True,
            timeout=20,
        )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert str(port) in result.stderr


def test_environment_variables_configure_the_server_and_flags_win() -> None:
    env = {"EMULATOR_DEFAULT_ACCOUNT": "111111111111", "EMULATOR_DEFAULT_REGION": "ap-south-1", "EMULATOR_PORT": "1"}
    with emulator_process("--port", "0", env=env) as (process, url):
        import boto3

        events = boto3.client("events", endpoint_url=url, region_name="ap-south-1",
                              aws_access_key_id="not-an-account", aws_secret_access_key="x")
        arn = events.list_event_buses()["EventBuses"][0]["Arn"]
        assert arn == "arn:aws:events:ap-south-1:111111111111:event-bus/default"
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=5)


def test_bad_values_of_flags_and_variables_are_usage_errors() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "emulator"], cwd=ROOT, capture_output=True, text=True, timeout=20,
        env={**os.environ, "EMULATOR_PORT": "not-a-number"},
    )
    assert result.returncode == 2
    assert "EMULATOR_PORT" in result.stderr and "Traceback" not in result.stderr


def _dockerfile_instruction(name: str) -> list[str]:
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if line.startswith(name + " "):
            rest = line[len(name) + 1:]
            if name == "HEALTHCHECK":
                rest = rest[rest.index("CMD ") + 4:]
            return json.loads(rest)
    raise AssertionError(f"no {name} in the Dockerfile")


def test_the_dockerfiles_command_line_and_health_check_work() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "EXPOSE 4566" in dockerfile
    assert re.search(r"^USER (?!root)\w+", dockerfile, re.MULTILINE)
    command = _dockerfile_instruction("CMD")
    assert command[:3] == ["python", "-m", "emulator"]
    assert command[command.index("--host") + 1] == "0.0.0.0"
    assert command[command.index("--port") + 1] == "4566"
    # The same command line on a free port (this machine may already run something on 4566).
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = str(probe.getsockname()[1])
    args = command[3:]
    args[args.index("--port") + 1] = port
    with emulator_process(*args) as (process, url):
        check = [sys.executable if part == "python" else part.replace("4566", port)
                 for part in _dockerfile_instruction("HEALTHCHECK")]
        result = subprocess.run(check, capture_output=True, text=True, timeout=10)
        assert result.returncode == 0, shlex.join(check) + "\n" + result.stderr
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=5) == 0
    # And it fails when nothing answers, as a health check must.
    result = subprocess.run(check, capture_output=True, text=True, timeout=10)
    assert result.returncode != 0
