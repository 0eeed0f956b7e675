"""Key-bearing inputs of the GET routes are bounded and checked before any AWS call.

Real DynamoDB refuses a partition key over 2,048 bytes or a sort key over 1,024 bytes with a
ValidationException — on AWS that would be a 500 — and moto does not imitate it. So a slug,
a category or a cursor that could never have been published or given out is answered with
the documented 404 / 400 without asking DynamoDB at all: the tests count the calls.

"$" in a Python regex also matches before a trailing newline, so every pattern that guards a
key must end in \\Z: "new-website-online\\n" is not a slug.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import boto3
import pytest

from tests.conftest import REGION, CallCounter
from tests.data import CATL

NEWEST = "2026-01-01T00:00:00Z"


def cursor_for(feed_sk: str) -> str:
    """A cursor in the API's own encoding (unpadded base64url of the feed sort key)."""
    return base64.urlsafe_b64encode(feed_sk.encode()).decode().rstrip("=")


def gateway_get(app: Any, resource: str, path: str, **path_parameters: str) -> Any:
    """A GET as API Gateway hands it to the function, path parameters already decoded.

    chalice's test client cannot deliver a decoded newline in the path (urllib drops it).
    """
    event = {
        "requestContext": {
            "httpMethod": "GET",
            "resourcePath": resource,
            "identity": {"sourceIp": "203.0.113.9"},
            "path": path,
        },
        "headers": {},
        "pathParameters": path_parameters,
        "multiValueQueryStringParameters": None,
        "stageVariables": {},
        "body": None,
    }
    return app(event, None)


@pytest.fixture
def app(runtime: Any, seeded: None) -> Any:
    from chalicelib.bootstrap import create_app

    return create_app(runtime)


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.body
    error: dict[str, Any] = response.json_body["error"]
    assert error["code"] == code
    return error


# ---- /news/{slug} ----------------------------------------------------------------------


def test_a_slug_with_a_trailing_newline_is_404_without_touching_dynamodb(
    app: Any, counter: CallCounter
) -> None:
    counter.reset()
    answer = gateway_get(app, "/news/{slug}", f"/news/{CATL}%0A", slug=f"{CATL}\n")
    assert answer["statusCode"] == 404, answer
    assert json.loads(answer["body"])["error"]["code"] == "not_found"
    assert counter.calls == []


@pytest.mark.parametrize("length", [101, 1000, 2100])
def test_a_slug_over_100_characters_is_404_without_touching_dynamodb(
    client: Any, counter: CallCounter, length: int
) -> None:
    counter.reset()
    assert_error(client.http.get("/news/" + "a" * length), 404, "not_found")
    assert counter.calls == []


def test_a_slug_of_100_characters_is_still_looked_up(client: Any, counter: CallCounter) -> None:
    counter.reset()
    assert_error(client.http.get("/news/" + "a" * 100), 404, "not_found")
    assert counter.calls == ["dynamodb.GetItem"]


# ---- /news?category= -----------------------------------------------------------------


def test_a_category_with_a_trailing_newline_is_400_without_touching_dynamodb(
    client: Any, counter: CallCounter
) -> None:
    counter.reset()
    error = assert_error(client.http.get("/news?category=car-care%0A"), 400, "invalid_parameter")
    assert set(error["fields"]) == {"category"}
    assert counter.calls == []


@pytest.mark.parametrize("length", [101, 2050])
def test_a_category_over_100_characters_is_400_without_touching_dynamodb(
    client: Any, counter: CallCounter, length: int
) -> None:
    counter.reset()
    path = "/news?category=" + "a" * length
    assert_error(client.http.get(path), 400, "invalid_parameter")
    assert counter.calls == []


# ---- /news?cursor= -------------------------------------------------------------------


def first_cursor(client: Any) -> str:
    """The cursor after the newest article: its length is a multiple of 4, so lenient base64
    decoding took it with characters appended (other lengths fail on padding by luck)."""
    cursor: str = client.http.get("/news?limit=1").json_body["next_cursor"]
    assert len(cursor) % 4 == 0
    return cursor


