"""manage.py, as an admin uses it: every command through manage.main against moto.

The data stack of stage "dev" is created in moto from infra/resources.json, so the table
names the commands read from .chalice/config.json are the real ones. Leads are taken by
the real InquiryService, the way POST /inquiries takes them.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import os
import socket
import subprocess
import sys
import time
import tracemalloc
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import botocore.client
import pytest
from moto import mock_aws

from admin.provision import deploy_stack, verify_sender
from admin.stages import stage_environment
from chalicelib.dynamo import from_item, to_item
from chalicelib.ids import id_floor, new_id
from chalicelib.inquiries.service import Submitted
from chalicelib.leads.dynamodb import LeadsTable
from chalicelib.leads.model import Inquiry, LineItem, Status
from chalicelib.runtime import Runtime
from chalicelib.settings import Settings
from manage import main
from tests.conftest import REGION, sent_emails

ROOT = Path(__file__).resolve().parents[2]
STAGE = "dev"
ENV = stage_environment(STAGE)
LEADS_TABLE = ENV["LEADS_TABLE"]
DAY = 86400
LEAF_COMMANDS = [
    ["provision"],
    ["seed"],
    ["serve"],
    ["news", "list"],
    ["news", "publish"],
    ["news", "unpublish"],
    ["contact", "show"],
    ["contact", "set"],
    ["leads", "list"],
    ["leads", "show"],
    ["leads", "export"],
    ["leads", "resend"],
    ["leads", "retry"],
    ["leads", "remind"],
    ["leads", "digest"],
    ["leads", "set-status"],
    ["leads", "assign"],
    ["leads", "stats"],
    ["leads", "erase"],
]


@pytest.fixture(autouse=True)
def _no_scan(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every AWS call any command makes is recorded: none may be a Scan."""
    calls: list[str] = []
    original = botocore.client.BaseClient._make_api_call

    def recording(self: Any, operation: str, params: Any) -> Any:
        calls.append(operation)
        return original(self, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", recording)
    yield calls
    assert "Scan" not in calls


@pytest.fixture
def seeded(dev: None, manage: Any) -> None:
    assert manage("seed", "--stage", STAGE).code == 0


def runtime(clock: Any = time.time, **env: str) -> Runtime:
    return Runtime(Settings.from_env({**ENV, **env}), clock=clock)


def take(service_runtime: Runtime, n: int = 0, spam: bool = False, **fields: Any) -> str:
    """A lead taken by the real service, as POST /inquiries would take it."""
    values: dict[str, Any] = {
        "name": f"Buyer {n}",
        "email": f"buyer{n}@example.com",
        "message": f"Please quote part {n}.",
        "locale": "en",
        "country": "Germany",
        "product": f"04465-{n:05d}",
        **fields,
    }
    lead_id: str = service_runtime.inquiries.submit(
        Inquiry(**values), Submitted(f"198.51.100.{n % 250}", honeypot_filled=spam)
    )
    return lead_id


def table() -> LeadsTable:
    return LeadsTable(boto3.client("dynamodb", region_name=REGION), LEADS_TABLE)


def stored(lead_id: str) -> Any:
    """The lead as the leads table reads it back, None when there is none."""
    return table().get(lead_id)


def ses_rejects_everything() -> None:
    """The sender is no longer verified: SES answers MessageRejected to every send."""
    from email.utils import parseaddr

    ses = boto3.client("sesv2", region_name=REGION)
    ses.delete_email_identity(EmailIdentity=parseaddr(ENV["SENDER_EMAIL"])[1])


def ses_accepts_again() -> None:
    verify_sender(boto3.client("sesv2", region_name=REGION), ENV["SENDER_EMAIL"])


def lead_ids_in(text: str) -> list[str]:
    return [word for line in text.splitlines() for word in line.split() if len(word) == 26]


# ---- the command line itself ----------------------------------------------------------


def test_help_lists_every_command(manage: Any) -> None:
    result = manage("--help")
    assert result.code == 0
    for command in ("serve", "provision", "seed", "news", "contact", "leads"):
        assert command in result.out


@pytest.mark.parametrize("command", LEAF_COMMANDS, ids=" ".join)
def test_every_command_has_help_and_a_stage_option(manage: Any, command: list[str]) -> None:
    result = manage(*command, "--help")
    assert result.code == 0
    assert "--stage" in result.out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["leads", "list", "--since", "yesterday"], "expected a day like 2026-01-31"),
        (["leads", "list", "--status", "closed"], "invalid choice: 'closed'"),
        (["leads", "list", "--limit", "0"], "expected a positive whole number"),
        (["leads", "export", "--format", "xlsx"], "invalid choice: 'xlsx'"),
        (["leads", "set-status", "01JD3Q4Z8W6KQ9X2M5T7V0B1CE", "closed"], "invalid choice"),
        (["leads", "erase"], "the following arguments are required: --email"),
        (["news", "publish"], "the following arguments are required: FILE.md"),
        (["launch"], "invalid choice: 'launch'"),
    ],
)
def test_bad_arguments_exit_2_with_a_clear_message(
    manage: Any, argv: list[str], message: str
) -> None:
    result = manage(*argv)
    assert result.code == 2
    assert message in result.err
    assert "usage:" in result.err


