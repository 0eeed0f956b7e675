"""What every field of an inquiry goes through: the parsed body (Submission) and the rules
for one text value and one quantity. fields.py validates the inquiry's own fields with
them, line_items.py the rows'; neither imports the other's rules from the other."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

MAX_QUANTITY = 10_000_000
MAX_DIGITS = 9
# C0 and C1 controls (NEL, U+0085, is a line break to str.splitlines and to mail headers),
# DEL and the Unicode line/paragraph separators: never in a one-line field.
_SINGLE_LINE_FORBIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# In the message: newlines and tabs are fine, other control characters are not.
_MULTI_LINE_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# A lone surrogate (JSON "\ud800") is not a character: it cannot be stored or mailed.
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class Submission:
    """What the visitor sent, parsed but not yet validated."""

    values: dict[str, Any]
    is_form: bool
    duplicates: tuple[str, ...] = field(default=())
    # Fields with a non-empty value in any copy: a bot that fills the honeypot and repeats
    # it empty (`website=x&website=`) is still a bot.
    filled: frozenset[str] = field(default=frozenset())

    def has_value(self, name: str) -> bool:
        return name in self.filled

    def has_rows(self) -> bool:
        """Line items sent, as an `items` array or as items[N].field fields."""
        return any(key == "items" or key.startswith("items[") for key in self.values)


class JsonObject(dict[str, Any]):
    """An object inside the JSON body, with the keys it repeats with another value."""

    repeated: tuple[str, ...] = ()


def clean_text(
    raw: Any, max_length: int, multi_line: bool = False, header: bool = False
) -> tuple[str, str | None]:
    """A sent (non-blank) value trimmed and NFC-normalized, or what is wrong with it."""
    if not isinstance(raw, str):
        return "", "must be a string"
    text = unicodedata.normalize("NFC", raw.strip())
    forbidden = _MULTI_LINE_FORBIDDEN if multi_line else _SINGLE_LINE_FORBIDDEN
    if _SURROGATE.search(text):
        return text, "contains characters that are not valid text"
    if forbidden.search(text):
        return text, (
            "must not contain control characters"
            if multi_line
            else "must be a single line (no line breaks or control characters)"
        )
    if len(text) > max_length:
        return text, f"must be at most {max_length} characters"
    if header and "=?" in text:
        return text, "must not contain the characters =?"
    return text, None


def quantity_of(raw: Any) -> int | str | None:
    """The quantity, None when absent, or a sentence saying what is wrong."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    message = f"must be a whole number from 1 to {MAX_QUANTITY:,}"
    if isinstance(raw, bool):
        return message
    if isinstance(raw, int):
        value = raw
    elif (
        isinstance(raw, str)
        and raw.strip().isascii()
        and raw.strip().isdigit()
        and len(raw.strip().lstrip("0")) <= MAX_DIGITS  # int() of huge strings is refused
    ):
        value = int(raw.strip())
    else:
        return message
    return value if 1 <= value <= MAX_QUANTITY else message
