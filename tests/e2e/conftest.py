"""Fixtures for the browser tests: one running service and one Chromium for the package,
a fresh browser context (cookies, cache) per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import sync_playwright

from devtools.live import HIGH_RATE_LIMITS, running_service
from devtools.local import LocalService
from tests.conftest import Faults
from tests.e2e.harness import launch_chromium

DEFAULT_TIMEOUT_MS = 15_000  # fail a broken page well before pytest's patience runs out


@pytest.fixture(scope="package")
def outbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("outbox")


@pytest.fixture(scope="package")
def outage() -> Faults:
    """Fault injection for the running app (the same hook the in-process tests use)."""
    return Faults()


@pytest.fixture(scope="package")
def service(outbox: Path, outage: Faults) -> Iterator[LocalService]:
    """`make run` on free ports; the environment it changed is restored when the package ends."""
    with running_service(HIGH_RATE_LIMITS, hooks=(outage,), outbox=outbox) as running:
        yield running


@pytest.fixture(autouse=True)
def _emulator_endpoint(service: LocalService, monkeypatch: pytest.MonkeyPatch) -> None:
    # tests/conftest.py removes AWS_ENDPOINT_URL for every test; the running service's
    # clients must keep talking to its emulator (and nothing else) should one be created late.
    monkeypatch.setenv("AWS_ENDPOINT_URL", service.endpoint_url)


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        try:
            yield chromium
        finally:
            chromium.close()


class BrowserPage:
    """Opens pages in fresh contexts and collects uncaught script errors."""

    def __init__(self, browser: Any) -> None:
        self._browser = browser
        self._contexts: list[Any] = []
        self.script_errors: list[str] = []

    def open(self, **context_options: Any) -> Any:
        options = {"viewport": {"width": 1280, "height": 900}, "locale": "en-GB", **context_options}
        context = self._browser.new_context(**options)
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        self._contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: self.script_errors.append(str(error)))
        return page

    def close(self) -> None:
        for context in self._contexts:
            context.close()


@pytest.fixture
def pages(browser: Any) -> Iterator[BrowserPage]:
    opened = BrowserPage(browser)
    yield opened
    opened.close()
    assert not opened.script_errors, f"uncaught script errors: {opened.script_errors}"


@pytest.fixture
def page(pages: BrowserPage) -> Any:
    """A page with JavaScript on, English, desktop width."""
    return pages.open()