@pytest.mark.parametrize("group", ["news", "contact", "leads"])
def test_a_group_without_its_command_shows_its_help_and_exits_2(manage: Any, group: str) -> None:
    result = manage(group)
    assert result.code == 2
    assert f"usage: manage.py {group}" in result.err


def test_an_unknown_stage_is_named_with_the_known_ones(manage: Any) -> None:
    result = manage("leads", "list", "--stage", "staging")
    assert result.code == 2
    assert "unknown stage 'staging'" in result.err
    assert "dev, prod" in result.err


def test_a_missing_table_tells_the_admin_to_provision(manage: Any) -> None:
    with mock_aws():  # nothing provisioned
        result = manage("leads", "list", "--stage", STAGE)
    assert result.code == 1
    assert "python manage.py provision --stage dev" in result.err


def test_without_credentials_the_admin_is_told_how_to_set_them(
    manage: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    result = manage("leads", "list", "--stage", STAGE)
    assert result.code == 1
    assert "no AWS credentials: run 'aws configure' or set AWS_PROFILE" in result.err


def test_manage_py_runs_as_a_script() -> None:
    done = subprocess.run(
        [sys.executable, "manage.py", "leads", "show", "not-an-id", "--stage", "dev"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "AWS_DEFAULT_REGION": REGION},
        timeout=60,
    )
    assert done.returncode == 2
    assert "is not a lead id" in done.stderr


# ---- provision and seed ---------------------------------------------------------------


def test_provision_creates_the_stack_and_is_idempotent(manage: Any) -> None:
    with mock_aws():
        first = manage("provision", "--stage", STAGE)
        again = manage("provision", "--stage", STAGE)
        ses = boto3.client("sesv2", region_name=REGION)
        configuration_set = ses.get_configuration_set(ConfigurationSetName="vigor-leads-dev")
        tables = boto3.client("dynamodb", region_name=REGION).list_tables()["TableNames"]
    assert first.code == 0 and again.code == 0
    for result in (first, again):
        assert "ContentTableName: vigor-leads-dev-content" in result.out
        assert "LeadsTableName: vigor-leads-dev-leads" in result.out
        assert "ConfigurationSetName: vigor-leads-dev" in result.out
        assert "SES sender Vigor Leads <leads@vigorautomobile.com>: SUCCESS" in result.out
        assert "SES sandbox" in result.out and "production access" in result.out
    assert sorted(tables) == ["vigor-leads-dev-content", "vigor-leads-dev-leads"]
    assert configuration_set["SuppressionOptions"]["SuppressedReasons"] == ["BOUNCE", "COMPLAINT"]
    assert configuration_set["ReputationOptions"]["ReputationMetricsEnabled"] is True


def test_provision_warns_when_config_json_names_other_tables(
    manage: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEADS_TABLE", "vigor-leads-old-leads")
    with mock_aws():
        result = manage("provision", "--stage", STAGE)
    assert result.code == 1
    assert "LEADS_TABLE='vigor-leads-old-leads'" in result.err
    assert "'vigor-leads-dev-leads'" in result.err


def test_seed_loads_the_site_content(dev: None, manage: Any) -> None:
    result = manage("seed", "--stage", STAGE)
    assert result.code == 0
    assert result.out.strip() == "1 contact, 3 categories, 6 articles loaded"


# ---- news ---------------------------------------------------------------------------

ARTICLE = """---
slug: {slug}
title: {title}
category: {category}
date: {date}
summary: A short summary.
---
First paragraph.

Second paragraph.
"""


def article_file(tmp_path: Path, slug: str = "new-brake-line", **fields: str) -> Path:
    values = {"slug": slug, "title": "A new brake line", "category": "company-news"}
    values["date"] = "2021-07-15"
    values.update(fields)
    path = tmp_path / f"{slug}.md"
    path.write_text(ARTICLE.format(**values), encoding="utf-8")
    return path


def feed() -> list[dict[str, Any]]:
    """The articles newest first, each with its stored previous/next links."""
    content = runtime().content
    slugs, cursor = [], None
    while True:  # page through the feed as the API does
        page = content.news(50, cursor)
        slugs += [item["slug"] for item in page.items]
        if page.next_cursor is None:
            return [content.article(slug) for slug in slugs]
        cursor = page.next_cursor


def assert_links_follow_the_feed() -> None:
    """previous = the next older article, next = the next newer one, for every article."""
    articles = feed()
    for position, article in enumerate(articles):
        newer = articles[position - 1] if position > 0 else None
        older = articles[position + 1] if position + 1 < len(articles) else None
        assert article["next"] == _link(newer), article["slug"]
        assert article["previous"] == _link(older), article["slug"]


def _link(article: dict[str, Any] | None) -> dict[str, str] | None:
    return None if article is None else {"slug": article["slug"], "title": article["title"]}


def test_news_list_is_newest_first(seeded: None, manage: Any) -> None:
    result = manage("news", "list", "--stage", STAGE)
    assert result.code == 0
    days = [line.split()[0] for line in result.out.splitlines()]
    assert len(days) == 6 and days == sorted(days, reverse=True)
    assert "6 articles" in result.err
    one_category = manage("news", "list", "--category", "car-care", "--stage", STAGE)
    assert len(one_category.out.splitlines()) == 3


def test_news_list_of_an_unknown_category_names_the_known_ones(seeded: None, manage: Any) -> None:
    result = manage("news", "list", "--category", "gossip", "--stage", STAGE)
    assert result.code == 2
    assert "unknown category 'gossip'" in result.err and "car-care" in result.err


def test_publishing_an_article_links_it_between_its_neighbours(
    seeded: None, manage: Any, tmp_path: Path
) -> None:
    result = manage("news", "publish", str(article_file(tmp_path)), "--stage", STAGE)
    assert result.code == 0
    assert result.out.splitlines()[0] == "published new-brake-line"
    # 2021-07-15 lies between "choosing-wiper-blades" (07-05) and "checking-brake-pads" (07-28)
    assert "previous (older): choosing-wiper-blades" in result.out
    assert "next (newer):     checking-brake-pads-for-wear" in result.out
    assert [a["slug"] for a in feed()][2:5] == [
        "checking-brake-pads-for-wear",
        "new-brake-line",
        "choosing-wiper-blades",
    ]
    assert_links_follow_the_feed()


def test_republishing_a_slug_updates_it_and_its_neighbours_links(
    seeded: None, manage: Any, tmp_path: Path
) -> None:
    manage("news", "publish", str(article_file(tmp_path)), "--stage", STAGE)
    changed = article_file(tmp_path, title="Brake lines, revised")
    result = manage("news", "publish", str(changed), "--stage", STAGE)
    assert result.code == 0
    assert result.out.splitlines()[0] == "updated new-brake-line"
    articles = feed()
    assert len(articles) == 7
    assert [a["title"] for a in articles if a["slug"] == "new-brake-line"] == [
        "Brake lines, revised"
    ]
    assert_links_follow_the_feed()  # the neighbours show the new title


def test_republishing_with_another_date_moves_the_article(
    seeded: None, manage: Any, tmp_path: Path
) -> None:
    manage("news", "publish", str(article_file(tmp_path)), "--stage", STAGE)
    moved = article_file(tmp_path, date="2022-01-03T09:30:00Z")
    assert manage("news", "publish", str(moved), "--stage", STAGE).code == 0
    articles = feed()
    assert articles[0]["slug"] == "new-brake-line" and articles[0]["next"] is None
    assert len(articles) == 7
    assert_links_follow_the_feed()


def test_unpublishing_links_the_neighbours_to_each_other(seeded: None, manage: Any) -> None:
    result = manage("news", "unpublish", "checking-brake-pads-for-wear", "--stage", STAGE)
    assert result.code == 0
    assert "choosing-wiper-blades and how-to-adjust-the-car-mirror now link" in result.out
    assert "checking-brake-pads-for-wear" not in [a["slug"] for a in feed()]
    assert_links_follow_the_feed()
    for slug in (
        "catl-signs-agreement-to-build-manufacturing-base-in-shanghai",
        "new-website-online",
    ):
        assert manage("news", "unpublish", slug, "--stage", STAGE).code == 0  # the ends too
    assert_links_follow_the_feed()


def test_unpublishing_an_unknown_slug_is_an_error(seeded: None, manage: Any) -> None:
    result = manage("news", "unpublish", "no-such-article", "--stage", STAGE)
    assert result.code == 2
    assert "no article with slug 'no-such-article'" in result.err


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"category": "gossip"}, "unknown category 'gossip'; the categories are: company-news"),
        ({"title": ""}, "front matter lacks title"),
        ({"date": "last week"}, "published_at must be a date like 2021-08-19"),
        ({"slug": "Not A Slug"}, "slug must be lowercase words joined by '-'"),
    ],
)
def test_publishing_an_invalid_article_changes_nothing(
    seeded: None, manage: Any, tmp_path: Path, fields: dict[str, str], message: str
) -> None:
    path = tmp_path / "bad.md"
    values = {"slug": "bad-article", "title": "Bad", "category": "car-care", "date": "2021-07-15"}
    path.write_text(ARTICLE.format(**{**values, **fields}), encoding="utf-8")
    result = manage("news", "publish", str(path), "--stage", STAGE)
    assert result.code == 2
    assert message in result.err
    assert len(feed()) == 6
    assert_links_follow_the_feed()


