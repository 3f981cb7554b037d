"""The emulator's own API: health, reset, the movable clock, and the URLs of other local emulators."""

from __future__ import annotations

import urllib.error

import pytest

from emulator import clock
from emulator.testing import admin


def test_health_reports_version_services_and_uptime(emulator_url: str) -> None:
    health = admin(emulator_url, "/_emulator/health")
    assert health["version"]
    assert set(health["services"]) == {"events", "sns", "kinesis"}
    assert health["uptime"] >= 0


def test_reset_forgets_one_service_or_all(emulator_url: str, emulator_reset: None) -> None:
    assert admin(emulator_url, "/_emulator/reset?service=sns", "POST") == {"reset": ["sns"]}
    assert admin(emulator_url, "/_emulator/reset", "POST") == {"reset": ["events", "sns", "kinesis"]}


def test_reset_of_an_unknown_service_is_a_400(emulator_url: str) -> None:
    with pytest.raises(urllib.error.HTTPError) as caught:
        admin(emulator_url, "/_emulator/reset?service=s3", "POST")
    assert caught.value.code == 400


def test_the_clock_moves_forward_and_never_back(emulator_url: str, emulator_reset: None) -> None:
    before = admin(emulator_url, "/_emulator/clock")["now"]
    moved = admin(emulator_url, "/_emulator/clock", "POST", {"advance": 3600})
    assert moved["now"] >= before + 3600
    assert clock.now() >= before + 3600  # the in-process server and the test share the one clock
    target = moved["now"] + 86400
    assert admin(emulator_url, "/_emulator/clock", "POST", {"set": target})["now"] >= target
    assert admin(emulator_url, "/_emulator/clock", "POST", {"set": "2099-01-01T00:00:00Z"})["iso"].startswith("2099")
    for bad in ({"set": 0}, {"advance": -5}, {"advance": "soon"}, {}, {"advance": 1, "set": 2}):
        with pytest.raises(urllib.error.HTTPError) as caught:
            admin(emulator_url, "/_emulator/clock", "POST", bad)
        assert caught.value.code == 400


def test_unknown_admin_paths_are_404(emulator_url: str) -> None:
    with pytest.raises(urllib.error.HTTPError) as caught:
        admin(emulator_url, "/_emulator/nothing")
    assert caught.value.code == 404


def test_other_emulators_urls_answer(emulator_url: str) -> None:
    health = admin(emulator_url, "/_localstack/health")
    assert set(health["services"]) == {"events", "sns", "kinesis"}
    assert admin(emulator_url, "/moto-api/reset", "POST") == {"status": "ok"}


def test_a_frozen_clock_moves_only_when_told(emulator_url: str, emulator_reset: None) -> None:
    import time

    frozen = admin(emulator_url, "/_emulator/clock", "POST", {"freeze": True})
    assert frozen["frozen"] is True
    time.sleep(0.05)
    assert admin(emulator_url, "/_emulator/clock")["now"] == frozen["now"]
    assert admin(emulator_url, "/_emulator/clock", "POST", {"advance": 10})["now"] == frozen["now"] + 10
    running = admin(emulator_url, "/_emulator/clock", "POST", {"freeze": False})
    assert running["frozen"] is False and running["now"] >= frozen["now"] + 10
    with pytest.raises(urllib.error.HTTPError):
        admin(emulator_url, "/_emulator/clock", "POST", {"freeze": "yes"})


@pytest.mark.parametrize("bad", [
    {"advance": "nan"}, {"advance": "inf"}, {"advance": 1e20}, {"advance": True}, {"set": "9999-12-31T23:59:59Z"},
    {"set": True}, {"advance": "nan", "freeze": True},
])
def test_a_refused_clock_move_leaves_the_clock_as_it_was(emulator_url: str, emulator_reset: None, bad) -> None:
    before = admin(emulator_url, "/_emulator/clock")
    with pytest.raises(urllib.error.HTTPError) as caught:
        admin(emulator_url, "/_emulator/clock", "POST", bad)
    assert caught.value.code == 400
    after = admin(emulator_url, "/_emulator/clock")
    assert after["frozen"] is False and abs(after["offset"] - before["offset"]) < 1
    admin(emulator_url, "/_emulator/clock", "POST", {"advance": 60})  # and it still moves


def test_resetting_everything_puts_the_clock_back_to_real_time(emulator_url: str, emulator_reset: None) -> None:
    admin(emulator_url, "/_emulator/clock", "POST", {"advance": 86400, "freeze": True})
    admin(emulator_url, "/_emulator/reset?service=kinesis", "POST")
    assert admin(emulator_url, "/_emulator/clock")["offset"] > 86000  # one service's reset keeps the clock
    admin(emulator_url, "/_emulator/reset", "POST")
    state = admin(emulator_url, "/_emulator/clock")
    assert abs(state["offset"]) < 1 and state["frozen"] is False
