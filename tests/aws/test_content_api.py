"""GET /contact, /news/categories, /news, /news/{slug}: the contract the site relies on."""

from __future__ import annotations

from typing import Any

from tests.conftest import SITE
from tests.data import CATL, MIRROR, OLDEST


def get(client: Any, path: str, **headers: str) -> Any:
    return client.http.get(path, headers=headers)


def test_contact_returns_the_seed_pages_contact_block(client: Any) -> None:
    response = get(client, "/contact")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json_body == {
        "company": "Wenzhou Vigor Automobile Parts Co., Ltd",
        "contact_person": "Manager",
        "phone": "0086-18367850108",
        "tel": None,
        "email": "sales@vigorautomobile.com",
        "address": "No.27 Taian Road, Tianhe Street, Economic&Technological Development Zone"
        " Wenzhou, Zhejiang Province, China",
        "wechat": None,
    }


def test_categories_include_the_sites_own_label(client: Any) -> None:
    response = get(client, "/news/categories")
    assert response.status_code == 200
    items = response.json_body["items"]
    assert {"slug": "industry-new", "name": "Industry new"} in items
    assert all(set(item) == {"slug", "name"} for item in items)


def test_news_lists_newest_first_with_summary_fields(client: Any) -> None:
    body = get(client, "/news").json_body
    dates = [item["published_at"] for item in body["items"]]
    assert dates == sorted(dates, reverse=True)
    first = body["items"][0]
    assert first["slug"] == CATL
    assert first["title"] == "CATL signs agreement to build manufacturing base in Shanghai"
    assert first["category"] == {"slug": "industry-new", "name": "Industry new"}
    assert first["source"] == "Gasgoo"
    assert first["summary"]
    assert "body" not in first
    assert body["next_cursor"] is None


