"""The lead score A/B/C: a few explainable rules, each worth points; the sum is the grade.

The table below is the whole scoring; README.md ("Lead score") mirrors it and a test keeps
the two equal. The reasons of a lead's score are the `reason` of each rule it met.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol


class Inquiry(Protocol):
    """What the rules read of an inquiry (model.Inquiry; model.py calls score() on a new
    lead, so this module does not import it)."""

    @property
    def email(self) -> str: ...
    @property
    def company(self) -> str | None: ...
    @property
    def country(self) -> str | None: ...
    @property
    def message(self) -> str: ...
    @property
    def product(self) -> str | None: ...
    @property
    def quantity(self) -> int | None: ...
    @property
    def items(self) -> Any: ...


# Common free webmail domains (international and Chinese): an address there says nothing
# about a company. Kept short on purpose: the rule only has to catch the common case.
FREE_MAIL = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "yahoo.com",
        "yahoo.co.uk",
        "ymail.com",
        "hotmail.com",
        "outlook.com",
        "live.com",
        "msn.com",
        "aol.com",
        "icloud.com",
        "me.com",
        "mail.com",
        "gmx.de",
        "gmx.net",
        "web.de",
        "yandex.ru",
        "mail.ru",
        "protonmail.com",
        "proton.me",
        "qq.com",
        "163.com",
        "126.com",
        "yeah.net",
        "sina.com",
        "sina.cn",
        "sohu.com",
        "aliyun.com",
        "foxmail.com",
        "139.com",
    }
)
# A part number: a token of 4+ letters/digits/dashes/dots with at least one digit
# ("04465-33450", "BP1234"), as opposed to a bare product name ("Brake pads").
_PART_NUMBER = re.compile(r"(?=[A-Za-z0-9.\-/]*\d)[A-Za-z0-9][A-Za-z0-9.\-/]{3,}")
DETAILED_MESSAGE = 100  # characters


@dataclass(frozen=True)
class Rule:
    points: int
    reason: str
    met: Callable[[Inquiry], bool]


def company_address(inquiry: Inquiry) -> bool:
    domain = inquiry.email.rpartition("@")[2].lower().rstrip(".")
    return bool(domain) and domain not in FREE_MAIL


def lines(inquiry: Inquiry) -> Iterator[tuple[str | None, Any]]:
    """(product, quantity) of every line the buyer asked about: the inquiry's own product
    and quantity, and each RFQ item's, when the inquiry has items."""
    yield inquiry.product, inquiry.quantity
    for item in getattr(inquiry, "items", None) or ():
        get = item.get if isinstance(item, dict) else lambda name, i=item: getattr(i, name, None)
        yield get("part_number") or get("product"), get("quantity")


def any_part_number(inquiry: Inquiry) -> bool:
    return any(product and _PART_NUMBER.search(str(product)) for product, _ in lines(inquiry))


def any_quantity(inquiry: Inquiry) -> bool:
    return any(quantity for _, quantity in lines(inquiry))


RULES = (
    Rule(2, "company email domain (not free webmail)", company_address),
    Rule(2, "part number given", any_part_number),
    Rule(1, "quantity given", any_quantity),
    Rule(1, "company named", lambda inquiry: bool(inquiry.company)),
    Rule(
        1,
        f"detailed message ({DETAILED_MESSAGE}+ characters)",
        lambda inquiry: len(inquiry.message) >= DETAILED_MESSAGE,
    ),
    Rule(1, "country given", lambda inquiry: bool(inquiry.country)),
)
# (at least these points, grade), best first
GRADES = ((6, "A"), (3, "B"), (0, "C"))


def score(inquiry: Inquiry) -> tuple[str, tuple[str, ...]]:
    """The grade and the reasons (the rules met), in table order."""
    met = [rule for rule in RULES if rule.met(inquiry)]
    points = sum(rule.points for rule in met)
    grade = next(grade for least, grade in GRADES if points >= least)
    return grade, tuple(rule.reason for rule in met)
