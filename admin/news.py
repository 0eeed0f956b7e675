"""`manage.py news ...`: list, publish and unpublish articles.

An article is a Markdown file with a front matter block (see admin/articles.py): slug,
title, category (one of the site's categories), date (or published_at), optional summary
and source. Publishing a slug that exists replaces that article; previous/next links of
it and its neighbours are kept right either way. Both rebuild the stage's static site
(build/site/STAGE, see `site build`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from admin.command import CommandError, Subcommands, add_command, stage_runtime, usage
from admin.site_build import rebuild_after_change


def register(commands: Subcommands) -> None:
    group = commands.add_parser(
        "news",
        help="list, publish and unpublish news articles",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    group.set_defaults(handler=usage(group))
    news = group.add_subparsers(title="news commands", metavar="COMMAND")

    listing = add_command(news, "list", "every article, newest first")
    listing.add_argument("--category", help="only this category (its slug)")
    listing.set_defaults(handler=list_articles)

    publish = add_command(news, "publish", "publish an article file (or replace it: same slug)")
    publish.add_argument("file", type=Path, metavar="FILE.md")
    publish.set_defaults(handler=publish_article)

    unpublish = add_command(news, "unpublish", "remove an article from the site")
    unpublish.add_argument("slug")
    unpublish.set_defaults(handler=unpublish_article)


def list_articles(args: argparse.Namespace) -> int:
    from chalicelib.content.repository import UnknownCategory

    content = stage_runtime(args.stage).content
    items: list[dict[str, Any]] = []
    cursor = None
    try:
        while True:  # one page of the newest-first index at a time
            page = content.news(50, cursor, args.category)
            items.extend(page.items)
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
    except UnknownCategory:
        raise CommandError(_unknown_category(content, args.category)) from None
    for item in items:
        print(
            f"{item['published_at'][:10]}  {item['slug']:<50}  "
            f"{item['category']['slug']:<14}  {item['title']}"
        )
    print(f"{len(items)} article{'s' if len(items) != 1 else ''}", file=sys.stderr)
    return 0


def publish_article(args: argparse.Namespace) -> int:
    from admin.articles import ArticleError, load_article
    from chalicelib.content.repository import UnknownCategory

    try:
        article = load_article(args.file)
    except ArticleError as exc:
        raise CommandError(str(exc)) from None
    runtime = stage_runtime(args.stage)
    content = runtime.content
    existed = content.article(article["slug"]) is not None
    try:
        content.publish(article)
    except UnknownCategory:
        raise CommandError(
            f"{args.file}: " + _unknown_category(content, article["category"])
        ) from None
    published = content.article(article["slug"]) or {}
    print(f"{'updated' if existed else 'published'} {article['slug']}")
    print(f"  previous (older): {_slug(published.get('previous'))}")
    print(f"  next (newer):     {_slug(published.get('next'))}")
    rebuild_after_change(args.stage, content, runtime.settings.allowed_origins)
    return 0


def unpublish_article(args: argparse.Namespace) -> int:
    runtime = stage_runtime(args.stage)
    content = runtime.content
    article = content.article(args.slug)
    if article is None or not content.unpublish(args.slug):
        raise CommandError(f"no article with slug {args.slug!r} (see `news list`)")
    print(f"unpublished {args.slug}")
    print(
        f"  {_slug(article.get('previous'))} and {_slug(article.get('next'))}"
        " now link to each other"
    )
    rebuild_after_change(args.stage, content, runtime.settings.allowed_origins)
    return 0


def _unknown_category(content: Any, category: str | None) -> str:
    known = ", ".join(c["slug"] for c in content.categories()) or "none yet (run seed)"
    return f"unknown category {category!r}; the categories are: {known}"


def _slug(link: dict[str, str] | None) -> str:
    return link["slug"] if link else "(none)"
