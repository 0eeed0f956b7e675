"""Chat alerts (chalicelib/alerts/): each flavour's payload and signature against a fake
endpoint on 127.0.0.1, and the rule that the visitor's answer never waits for a chat
service: the POST only queues the alert (no extra AWS call), the sweep sends it, once,
retrying timeouts and 5xx and giving up after MAX_ALERT_ATTEMPTS."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from typing import Any
from urllib.parse import parse_qs, unquote_plus, urlsplit

import boto3
import pytest

from chalicelib.alerts import sweep
from chalicelib.alerts.webhooks import (
    SIGNATURE_HEADER,
    DeliveryError,
    Webhook,
    alert_of,
    deliver,
    verify_signature,
)
from chalicelib.followup.sweeps import alert_builder, run_follow_ups
from tests.conftest import REGION, post_json
from tests.data import BUYER
from tests.fakes import FakeChat

PARAMETER = "/vigor-leads/test/chat-webhooks"
NOW = 1_795_000_000.0


def alert() -> Any:
    who = ("Hans [Müller](http://evil.example)", "Autoteile Nord GmbH", "Germany")
    return alert_of("01KAB", who, "Brake pads 04465-33450 × 200", "A", None)


def test_each_flavour_sends_its_payload_and_signature(chat: str) -> None:
    hooks = [
        Webhook("wecom", f"{chat}/cgi-bin/webhook/send?key=K"),
        Webhook("dingtalk", f"{chat}/robot/send?access_token=T", "SECret"),
        Webhook("slack", f"{chat}/services/T/B/X"),
        Webhook("webhook", f"{chat}/hooks/vigor", "whsec"),
    ]
    for hook in hooks:
        deliver(hook, alert(), NOW)
    (wecom, ding, slack, generic) = FakeChat.seen
    content = json.loads(wecom[2])["markdown"]["content"]
    assert json.loads(wecom[2])["msgtype"] == "markdown"
    assert "Who: Hans Müller http evil.example, Autoteile" in content  # no link survives
    assert "Brake pads 04465-33450 × 200" in content and "Score: A" in content
    assert "Reference: 01KAB" in content
    # DingTalk: timestamp (ms) and sign = base64 HMAC-SHA256(secret, "timestamp\nsecret")
    query = parse_qs(urlsplit(ding[0]).query)
    timestamp = query["timestamp"][0]
    assert timestamp == str(int(NOW * 1000)) and query["access_token"] == ["T"]
    mac = hmac.new(b"SECret", f"{timestamp}\nSECret".encode(), hashlib.sha256).digest()
    assert query["sign"][0] == base64.b64encode(mac).decode()
    assert "sign=" + unquote_plus(query["sign"][0]) not in ding[0]  # sent url-encoded
    assert json.loads(ding[2])["markdown"]["title"] == "New inquiry [A]"
    assert json.loads(slack[2])["text"].startswith("*New inquiry [A]*\nWho: Hans")
    # The generic webhook: a receiver verifies the header over the raw body.
    header = generic[1][SIGNATURE_HEADER]
    assert verify_signature("whsec", generic[2], header, now=NOW)
    assert not verify_signature("whsec", generic[2] + b" ", header, now=NOW)
    assert not verify_signature("other", generic[2], header, now=NOW)
    assert not verify_signature("whsec", generic[2], header, now=NOW + 3600)  # a replay
    assert json.loads(generic[2])["lead_id"] == "01KAB"
    for _, _, body in FakeChat.seen:
        assert b"@" not in body and b"+49" not in body  # no address, no phone


def test_a_timeout_or_a_5xx_is_retryable_a_4xx_is_not(chat: str) -> None:
    FakeChat.answers = [503, 404, "hang"]
    outcomes = []
    for timeout in (5.0, 5.0, 0.3):  # short only where it must run out: no flake on a slow box
        with pytest.raises(DeliveryError) as raised:
            deliver(Webhook("slack", f"{chat}/x"), alert(), NOW, timeout=timeout)
        outcomes.append((str(raised.value), raised.value.retry))
    assert outcomes == [("HTTP 503", True), ("HTTP 404", False), ("timed out", True)]


def test_the_post_only_queues_the_alert_and_the_sweep_sends_it_once_retrying_failures(
    make_client: Any, chat: str, counter: Any, clock: Any
) -> None:
    hooks = [{"kind": "wecom", "url": f"{chat}/w"}, {"kind": "slack", "url": f"{chat}/s"}]
    boto3.client("ssm", region_name=REGION).put_parameter(
        Name=PARAMETER, Value=json.dumps(hooks), Type="SecureString"
    )
    api = make_client(CHAT_WEBHOOKS=f"ssm:{PARAMETER}", AUTOREPLY_ENABLED="true")
    counter.reset()
    response = post_json(api, BUYER)
    assert response.status_code == 201
    assert counter.calls == [
        "dynamodb.TransactWriteItems",
        "sesv2.SendEmail",
        "sesv2.SendEmail",
        "dynamodb.UpdateItem",
    ]
    assert FakeChat.seen == []  # nothing was sent while the visitor waited
    runtime = api.runtime
    hooks = runtime.chat_webhooks()

    def sweep_now(slack_timeout: float = 5.0) -> Any:  # what run_follow_ups does
        def send(hook: Webhook, alert: Any, now: float) -> None:
            deliver(hook, alert, now, timeout=slack_timeout if hook.kind == "slack" else 5.0)

        return sweep.send_alerts(runtime.leads, hooks, alert_builder(runtime), clock, send=send)

    FakeChat.answers = [200, "hang"]  # WeCom takes it, Slack times out
    assert sweep_now(slack_timeout=0.3).retrying == 1
    assert sweep_now().retrying == 0  # not due again before its backoff
    clock.advance(sweep.alert_backoff_seconds(1))
    FakeChat.answers = [502]
    assert sweep_now().retrying == 1
    clock.advance(sweep.alert_backoff_seconds(2))
    assert sweep_now().sent == 1
    assert [path for path, _, _ in FakeChat.seen] == ["/w", "/s", "/s", "/s"]  # WeCom once
    clock.advance(86400)
    assert run_follow_ups(runtime)["alerts_sent"] == 0 and len(FakeChat.seen) == 4
    assert counter.calls.count("ssm.GetParameter") == 1  # once per instance


def test_racing_sweeps_send_an_alert_once_and_one_given_up_is_listed(
    make_client: Any, chat: str, clock: Any
) -> None:
    boto3.client("ssm", region_name=REGION).put_parameter(
        Name=PARAMETER, Value=json.dumps([{"kind": "slack", "url": f"{chat}/s"}]), Type="String"
    )
    api = make_client(CHAT_WEBHOOKS=f"ssm:{PARAMETER}")
    rows = [{"part_number": "04465-33450", "quantity": 4}, {"part_number": "X1", "quantity": 1}]
    rfq = {k: v for k, v in BUYER.items() if k not in ("product", "quantity")}
    first = post_json(api, {**rfq, "items": rows}).json_body["id"]
    barrier = threading.Barrier(2)

    def racer() -> None:
        barrier.wait()
        run_follow_ups(api.runtime)

    threads = [threading.Thread(target=racer) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(FakeChat.seen) == 1
    assert "04465-33450 × 4 +1 more" in json.loads(FakeChat.seen[0][2])["text"]  # the RFQ's
    second = post_json(api, {**BUYER, "email": "b@example.com"}).json_body["id"]
    FakeChat.answers = [500] * sweep.MAX_ALERT_ATTEMPTS
    for attempt in range(sweep.MAX_ALERT_ATTEMPTS):
        run_follow_ups(api.runtime)
        clock.advance(sweep.alert_backoff_seconds(attempt + 1))
    assert [lead for lead, _ in api.runtime.leads.failed_alerts()] == [second]
    assert first != second and len(FakeChat.seen) == 1 + sweep.MAX_ALERT_ATTEMPTS


def test_a_lead_whose_alert_cannot_be_built_waits_and_blocks_no_other(
    make_client: Any, clock: Any
) -> None:
    api = make_client(CHAT_WEBHOOKS=f"ssm:{PARAMETER}")
    poison = post_json(api, {**BUYER, "name": "Poison"}).json_body["id"]  # due first
    other = post_json(api, {**BUYER, "email": "b@example.com"}).json_body["id"]
    build = alert_builder(api.runtime)

    def alert_for(lead_id: str) -> Any:
        if lead_id == poison:
            raise KeyError("an item this version cannot read")
        return build(lead_id)

    sent: list[str] = []
    hooks = (Webhook("slack", "http://127.0.0.1:9/s"),)
    report = sweep.send_alerts(
        api.runtime.leads, hooks, alert_for, clock, send=lambda _h, a, _n: sent.append(a.lead_id)
    )
    assert (report.sent, report.retrying, sent) == (1, 1, [other])
