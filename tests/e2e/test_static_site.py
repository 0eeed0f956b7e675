"""The built site (`manage.py site build`, admin/site_build.py) as crawlers, visitors without
JavaScript and phones see it, in English and Chinese; the audits of Lighthouse's SEO and
Accessibility categories and its layout shift, run by the tests (tests/e2e/audits.py)."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
import xml.etree.ElementTree as ElementTree
from datetime import datetime
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.audits import (
    axe_run,
    axe_violations,
    focus_rings,
    layout_shift,
    seo_audit,
    watch_layout_shifts,
)
from tests.e2e.harness import ARTIFACTS, screenshot

PHONE = {"viewport": {"width": 375, "height": 812}, "is_mobile": True, "has_touch": True}
ARTICLE = "how-to-adjust-the-car-mirror"  # has an older and a newer neighbour
NEWEST = "catl-signs-agreement-to-build-manufacturing-base-in-shanghai"
PREFIX = {"en": "", "zh": "/zh"}
HEADINGS = {
    "en": {"news": "News", "contact": "Contact us", "404": "Page not found"},
    "zh": {"news": "新闻中心", "contact": "联系我们", "404": "页面不存在"},
}
# every kind of page, as (name, path without the language prefix, HTTP status, indexable)
PAGES = [
    ("news", "/", 200, True),
    ("news-page-2", "/news/page/2.html", 200, True),
    ("category", "/news/category/car-care.html", 200, True),
    ("article", f"/news/{ARTICLE}.html", 200, True),
    ("contact", "/contact.html", 200, True),
    ("thanks", "/thanks.html", 200, False),
    ("404", "/news/no-such-article.html", 404, False),
]


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_without_javascript_news_articles_and_contact_block_are_readable(
    pages: Any, service: Any, lang: str
) -> None:
    page = pages.open(java_script_enabled=False)
    prefix = f"{service.site_url}{PREFIX[lang]}"
    titles = page.locator("#news-list > li h2")

    page.goto(f"{prefix}/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN" if lang == "zh" else "en")
    expect(page.get_by_role("heading", level=1)).to_have_text(HEADINGS[lang]["news"])
    expect(titles).to_have_count(5)
    expect(titles.first).to_have_text(re.compile("^CATL signs agreement"))
    expect(page.locator("#sidebar-contact")).to_contain_text("sales@vigorautomobile.com")
    page.locator("#older-link").click()
    expect(titles).to_have_text(["Our new website is online"])

    page.goto(f"{prefix}/news/category/car-care.html")
    expect(page.get_by_role("heading", level=1)).to_have_text("Car care")
    expect(titles).to_have_count(3)

    page.goto(f"{prefix}/news/{ARTICLE}.html")
    expect(page.get_by_role("heading", level=1)).to_have_text("How to adjust the car mirror")
    expect(page.locator("#article-body > p").first).to_be_visible()
    previous, following = page.locator("#previous a"), page.locator("#next a")
    expect(previous).to_have_text("Checking brake pads for wear")
    expect(following).to_have_text("CATL signs agreement to build manufacturing base in Shanghai")
    following.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("^CATL signs"))
    if lang == "zh":  # the articles are English: marked so, inside the Chinese page
        expect(page.locator("#article-body")).to_have_attribute("lang", "en")
        expect(page.locator("#article-title")).to_have_attribute("lang", "en")
        expect(page).to_have_title(re.compile(f"^CATL signs .* — {re.escape(_company())}$"))

    page.goto(f"{prefix}/contact.html")
    expect(page.get_by_role("heading", level=1)).to_have_text(HEADINGS[lang]["contact"])
    expect(page.locator("#contact-block dd")).to_have_count(4)
    expect(page.locator("#contact-block")).to_contain_text("0086-18367850108")

    answer = page.goto(f"{prefix}/news/no-such-article.html")
    assert answer is not None and answer.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text(HEADINGS[lang]["404"])


@pytest.mark.parametrize(
    ("lang", "email_error", "name_error"),
    [
        ("en", "The part after the @-sign is not valid. It should have a period.", None),
        ("zh", "邮箱地址 @ 后面的域名无效：应包含一个点（例如 example.com）。", "请填写姓名。"),
    ],
)
def test_invalid_form_post_without_javascript_shows_the_errors_and_keeps_the_values(
    pages: Any, service: Any, lang: str, email_error: str, name_error: str | None
) -> None:
    page = pages.open(java_script_enabled=False, bypass_csp=True, **PHONE)
    page.goto(f"{service.site_url}{PREFIX[lang]}/contact.html")
    message = "Please quote 200 door mirrors 87910-0K010."
    page.fill("#f-email", "hans@example")
    page.fill("#f-message", message)
    if name_error is None:
        page.fill("#f-name", "Hans Müller")
    page.evaluate("() => document.getElementById('inquiry-form').noValidate = true")

    page.locator("#inquiry-form button[type=submit]").click()

    expect(page.locator("#form-error")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN" if lang == "zh" else "en")
    expect(page.locator("#f-email-error")).to_have_text(email_error)
    expect(page.locator("#f-email")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#f-email")).to_have_value("hans@example")
    expect(page.locator("#f-message")).to_have_value(message)
    expect(page.locator('#error-summary a[href="#f-email"]')).to_have_text(email_error)
    if name_error:
        expect(page.locator("#f-name-error")).to_have_text(name_error)
        page.fill("#f-name", "王芳")
    else:
        expect(page.locator("#f-name")).to_have_value("Hans Müller")
    assert page.locator("body").inner_text().lstrip()[:1] != "{"  # not raw JSON
    assert _axe_without_scripts(pages, page) == []
    back = page.locator("main > p > a")
    expect(back).to_have_attribute("href", f"{service.site_url}{PREFIX[lang]}/contact.html")
    screenshot(page, f"form-errors-no-js-{lang}")

    page.fill("#f-email", "hans@example.com")
    page.locator("#inquiry-form button[type=submit]").click()

    page.wait_for_url(re.compile(rf"{PREFIX[lang]}/thanks\.html\?inquiry="))
    expect(page.locator("#reference")).to_have_text(re.compile(r"^[0-9A-Z]{26}$"))


def test_rate_limit_without_javascript_gets_a_page_not_json(
    pages: Any, service: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.leads.store import RateLimited

    def refuse(*args: Any, **kwargs: Any) -> str:
        raise RateLimited(1800, "ip")

    monkeypatch.setattr(service.runtime.inquiries, "submit", refuse)
    page = pages.open(java_script_enabled=False, bypass_csp=True)
    page.goto(f"{service.site_url}/zh/contact.html")
    page.fill("#f-name", "王芳")
    page.fill("#f-email", "wang.fang@example.cn")
    page.fill("#f-message", "请报价。")

    page.locator("#inquiry-form button[type=submit]").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("询价过于频繁")
    expect(page.get_by_role("alert")).to_contain_text("30 分钟后重试")
    assert _axe_without_scripts(pages, page) == []


def test_sitemap_lists_every_published_article_in_both_languages(service: Any) -> None:
    status, text = get(f"{service.site_url}/sitemap.xml")
    assert status == 200
    namespace = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    locations = [
        node.text for node in ElementTree.fromstring(text).findall("s:url/s:loc", namespace)
    ]
    slugs = [item["slug"] for item in service.runtime.content.news(50).items]
    assert len(slugs) == 6
    for slug in slugs:
        assert f"{service.site_url}/news/{slug}.html" in locations
        assert f"{service.site_url}/zh/news/{slug}.html" in locations
    assert f"{service.site_url}/zh/contact.html" in locations
    assert not any("thanks" in location or "404" in location for location in locations)
    assert len(locations) == len(set(locations))

    status, robots = get(f"{service.site_url}/robots.txt")
    assert status == 200
    assert robots.splitlines()[:2] == ["User-agent: *", "Allow: /"]
    assert f"Sitemap: {service.site_url}/sitemap.xml" in robots.splitlines()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_article_json_ld_has_what_schema_org_news_article_requires(service: Any, lang: str) -> None:
    url = f"{service.site_url}{PREFIX[lang]}/news/{ARTICLE}.html"
    status, page = get(url)
    assert status == 200
    blocks = re.findall(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
    assert len(blocks) == 1
    data = json.loads(blocks[0])
    assert data["@context"] == "https://schema.org"
    assert data["@type"] == "NewsArticle"
    assert data["headline"] == "How to adjust the car mirror" and len(data["headline"]) <= 110
    for name in ("datePublished", "dateModified"):
        assert datetime.fromisoformat(data[name].replace("Z", "+00:00")).tzinfo is not None
    for name in ("author", "publisher"):
        assert data[name]["@type"] == "Organization" and data[name]["name"] == _company()
    assert data["mainEntityOfPage"] == {"@type": "WebPage", "@id": url}
    assert data["url"] == url
    assert data["inLanguage"] == "en"
    assert data["description"] and data["articleBody"]


def test_publishing_rebuilds_the_site_and_unpublishing_removes_the_page(
    service: Any,
) -> None:
    content = service.runtime.content
    content.publish(
        {
            "slug": "new-brake-discs",
            "title": "New brake discs in stock",
            "category": "company-news",
            "published_at": "2030-01-01T00:00:00Z",
            "summary": "Brake discs for Toyota and Honda.",
            "body": "Brake discs for Toyota and Honda are in stock.",
        }
    )
    try:
        service.build_site()
        assert get(f"{service.site_url}/zh/news/new-brake-discs.html")[0] == 200
        assert "/news/new-brake-discs.html" in get(f"{service.site_url}/sitemap.xml")[1]
        assert "New brake discs in stock" in get(f"{service.site_url}/")[1]
    finally:
        content.unpublish("new-brake-discs")
        service.build_site()
    assert get(f"{service.site_url}/news/new-brake-discs.html")[0] == 404
    assert "new-brake-discs" not in get(f"{service.site_url}/sitemap.xml")[1]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_page_passes_the_seo_accessibility_and_layout_audits_on_a_phone(
    pages: Any, service: Any, lang: str
) -> None:
    page = pages.open(bypass_csp=True, locale="zh-CN" if lang == "zh" else "en-GB", **PHONE)
    watch_layout_shifts(page)
    html_lang = "zh-CN" if lang == "zh" else "en"
    report = {}
    for name, path, status, indexable in PAGES:
        url = f"{service.site_url}{PREFIX[lang]}{path}"
        answer = page.goto(url)
        assert answer is not None and answer.status == status, name

        shift = layout_shift(page)
        assert shift < 0.1, f"{name}: CLS {shift}"
        seo = seo_audit(page)
        assert seo["problems"] == [], f"{name}: {seo['problems']}"
        assert seo["lang"] == html_lang
        if indexable:
            assert "noindex" not in seo["robots"], name
            assert seo["canonical"] == [url.replace("/index.html", "/")], name
            hreflangs = dict(seo["alternates"])
            assert set(hreflangs) == {"en", "zh-CN", "x-default"}, name
            assert hreflangs[html_lang] == url, name
            other = "zh-CN" if lang == "en" else "en"
            _, other_page = get(hreflangs[other])  # the pair links back
            assert f'hreflang="{html_lang}" href="{url}"' in other_page, name
        else:
            assert seo["robots"] == "noindex", name
        first_screen = None
        if name == "contact":  # the form starts on the first screen of a phone
            first_screen = page.evaluate(
                "() => document.getElementById('f-name').getBoundingClientRect().bottom + scrollY"
            )
            assert first_screen <= PHONE["viewport"]["height"], first_screen  # type: ignore[index]
        axe = axe_run(page)
        assert axe["violations"] == [], name
        rings = focus_rings(page)
        weak = [ring for ring in rings if ring["contrast"] < 3 or ring["width"] < 2]
        assert rings and not weak, f"{name}: {weak}"
        measured: dict[str, Any] = {
            "cls": round(shift, 4),
            "axe_rules_passed": axe["passes"],
            "focus_ring_min_contrast": round(min(r["contrast"] for r in rings), 2),
            "focusable": len(rings),
        }
        if first_screen is not None:
            measured["name_field_bottom_px"] = round(first_screen)
        report[name] = measured
        screenshot(page, f"audit-{lang}-{name}")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"audits-{lang}.json").write_text(json.dumps(report, indent=1) + "\n")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_contact_page_after_a_failed_submit_has_no_accessibility_violation(
    pages: Any, service: Any, lang: str
) -> None:
    page = pages.open(bypass_csp=True, **PHONE)
    watch_layout_shifts(page)
    page.goto(f"{service.site_url}{PREFIX[lang]}/contact.html")
    page.fill("#f-email", "hans@example")

    page.locator("#inquiry-form button[type=submit]").click()

    expect(page.locator("#f-email-error")).to_be_visible()
    expect(page.locator("#f-name-error")).to_have_text(
        "请填写姓名。" if lang == "zh" else "Name is required."
    )
    if lang == "zh":
        expect(page.locator("#f-email-error")).to_have_text(re.compile("^邮箱地址"))
    assert axe_violations(page) == []
    assert layout_shift(page) < 0.1  # what moved followed the visitor's click


def _axe_without_scripts(pages: Any, page: Any) -> list[dict[str, Any]]:
    """axe on a page shown with JavaScript off: its HTML, in a page that may run axe."""
    checker = pages.open(bypass_csp=True, **PHONE)
    checker.set_content(page.content())
    return axe_violations(checker)


def _company() -> str:
    return "Wenzhou Vigor Automobile Parts Co., Ltd"
