"""The sales follow-up through the sales email (moto): the owner gets the lead with its
score, source and six signed action links; a GET shows a confirmation page and changes
nothing, the page's POST changes the lead once (a replay changes nothing more), and every
bad link gets a clear answer, never a 5xx."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import boto3
import pytest

from admin.keys import ensure_link_key
from chalicelib.leads.model import SalesStatus
from tests.conftest import REGION, body_of, post_form, post_json, sent_emails, stored_lead
from tests.data import BUYER

KEY = "/vigor-leads/test/link-key"
API = "https://api.example.test/api"
HOST = "api.example.test"
TEAM = "anna@vigorautomobile.com,bo@vigorautomobile.com"
BROWSER = {"Accept": "text/html,application/xhtml+xml", "Accept-Language": "en"}
PAGE_POST = {
    **BROWSER,
    "Origin": f"https://{HOST}",
    "Host": HOST,
    "Content-Type": "application/x-www-form-urlencoded",
}
SOURCE = {
    "utm_source": "google",
    "utm_medium": "cpc",
    "utm_campaign": "brake-pads-eu",
    "gclid": "Cj0KCQ",
    "referrer": "https://www.google.com/",
    "landing_page": "https://www.vigorautomobile.com/products/brakes.html",
}


@pytest.fixture
def api(make_client: Any) -> Any:
    ensure_link_key(boto3.client("ssm", region_name=REGION), KEY)
    return make_client(LINK_KEY=f"ssm:{KEY}", PUBLIC_API_URL=API, SALES_EMAILS=TEAM)


def links_in(message: Any) -> dict[str, str]:
    """action -> the link's path and query, as the test client takes it."""
    found = re.findall(rf"{re.escape(API)}(/leads/\S+)", body_of(message, "plain"))
    return {path.split("?")[0].rsplit("/", 1)[1]: path for path in found}


def take_lead(api: Any, **fields: Any) -> tuple[str, Any]:
    response = post_json(api, {**BUYER, **fields})
    assert response.status_code == 201
    (message,) = [m for m in sent_emails() if m["X-Vigor-Lead-Id"] == response.json_body["id"]]
    return response.json_body["id"], message


def test_the_owner_gets_the_lead_with_score_source_and_their_own_action_links(
    api: Any, settings: Any
) -> None:
    lead_id, message = take_lead(api, **SOURCE)
    lead = stored_lead(settings, lead_id)
    assert lead.owner in TEAM.split(",") and message["To"] == lead.owner
    assert lead.score == "A" and lead.source == SOURCE
    assert lead.follow_up_at == lead.received_at + 24 * 3600
    assert message["Subject"].startswith("[A] Inquiry from Hans Müller")
    text, html = body_of(message, "plain"), body_of(message, "html")
    assert "Score:    A (company email domain (not free webmail), part number given," in text
    line = "utm_source=google · utm_medium=cpc · utm_campaign=brake-pads-eu · gclid=Cj0KCQ"
    assert f"Source:   {line} · referrer=https://www.google.com/" in text
    assert line in html and "Owner" in html
    links = links_in(message)
    assert sorted(links) == ["lost", "not_relevant", "quoted", "replied", "take", "won"]
    for path in links.values():
        assert parse_qs(urlsplit(path).query)["to"] == [lead.owner]
        assert path.replace("&", "&amp;") in html
    for label in ("Replied", "Quoted", "Won", "Lost", "Not relevant", "Take it"):
        assert f">{label}</a>" in html


def test_each_action_asks_on_get_changes_on_post_once_and_answers_the_new_state(
    api: Any, settings: Any, clock: Any
) -> None:
    lead_id, message = take_lead(api)
    links = links_in(message)
    owner = stored_lead(settings, lead_id).owner
    clock.advance(3600)
    for action, status in [
        ("take", SalesStatus.NEW),
        ("replied", SalesStatus.REPLIED),
        ("quoted", SalesStatus.QUOTED),
        ("won", SalesStatus.WON),
        ("lost", SalesStatus.LOST),
        ("not_relevant", SalesStatus.NOT_RELEVANT),
    ]:
        before = stored_lead(settings, lead_id)
        page = api.http.get(links[action], headers=BROWSER)
        assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
        assert '<form method="post">' in page.body.decode() and lead_id in page.body.decode()
        assert page.headers["Referrer-Policy"] == "same-origin"
        assert stored_lead(settings, lead_id) == before  # a GET never changes anything
        for _ in range(2):  # the second is a replay: the same answer, nothing more
            done = api.http.post(links[action], headers=PAGE_POST, body="note=called+him")
            assert done.status_code == 200 and lead_id in done.body.decode()
        after = stored_lead(settings, lead_id)
        assert after.sales_status == status and after.owner == owner
        assert len(after.history) == len(before.history) + (action != "take")
    history = stored_lead(settings, lead_id).history
    assert [change.new for change in history] == [
        "replied",
        "quoted",
        "won",
        "lost",
        "not_relevant",
    ]
    assert {change.by for change in history} == {owner}
    assert history[0].note == "called him"
    assert stored_lead(settings, lead_id).time_to_first_reply == 3600
    as_json = api.http.post(links["won"], headers={"Accept": "application/json"})
    assert as_json.json_body == {"id": lead_id, "sales_status": "won", "owner": owner}


