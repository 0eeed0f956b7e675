"""Start-up: settings fail with the variable's name; importing app is cheap and side-effect free."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from chalicelib.settings import Settings, SettingsError
from tests.conftest import settings_env

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("CONTENT_TABLE", ""),
        ("LEADS_TABLE", ""),
        ("ALLOWED_ORIGINS", ""),
        ("ALLOWED_ORIGINS", "www.example.com"),
        ("ALLOWED_ORIGINS", "https://example.com/path"),
        ("SENDER_EMAIL", "not-an-address"),
        ("SENDER_EMAIL", ""),
        ("SALES_EMAILS", "a@example.com, nope"),
        ("AUTOREPLY_ENABLED", "maybe"),
        ("RATE_LIMIT_PER_IP_PER_HOUR", "0"),
        ("RATE_LIMIT_PER_EMAIL_PER_HOUR", "five"),
        ("ROUTING_RULES", "{not json"),
        ("ROUTING_RULES", '[{"field": "city", "match": "x", "to": ["a@example.com"]}]'),
        ("MAX_NOTIFY_ATTEMPTS", "-1"),
        ("PUBLIC_API_URL", "api.example.com/api"),
        ("PUBLIC_API_URL", "https://api.example.com/api?x=1"),
        ("LINK_KEY", "ssm:/bad name"),
        ("LINK_KEY", "a key in config.json"),
        ("ACTION_LINK_KEY", "ssm:/vigor-leads/prod/action-link-key"),  # renamed: LINK_KEY
        ("LINK_SIGNING_KEY", "ssm:/vigor-leads/prod/link-signing-key"),  # renamed: LINK_KEY
        ("FOLLOW_UP_HOURS", "0"),
        ("ESCALATION_EMAILS", "boss"),
        ("DIGEST_HOUR", "24"),
        ("DIGEST_TIMEZONE", "Mars/Olympus_Mons"),
        ("DIGEST_TIMEZONE", "+25:00"),
        ("CHAT_WEBHOOKS", '[{"kind": "slack", "url": "https://hooks.slack.com/x"}]'),
    ],
)
def test_bad_setting_fails_naming_the_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env(settings_env(**{name: value}))


def test_defaults_match_the_documented_ones() -> None:
    settings = Settings.from_env(settings_env())
    assert settings.rate_limit_per_ip_per_hour == 20
    assert settings.rate_limit_per_email_per_hour == 5
    assert settings.honeypot_field == "website"
    assert settings.turnstile_secret is None


def test_the_digest_zone_is_a_name_or_an_offset_and_shanghai_needs_no_tz_database(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import datetime
    import zoneinfo

    from chalicelib.settings import time_zone

    moment = datetime.datetime(2026, 7, 1, 0, 30, tzinfo=datetime.UTC)
    assert moment.astimezone(time_zone("+08:00")).hour == 8
    assert moment.astimezone(time_zone("Europe/Berlin")).hour == 2  # summer time
    monkeypatch.setitem(sys.modules, "tzdata", None)  # a runtime without a time zone database
    zoneinfo.reset_tzpath(to=())
    zoneinfo.ZoneInfo.clear_cache()
    try:
        assert moment.astimezone(time_zone("Asia/Shanghai")).hour == 8
        with pytest.raises(ValueError, match="fixed offset such as"):
            time_zone("Europe/Berlin")
    finally:
        zoneinfo.reset_tzpath()
        zoneinfo.ZoneInfo.clear_cache()


def test_sender_may_carry_a_display_name() -> None:
    settings = Settings.from_env(settings_env(SENDER_EMAIL="Vigor Sales <sales@example.com>"))
    assert settings.sender_email == "Vigor Sales <sales@example.com>"


PROBE = """
import json, sys
import botocore.client
created = []
original = botocore.client.ClientCreator.create_client
def counting(self, *args, **kwargs):
    created.append(args)
    return original(self, *args, **kwargs)
botocore.client.ClientCreator.create_client = counting
import app
LAZY = ("jinja2", "email_validator", "chalicelib.attachments.files",
        "chalicelib.attachments.kinds", "chalicelib.attachments.bucket", "chalicelib.signing")
loaded_after_import = sorted(m for m in LAZY if m in sys.modules)

from chalice.test import Client
class StubDynamo:
    def get_item(self, **kwargs):
        return {"Item": {"pk": {"S": "CONTACT"}, "sk": {"S": "CONTACT"},
                         "company": {"S": "Vigor"}}}
    def query(self, **kwargs):
        return {"Items": []}
    def get_paginator(self, operation):
        stub = self
        class Pages:
            def paginate(self, **kwargs):
                return [getattr(stub, operation)(**kwargs)]
        return Pages()
from chalicelib.bootstrap import create_app
from chalicelib.runtime import Runtime
class StubClients:
    def dynamodb(self): return StubDynamo()
runtime = Runtime.from_environment()
runtime.clients = StubClients()
with Client(create_app(runtime)) as client:
    paths = ("/contact", "/news", "/news/categories", "/news/x")
    statuses = [client.http.get(path).status_code for path in paths]
loaded_after_gets = sorted(m for m in LAZY if m in sys.modules)
print(json.dumps({"clients": len(created), "after_import": loaded_after_import,
                  "after_gets": loaded_after_gets, "statuses": statuses}))
"""


def test_import_creates_no_client_and_get_routes_never_load_mail_or_attachment_code() -> None:
    env = {**os.environ, **settings_env(), "AWS_DEFAULT_REGION": "us-east-1"}
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    probe = json.loads(result.stdout.strip().splitlines()[-1])
    assert probe["clients"] == 0
    assert probe["after_import"] == []
    assert probe["statuses"] == [200, 200, 200, 200]
    assert probe["after_gets"] == []


def test_app_import_fails_at_start_up_naming_a_missing_setting() -> None:
    env = {k: v for k, v in os.environ.items() if k not in settings_env()}
    env.update({k: v for k, v in settings_env().items() if k != "SALES_EMAILS"})
    result = subprocess.run(
        [sys.executable, "-c", "import app"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "SALES_EMAILS is required" in result.stderr
