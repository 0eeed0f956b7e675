"""Load seed/ (contact block, categories, articles) into the content table, idempotently."""

from __future__ import annotations

import json
from pathlib import Path

from admin.articles import load_article
from chalicelib.content.repository import ContentRepository

SEED_DIR = Path(__file__).resolve().parent.parent / "seed"


def load_seed(content: ContentRepository, seed_dir: Path = SEED_DIR) -> dict[str, int]:
    """Running it twice leaves the same tables: every write is a put by key."""
    contact = json.loads((seed_dir / "contact.json").read_text(encoding="utf-8"))
    content.put_contact(contact)
    categories = json.loads((seed_dir / "categories.json").read_text(encoding="utf-8"))
    for position, category in enumerate(categories):
        content.put_category(category["slug"], category["name"], position)
    articles = [load_article(path) for path in sorted((seed_dir / "articles").glob("*.md"))]
    # Oldest first, so each publish only links to articles already there.
    for article in sorted(articles, key=lambda a: a["published_at"]):
        content.publish(article)
    return {"contact": 1, "categories": len(categories), "articles": len(articles)}
