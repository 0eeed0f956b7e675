"""Optional Cloudflare Turnstile: only when TURNSTILE_SECRET is set; a fake verifier stands in."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import lead_items, post_json, sent_emails
from tests.data import BUYER
from tests.fakes import FakeTurnstile


def test_without_a_secret_no_captcha_is_asked(make_client: Any) -> None:
    assert post_json(make_client(), BUYER).status_code == 201


def test_valid_token_is_verified_and_the_lead_taken(
    make_client: Any, verifier: str, settings: Any
) -> None:
    api = make_client(TURNSTILE_SECRET="s3cret", TURNSTILE_VERIFY_URL=verifier)
    response = post_json(api, {**BUYER, "cf-turnstile-response": "good"})
    assert response.status_code == 201
    assert FakeTurnstile.seen[0]["secret"] == ["s3cret"]
    assert lead_items(settings)[0]["captcha"] == "verified"


@pytest.mark.parametrize("token", [None, "", "forged"])
def test_missing_or_refused_token_is_422_and_nothing_stored(
    make_client: Any, verifier: str, settings: Any, token: str | None
) -> None:
    api = make_client(TURNSTILE_SECRET="s3cret", TURNSTILE_VERIFY_URL=verifier)
    fields = dict(BUYER) if token is None else {**BUYER, "cf-turnstile-response": token}
    response = post_json(api, fields)
    assert response.status_code == 422
    assert "cf-turnstile-response" in response.json_body["error"]["fields"]
    assert lead_items(settings) == [] and sent_emails() == []


def test_verifier_outage_keeps_the_lead_marked_unverified(make_client: Any, settings: Any) -> None:
    api = make_client(TURNSTILE_SECRET="s3cret", TURNSTILE_VERIFY_URL="http://127.0.0.1:9/")
    response = post_json(api, {**BUYER, "cf-turnstile-response": "good"})
    assert response.status_code == 201
    assert lead_items(settings)[0]["captcha"] == "unverified"
    assert len(sent_emails()) == 1


def test_a_retry_with_the_same_key_and_spent_token_gets_the_first_answer(
    make_client: Any, verifier: str, settings: Any
) -> None:
    """Turnstile tokens are single-use: a client retrying after a lost answer resends the
    spent token, and must get the first answer, not 422."""
    api = make_client(TURNSTILE_SECRET="s3cret", TURNSTILE_VERIFY_URL=verifier)
    body = {**BUYER, "cf-turnstile-response": "good"}
    first = post_json(api, body, **{"Idempotency-Key": "retry-1"})
    again = post_json(
        api, {**body, "cf-turnstile-response": "spent"}, **{"Idempotency-Key": "retry-1"}
    )
    assert first.status_code == again.status_code == 201
    assert again.json_body == first.json_body
    assert len(FakeTurnstile.seen) == 1  # the retry never reached the verifier
    assert len(lead_items(settings)) == 1 and len(sent_emails()) == 1