def test_publishing_a_missing_file_is_an_error(seeded: None, manage: Any, tmp_path: Path) -> None:
    result = manage("news", "publish", str(tmp_path / "nope.md"), "--stage", STAGE)
    assert result.code == 2
    assert "nope.md: no such file" in result.err and "UTF-8" not in result.err


# ---- contact ------------------------------------------------------------------------


def test_contact_show_prints_every_field_and_nulls(seeded: None, manage: Any) -> None:
    result = manage("contact", "show", "--stage", STAGE)
    assert result.code == 0
    lines = dict(line.split(None, 1) for line in result.out.splitlines())
    assert lines["company"] == "Wenzhou Vigor Automobile Parts Co., Ltd"
    assert lines["wechat"] == "(null)"
    assert list(lines) == [
        "company",
        "contact_person",
        "phone",
        "tel",
        "email",
        "address",
        "wechat",
    ]


def test_contact_set_changes_one_field_and_empty_or_null_clears_it(
    seeded: None, manage: Any
) -> None:
    assert manage("contact", "set", "wechat", "vigor-wz", "--stage", STAGE).code == 0
    assert manage("contact", "set", "contact_person", "王经理", "--stage", STAGE).code == 0
    contact = runtime().content.contact()
    assert contact["wechat"] == "vigor-wz" and contact["contact_person"] == "王经理"
    assert contact["phone"] == "0086-18367850108"  # the others unchanged
    assert manage("contact", "set", "wechat", "", "--stage", STAGE).code == 0
    assert manage("contact", "set", "phone", "--null", "--stage", STAGE).code == 0
    contact = runtime().content.contact()
    assert contact["wechat"] is None and contact["phone"] is None


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["fax", "123"], "unknown field 'fax'; the fields are: company, contact_person"),
        (["phone"], 'give the new value of phone, or "" / --null'),
        (["phone", "123", "--null"], "either a VALUE or --null, not both"),
        (["email", "not-an-address"], "email must be an address like"),
        (["address", "line one\nline two"], "must be one line"),
    ],
)
def test_contact_set_refuses_bad_input(
    seeded: None, manage: Any, argv: list[str], message: str
) -> None:
    before = runtime().content.contact()
    result = manage("contact", "set", *argv, "--stage", STAGE)
    assert result.code == 2
    assert message in result.err
    assert runtime().content.contact() == before


