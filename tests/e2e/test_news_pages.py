"""The news list and the article page (built by `manage.py site build`), as a visitor sees
them in Chromium."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.e2e.harness import screenshot

NEWEST_FIRST = [
    "CATL signs agreement to build manufacturing base in Shanghai",
    "How to adjust the car mirror",
    "Checking brake pads for wear",
    "Choosing the right wiper blades",
    "Engine air filter basics",
    "Our new website is online",
]
PAGE_SIZE = 5  # admin/site_build.py PAGE_SIZE
TITLES = "#news-list > li h2"


def test_news_page_lists_the_seeded_articles_newest_first(page: Any, service: Any) -> None:
    page.goto(f"{service.site_url}/")

    expect(page.locator(TITLES)).to_have_text(NEWEST_FIRST[:PAGE_SIZE])
    expect(page.locator("#news-list .meta").first).to_have_text(
        "19 August 2021 · Industry new · Source: Gasgoo"
    )
    expect(page.locator("#categories a")).to_have_text(
        ["All news", "Company news", "Industry new", "Car care"]
    )
    expect(page.locator("#categories a[aria-current=page]")).to_have_text("All news")
    expect(page.locator("#sidebar-contact")).to_contain_text("sales@vigorautomobile.com")
    screenshot(page, "news")


def test_older_articles_link_pages_on_with_the_next_cursor(page: Any, service: Any) -> None:
    page.goto(f"{service.site_url}/index.html")
    expect(page.locator(TITLES)).to_have_count(PAGE_SIZE)

    page.get_by_role("link", name="Older articles").click()

    expect(page.locator(TITLES)).to_have_text(NEWEST_FIRST[PAGE_SIZE:])
    assert page.url.endswith("/news/page/2.html")
    expect(page.get_by_role("link", name="Older articles")).to_have_count(0)
    page.get_by_role("link", name="Newer articles").click()
    expect(page.locator(TITLES)).to_have_text(NEWEST_FIRST[:PAGE_SIZE])


def test_category_link_lists_only_that_category(page: Any, service: Any) -> None:
    page.goto(f"{service.site_url}/index.html")

    page.locator("#categories").get_by_role("link", name="Car care").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Car care")
    expect(page.locator(TITLES)).to_have_text(
        [
            "Checking brake pads for wear",
            "Choosing the right wiper blades",
            "Engine air filter basics",
        ]
    )
    expect(page.locator("#news-list .meta a")).to_have_text(["Car care"] * 3)
    expect(page.locator("#categories a[aria-current=page]")).to_have_text("Car care")
    expect(page.locator("#crumb-category")).to_have_text("> Car care")
    assert page.url.endswith("/news/category/car-care.html")


def test_unknown_category_and_article_are_404_pages(page: Any, service: Any) -> None:
    for path in ("/news/category/no-such-category.html", "/news/no-such-article.html"):
        answer = page.goto(f"{service.site_url}{path}")

        assert answer.status == 404
        expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
        expect(page.locator("meta[name=robots]")).to_have_attribute("content", "noindex")
    answer = page.goto(f"{service.site_url}/zh/news/no-such-article.html")
    assert answer.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("页面不存在")


def test_article_page_shows_the_body_and_previous_and_next(page: Any, service: Any) -> None:
    page.goto(f"{service.site_url}/index.html")
    page.get_by_role("link", name=NEWEST_FIRST[0]).click()

    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text(NEWEST_FIRST[0])
    paragraphs = page.locator("#article-body > p")
    expect(paragraphs).to_have_count(6)
    expect(paragraphs.first).to_have_text(
        re.compile(r"^Shanghai \(Gasgoo\)- On August 18, CATL signed a strategic")
    )
    expect(paragraphs.last).to_have_text(re.compile(r"^On the same day, the Ningde-based"))
    expect(page.locator("#crumb-category")).to_have_text("> Industry new")
    expect(page.locator("#previous")).to_have_text("Previous: How to adjust the car mirror")
    expect(page.locator("#next")).to_have_text("Next: none")
    expect(page).to_have_title(re.compile("^CATL signs agreement"))
    assert page.url.endswith(f"/news/{_slug(NEWEST_FIRST[0])}.html")
    screenshot(page, "article")

    page.locator("#previous").get_by_role("link").click()

    expect(heading).to_have_text("How to adjust the car mirror")
    expect(page.locator("#previous")).to_have_text("Previous: Checking brake pads for wear")
    expect(page.locator("#next")).to_have_text(f"Next: {NEWEST_FIRST[0]}")
    page.locator("#next").get_by_role("link").click()
    expect(heading).to_have_text(NEWEST_FIRST[0])


def test_markup_in_an_article_is_shown_as_text_never_run(page: Any, service: Any) -> None:
    content = service.runtime.content
    content.publish(
        {
            "slug": "markup-is-text",
            "title": "<b>Bold</b> claims",
            "category": "company-news",
            "published_at": "2000-01-01T00:00:00Z",
            "summary": '<img src="x" onerror="window.pwned = 1">',
            "body": '<script>window.pwned = 2</script>\n\n<a href="javascript:alert(1)">link</a>',
        }
    )
    try:
        service.build_site()
        page.goto(f"{service.site_url}/news/markup-is-text.html")
        expect(page.get_by_role("heading", level=1)).to_have_text("<b>Bold</b> claims")
        expect(page.locator("#article-body > p")).to_have_text(
            ["<script>window.pwned = 2</script>", '<a href="javascript:alert(1)">link</a>']
        )
        assert page.locator("h1 *, #article-body p *").count() == 0
        page.goto(f"{service.site_url}/news/category/company-news.html")
        expect(page.locator("#news-list .summary").last).to_have_text(
            '<img src="x" onerror="window.pwned = 1">'
        )
        assert page.locator("#news-list h2 a *, #news-list .summary *").count() == 0
        assert page.evaluate("window.pwned") is None
    finally:
        content.unpublish("markup-is-text")
        service.build_site()


def test_site_works_from_its_localhost_address_too(page: Any, service: Any) -> None:
    page.goto(service.site_url.replace("127.0.0.1", "localhost") + "/index.html")

    expect(page.locator(TITLES).first).to_have_text(NEWEST_FIRST[0])


def test_pages_fit_a_375px_wide_phone_screen(pages: Any, service: Any) -> None:
    page = pages.open(viewport={"width": 375, "height": 812}, is_mobile=True, has_touch=True)
    checks = {
        "news": ("/index.html", TITLES),
        "article": (f"/news/{_slug(NEWEST_FIRST[0])}.html", "#article-body > p"),
        "contact": ("/contact.html", "#contact-block dd"),
    }
    for name, (path, content) in checks.items():
        page.goto(service.site_url + path)
        expect(page.locator(content).first).to_be_visible()
        widths = page.evaluate(
            "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        assert widths[0] <= widths[1] == 375, f"{name} scrolls sideways: {widths}"
        screenshot(page, f"{name}-375px")


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
