"""`manage.py site build`: the news, the categories, every article and the contact page as
static HTML, in English and Chinese, rendered with Jinja2 from site/templates/.

A crawler (or a visitor without JavaScript) reads everything: each page has its title, meta
description, canonical address, hreflang pairs and Open Graph tags; an article carries
schema.org `NewsArticle` JSON-LD and its Previous/Next links; the lists are paged with real
links. `sitemap.xml`, `robots.txt` and a real 404 page come with it. The scripts (the inquiry
form, the live contact block) only enhance pages that read well without them.

The output is a folder to put on any static host (docs/site.md: S3 + CloudFront):

    index.html, news/page/N.html, news/category/<slug>.html (+ /page/N.html),
    news/<slug>.html, contact.html, thanks.html, 404.html    English, at the root
    zh/...                                                   the same pages in Chinese
    sitemap.xml, robots.txt, config.js, assets/

Links are root-relative: the site lives at the root of its own origin (`--site-url`).
`news publish` and `news unpublish` rebuild it (admin/news.py).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from admin.command import CommandError, Subcommands, add_command, usage

ROOT = Path(__file__).resolve().parent.parent
SITE_DIR = ROOT / "site"
TEMPLATES_DIR = SITE_DIR / "templates"
ASSETS_DIR = SITE_DIR / "assets"
PAGE_SIZE = 5  # articles per list page
LANGUAGES = ("en", "zh")
HTML_LANG = {"en": "en", "zh": "zh-CN"}
OG_LOCALE = {"en": "en_GB", "zh": "zh_CN"}
PREFIX = {"en": "", "zh": "/zh"}
COMPANY = "Wenzhou Vigor Automobile Parts Co., Ltd"
DESCRIPTION_LENGTH = 155
# Where the thanks page's reference goes; the demo's site server fills it in (no script
# needed), a static host leaves the comment and site.js fills it from ?inquiry=.
INQUIRY_MARKER = "<!--inquiry-->"

# Every UI string of the site, en and zh, in one file: the templates use them all, and the
# contact page carries the ones its scripts show (SCRIPT_STRINGS) as JSON for site.js.
STRINGS_FILE = SITE_DIR / "strings.json"
SCRIPT_STRINGS = ("contact.", "form.", "items.", "unit.", "files.")


def load_strings(path: Path = STRINGS_FILE) -> dict[str, dict[str, str]]:
    strings: dict[str, dict[str, str]] = json.loads(path.read_text(encoding="utf-8"))
    return {
        lang: {key: text.replace("{company}", COMPANY) for key, text in texts.items()}
        for lang, texts in strings.items()
    }


TEXT = load_strings()
# The inquiry form's fields, in order: (name, input type, autocomplete, required, wide); the
# lengths and choices are the API's (chalicelib/inquiries). NO_SCRIPT_FIELDS are the one row
# a browser without JavaScript sends; with it, the line-item table and the uploader take
# their place (site/assets/contact.js).
CONTACT_FIELDS: list[tuple[str, str, str, bool, bool]] = [
    ("name", "text", "name", True, False),
    ("email", "email", "email", True, False),
    ("company", "text", "organization", False, False),
    ("country", "text", "country-name", False, False),
    ("phone", "tel", "tel", False, False),
    ("whatsapp", "tel", "off", False, False),
    ("wechat", "text", "off", False, False),
]
NO_SCRIPT_FIELDS: list[tuple[str, str, str, bool, bool]] = [
    ("quantity", "number", "off", False, False),
    ("product", "text", "off", False, True),
]
SHIPPING_FIELDS: list[tuple[str, str, str, bool, bool]] = [
    ("incoterm", "select", "off", False, False),
    ("destination_port", "text", "off", False, False),
]
MESSAGE_FIELD = ("message", "textarea", "off", True, True)
# A line item's cells: (name, input type); the table's columns in order.
ITEM_COLUMNS: list[tuple[str, str]] = [
    ("part_number", "text"),
    ("description", "text"),
    ("quantity", "number"),
    ("unit", "select"),
    ("target_price", "decimal"),
    ("currency", "select"),
]
CURRENCIES = ("USD", "EUR", "CNY", "GBP", "JPY", "AED")  # the API takes any ISO 4217 code


@dataclass
class Built:
    """What a build wrote: every page (site-relative path) and the sitemap's addresses."""

    out: Path
    pages: list[str] = field(default_factory=list)
    sitemap: list[str] = field(default_factory=list)