# ---- leads list / show ----------------------------------------------------------------


def test_leads_list_is_newest_first_and_hides_spam_unless_asked(dev: None, manage: Any) -> None:
    now = time.time()
    service = runtime(clock=lambda: now - 3 * DAY)
    older = take(service, 1)
    newer = take(runtime(clock=lambda: now - DAY), 2)
    spam = take(runtime(clock=lambda: now - DAY + 60), 3, spam=True)
    result = manage("leads", "list", "--stage", STAGE)
    assert result.code == 0
    assert result.out.splitlines()[0].split()[:3] == ["RECEIVED", "(UTC)", "ID"]
    assert lead_ids_in(result.out) == [newer, older]
    assert "Buyer 2" in result.out and "buyer2@example.com" in result.out
    assert "2 leads since" in result.err
    included = manage("leads", "list", "--spam", "include", "--stage", STAGE)
    assert lead_ids_in(included.out) == [spam, newer, older]
    only = manage("leads", "list", "--spam", "only", "--stage", STAGE)
    assert lead_ids_in(only.out) == [spam]
    assert lead_ids_in(manage("leads", "list", "--status", "spam", "--stage", STAGE).out) == [spam]
    assert lead_ids_in(manage("leads", "list", "--status", "sent", "--stage", STAGE).out) == [
        newer,
        older,
    ]
    assert manage("leads", "list", "--status", "failed", "--stage", STAGE).out.count("\n") == 1


def test_leads_list_goes_back_month_by_month_to_since(dev: None, manage: Any) -> None:
    now = time.time()
    recent = take(runtime(clock=lambda: now - 20 * DAY), 1)
    old = take(runtime(clock=lambda: now - 120 * DAY), 2)
    older = take(runtime(clock=lambda: now - 400 * DAY), 3)
    assert lead_ids_in(manage("leads", "list", "--stage", STAGE).out) == [recent]  # 90 days
    since = time.strftime("%Y-%m-%d", time.gmtime(now - 130 * DAY))
    result = manage("leads", "list", "--since", since, "--stage", STAGE)
    assert lead_ids_in(result.out) == [recent, old]
    since = time.strftime("%Y-%m-%d", time.gmtime(now - 500 * DAY))
    result = manage("leads", "list", "--since", since, "--limit", "2", "--stage", STAGE)
    assert lead_ids_in(result.out) == [recent, old]
    assert "more leads since" in result.err
    assert older not in result.out


def test_since_is_a_key_condition_on_the_time_ordered_ids() -> None:
    moment = 1_795_000_000.123
    assert id_floor(moment) <= new_id(moment) < id_floor(moment + 1)
    assert id_floor(moment - 1) < id_floor(moment)


