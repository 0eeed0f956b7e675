"""`make run`'s fast clock (devtools/local.py): the app's time starts now and passes FACTOR
times faster, so reminders and the digest come round in minutes; a bad factor is refused."""

from __future__ import annotations

from typing import Any

from devtools.local import FastClock


def test_an_hour_passes_every_minute_at_60x() -> None:
    real = [1_000.0]
    clock = FastClock(60, real=lambda: real[0])
    assert clock() == 1_000.0
    real[0] += 60
    assert clock() == 1_000.0 + 3600


def test_serve_refuses_a_factor_below_one(manage: Any) -> None:
    run = manage("serve", "--fast-clock", "0.5")
    assert run.code == 2 and "a speed-up factor from 1 to 100000" in run.err
