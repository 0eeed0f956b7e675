"""AWS calls per request, counted exactly through botocore's event hooks
(docs/architecture.md, "Budgets")."""

from __future__ import annotations

from typing import Any

from tests.conftest import post_json
from tests.data import BUYER, CATL


def calls_of(client: Any, counter: Any, path: str) -> list[str]:
    counter.reset()
    response = client.http.get(path)
    assert response.status_code == 200, path
    return list(counter.calls)


def test_news_list_is_one_query(client: Any, counter: Any) -> None:
    assert calls_of(client, counter, "/news") == ["dynamodb.Query"]
    assert calls_of(client, counter, "/news?category=car-care&limit=2") == ["dynamodb.Query"]


def test_news_page_with_cursor_is_one_query(client: Any, counter: Any) -> None:
    cursor = client.http.get("/news?limit=2").json_body["next_cursor"]
    assert calls_of(client, counter, f"/news?limit=2&cursor={cursor}") == ["dynamodb.Query"]


def test_article_is_one_get_item(client: Any, counter: Any) -> None:
    assert calls_of(client, counter, f"/news/{CATL}") == ["dynamodb.GetItem"]


def test_contact_is_one_call_cold_and_none_warm(client: Any, counter: Any) -> None:
    assert calls_of(client, counter, "/contact") == ["dynamodb.GetItem"]
    assert calls_of(client, counter, "/contact") == []


def test_categories_are_one_query_cold_and_none_warm(client: Any, counter: Any) -> None:
    assert calls_of(client, counter, "/news/categories") == ["dynamodb.Query"]
    assert calls_of(client, counter, "/news/categories") == []


def test_an_inquiry_with_fifty_rows_costs_what_any_inquiry_costs(client: Any, counter: Any) -> None:
    row = {"part_number": "04465-33450", "description": "Brake pads", "quantity": 200}
    rfq = {k: v for k, v in BUYER.items() if k not in ("product", "quantity")}
    for body in (BUYER, {**rfq, "items": [row] * 50, "incoterm": "FOB"}):
        counter.reset()
        assert post_json(client, body).status_code == 201
        assert counter.calls == [
            "dynamodb.TransactWriteItems",  # the lead, its rows and the rate counters
            "sesv2.SendEmail",
            "dynamodb.UpdateItem",  # sent
        ]


def test_no_request_path_ever_scans(client: Any, counter: Any) -> None:
    counter.reset()
    for path in [
        "/contact",
        "/news",
        "/news/categories",
        "/news?category=car-care",
        "/news?category=no-such",
        f"/news/{CATL}",
        "/news/unknown-slug",
    ]:
        client.http.get(path)
    post_json(client, BUYER)
    post_json(client, BUYER, **{"Idempotency-Key": "a"})
    post_json(client, BUYER, **{"Idempotency-Key": "a"})
    post_json(client, {**BUYER, "website": "spam"})
    assert counter.calls, "the hook saw no calls at all"
    assert not [call for call in counter.calls if call.endswith(".Scan")]


def test_an_upload_is_one_call_and_an_inquiry_with_k_files_four_plus_two_k(
    make_client: Any, counter: Any
) -> None:
    from tests.aws.test_attachments import SAMPLES, presign, upload_file

    api = make_client(AUTOREPLY_ENABLED="true")
    post_json(api, {**BUYER, "email": "warmup@example.com"})
    counter.reset()
    assert presign(api, "drawing.pdf", 100).status_code == 201
    assert counter.calls == ["dynamodb.UpdateItem"]  # the per-IP counter; signing is local
    names = ("drawing.pdf", "photo.jpg")
    ids = [upload_file(api, name, SAMPLES[name])["id"] for name in names]
    counter.reset()
    body = {**BUYER, "attachments": ids}
    assert post_json(api, body, **{"Idempotency-Key": "k"}).status_code == 201
    assert counter.calls == [  # 4 + 2k, k = 2
        "s3.GetObject",  # each file: headers, first bytes, and the content to mail
        "s3.GetObject",
        "dynamodb.TransactWriteItems",
        "s3.CopyObject",  # each file: kept under the lead
        "s3.CopyObject",
        "sesv2.SendEmail",
        "sesv2.SendEmail",
        "dynamodb.UpdateItem",
    ]


def test_action_links_cost_one_ssm_read_per_container_and_nothing_per_request(
    make_client: Any, counter: Any
) -> None:
    """The public POST signs the owner's links: a cold container reads the key once (one
    GetParameters for the current and the previous key); after that, no SSM call at all."""
    import re

    import boto3

    from admin.keys import ensure_link_key
    from tests.conftest import REGION, body_of, sent_emails

    ensure_link_key(boto3.client("ssm", region_name=REGION), "/vigor-leads/test/link-key")
    api = make_client(
        LINK_KEY="ssm:/vigor-leads/test/link-key",
        PUBLIC_API_URL="https://api.example.test",
        AUTOREPLY_ENABLED="true",
    )
    counter.reset()
    assert post_json(api, BUYER).status_code == 201
    assert counter.calls == [
        "dynamodb.TransactWriteItems",
        "ssm.GetParameters",  # cold container only
        "sesv2.SendEmail",
        "sesv2.SendEmail",
        "dynamodb.UpdateItem",
    ]
    counter.reset()
    assert post_json(api, {**BUYER, "email": "other@example.com"}).status_code == 201
    assert len(counter.calls) == 4 and not [c for c in counter.calls if c.startswith("ssm.")]
    (path,) = re.findall(
        r"https://api\.example\.test(/leads/\S+/won\?\S+)", body_of(sent_emails()[0], "plain")
    )
    counter.reset()
    assert api.http.get(path).status_code == 200
    assert counter.calls == ["dynamodb.GetItem"]
    counter.reset()
    assert api.http.post(path, headers={"Accept": "application/json"}).status_code == 200
    assert counter.calls == ["dynamodb.GetItem", "dynamodb.UpdateItem"]