def test_leads_show_prints_every_field(dev: None, manage: Any) -> None:
    rows = (LineItem("4711-A", "刹车片", 2, "sets", "12.50", "USD"), LineItem("90915", quantity=9))
    lead_id = take(
        runtime(),
        1,
        message="Line one\nLine two: 数量 200",
        company="北方汽配",
        product=None,
        items=rows,
        incoterm="FOB",
    )
    result = manage("leads", "show", lead_id.lower(), "--stage", STAGE)
    assert result.code == 0
    assert "items:\n    1. 2 sets × 4711-A (刹车片) @ 12.50 USD\n    2. 9 × 90915\n" in result.out
    assert "incoterm: FOB" in result.out
    assert f"id: {lead_id}" in result.out
    assert "status: sent" in result.out
    assert "company: 北方汽配" in result.out
    assert "message:\n    Line one\n    Line two: 数量 200\n" in result.out
    assert "claim_token" not in result.out and "list_pk" not in result.out
    as_json = json.loads(manage("leads", "show", lead_id, "--json", "--stage", STAGE).out)
    assert as_json["message"] == "Line one\nLine two: 数量 200"
    assert as_json["items"][1] == {"part_number": "90915", "quantity": 9}


@pytest.mark.parametrize("command", ["show", "resend"])
def test_an_unknown_lead_id_is_an_error(dev: None, manage: Any, command: str) -> None:
    result = manage("leads", command, "01JD3Q4Z8W6KQ9X2M5T7V0B1CE", "--stage", STAGE)
    assert result.code == 2
    assert "no lead with id 01JD3Q4Z8W6KQ9X2M5T7V0B1CE" in result.err
    result = manage("leads", command, "12345", "--stage", STAGE)
    assert result.code == 2
    assert "'12345' is not a lead id" in result.err


# ---- leads export --------------------------------------------------------------------

AWKWARD_MESSAGE = 'Line one, with a comma\r\nLine "two" 第二行\n\nLast line; 200 pcs'


def test_csv_export_opens_cleanly_in_excel_and_round_trips(
    dev: None, manage: Any, tmp_path: Path
) -> None:
    now = time.time()
    first = take(
        runtime(clock=lambda: now - 60),
        1,
        name="张伟",
        message=AWKWARD_MESSAGE,
        company='=HYPERLINK("x")',
    )
    second = take(runtime(clock=lambda: now), 2, phone="+86 138 0000 0000")
    target = tmp_path / "leads.csv"
    result = manage("leads", "export", "--format", "csv", "-o", str(target), "--stage", STAGE)
    assert result.code == 0
    assert "exported 2 leads" in result.err
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 byte-order mark: Excel reads it as UTF-8
    assert raw.count(b"\xef\xbb\xbf") == 1
    text = raw.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert [row["id"] for row in rows] == [second, first]
    assert text.splitlines()[0].startswith("id,received_at,status,sales_status,owner,score,")
    assert text.count("id,received_at") == 1  # one header row
    by_id = {row["id"]: row for row in rows}
    assert by_id[first]["name"] == "张伟"
    assert by_id[first]["message"] == AWKWARD_MESSAGE  # line breaks survive in one cell
    assert by_id[first]["company"] == '\'=HYPERLINK("x")'  # shown, never run as a formula
    assert by_id[second]["phone"] == "'+86 138 0000 0000"
    assert by_id[first]["status"] == "sent" and by_id[first]["spam"] == "false"
    assert raw.endswith(b"\r\n")