def test_the_pages_are_chinese_for_a_chinese_browser(api: Any, clock: Any) -> None:
    _, message = take_lead(api)
    chinese = {"Accept": "text/html", "Accept-Language": "zh-CN"}
    page = api.http.get(links_in(message)["quoted"], headers=chinese)
    assert "已报价" in page.body.decode() and 'lang="zh-CN"' in page.body.decode()
    clock.advance(31 * 86400)
    expired = api.http.get(links_in(message)["quoted"], headers=chinese)
    assert expired.status_code == 410 and "链接已过期" in expired.body.decode()


def test_take_it_makes_the_clicker_the_owner(make_client: Any, settings: Any) -> None:
    ensure_link_key(boto3.client("ssm", region_name=REGION), KEY)
    api = make_client(LINK_KEY=f"ssm:{KEY}", PUBLIC_API_URL=API, SALES_EMAILS=TEAM)
    lead_id, _ = take_lead(api)
    owner = stored_lead(settings, lead_id).owner
    other = next(address for address in TEAM.split(",") if address != owner)
    (take,) = [
        link
        for action, link in api.runtime.action_links.for_recipient(lead_id, other)
        if action == "take"
    ]
    shouted = with_query(take.removeprefix(API), to=other.upper())  # addresses ignore case
    assert api.http.post(shouted, headers=PAGE_POST).status_code == 200
    lead = stored_lead(settings, lead_id)
    assert lead.owner == other and lead.history[-1].by == other


def signed(api: Any, lead_id: str, action: str, recipient: str) -> str:
    links = dict(api.runtime.action_links.for_recipient(lead_id, recipient))
    return str(links[action]).removeprefix(API)


def with_query(path: str, **changes: str) -> str:
    base, _, query = path.partition("?")
    params = {k: v[0] for k, v in parse_qs(query).items()}
    return f"{base}?{urlencode({**params, **changes})}"


def test_bad_links_get_a_clear_answer_and_change_nothing(
    api: Any, settings: Any, clock: Any
) -> None:
    lead_id, message = take_lead(api)
    links = links_in(message)
    owner = stored_lead(settings, lead_id).owner
    sig = parse_qs(urlsplit(links["won"]).query)["sig"][0]
    cases = [
        ("tampered signature", with_query(links["won"], sig=sig[::-1]), 403, "link_invalid"),
        ("tampered recipient", with_query(links["won"], to="eve@example.com"), 403, "link_invalid"),
        ("tampered action", links["won"].replace("/won?", "/lost?"), 403, "link_invalid"),
        ("incomplete", links["won"].split("&sig=")[0], 400, "link_invalid"),
        ("unknown action", links["won"].replace("/won?", "/sold?"), 404, "not_found"),
        (
            "a former salesman",
            signed(api, lead_id, "won", "gone@vigorautomobile.com"),
            403,
            "wrong_recipient",
        ),
        ("unknown lead", signed(api, "01KCVY8Z4Q5M7T0V2W3X4Y9999", "won", owner), 404, "not_found"),
    ]
    for label, path, status, code in cases:
        for method in ("GET", "POST"):
            answer = api.http.request(
                method, path, headers={"Accept": "application/json"}, body=b""
            )
            assert (answer.status_code, answer.json_body["error"]["code"]) == (status, code), (
                label,
                method,
            )
        page = api.http.get(path, headers=BROWSER)
        assert page.status_code == status and "This link cannot be used" in page.body.decode()
    foreign = {**PAGE_POST, "Origin": "https://evil.example"}
    refused = api.http.post(links["won"], headers=foreign)
    assert refused.status_code == 403 and "Use the button" in refused.body.decode()
    assert api.http.post(links["quoted"], headers=PAGE_POST).status_code == 200
    back = api.http.post(links["replied"], headers={"Accept": "application/json"})
    assert back.status_code == 409 and back.json_body["error"]["code"] == "transition_refused"
    clock.advance(30 * 86400 + 1)
    expired = api.http.get(links["lost"], headers=BROWSER)
    assert expired.status_code == 410 and "expired" in expired.body.decode()
    lead = stored_lead(settings, lead_id)
    assert lead.sales_status == SalesStatus.QUOTED and len(lead.history) == 1


