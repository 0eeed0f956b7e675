"""The lead score: each rule, the grades, and the README's table (the same as the code's)."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from chalicelib.inquiries.messages import owner_for
from chalicelib.leads.model import Inquiry
from chalicelib.leads.score import GRADES, RULES, score
from chalicelib.settings import Settings
from tests.conftest import settings_env

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
BARE = Inquiry(name="Li", email="li@qq.com", message="price?", locale="en")
FULL = Inquiry(
    name="Hans",
    email="hans@autoteile-nord.de",
    message="Please quote front brake pads for our fleet of 40 vans, delivery to Hamburg, "
    "with your best price for 200 sets.",
    locale="en",
    company="Autoteile Nord GmbH",
    country="Germany",
    product="Brake pads 04465-33450",
    quantity=200,
)


@pytest.mark.parametrize(
    ("changes", "reasons"),
    [
        ({}, ()),
        ({"email": "li@163.com"}, ()),
        ({"email": "buyer@SINA.com"}, ()),
        ({"email": "li@ningbo-parts.cn"}, ("company email domain (not free webmail)",)),
        ({"product": "Brake pads"}, ()),
        ({"product": "04465-33450"}, ("part number given",)),
        ({"product": "BP1234 front"}, ("part number given",)),
        ({"quantity": 5}, ("quantity given",)),
        ({"company": "ACME"}, ("company named",)),
        ({"message": "x" * 99}, ()),
        ({"message": "x" * 100}, ("detailed message (100+ characters)",)),
        ({"country": "Kenya"}, ("country given",)),
    ],
)
def test_each_rule(changes: dict[str, object], reasons: tuple[str, ...]) -> None:
    assert score(replace(BARE, **changes))[1] == reasons  # type: ignore[arg-type]


def test_any_rfq_line_with_a_part_number_or_quantity_counts() -> None:
    class WithItems(Inquiry):  # the shape another change gives the inquiry: RFQ lines
        items = ({"product": "brakes"}, {"part_number": "87910-0K010", "quantity": 20})

    _, reasons = score(WithItems(**BARE.__dict__))
    assert reasons == ("part number given", "quantity given")


@pytest.mark.parametrize(
    ("inquiry", "grade"),
    [
        (FULL, "A"),  # 2+2+1+1+1+1 = 8
        (replace(FULL, email="hans@gmail.com"), "A"),  # 6
        (replace(FULL, email="hans@gmail.com", message="price?"), "B"),  # 5
        (replace(BARE, company="ACME", product="BP1234"), "B"),  # 3
        (replace(BARE, company="ACME", quantity=1), "C"),  # 2
        (BARE, "C"),
    ],
)
def test_points_make_the_grade(inquiry: Inquiry, grade: str) -> None:
    assert score(inquiry)[0] == grade


def test_the_readme_table_is_the_code_table() -> None:
    section = README.split("### Lead score", 1)[1].split("\n#", 1)[0]
    rows = re.findall(r"^\| (\d+) \| ([^|]+?) \|$", section, flags=re.MULTILINE)
    assert [(int(points), reason) for points, reason in rows] == [
        (rule.points, rule.reason) for rule in RULES
    ]
    grades = ", ".join(f"{grade} from {least}" for least, grade in GRADES)
    assert f"Grades: {grades} points." in section


def test_the_owner_is_the_first_rules_first_address_else_a_stable_share_of_the_team() -> None:
    rules = '[{"field": "country", "match": "germany", "to": ["eu@x.com", "eu2@x.com"]}]'
    team = "anna@x.com,bo@x.com"
    settings = Settings.from_env(settings_env(SALES_EMAILS=team, ROUTING_RULES=rules))
    assert owner_for(FULL, "01KCVY8Z4Q5M7T0V2W3X4Y0001", settings) == "eu@x.com"
    owners = [owner_for(BARE, f"01KCVY8Z4Q5M7T0V2W3X4Y{n:04d}", settings) for n in range(200)]
    assert set(owners) == set(team.split(",")) and 70 < owners.count("anna@x.com") < 130
    again = [owner_for(BARE, f"01KCVY8Z4Q5M7T0V2W3X4Y{n:04d}", settings) for n in range(200)]
    assert again == owners