def test_jsonl_export_to_standard_output_is_exact(
    dev: None, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    lead_id = take(runtime(), 1, name="张伟", message=AWKWARD_MESSAGE)
    capsysbinary.readouterr()
    assert main(["leads", "export", "--format", "jsonl", "--stage", STAGE]) == 0
    captured = capsysbinary.readouterr()
    (line,) = captured.out.decode("utf-8").splitlines()
    lead = json.loads(line)
    assert lead["id"] == lead_id and lead["name"] == "张伟"
    assert lead["message"] == AWKWARD_MESSAGE
    assert "pk" not in lead and "claim_token" not in lead
    assert lead["expires_at"].endswith("Z")
    assert b"exported 1 lead" in captured.err


def test_export_honours_since_status_and_spam(dev: None, manage: Any, tmp_path: Path) -> None:
    now = time.time()
    old = take(runtime(clock=lambda: now - 200 * DAY), 1)
    recent = take(runtime(clock=lambda: now - DAY), 2)
    spam = take(runtime(clock=lambda: now - DAY + 60), 3, spam=True)
    target = tmp_path / "leads.jsonl"

    def exported(*argv: str) -> list[str]:
        argv = ("leads", "export", "--format", "jsonl", "-o", str(target), *argv)
        assert manage(*argv, "--stage", STAGE).code == 0
        return [json.loads(line)["id"] for line in target.read_text("utf-8").splitlines()]

    assert exported() == [recent, old]  # default: as far back as leads are kept
    since = time.strftime("%Y-%m-%d", time.gmtime(now - 10 * DAY))
    assert exported("--since", since) == [recent]
    assert exported("--spam", "include") == [spam, recent, old]
    assert exported("--status", "spam") == [spam]


def test_export_to_an_unwritable_path_is_an_error(dev: None, manage: Any, tmp_path: Path) -> None:
    result = manage(
        "leads", "export", "-o", str(tmp_path / "no" / "such" / "dir.csv"), "--stage", STAGE
    )
    assert result.code == 2
    assert "cannot write" in result.err


# ---- leads resend / retry -------------------------------------------------------------


def test_resend_sends_a_pending_lead_once_and_records_it(dev: None, manage: Any) -> None:
    ses_rejects_everything()
    lead_id = take(runtime(), 1)
    assert stored(lead_id).status == "pending"
    ses_accepts_again()
    result = manage("leads", "resend", lead_id, "--stage", STAGE)
    assert result.code == 0
    assert f"lead {lead_id}: emailed to sales" in result.out
    lead = stored(lead_id)
    assert lead.status == "sent" and lead.notify_attempts == 2
    assert lead.next_attempt_at is None and lead.claim_token is None
    assert [m["X-Vigor-Lead-Id"] for m in sent_emails()] == [lead_id]


def test_resend_that_ses_refuses_keeps_the_lead_pending_and_exits_1(dev: None, manage: Any) -> None:
    ses_rejects_everything()
    lead_id = take(runtime(), 1)
    result = manage("leads", "resend", lead_id, "--stage", STAGE)
    assert result.code == 1
    assert f"SES did not take lead {lead_id}" in result.err
    assert "stays pending" in result.err
    lead = stored(lead_id)
    assert lead.status == Status.PENDING and lead.next_attempt_at is not None
    assert lead.claim_token is None  # the claim is released for the scheduled retry


def test_resend_of_a_failed_lead_puts_it_back_and_sends_it(dev: None, manage: Any) -> None:
    ses_rejects_everything()
    lead_id = take(runtime(MAX_NOTIFY_ATTEMPTS="1"), 1)
    assert stored(lead_id).status == "failed"
    ses_accepts_again()
    assert manage("leads", "resend", lead_id, "--stage", STAGE).code == 0
    assert stored(lead_id).status == "sent"
    assert len(sent_emails()) == 1


def test_resend_of_a_sent_lead_needs_force(dev: None, manage: Any) -> None:
    lead_id = take(runtime(), 1)
    assert len(sent_emails()) == 1
    refused = manage("leads", "resend", lead_id, "--stage", STAGE)
    assert refused.code == 2
    assert "already emailed to sales" in refused.err and "--force" in refused.err
    assert len(sent_emails()) == 1
    assert manage("leads", "resend", lead_id, "--force", "--stage", STAGE).code == 0
    assert len(sent_emails()) == 2
    assert stored(lead_id).status == "sent"


def test_resend_never_races_a_worker_holding_the_claim(dev: None, manage: Any) -> None:
    ses_rejects_everything()
    lead_id = take(runtime(), 1)
    ses_accepts_again()
    due = stored(lead_id).next_attempt_at or 0
    # a retry worker has just claimed it and is sending
    assert table().claim(lead_id, due, "worker", int(time.time()) + 300) is not None
    result = manage("leads", "resend", lead_id, "--stage", STAGE)
    assert result.code == 2
    assert "is being emailed right now" in result.err
    assert sent_emails() == []
    assert stored(lead_id).claim_token == "worker"


def test_resend_refuses_spam(dev: None, manage: Any) -> None:
    lead_id = take(runtime(), 1, spam=True)
    result = manage("leads", "resend", lead_id, "--force", "--stage", STAGE)
    assert result.code == 2
    assert "is spam" in result.err


def test_retry_sends_the_due_pending_leads_and_prints_the_report(dev: None, manage: Any) -> None:
    ses_rejects_everything()
    ten_minutes_ago = time.time() - 600
    due = take(runtime(clock=lambda: ten_minutes_ago), 1)  # its 1-minute backoff is over
    not_yet = take(runtime(), 2)
    ses_accepts_again()
    result = manage("leads", "retry", "--stage", STAGE)
    assert result.code == 0
    assert result.out.strip() == (
        "due: 1, sent: 1, still pending: 0, taken by another worker: 0,"
        " held back and sent in a summary: 0"
    )
    assert stored(due).status == "sent" and stored(not_yet).status == "pending"
    assert [m["X-Vigor-Lead-Id"] for m in sent_emails()] == [due]


# ---- leads set-status, assign, list filters, show, stats ------------------------------


def test_set_status_records_each_change_and_show_prints_the_history(dev: None, manage: Any) -> None:
    lead_id = take(runtime(), 1)
    result = manage("leads", "set-status", lead_id, "replied", "--note", "called", "--stage", STAGE)
    assert result.code == 0 and result.out == f"lead {lead_id}: new -> replied\n"
    again = manage("leads", "set-status", lead_id, "replied", "--stage", STAGE)
    assert again.code == 0 and "already replied" in again.out
    back = manage("leads", "set-status", lead_id, "new", "--stage", STAGE)
    assert back.code == 2 and "replied can change to" in back.err
    assert (
        manage(
            "leads", "assign", lead_id, "bo@vigorautomobile.com", "--by", "ann", "--stage", STAGE
        ).code
        == 0
    )
    shown = manage("leads", "show", lead_id, "--stage", STAGE).out
    assert "sales_status: replied" in shown and "owner: bo@vigorautomobile.com" in shown
    assert "status new -> replied (called)" in shown
    assert "ann: owner sales@vigorautomobile.com -> bo@vigorautomobile.com" in shown
    assert "score: " in shown and "part number given" in shown
    bad = manage("leads", "assign", lead_id, "not an address", "--stage", STAGE)
    assert bad.code == 2 and "OWNER must be an email address" in bad.err


def test_sales_work_on_a_spam_lead_keeps_it_as_long_as_a_lead(dev: None, manage: Any) -> None:
    lead_id = take(runtime(), 1, spam=True)
    spam_expiry = stored(lead_id).expires_at
    result = manage("leads", "set-status", lead_id, "replied", "--stage", STAGE)
    assert result.code == 0 and "no longer treated as spam" in result.out
    assert stored(lead_id).expires_at == spam_expiry + (730 - 30) * DAY


def test_set_status_of_an_unknown_lead_is_an_error(dev: None, manage: Any) -> None:
    result = manage("leads", "set-status", "01JD3Q4Z8W6KQ9X2M5T7V0B1CE", "won", "--stage", STAGE)
    assert result.code == 2
    assert "no lead with id" in result.err


def test_list_filters_by_sales_status_owner_and_score(dev: None, manage: Any) -> None:
    rich = take(runtime(), 1, company="Autoteile Nord GmbH", quantity=200)  # A
    poor = take(runtime(), 2, email="someone@qq.com", country=None, product="brakes")  # C
    manage("leads", "set-status", rich, "quoted", "--stage", STAGE)
    manage("leads", "assign", poor, "Bo@VigorAutomobile.com", "--stage", STAGE)

    def listed(*argv: str) -> list[str]:
        return lead_ids_in(manage("leads", "list", *argv, "--stage", STAGE).out)

    assert listed("--status", "quoted") == [rich] and listed("--status", "new") == [poor]
    assert listed("--score", "a") == [rich] and listed("--score", "C") == [poor]
    assert listed("--owner", "BO@vigorautomobile.com") == [poor]  # addresses ignore case
    assert listed("--status", "sent", "--score", "A") == [rich]


def test_stats_counts_statuses_and_the_median_time_to_first_reply(dev: None, manage: Any) -> None:
    now = time.time()
    first = take(runtime(clock=lambda: now - 7200), 1)
    second = take(runtime(clock=lambda: now - 3600), 2, source={"utm_source": "google"})
    take(runtime(), 3)
    manage("leads", "set-status", first, "replied", "--stage", STAGE)  # after 2 h
    manage("leads", "set-status", second, "won", "--stage", STAGE)  # after 1 h
    result = manage("leads", "stats", "--days", "30", "--stage", STAGE)
    assert result.code == 0
    assert "leads: 3" in result.out
    assert "  new: 1\n  replied: 1\n  quoted: 0\n  won: 1\n" in result.out
    assert "median time to first reply: 1h 30m (2 replied)" in result.out
    assert "by country:\n  Germany: 3" in result.out
    assert "  direct: 2" in result.out and "  google: 1" in result.out


# ---- leads erase --------------------------------------------------------------------


def every_item() -> list[dict[str, Any]]:
    db = boto3.client("dynamodb", region_name=REGION)
    items = []
    for page in db.get_paginator("scan").paginate(TableName=LEADS_TABLE):  # tests may scan
        items += [from_item(item) for item in page["Items"]]
    return items


def test_erase_deletes_every_lead_of_an_address_and_nothing_else(
    dev: None, manage: Any, _no_scan: list[str]
) -> None:
    service = runtime()
    mine = [
        take(service, n, email=address)
        for n, address in enumerate(
            ["zhang.wei@example.com", "Zhang.Wei@Example.com", "ZHANG.WEI@EXAMPLE.COM"]
        )
    ]
    spam = take(service, 7, spam=True, email="zhang.wei@example.com")
    other = take(service, 8, email="someone.else@example.com")
    dry = manage(
        "leads", "erase", "--email", " Zhang.Wei@example.COM ", "--dry-run", "--stage", STAGE
    )
    assert dry.code == 0 and "would delete 4 leads" in dry.out
    assert all(stored(lead_id) for lead_id in [*mine, spam])
    result = manage("leads", "erase", "--email", " Zhang.Wei@example.COM ", "--stage", STAGE)
    assert result.code == 0
    assert sorted(lead_ids_in(result.out)) == sorted([*mine, spam])
    assert "deleted 4 leads of Zhang.Wei@example.COM" in result.out
    assert all(stored(lead_id) is None for lead_id in [*mine, spam])
    assert stored(other) is not None
    assert "Query" in _no_scan
    # What is left holds no trace of the address (counters and markers keep only a digest).
    _no_scan.clear()
    leftovers = json.dumps(every_item(), ensure_ascii=False).lower()
    _no_scan.clear()
    assert "zhang.wei" not in leftovers
    again = manage("leads", "erase", "--email", "zhang.wei@example.com", "--stage", STAGE)
    assert again.code == 0 and "no leads stored for zhang.wei@example.com" in again.out


def test_erase_needs_an_address(dev: None, manage: Any) -> None:
    result = manage("leads", "erase", "--email", "zhang wei", "--stage", STAGE)
    assert result.code == 2
    assert "--email needs an email address" in result.err


# ---- an export of 10,000 leads in constant memory -------------------------------------


@pytest.fixture
def moto_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """moto in its own process: tracemalloc then measures only the export's own memory."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(f"{url}/moto-api/", timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        monkeypatch.setenv("AWS_ENDPOINT_URL", url)
        deploy_stack(boto3.client("cloudformation", region_name=REGION), STAGE)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


def write_leads(count: int, now: float, every_seconds: int) -> None:
    """`count` leads, one every `every_seconds` back from a minute ago, in batches of 25."""
    from devtools.sample_leads import sent_lead_items

    db = boto3.client("dynamodb", region_name=REGION)
    batch = []
    for item in sent_lead_items(count, now - 60, every_seconds):
        batch.append({"PutRequest": {"Item": to_item(item)}})
        if len(batch) == 25:
            db.batch_write_item(RequestItems={LEADS_TABLE: batch})
            batch = []
    if batch:
        db.batch_write_item(RequestItems={LEADS_TABLE: batch})


def peak_of(callable_: Any) -> tuple[int, Any]:
    tracemalloc.start()
    try:
        result = callable_()
        return tracemalloc.get_traced_memory()[1], result
    finally:
        tracemalloc.stop()


def test_an_export_of_2000_leads_streams_in_constant_memory(
    moto_server: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import admin.leads

    now = time.time()
    write_leads(2_000, now, every_seconds=12_000)  # about 9 months: 10 month partitions
    # One warm client for every run, so the peaks compare the export itself, not the
    # (identical, large) cost of building a boto3 client in each run.
    client = boto3.client("dynamodb", region_name=REGION)

    def warm_table(runtime: Any, page_size: int = 250) -> LeadsTable:
        return LeadsTable(client, runtime.settings.leads_table, runtime.clock, page_size=page_size)

    monkeypatch.setattr(admin.leads, "_table", warm_table)

    def export(days: int, name: str) -> int:
        since = time.strftime("%Y-%m-%d", time.gmtime(now - days * DAY))
        return main(
            ["leads", "export", "--since", since, "-o", str(tmp_path / name), "--stage", STAGE]
        )

    assert export(0, "warm.csv") == 0
    small_peak, code = peak_of(lambda: export(20, "recent.csv"))  # about 144 leads
    assert code == 0
    full_peak, code = peak_of(lambda: export(300, "all.csv"))
    assert code == 0
    err = capsys.readouterr().err
    assert "exported 2000 leads" in err
    assert err.count(" leads\n") >= 10  # progress: a line per month (stderr is no terminal)
    with (tmp_path / "all.csv").open(encoding="utf-8-sig", newline="") as handle:
        assert sum(1 for _ in csv.DictReader(handle)) == 2_000
    # What holding the rows would need: 1,000 held rows, times five.
    tracemalloc.start()
    rows = warm_table(runtime()).newest_first(now - 300 * DAY)
    held = [lead.record() for lead in itertools.islice(rows, 1000)]  # the rows it writes
    rows.close()
    holding_all = tracemalloc.get_traced_memory()[0] * 5
    tracemalloc.stop()
    assert len(held) == 1000
    assert full_peak < holding_all / 2, (full_peak, holding_all)
    # Constant: 2,000 leads take no more memory than the ~144 of the last 20 days.
    assert full_peak < small_peak * 1.5, (full_peak, small_peak)


def test_remind_and_digest_run_the_sweeps_now_and_dry_run_sends_and_claims_nothing(
    dev: None, manage: Any
) -> None:
    lead_id = take(runtime(clock=lambda: time.time() - 25 * 3600))  # due a reminder
    before = stored(lead_id).follow_up_at
    dry = manage("leads", "remind", "--dry-run", "--stage", STAGE)
    assert dry.code == 0 and f"{lead_id}  [Reminder 1/2]  to " in dry.out
    assert "1 due; nothing sent (--dry-run)" in dry.out
    digest = manage("leads", "digest", "--dry-run", "--stage", STAGE)
    assert digest.code == 0 and "Subject: Leads digest " in digest.out and lead_id in digest.out
    assert len(sent_emails()) == 1 and stored(lead_id).follow_up_at == before  # the lead's

    assert "reminded: 1, escalated: 0" in manage("leads", "remind", "--stage", STAGE).out
    assert "reminded: 0, escalated: 0" in manage("leads", "remind", "--stage", STAGE).out
    assert (
        "sent to sales@vigorautomobile.com: Leads digest "
        in manage("leads", "digest", "--stage", STAGE).out
    )
    assert "was sent already" in manage("leads", "digest", "--stage", STAGE).out
    subjects = [str(m["Subject"]) for m in sent_emails()[1:]]
    assert subjects[0].startswith("[Reminder 1/2] [B] Inquiry from Buyer 0")
    assert subjects[1].startswith("Leads digest ") and len(subjects) == 2
