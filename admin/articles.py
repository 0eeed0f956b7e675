"""Articles as Markdown files with a front matter block, validated before publishing.

---
slug: how-to-adjust-the-car-mirror
title: How to adjust the car mirror
category: industry-new
published_at: 2021-08-12T08:00:00Z   (or `date: 2021-08-12`)
summary: One sentence for the news list.
source: Gasgoo            (optional)
---
Body paragraphs, separated by blank lines.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

from chalicelib.content import SLUG
from chalicelib.times import iso

REQUIRED = ("slug", "title", "category", "published_at")
OPTIONAL = ("summary", "source")
ALIASES = {"date": "published_at"}


class ArticleError(ValueError):
    pass


def parse_article(text: str, origin: str = "article") -> dict[str, Any]:
    lines = text.lstrip("\ufeff").splitlines()
    if not lines or lines[0].strip() != "---":
        raise ArticleError(f"{origin}: must start with a '---' front matter line")
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    except StopIteration:
        raise ArticleError(f"{origin}: the front matter has no closing '---' line") from None
    meta: dict[str, Any] = {}
    for number, line in enumerate(lines[1:end], start=2):
        if not line.strip():
            continue
        key, sep, value = line.partition(":")
        key = key.strip()
        key = ALIASES.get(key, key)
        if not sep or key not in REQUIRED + OPTIONAL:
            raise ArticleError(
                f"{origin}:{number}: expected 'key: value' with key one of"
                f" {', '.join(REQUIRED + OPTIONAL + tuple(ALIASES))}"
            )
        if key in meta:
            named = "date/published_at" if key == "published_at" else key
            raise ArticleError(f"{origin}:{number}: {named} is given twice")
        meta[key] = value.strip()
    missing = [
        "date (or published_at)" if key == "published_at" else key
        for key in REQUIRED
        if not meta.get(key)
    ]
    if missing:
        raise ArticleError(f"{origin}: front matter lacks {', '.join(missing)}")
    if not SLUG.match(meta["slug"]) or len(meta["slug"]) > 100:
        raise ArticleError(
            f"{origin}: slug must be lowercase words joined by '-', got {meta['slug']!r}"
        )
    if len(meta["title"]) > 200:
        raise ArticleError(f"{origin}: title is longer than 200 characters")
    meta["published_at"] = _timestamp(meta["published_at"], origin)
    body = "\n".join(lines[end + 1 :]).strip()
    if not body:
        raise ArticleError(f"{origin}: the article has no body")
    meta["body"] = body
    meta.setdefault("summary", body.split("\n\n")[0][:300])
    meta.setdefault("source", None)
    return meta


def load_article(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ArticleError(
            f"{path}: no such file (write the article there first: docs/deploy.md, step 5,"
            " shows one)"
        ) from None
    except IsADirectoryError:
        raise ArticleError(f"{path}: is a folder; give the article's .md file") from None
    except OSError as exc:
        raise ArticleError(f"{path}: cannot be read ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        raise ArticleError(
            f"{path}: is not UTF-8 text (byte {exc.start}); save it as UTF-8"
        ) from None
    return parse_article(text, str(path))


def _timestamp(value: str, origin: str) -> str:
    """Dates or date-times, normalised to UTC 'YYYY-MM-DDTHH:MM:SSZ' (the feed's sort key)."""
    try:
        if len(value) == 10:
            parsed = datetime.datetime.fromisoformat(value).replace(tzinfo=datetime.UTC)
        else:
            parsed = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ArticleError(
            f"{origin}: published_at must be a date like 2021-08-19 or 2021-08-19T08:00:00Z"
        ) from None
    if parsed.tzinfo is None:
        raise ArticleError(f"{origin}: published_at needs a time zone (end it with Z for UTC)")
    return iso(parsed.timestamp())
