"""The images in docs/site.md can be regenerated (`python -m tests.e2e.screenshots`)."""

from __future__ import annotations

from typing import Any

from tests.e2e.harness import ROOT
from tests.e2e.screenshots import capture_docs_images

PNG = b"\x89PNG\r\n\x1a\n"


def test_docs_images_are_rendered_from_the_running_site(browser: Any, service: Any) -> None:
    images = capture_docs_images(browser, service, ROOT / "test-artifacts" / "docs-images")

    assert set(images) == {"contact", "email", "action"}
    for path in images.values():
        assert path.read_bytes().startswith(PNG)
