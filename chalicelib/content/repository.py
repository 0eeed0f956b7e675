"""News and contact data in the content table.

Keys (see infra/resources.json):
  contact    pk=CONTACT          sk=CONTACT
  category   pk=CATEGORY         sk=<slug>
  article    pk=ARTICLE#<slug>   sk=ARTICLE, plus feed_pk=NEWS, category_pk=NEWS#<cat>,
             feed_sk=<published_at>#<slug> for the two newest-first indexes.

Every read is one GetItem or one Query with a limit, so its cost does not grow with the
number of articles. An article keeps its previous/next links ({slug, title}) so the
article page is one GetItem; publish and unpublish keep the neighbours' links right.
"""

from __future__ import annotations

import base64
import binascii
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chalicelib.content import MAX_SLUG_LENGTH, is_cursor_shaped, is_slug
from chalicelib.dynamo import from_item, to_item

CONTACT_FIELDS = ("company", "contact_person", "phone", "tel", "email", "address", "wechat")
SUMMARY_FIELDS = ("slug", "title", "published_at", "summary", "source")
# \Z, not $ ("$" matches before a trailing newline); [0-9], not \d (any Unicode digit).
_FEED_SK = re.compile(
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z#([a-z0-9]+(?:-[a-z0-9]+)*)\Z"
)
_NEWS = "NEWS"


class InvalidCursor(ValueError):
    pass


class UnknownCategory(LookupError):
    pass


@dataclass(frozen=True)
class NewsPage:
    items: list[dict[str, Any]]
    next_cursor: str | None


class ContentRepository:
    """Reads (request paths) and writes (admin, seed) of the content table."""

    def __init__(
        self,
        dynamodb: Any,
        table: str,
        cache_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._db = dynamodb
        self._table = table
        self._cache = _TtlCache(cache_seconds, clock)

    # ---- reads (request paths) -------------------------------------------------

    def contact(self) -> dict[str, Any] | None:
        contact: dict[str, Any] | None = self._cache.get("contact", self._load_contact)
        return contact

    def categories(self) -> list[dict[str, str]]:
        categories: list[dict[str, str]] = self._cache.get("categories", self._load_categories)
        return categories

    def news(self, limit: int, cursor: str | None = None, category: str | None = None) -> NewsPage:
        """Newest first. One Query: it asks for one item more to know if a next page exists.

        A category that is not a slug is unknown and a cursor this API did not give out is
        invalid, both without asking DynamoDB (which refuses over-long keys with an error).
        """
        if category is not None and not is_slug(category):
            raise UnknownCategory(category)
        start_key = None if cursor is None else _decode_cursor(cursor)
        args: dict[str, Any] = {
            "TableName": self._table,
            "ScanIndexForward": False,
            "Limit": limit + 1,
        }
        if category is None:
            partition = {"feed_pk": _NEWS}
            args["IndexName"] = "feed"
            args["KeyConditionExpression"] = "feed_pk = :p"
        else:
            partition = {"category_pk": f"{_NEWS}#{category}"}
            args["IndexName"] = "category_feed"
            args["KeyConditionExpression"] = "category_pk = :p"
        args["ExpressionAttributeValues"] = to_item({":p": next(iter(partition.values()))})
        if start_key is not None:
            feed_sk, slug = start_key
            args["ExclusiveStartKey"] = to_item(
                {**partition, "feed_sk": feed_sk, "pk": f"ARTICLE#{slug}", "sk": "ARTICLE"}
            )
        rows = [from_item(item) for item in self._db.query(**args)["Items"]]
        # An empty page: only now is it worth asking whether the category exists.
        if not rows and category is not None and category not in self._category_slugs():
            raise UnknownCategory(category)
        page = rows[:limit]
        next_cursor = _encode_cursor(page[-1]["feed_sk"]) if len(rows) > limit else None
        return NewsPage([_summary(row) for row in page], next_cursor)

    def article(self, slug: str) -> dict[str, Any] | None:
        if not is_slug(slug):  # never published, and not a key DynamoDB would take
            return None
        response = self._db.get_item(
            TableName=self._table, Key=to_item({"pk": f"ARTICLE#{slug}", "sk": "ARTICLE"})
        )
        if "Item" not in response:
            return None
        row = from_item(response["Item"])
        return {
            **_summary(row),
            "body": row.get("body", ""),
            "previous": row.get("previous"),
            "next": row.get("next"),
        }

    def _category_slugs(self) -> set[str]:
        return {category["slug"] for category in self.categories()}

    # ---- loaders behind the cache ------------------------------------------------

    def _load_contact(self) -> dict[str, Any] | None:
        response = self._db.get_item(
            TableName=self._table, Key=to_item({"pk": "CONTACT", "sk": "CONTACT"})
        )
        if "Item" not in response:
            return None
        row = from_item(response["Item"])
        return {name: row.get(name) for name in CONTACT_FIELDS}

    def _load_categories(self) -> list[dict[str, str]]:
        # A handful of categories: one page in practice, but never truncated.
        pages = self._db.get_paginator("query").paginate(
            TableName=self._table,
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues=to_item({":p": "CATEGORY"}),
        )
        rows = [from_item(item) for page in pages for item in page["Items"]]
        rows.sort(key=lambda row: (row.get("position", 0), row["name"]))
        return [{"slug": row["sk"], "name": row["name"]} for row in rows]

    # ---- writes (admin and seed; never on a request path) ------------------------

    def put_contact(self, contact: dict[str, Any]) -> None:
        values = {name: contact.get(name) for name in CONTACT_FIELDS}
        self._db.put_item(
            TableName=self._table, Item=to_item({"pk": "CONTACT", "sk": "CONTACT", **values})
        )
        self._cache.clear()

    def put_category(self, slug: str, name: str, position: int = 0) -> None:
        self._db.put_item(
            TableName=self._table,
            Item=to_item({"pk": "CATEGORY", "sk": slug, "name": name, "position": position}),
        )
        self._cache.clear()

    def publish(self, article: dict[str, Any]) -> None:
        """Write an article (new or changed) and relink it and its neighbours."""
        slug = article["slug"]
        category = article["category"]
        if not is_slug(slug):  # admin/articles.py checks first; never write an unreadable key
            raise ValueError(f"not a slug of at most {MAX_SLUG_LENGTH} characters: {slug!r}")
        names = {c["slug"]: c["name"] for c in self._load_categories()}
        if category not in names:
            raise UnknownCategory(category)
        existing = self.article(slug)
        if existing is not None:
            self.unpublish(slug)
        feed_sk = f"{article['published_at']}#{slug}"
        older = self._neighbour(feed_sk, newer=False)
        newer = self._neighbour(feed_sk, newer=True)
        link = {"slug": slug, "title": article["title"]}
        item = {
            "pk": f"ARTICLE#{slug}",
            "sk": "ARTICLE",
            "feed_pk": _NEWS,
            "category_pk": f"{_NEWS}#{category}",
            "feed_sk": feed_sk,
            "slug": slug,
            "title": article["title"],
            "category": category,
            "category_name": names[category],
            "published_at": article["published_at"],
            "summary": article.get("summary", ""),
            "source": article.get("source"),
            "body": article["body"],
            "previous": _link(older),
            "next": _link(newer),
        }
        writes: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": to_item(item),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            }
        ]
        if older is not None:
            writes.append(self._set_link(older["slug"], "next", link))
        if newer is not None:
            writes.append(self._set_link(newer["slug"], "previous", link))
        self._db.transact_write_items(TransactItems=writes)

    def unpublish(self, slug: str) -> bool:
        """Remove an article; its older and newer neighbours now point at each other."""
        if not is_slug(slug):
            return False
        response = self._db.get_item(
            TableName=self._table,
            Key=to_item({"pk": f"ARTICLE#{slug}", "sk": "ARTICLE"}),
            ConsistentRead=True,
        )
        if "Item" not in response:
            return False
        row = from_item(response["Item"])
        older, newer = row.get("previous"), row.get("next")
        writes: list[dict[str, Any]] = [
            {
                "Delete": {
                    "TableName": self._table,
                    "Key": to_item({"pk": f"ARTICLE#{slug}", "sk": "ARTICLE"}),
                }
            }
        ]
        if older is not None:
            writes.append(self._set_link(older["slug"], "next", newer))
        if newer is not None:
            writes.append(self._set_link(newer["slug"], "previous", older))
        self._db.transact_write_items(TransactItems=writes)
        return True

    def _neighbour(self, feed_sk: str, newer: bool) -> dict[str, Any] | None:
        response = self._db.query(
            TableName=self._table,
            IndexName="feed",
            KeyConditionExpression=f"feed_pk = :p AND feed_sk {'>' if newer else '<'} :k",
            ExpressionAttributeValues=to_item({":p": _NEWS, ":k": feed_sk}),
            ScanIndexForward=newer,
            Limit=1,
        )
        return from_item(response["Items"][0]) if response["Items"] else None

    def _set_link(self, slug: str, which: str, link: dict[str, str] | None) -> dict[str, Any]:
        return {
            "Update": {
                "TableName": self._table,
                "Key": to_item({"pk": f"ARTICLE#{slug}", "sk": "ARTICLE"}),
                "UpdateExpression": "SET #link = :link",
                "ConditionExpression": "attribute_exists(pk)",
                "ExpressionAttributeNames": {"#link": which},
                "ExpressionAttributeValues": to_item({":link": link}),
            }
        }


