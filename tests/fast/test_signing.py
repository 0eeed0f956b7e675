"""The one link key and HMAC (chalicelib/signing.py) that every signed link shares: each kind
of link signs under its own label, so no signature moves from one kind to another; the keys
come in one GetParameters and are read again, at most every 5 minutes, after a rotation."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.signing import KeyRing, LinkSigner
from tests.conftest import FakeClock

PARAMETER = "/vigor-leads/test/link-key"


class FakeSsm:
    """The parameters SSM holds, and the GetParameters calls it answered."""

    def __init__(self, **values: str) -> None:
        self.values = {f"{PARAMETER}{suffix}": v for suffix, v in values.items()}
        self.calls = 0

    def get_parameters(self, Names: list[str], WithDecryption: bool) -> dict[str, Any]:
        self.calls += 1
        found = [{"Name": n, "Value": self.values[n]} for n in Names if n in self.values]
        return {"Parameters": found}


def signer(ssm: FakeSsm, clock: FakeClock) -> LinkSigner:
    return LinkSigner(KeyRing(lambda: ssm, PARAMETER, clock))


PARTS = ("01KCVY8Z4Q5M7T0V2W3X4Y5Z6A", "2", "1900000000")


def test_a_signature_for_one_kind_of_link_never_passes_as_another() -> None:
    links = signer(FakeSsm(**{"": "k1"}), FakeClock())
    action, file = links.sign("action", *PARTS), links.sign("file", *PARTS)
    assert action is not None and file is not None and action != file
    assert links.verify(action, "action", *PARTS) and links.verify(file, "file", *PARTS)
    assert links.verify(action, "file", *PARTS) is False
    assert links.verify(file, "action", *PARTS) is False
    with pytest.raises(ValueError):
        links.sign("download", *PARTS)  # a kind of link is declared (KINDS) before use


def test_both_keys_in_one_read_and_a_rotation_followed_at_most_every_5_minutes() -> None:
    ssm, clock = FakeSsm(**{"": "k1"}), FakeClock()
    warm = signer(ssm, clock)
    old = warm.sign("file", *PARTS)
    assert old is not None and ssm.calls == 1
    ssm.values = {PARAMETER: "k2", f"{PARAMETER}-previous": "k1"}  # manage.py keys rotate
    new = signer(ssm, clock).sign("file", *PARTS)
    assert new is not None and ssm.calls == 2
    assert warm.verify(new, "file", *PARTS) is False  # read 0 s ago: not again
    assert warm.verify("A" * 43, "file", *PARTS) is False and ssm.calls == 2
    clock.advance(301)
    assert warm.verify(new, "file", *PARTS) and ssm.calls == 3
    assert warm.verify(old, "file", *PARTS)  # the previous key still signs
    assert warm.verify(old + "x", "file", *PARTS) is False and ssm.calls == 3


def test_without_a_readable_key_nothing_is_signed_or_accepted() -> None:
    links = signer(FakeSsm(), FakeClock())  # the parameter is missing: provision not run
    assert links.sign("action", *PARTS) is None
    assert links.verify("A" * 43, "action", *PARTS) is None