def register(commands: Subcommands) -> None:
    group = commands.add_parser(
        "site",
        help="build the static site (news, categories, articles, contact; en and zh)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    group.set_defaults(handler=usage(group))
    site = group.add_subparsers(title="site commands", metavar="COMMAND")
    build = add_command(site, "build", "render every page to static HTML (en and zh)")
    build.add_argument("--out", type=Path, help="the folder to write (default build/site/STAGE)")
    build.add_argument(
        "--site-url",
        help="the site's public origin, e.g. https://www.vigorautomobile.com (default: the"
        " stage's first ALLOWED_ORIGINS entry)",
    )
    build.add_argument(
        "--api-url",
        help="the API's address, e.g. https://api.vigorautomobile.com/api (default: the"
        " stage's deployed Rest API URL, from .chalice/deployed/STAGE.json)",
    )
    build.set_defaults(handler=build_command)


def build_command(args: argparse.Namespace) -> int:
    from admin.command import require_stage, stage_runtime

    stage = require_stage(args.stage)
    runtime = stage_runtime(stage)
    out = args.out or default_out(stage)
    site_url, api_url = stage_urls(stage, runtime.settings.allowed_origins)
    built = build_site(runtime.content, out, args.site_url or site_url, args.api_url or api_url)
    print(f"built {len(built.pages)} pages into {built.out}")
    return 0


def default_out(stage: str) -> Path:
    return ROOT / "build" / "site" / stage


def stage_urls(stage: str, allowed_origins: tuple[str, ...]) -> tuple[str, str]:
    """The stage's site origin and API address, as far as they are known ("" if not)."""
    from admin.stages import LOCAL

    if stage == LOCAL:
        from admin.stages import local_stage

        published = local_stage()
        return str(published.get("site_url", "")), str(published.get("api_url", ""))
    site_url = allowed_origins[0] if allowed_origins else ""
    api_url = ""
    deployed = ROOT / ".chalice" / "deployed" / f"{stage}.json"
    try:
        resources = json.loads(deployed.read_text(encoding="utf-8")).get("resources", [])
        for resource in resources:
            if resource.get("resource_type") == "rest_api":
                api_url = str(resource.get("rest_api_url", "")).rstrip("/")
    except (OSError, ValueError, AttributeError):
        pass
    return site_url, api_url


def rebuild_after_change(stage: str, content: Any, allowed_origins: tuple[str, ...]) -> None:
    """After `news publish`/`unpublish`: rebuild build/site/STAGE, or say why not."""
    try:
        site_url, api_url = stage_urls(stage, allowed_origins)
        built = build_site(content, default_out(stage), site_url, api_url)
    except Exception as exc:  # the news is live already: say so, never fail the command
        print(f"  the static site was NOT rebuilt: {exc}", file=sys.stderr)
        print(f"  run: python manage.py site build --stage {stage}", file=sys.stderr)
        return
    print(f"  rebuilt the static site: {len(built.pages)} pages in {built.out}")


# ---- the build -----------------------------------------------------------------------


def build_site(content: Any, out: Path, site_url: str, api_url: str) -> Built:
    """Render every page into `out` (replaced whole, so a removed article's page goes)."""
    if not site_url or not api_url:
        missing = "--site-url" if not site_url else "--api-url"
        raise CommandError(f"the site's address is not known: add {missing}")
    site_url, api_url = site_url.rstrip("/"), api_url.rstrip("/")
    categories = list(content.categories())
    contact = content.contact() or {}
    summaries = list(_all_summaries(content, None))
    by_category = {c["slug"]: list(_all_summaries(content, c["slug"])) for c in categories}
    articles = [content.article(s["slug"]) for s in summaries]
    renderer = _Renderer(site_url, api_url, categories, contact)

    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    built = Built(out)
    try:
        for lang in LANGUAGES:
            write = _Writer(staging, lang, built)
            for number, items, total in _pages(summaries):
                write(
                    _list_path(None, number),
                    renderer.news_list(lang, None, items, number, total),
                    sitemap=True,
                )
            for category in categories:
                pages = list(_pages(by_category[category["slug"]]))
                for number, items, total in pages:
                    write(
                        _list_path(category["slug"], number),
                        renderer.news_list(lang, category, items, number, total),
                        sitemap=True,
                    )
            for article in articles:
                if article is not None:
                    write(_article_path(article["slug"]), renderer.article(lang, article), True)
            write("/contact.html", renderer.contact(lang), sitemap=True)
            write("/thanks.html", renderer.thanks(lang))
            write("/404.html", renderer.not_found(lang))
        (staging / "sitemap.xml").write_text(renderer.sitemap(built.sitemap), encoding="utf-8")
        (staging / "robots.txt").write_text(
            f"User-agent: *\nAllow: /\n\nSitemap: {site_url}/sitemap.xml\n", encoding="utf-8"
        )
        (staging / "config.js").write_text(
            f"window.VIGOR = {json.dumps({'api': api_url, 'site': site_url})};\n",
            encoding="utf-8",
        )
        shutil.copytree(ASSETS_DIR, staging / "assets")
        _replace(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return built


def _replace(staging: Path, out: Path) -> None:
    """Swap the new build in; a server reading `out` sees the old or the new site."""
    staging.chmod(0o755)
    if out.exists():
        old = out.with_name(f".{out.name}-old-{os.getpid()}")
        out.rename(old)
        staging.rename(out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        staging.rename(out)


def _all_summaries(content: Any, category: str | None) -> Iterator[dict[str, Any]]:
    cursor = None
    while True:
        page = content.news(50, cursor, category)
        yield from page.items
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


def _pages(items: list[dict[str, Any]]) -> Iterator[tuple[int, list[dict[str, Any]], int]]:
    total = max(1, -(-len(items) // PAGE_SIZE))
    for number in range(1, total + 1):
        yield number, items[(number - 1) * PAGE_SIZE : number * PAGE_SIZE], total


def _list_path(category: str | None, number: int) -> str:
    base = "/news" if category is None else f"/news/category/{category}"
    if number == 1:
        return "/" if category is None else f"{base}.html"
    return f"{base}/page/{number}.html"


def _article_path(slug: str) -> str:
    return f"/news/{slug}.html"


class _Writer:
    def __init__(self, root: Path, lang: str, built: Built) -> None:
        self.root, self.lang, self.built = root, lang, built

    def __call__(self, path: str, html: str, sitemap: bool = False) -> None:
        page = PREFIX[self.lang] + path
        target = self.root / (page.lstrip("/") or ".")
        if page.endswith("/"):
            target = target / "index.html"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(html, encoding="utf-8")
        self.built.pages.append(page)
        if sitemap and self.lang == "en":
            self.built.sitemap.append(path)


class _Renderer:
    def __init__(
        self,
        site_url: str,
        api_url: str,
        categories: list[dict[str, str]],
        contact: dict[str, Any],
    ) -> None:
        import jinja2

        self.site_url = site_url
        self.api_url = api_url
        self.categories = categories
        self.contact_block = contact
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
            autoescape=True,
            trim_blocks=True,
            lstrip_blocks=True,
            undefined=jinja2.StrictUndefined,
        )
        self.env.filters["json_ld"] = _script_json

    # ---- pages ----

    def news_list(
        self,
        lang: str,
        category: dict[str, str] | None,
        items: list[dict[str, Any]],
        number: int,
        total: int,
    ) -> str:
        t = TEXT[lang]
        slug = category["slug"] if category else None
        heading = category["name"] if category else t["news.title"]
        title = heading if number == 1 else f"{heading} ({t['news.page'].format(page=number)})"
        if category:
            description = t["category.description"].format(category=heading, company=COMPANY)
        else:
            description = t["news.description"].format(company=COMPANY)
        if number > 1:
            description = f"{description} ({t['news.page'].format(page=number)})"
        return self._render(
            "news.html",
            lang,
            _list_path(slug, number),
            title=title,
            description=description,
            heading=heading,
            heading_lang="en" if category and lang != "en" else None,
            category=category,
            items=items,
            newer=_list_path(slug, number - 1) if number > 1 else None,
            older=_list_path(slug, number + 1) if number < total else None,
            nav="news",
        )

    def article(self, lang: str, article: dict[str, Any]) -> str:
        path = _article_path(article["slug"])
        description = _shorten(article.get("summary") or article.get("body") or "")
        ld = {
            "@context": "https://schema.org",
            "@type": "NewsArticle",
            "mainEntityOfPage": {"@type": "WebPage", "@id": self._url(lang, path)},
            "url": self._url(lang, path),
            "headline": article["title"][:110],
            "description": description,
            "articleBody": article.get("body", ""),
            "articleSection": article["category"]["name"],
            "inLanguage": "en",
            "datePublished": article["published_at"],
            "dateModified": article["published_at"],
            "author": {"@type": "Organization", "name": COMPANY, "url": self.site_url + "/"},
            "publisher": {"@type": "Organization", "name": COMPANY, "url": self.site_url + "/"},
        }
        if article.get("source"):
            ld["isBasedOn"] = article["source"]
        return self._render(
            "article.html",
            lang,
            path,
            title=article["title"],
            title_lang="en" if lang != "en" else None,
            description=description,
            og_type="article",
            article=article,
            paragraphs=_paragraphs(article.get("body") or ""),
            json_ld=ld,
            nav="news",
        )

    def contact(self, lang: str) -> str:
        t = TEXT[lang]
        return self._render(
            "contact.html",
            lang,
            "/contact.html",
            title=t["contact.title"],
            description=t["contact.description"].format(company=COMPANY),
            **_form(),
            script_strings=_script_strings(lang),
            nav="contact",
        )

    def thanks(self, lang: str) -> str:
        t = TEXT[lang]
        return self._render(
            "thanks.html",
            lang,
            "/thanks.html",
            title=t["thanks.title"],
            description=t["thanks.text"],
            noindex=True,
            inquiry_marker=INQUIRY_MARKER,
        )

    def not_found(self, lang: str) -> str:
        t = TEXT[lang]
        return self._render(
            "404.html",
            lang,
            "/404.html",
            title=t["notfound.title"],
            description=t["notfound.description"],
            noindex=True,
        )

    def sitemap(self, paths: list[str]) -> str:
        template = self.env.get_template("sitemap.xml.j2")
        entries = [{lang: self._url(lang, path) for lang in LANGUAGES} for path in paths]
        return template.render(entries=entries, html_lang=HTML_LANG) + "\n"

    # ---- shared ----

    def _url(self, lang: str, path: str) -> str:
        return f"{self.site_url}{PREFIX[lang]}{path}"

    def _render(self, name: str, lang: str, path: str, **page: Any) -> str:
        t = TEXT[lang]
        other = "zh" if lang == "en" else "en"
        values: dict[str, Any] = {
            "lang": lang,
            "html_lang": HTML_LANG[lang],
            "t": t,
            "company": COMPANY,
            "site_url": self.site_url,
            "api_url": self.api_url,
            "prefix": PREFIX[lang],
            "canonical": self._url(lang, path),
            "alternates": [(HTML_LANG[code], self._url(code, path)) for code in LANGUAGES],
            "x_default": self._url("en", path),
            "og_locale": OG_LOCALE[lang],
            "og_locale_alternate": OG_LOCALE[other],
            "switch_href": PREFIX[other] + path,
            "switch_lang": HTML_LANG[other],
            "switch_hreflang": HTML_LANG[other],
            "content_lang": "en" if lang != "en" else None,
            "categories": self.categories,
            "contact": self.contact_block,
            "contact_rows": _contact_rows(self.contact_block),
            "date": lambda iso: _format_date(iso, lang),
            "noindex": False,
            "og_type": "website",
            "json_ld": None,
            "title_lang": None,
            "nav": None,
            **page,
        }
        values["page_path"] = path
        return self.env.get_template(f"{name}.j2").render(values) + "\n"


def _form() -> dict[str, Any]:
    """The contact form's fields with the API's own lengths and choices (one source)."""
    from chalicelib.attachments import kinds
    from chalicelib.inquiries.fields import INCOTERMS, TEXT_FIELDS
    from chalicelib.inquiries.line_items import MAX_ROWS, ROW_TEXT, UNITS
    from chalicelib.leads.model import SOURCE_FIELDS

    # the uploader checks what the API will (it checks again): count, sizes in MB, types
    limits = {
        "count": kinds.MAX_FILES,
        "each": kinds.MAX_FILE_BYTES // 2**20,
        "total": kinds.MAX_TOTAL_BYTES // 2**20,
    }
    types = {ext[1:]: k.content_types[0] for k in kinds.KINDS for ext in k.extensions}

    def sized(fields: list[tuple[str, str, str, bool, bool]]) -> list[tuple[Any, ...]]:
        return [
            (n, kind, auto, TEXT_FIELDS.get(n, (0,))[0], *rest) for n, kind, auto, *rest in fields
        ]

    return {
        "contact_fields": sized(CONTACT_FIELDS),
        "no_script_fields": sized(NO_SCRIPT_FIELDS),
        "shipping_fields": sized(SHIPPING_FIELDS),
        "message_field": sized([MESSAGE_FIELD])[0],
        "incoterms": INCOTERMS,
        "item_columns": [(n, kind, ROW_TEXT.get(n, 0)) for n, kind in ITEM_COLUMNS],
        "units": UNITS,
        "currencies": CURRENCIES,
        "uploader": {"limits": limits, "types": types, "max_items": MAX_ROWS},
        "accept": ",".join(sorted({f".{ext}" for ext in types} | set(types.values()))),
        "source_fields": SOURCE_FIELDS,  # hidden inputs site.js fills with the first touch
    }


def _script_strings(lang: str) -> dict[str, str]:
    """The strings the page's scripts show, in the page's language (for site.js)."""
    return {k: v for k, v in TEXT[lang].items() if k.startswith(SCRIPT_STRINGS)}


def _contact_rows(contact: dict[str, Any]) -> list[tuple[str, str, str | None]]:
    """(key, text, link) for each entry the company has; None values are left out."""
    rows: list[tuple[str, str, str | None]] = []
    for key in ("contact_person", "phone", "tel", "email", "address", "wechat"):
        value = contact.get(key)
        if not value:
            continue
        link = None
        if key in ("phone", "tel"):
            digits = "".join(ch for ch in value if ch.isdigit() or ch == "+")
            link = "tel:" + ("+" + digits[2:] if digits.startswith("00") else digits)
        elif key == "email":
            link = f"mailto:{value}"
        rows.append((key, str(value), link))
    return rows


def _paragraphs(body: str) -> list[str]:
    import re

    return [p.strip() for p in re.split(r"\r?\n\s*\r?\n", body) if p.strip()]


def _shorten(text: str) -> str:
    text = " ".join(text.split())
    if len(text) <= DESCRIPTION_LENGTH:
        return text
    cut = text[: DESCRIPTION_LENGTH - 1].rsplit(" ", 1)[0]
    return cut.rstrip(",.;:") + "…"


def _format_date(iso: str, lang: str) -> str:
    try:
        moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return iso
    if lang == "zh":
        return f"{moment.year}年{moment.month}月{moment.day}日"
    return f"{moment.day} {moment:%B} {moment.year}"


def _script_json(value: Any) -> str:
    """JSON for a <script> element (an article's JSON-LD, the scripts' strings): `<`, `>` and
    `&` escaped, so no text can close the element."""
    from markupsafe import Markup

    text = json.dumps(value, ensure_ascii=False, indent=1)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)
