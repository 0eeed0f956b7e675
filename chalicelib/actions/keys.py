"""The key the action links are signed with: an SSM SecureString parameter (ACTION_LINK_KEY
names it) and, during a rotation, the one before it (the same name + PREVIOUS_SUFFIX).

Both are read in ONE GetParameters call, on first use, and kept for the container's life;
a link whose signature matches neither may have been signed with a key rotated in since,
so the keys are read again then (at most once per REFRESH_SECONDS).
`manage.py provision` creates the key, `manage.py keys rotate` rotates it (admin/keys.py).
"""

from __future__ import annotations

import base64
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

PREVIOUS_SUFFIX = "-previous"
REFRESH_SECONDS = 300


def new_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode("ascii").rstrip("=")


@dataclass(frozen=True)
class LinkKeys:
    current: bytes
    previous: bytes | None = None

    def all(self) -> tuple[bytes, ...]:
        return (self.current,) if self.previous is None else (self.current, self.previous)


class KeyRing:
    """The link keys of one container: read lazily, kept, re-read after a rotation."""

    def __init__(self, ssm: Callable[[], Any], parameter: str, clock: Callable[[], float]) -> None:
        self._ssm = ssm
        self._parameter = parameter
        self._clock = clock
        self._keys: LinkKeys | None = None
        self._read_at = 0.0

    def keys(self) -> LinkKeys | None:
        """The keys; None while SSM cannot be read (the next use tries again)."""
        if self._keys is None:
            self._read()
        return self._keys

    def reread(self) -> bool:
        """Read the keys again, unless that was done lately; True when read."""
        if self._keys is not None and self._clock() - self._read_at < REFRESH_SECONDS:
            return False
        return self._read()

    def _read(self) -> bool:
        from chalicelib.aws import error_code

        previous = self._parameter + PREVIOUS_SUFFIX
        try:
            answer = self._ssm().get_parameters(
                Names=[self._parameter, previous], WithDecryption=True
            )
        except Exception as exc:
            log.warning("action link key %s unreadable (%s)", self._parameter, error_code(exc))
            return False
        values = {p["Name"]: str(p["Value"]).encode("utf-8") for p in answer["Parameters"]}
        current = values.get(self._parameter)
        if current is None:
            log.warning("action link key %s missing: run manage.py provision", self._parameter)
            return False
        self._keys = LinkKeys(current, values.get(previous))
        self._read_at = self._clock()
        return True