def test_the_chat_alert_link_mails_the_lead_to_whoever_of_the_team_asks(
    api: Any, settings: Any, counter: Any
) -> None:
    import json

    from chalicelib.alerts.webhooks import Webhook, request_for
    from chalicelib.followup.sweeps import alert_builder

    lead_id, _ = take_lead(api)
    alert = alert_builder(api.runtime)(lead_id)
    link = alert.link
    assert link.startswith(f"{API}/leads/{lead_id}/actions/mail_me?to=chat&exp=")
    wecom, slack, generic = (
        json.loads(request_for(Webhook(kind, "https://chat.example", "s"), alert, 0)[1])
        for kind in ("wecom", "slack", "webhook")
    )
    assert f"[Send me lead {lead_id}]({link})" in wecom["markdown"]["content"]
    assert f"<{link.replace('&', '&amp;')}|Send me lead {lead_id}>" in slack["text"]
    assert generic["link"] == link
    path, before = link.removeprefix(API), len(sent_emails())
    counter.reset()
    page = api.http.get(path, headers=BROWSER)
    assert counter.calls == ["dynamodb.GetItem"]
    assert page.status_code == 200 and "Your sales email address" in page.body.decode()
    assert '<form method="post">' in page.body.decode() and lead_id in page.body.decode()
    owner = stored_lead(settings, lead_id).owner
    other = next(address for address in TEAM.split(",") if address != owner)
    counter.reset()
    done = api.http.post(path, headers=PAGE_POST, body=urlencode({"email": other.upper()}))
    assert counter.calls == ["dynamodb.GetItem", "dynamodb.UpdateItem", "sesv2.SendEmail"]
    assert done.status_code == 200 and f"Sent to {other}" in done.body.decode()
    (message,) = sent_emails()[before:]
    assert message["To"] == other and message["Subject"].startswith("[From chat] [A]")
    links = links_in(message)
    assert sorted(links) == ["lost", "not_relevant", "quoted", "replied", "take", "won"]
    for action, each in links.items():
        query = {k: v[0] for k, v in parse_qs(urlsplit(each).query).items()}
        assert api.runtime.action_links.check(lead_id, action, query).recipient == other
    stranger = api.http.post(path, headers=PAGE_POST, body="email=eve%40example.com")
    assert stranger.status_code == 403 and "does not receive leads" in stranger.body.decode()
    tampered = api.http.post(with_query(path, to=other), headers=PAGE_POST, body=f"email={other}")
    assert tampered.status_code == 403 and "it was changed" in tampered.body.decode()
    assert len(sent_emails()) == before + 1 and stored_lead(settings, lead_id).owner == owner


def test_source_fields_are_validated_stored_and_exported(api: Any, settings: Any) -> None:
    import io

    from admin.export import write_export

    bad = post_form(api, {**BUYER, "referrer": "javascript:alert(1)", "utm_term": "a\nb"})
    assert bad.status_code == 422
    assert set(bad.json_body["error"]["fields"]) == {"referrer", "utm_term"}
    assert post_form(api, {**BUYER, "utm_content": "x" * 201}).status_code == 422
    response = post_form(api, {**BUYER, **SOURCE})
    lead = stored_lead(settings, response.json_body["id"])
    assert lead.source == SOURCE
    out = io.StringIO(newline="")
    write_export([("2026-11", [lead])], out, "csv")
    import csv

    (row,) = csv.DictReader(io.StringIO(out.getvalue().lstrip("\ufeff"), newline=""))
    assert {name: row[name] for name in SOURCE} == SOURCE
    assert row["score"] == "A" and row["sales_status"] == "new" and row["owner"] == lead.owner


def test_keys_rotate_keeps_the_previous_key_working_and_warm_instances_follow(
    dev: None, manage: Any, clock: Any
) -> None:
    from admin.stages import stage_environment
    from chalicelib.actions.links import LinkRefused
    from chalicelib.runtime import Runtime
    from chalicelib.settings import Settings

    env = {**stage_environment("dev"), "PUBLIC_API_URL": API}
    parameter = env["LINK_KEY"].removeprefix("ssm:")
    ensure_link_key(boto3.client("ssm", region_name=REGION), parameter)

    def instance() -> Any:
        return Runtime(Settings.from_env(env), clock=clock).action_links

    def query(link: str) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(urlsplit(link).query).items()}

    lead_id, owner = "01KCVY8Z4Q5M7T0V2W3X4Y0001", "sales@vigorautomobile.com"
    warm = instance()
    before = dict(warm.for_recipient(lead_id, owner))["won"]
    result = manage("keys", "rotate", "--stage", "dev")
    assert result.code == 0 and f"{parameter}-previous" in result.out
    after = dict(instance().for_recipient(lead_id, owner))["won"]
    assert query(after)["sig"] != query(before)["sig"]
    cold = instance()
    assert cold.check(lead_id, "won", query(before)).recipient == owner  # the previous key
    clock.advance(301)  # a warm instance re-reads the keys when a link needs it
    assert warm.check(lead_id, "won", query(after)).recipient == owner
    manage("keys", "rotate", "--stage", "dev")
    with pytest.raises(LinkRefused) as refused:
        instance().check(lead_id, "won", query(before))  # two rotations ago: dead
    assert refused.value.status == 403
