"""POST /inquiries in the visitor's language: validation errors in zh for a zh locale, and a
browser's plain form post (no JavaScript) answered with a page, never JSON."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import pytest

from tests.conftest import SITE, lead_items, post_form, post_json, sent_emails
from tests.data import BUYER

BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


@pytest.fixture
def api(make_client: Any) -> Any:
    return make_client()


def test_validation_errors_are_chinese_for_the_zh_locale(api: Any) -> None:
    response = post_json(
        api, {"email": "hans@example", "message": "请报价", "quantity": "0", "locale": "zh"}
    )

    assert response.status_code == 422
    error = response.json_body["error"]
    assert error["message"] == "部分内容需要修改。"
    assert error["fields"] == {
        "name": "请填写姓名。",
        "email": "邮箱地址 @ 后面的域名无效：应包含一个点（例如 example.com）。",
        "quantity": "数量必须是 1 到 10,000,000 之间的整数。",
    }


@pytest.mark.parametrize(
    ("email", "sentence"),
    [
        ("hans", "邮箱地址必须包含 @ 符号。"),
        ("hans@", "邮箱地址的 @ 后面必须有域名。"),
        ("hänsé@example.com", "邮箱地址 @ 前面只能使用英文字母、数字和常用符号。"),
        ("hans..x@example.com", "邮箱地址无效，请检查后重新填写。"),
    ],
)
def test_every_email_complaint_is_a_chinese_sentence(api: Any, email: str, sentence: str) -> None:
    response = post_json(api, {**BUYER, "email": email}, **{"Accept-Language": "zh-CN,zh"})

    assert response.json_body["error"]["fields"] == {"email": sentence}


def test_errors_stay_english_otherwise(api: Any) -> None:
    response = post_json(api, {"email": "hans@example", "message": "x", "locale": "en"})

    assert response.json_body["error"]["message"] == "Some fields need attention."
    assert response.json_body["error"]["fields"]["name"] == "is required"


def test_browser_form_post_with_errors_gets_the_form_again_as_a_page(api: Any) -> None:
    fields = {
        "name": "王芳",
        "email": "wang@example",
        "message": '请报价 <b>200</b> "后视镜"',
        "locale": "zh",
        "page": f"{SITE}/zh/contact.html",
        "redirect": f"{SITE}/zh/thanks.html",
    }
    response = post_form(api, fields, **BROWSER)

    assert response.status_code == 422
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert f"form-action 'self' {SITE}" in response.headers["Content-Security-Policy"]
    page = response.body.decode("utf-8")
    assert page.startswith("<!doctype html>") and '<html lang="zh-CN">' in page
    assert '<meta name="robots" content="noindex">' in page
    assert "<h1>请检查您的询价</h1>" in page
    assert '<a href="#f-email">邮箱地址 @ 后面' in page
    assert 'id="f-email" name="email" type="email" value="wang@example"' in page
    assert 'aria-invalid="true" aria-describedby="f-email-error"' in page
    assert ">请报价 &lt;b&gt;200&lt;/b&gt; &quot;后视镜&quot;</textarea>" in page
    assert unescape(_value(page, "redirect")) == f"{SITE}/zh/thanks.html"
    assert f'<a href="{SITE}/zh/contact.html">返回询价页面</a>' in page
    assert sent_emails() == []


def test_the_form_page_keeps_the_typed_rows_each_error_next_to_its_field(api: Any) -> None:
    fields = {
        **{k: v for k, v in BUYER.items() if k not in ("product", "quantity")},
        "locale": "zh",
        "wechat": "wang_fang",
        "items[0].part_number": "04465-33450",
        "items[0].quantity": "0",
        "items[1].description": '后视镜 <b>"左"</b>',
        "items[1].quantity": "2",
    }
    response = post_form(api, fields, **BROWSER)

    assert response.status_code == 422
    page = response.body.decode("utf-8")
    assert (
        '<a href="#f-items-0-quantity">第 1 行的数量必须是 1 到 10,000,000 之间的整数。</a>' in page
    )
    assert 'id="f-items-0-quantity" name="items[0].quantity" type="text" value="0"' in page
    assert '<p id="f-items-0-quantity-error" class="error">第 1 行的数量' in page
    assert 'name="items[1].description" type="text" value="后视镜 &lt;b&gt;&quot;左&quot;' in page
    assert 'name="wechat" type="text" value="wang_fang"' in page
    assert "<legend>第 2 行</legend>" in page


def test_the_corrected_form_sent_from_the_api_page_is_taken(api: Any, settings: Any) -> None:
    fields = {**BUYER, "redirect": f"{SITE}/thanks.html"}
    own = {"Origin": "http://localhost", "Host": "localhost", **BROWSER}

    response = post_form(api, fields, **own)

    assert response.status_code == 303
    assert len(lead_items(settings)) == 1
    foreign = {**own, "Origin": "https://evil.example"}
    assert post_form(api, fields, **foreign).status_code == 403


def test_browser_form_post_refused_otherwise_gets_a_page_in_its_language(
    make_client: Any,
) -> None:
    api = make_client(RATE_LIMIT_PER_IP_PER_HOUR="1")
    assert post_form(api, BUYER, **BROWSER).status_code == 201  # a thanks page
    response = post_form(api, {**BUYER, "locale": "zh"}, **BROWSER)

    assert response.status_code == 429
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert 1 <= int(response.headers["Retry-After"]) <= 3600
    page = response.body.decode("utf-8")
    assert "<h1>询价过于频繁</h1>" in page and "分钟后重试" in page


def test_form_post_without_redirect_gets_a_thanks_page(api: Any, settings: Any) -> None:
    response = post_form(api, {**BUYER, "page": f"{SITE}/contact.html"}, **BROWSER)

    assert response.status_code == 201
    (lead,) = lead_items(settings)
    assert response.headers["X-Inquiry-Id"] == lead["id"]
    assert f"<strong>{lead['id']}</strong>" in response.body.decode("utf-8")


def test_json_clients_and_curl_forms_still_get_json(api: Any) -> None:
    assert post_form(api, {"name": "x"}).json_body["error"]["code"] == "validation_failed"
    assert post_json(api, {"name": "x"}, **BROWSER).json_body["error"]["code"] == (
        "validation_failed"
    )
    assert sent_emails() == []


def _value(page: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert match, name
    return match.group(1)


def test_browser_form_post_during_an_outage_gets_a_page(make_client: Any, faults: Any) -> None:
    api = make_client()
    faults.fail("dynamodb.*", "unreachable")
    faults.fail("sesv2.*", "unreachable")

    response = post_form(api, {**BUYER, "page": f"{SITE}/contact.html"}, **BROWSER)

    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0
    page = response.body.decode("utf-8")
    assert '<html lang="en">' in page and "<h1>Please try again later</h1>" in page
    assert f'<a href="{SITE}/contact.html">Back to the inquiry form</a>' in page