def _summary(row: dict[str, Any]) -> dict[str, Any]:
    summary = {name: row.get(name) for name in SUMMARY_FIELDS}
    summary["category"] = {"slug": row.get("category"), "name": row.get("category_name")}
    return summary


def _link(row: dict[str, Any] | None) -> dict[str, str] | None:
    return None if row is None else {"slug": row["slug"], "title": row["title"]}


def _encode_cursor(feed_sk: str) -> str:
    return base64.urlsafe_b64encode(feed_sk.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[str, str]:
    """(feed_sk, slug) of a cursor _encode_cursor gave out, else InvalidCursor.

    base64 decoding is lenient (it skips characters outside the alphabet, such as a trailing
    newline), so only the exact encoding this API gives out is accepted.
    """
    if not is_cursor_shaped(cursor):
        raise InvalidCursor(cursor)
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        feed_sk = base64.urlsafe_b64decode(padded.encode("ascii")).decode("ascii")
    except (ValueError, binascii.Error, UnicodeError) as exc:
        raise InvalidCursor(cursor) from exc
    match = _FEED_SK.match(feed_sk)
    if match is None or not is_slug(match.group(1)) or _encode_cursor(feed_sk) != cursor:
        raise InvalidCursor(cursor)
    return feed_sk, match.group(1)


class _TtlCache:
    """Keeps rarely changing reads (contact, categories) warm for a short while."""

    def __init__(self, seconds: float, clock: Callable[[], float]) -> None:
        self._seconds = seconds
        self._clock = clock
        self._values: dict[str, tuple[float, Any]] = {}

    def get(self, key: str, load: Callable[[], Any]) -> Any:
        now = self._clock()
        hit = self._values.get(key)
        if hit is not None and now - hit[0] < self._seconds:
            return hit[1]
        value = load()
        self._values[key] = (now, value)
        return value

    def clear(self) -> None:
        self._values.clear()