def test_news_pages_through_every_article_with_the_cursor(client: Any) -> None:
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        path = "/news?limit=2" + (f"&cursor={cursor}" if cursor else "")
        response = get(client, path)
        assert response.status_code == 200
        items = response.json_body["items"]
        assert 1 <= len(items) <= 2
        seen += [item["slug"] for item in items]
        pages += 1
        cursor = response.json_body["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert len(seen) == len(set(seen)) == 6
    assert seen[0] == CATL and seen[-1] == OLDEST


def test_last_page_has_no_cursor_when_items_divide_evenly(client: Any) -> None:
    first = get(client, "/news?limit=3").json_body
    second = get(client, f"/news?limit=3&cursor={first['next_cursor']}").json_body
    assert len(second["items"]) == 3
    assert second["next_cursor"] is None


def test_news_filters_by_category(client: Any) -> None:
    body = get(client, "/news?category=car-care").json_body
    assert [item["category"]["slug"] for item in body["items"]] == ["car-care"] * 3
    paged = get(client, "/news?category=car-care&limit=2").json_body
    rest = get(client, f"/news?category=car-care&limit=2&cursor={paged['next_cursor']}").json_body
    assert [i["slug"] for i in paged["items"] + rest["items"]] == [i["slug"] for i in body["items"]]


def test_known_category_without_articles_is_an_empty_list(client: Any, runtime: Any) -> None:
    runtime.content.put_category("faq", "FAQ", 9)
    response = get(client, "/news?category=faq")
    assert response.status_code == 200
    assert response.json_body == {"items": [], "next_cursor": None}


def test_bad_news_parameters_are_400_in_the_error_shape(client: Any) -> None:
    for query, field in [
        ("limit=0", "limit"),
        ("limit=51", "limit"),
        ("limit=ten", "limit"),
        ("limit=-1", "limit"),
        ("cursor=not-a-cursor", "cursor"),
        ("cursor=%2F%2F%2F", "cursor"),
        ("category=no-such-category", "category"),
        ("category=Bad%20Slug", "category"),
    ]:
        response = get(client, f"/news?{query}")
        assert response.status_code == 400, query
        error = response.json_body["error"]
        assert error["code"] == "invalid_parameter"
        assert field in error["fields"], query
        assert error["message"]


def test_article_has_body_and_links_like_the_site(client: Any) -> None:
    response = get(client, f"/news/{CATL}")
    assert response.status_code == 200
    article = response.json_body
    assert article["body"].startswith("Shanghai (Gasgoo)- On August 18, CATL signed")
    assert article["category"] == {"slug": "industry-new", "name": "Industry new"}
    # As on the site: "Previous:How to adjust the car mirror Next:none"
    assert article["previous"] == {"slug": MIRROR, "title": "How to adjust the car mirror"}
    assert article["next"] is None


def test_oldest_article_has_no_previous(client: Any) -> None:
    article = get(client, f"/news/{OLDEST}").json_body
    assert article["previous"] is None
    assert article["next"]["slug"] == "engine-air-filter-basics"


def test_middle_article_links_both_ways(client: Any) -> None:
    article = get(client, f"/news/{MIRROR}").json_body
    assert article["previous"]["slug"] == "checking-brake-pads-for-wear"
    assert article["next"] == {
        "slug": CATL,
        "title": "CATL signs agreement to build manufacturing base in Shanghai",
    }


def test_unknown_article_is_404(client: Any) -> None:
    for slug in ["no-such-article", "UPPER", "x" * 300]:
        response = get(client, f"/news/{slug}")
        assert response.status_code == 404
        assert response.json_body["error"]["code"] == "not_found"


def test_get_answers_carry_cache_control_and_etag(client: Any) -> None:
    for path in ["/contact", "/news", "/news/categories", f"/news/{CATL}"]:
        response = get(client, path)
        assert response.headers["Cache-Control"].startswith("public, max-age=")
        assert response.headers["ETag"].startswith('"')


def test_matching_if_none_match_gets_304_without_body(client: Any) -> None:
    for path in ["/contact", "/news", "/news/categories", f"/news/{CATL}"]:
        etag = get(client, path).headers["ETag"]
        response = get(client, path, **{"If-None-Match": etag})
        assert response.status_code == 304, path
        assert response.body in (b"", None)
        assert response.headers["ETag"] == etag
        other = get(client, path, **{"If-None-Match": '"something-else"'})
        assert other.status_code == 200


def test_allowed_origin_gets_cors_headers(client: Any) -> None:
    response = get(client, "/news", Origin=SITE)
    assert response.headers["Access-Control-Allow-Origin"] == SITE
    assert "Origin" in response.headers["Vary"]


def test_other_origin_gets_no_cors_headers(client: Any) -> None:
    response = get(client, "/news", Origin="https://evil.example")
    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response.headers


def test_preflight_from_allowed_origin_is_answered(client: Any) -> None:
    response = client.http.request(
        "OPTIONS",
        "/inquiries",
        headers={"Origin": SITE, "Access-Control-Request-Method": "POST"},
    )
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == SITE
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert "Content-Type" in response.headers["Access-Control-Allow-Headers"]


def test_preflight_from_other_origin_is_refused(client: Any) -> None:
    response = client.http.request(
        "OPTIONS",
        "/inquiries",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert response.status_code == 403
    assert "Access-Control-Allow-Origin" not in response.headers
    assert response.json_body["error"]["code"] == "origin_not_allowed"


def test_contact_not_yet_published_is_404(aws: None, settings: Any) -> None:
    from chalice.test import Client

    from chalicelib.bootstrap import create_app
    from tests.conftest import make_runtime

    with Client(create_app(make_runtime(settings))) as empty:
        response = empty.http.get("/contact")
    assert response.status_code == 404
    assert response.json_body["error"]["code"] == "not_found"


def test_wrong_method_is_405_in_the_error_shape(client: Any) -> None:
    for method, path, allowed in [("DELETE", "/news", "GET"), ("GET", "/inquiries", "POST")]:
        response = client.http.request(method, path, body=b"", headers={})
        assert response.status_code == 405
        assert response.json_body["error"]["code"] == "method_not_allowed"
        assert allowed in response.headers["Allow"]


def test_absurdly_long_limit_is_400(client: Any) -> None:
    response = get(client, "/news?limit=" + "9" * 5000)
    assert response.status_code == 400
    assert "limit" in response.json_body["error"]["fields"]