def test_a_cursor_with_a_trailing_newline_is_400(client: Any, counter: CallCounter) -> None:
    cursor = first_cursor(client)
    assert client.http.get(f"/news?limit=1&cursor={cursor}").status_code == 200
    counter.reset()
    response = client.http.get(f"/news?limit=1&cursor={cursor}%0A")
    error = assert_error(response, 400, "invalid_parameter")
    assert set(error["fields"]) == {"cursor"}
    assert counter.calls == []


# Python's base64 decoding skips characters outside its alphabet and surplus padding, so all
# of these used to decode to the same key as the cursor they were made from (and page on).
ALTERED = {
    "CR LF after": lambda c: c + "%0D%0A",
    "padding after": lambda c: c + "%3D%3D",
    "four paddings after": lambda c: c + "%3D" * 4,
    "space after": lambda c: c + "%20",
    "tab after": lambda c: c + "%09",
    "newlines inside": lambda c: c[:8] + "%0A" * 4 + c[8:],
    "punctuation inside": lambda c: c[:8] + "!!!!" + c[8:],
    "dots inside": lambda c: c[:8] + "...." + c[8:],
}


@pytest.mark.parametrize("alter", ALTERED.values(), ids=ALTERED.keys())
def test_a_cursor_with_characters_base64_would_skip_is_400(
    client: Any, counter: CallCounter, alter: Any
) -> None:
    cursor = first_cursor(client)
    counter.reset()
    response = client.http.get(f"/news?limit=1&cursor={alter(cursor)}")
    assert_error(response, 400, "invalid_parameter")
    assert counter.calls == []


def test_a_cursor_longer_than_any_given_out_is_400_without_touching_dynamodb(
    client: Any, counter: CallCounter
) -> None:
    # A well-formed key whose sort key is over DynamoDB's 1,024 bytes: a ValidationException.
    for slug_length in (101, 1100):
        cursor = cursor_for(f"{NEWEST}#{'a' * slug_length}")
        counter.reset()
        assert_error(client.http.get("/news?cursor=" + cursor), 400, "invalid_parameter")
        assert counter.calls == []


def test_a_cursor_of_10_kb_is_400_without_touching_dynamodb(
    client: Any, counter: CallCounter
) -> None:
    counter.reset()
    assert_error(client.http.get("/news?cursor=" + "A" * 10_000), 400, "invalid_parameter")
    assert counter.calls == []


def test_the_longest_cursor_the_api_can_give_out_is_taken(
    client: Any, counter: CallCounter
) -> None:
    cursor = cursor_for(f"{NEWEST}#{'a' * 100}")
    assert len(cursor) == 162
    counter.reset()
    response = client.http.get("/news?cursor=" + cursor)
    assert response.status_code == 200
    assert counter.calls == ["dynamodb.Query"]


def test_every_bad_parameter_is_named_at_once(client: Any, counter: CallCounter) -> None:
    counter.reset()
    response = client.http.get("/news?limit=0&category=" + "a" * 101 + "&cursor=" + "A" * 300)
    error = assert_error(response, 400, "invalid_parameter")
    assert set(error["fields"]) == {"limit", "category", "cursor"}
    assert counter.calls == []


# ---- the repository itself (admin commands call it with whatever they are given) ------


def test_the_repository_never_sends_dynamodb_a_key_it_would_refuse(
    settings: Any, seeded: None
) -> None:
    from chalicelib.content.repository import ContentRepository, InvalidCursor, UnknownCategory

    counter = CallCounter()
    session = boto3.session.Session(region_name=REGION)
    session.events.register("before-call", counter)
    content = ContentRepository(session.client("dynamodb"), settings.content_table)

    assert content.article(f"{CATL}\n") is None
    assert content.article("a" * 3000) is None
    assert content.unpublish("a" * 3000) is False
    with pytest.raises(UnknownCategory):
        content.news(10, category="car-care\n")
    with pytest.raises(UnknownCategory):
        content.news(10, category="a" * 3000)
    with pytest.raises(InvalidCursor):
        content.news(10, cursor=cursor_for(f"{NEWEST}#{'a' * 1100}"))
    with pytest.raises(InvalidCursor):
        content.news(10, cursor=cursor_for(f"{NEWEST}#{CATL}\n"))
    with pytest.raises(ValueError):
        content.publish({"slug": "a" * 101, "category": "car-care"})
    assert counter.calls == []
    assert content.article(CATL) is not None  # a real slug still reads
