"""News and contact content: routes (Blueprint) and the DynamoDB repository."""

import re

# An article or category slug: lowercase words joined by single hyphens. \Z, not $: "$" also
# matches before a trailing newline, and a slug becomes part of a DynamoDB key.
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*\Z")
# Slugs are at most this long (admin/articles.py refuses longer ones), so a key built from one
# stays far below DynamoDB's limits (2,048 bytes for a partition key, 1,024 for a sort key),
# which the real service enforces with a ValidationException on every read (moto does not).
MAX_SLUG_LENGTH = 100
# A cursor is a feed sort key ("<published_at>#<slug>", at most 121 ASCII characters)
# in unpadded base64url: at most 162 characters. Anything longer was never given out.
MAX_CURSOR_LENGTH = 200
CURSOR = re.compile(r"^[A-Za-z0-9_-]+\Z")


def is_slug(value: str) -> bool:
    """A well-formed slug of at most MAX_SLUG_LENGTH characters (checked before any lookup)."""
    return len(value) <= MAX_SLUG_LENGTH and SLUG.match(value) is not None


def is_cursor_shaped(value: str) -> bool:
    """Could this be a cursor this API gave out? (The repository decodes it fully.)"""
    return len(value) <= MAX_CURSOR_LENGTH and CURSOR.match(value) is not None
