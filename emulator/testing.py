"""The emulator inside a test suite: an in-process server on a free port, and pytest fixtures.

``running_server()`` starts the server in a background thread and yields its URL::

    from emulator.testing import running_server

    with running_server() as url:
        boto3.client("sns", endpoint_url=url, region_name="us-east-1", ...)

The pytest plugin (registered through the ``pytest11`` entry point, so installing the package is
enough) gives ``emulator_url``, one server for the whole test session, and ``emulator_reset``, which
forgets all state (and puts the clock back to real time) before a test. Set ``EMULATOR_TEST_URL`` to
run a suite against a server that is already running instead.
"""

from __future__ import annotations

import json
import os
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from emulator.config import Config


class ServerURL(str):
    """The server's base URL; ``.app`` is the emulator's WSGI app, for tests that look inside."""

    app: Any = None


@contextmanager
def running_server(config: Config | None = None, **overrides: Any) -> Iterator[ServerURL]:
    """A server on 127.0.0.1 and a free port (unless ``config`` says otherwise), until the block ends."""
    from emulator.server import MAX_BODY, make_app
    from emulator.serving import Server

    if config is None:
        config = Config(**{"port": 0, **overrides})
    app = make_app(config)
    server = Server(app, config.host, config.port, admit=app.admit, max_body=MAX_BODY)
    thread = threading.Thread(target=server.serve_forever, name="emulator-server", daemon=True)
    thread.start()
    try:
        url = ServerURL(f"http://{config.host}:{server.port}")
        url.app = app
        yield url
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.close()
        app.close()


def admin(url: str, path: str, method: str = "GET", body: dict[str, Any] | None = None) -> Any:
    """Calls one of the emulator's admin endpoints (``/_emulator/...``) and returns its JSON answer."""
    data = json.dumps(body).encode("utf-8") if body is not None else (b"" if method == "POST" else None)
    request = urllib.request.Request(url + path, data=data, method=method)
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"null")


@pytest.fixture(scope="session")
def emulator_url() -> Iterator[str]:
    """The URL of the emulator for this test session."""
    external = os.environ.get("EMULATOR_TEST_URL")
    if external:
        yield external.rstrip("/")
        return
    with running_server() as url:
        yield url


@pytest.fixture
def emulator_reset(emulator_url: str) -> None:
    """A clean emulator for the test: all state forgotten, the clock back to real time (the reset does both)."""
    admin(emulator_url, "/_emulator/reset", "POST")
