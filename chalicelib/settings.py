"""One typed Settings object, read from the environment and validated once.

Every problem is reported with the name of the variable, so a bad deploy fails at
start-up with a message an admin can act on instead of a 500 on the first lead.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parseaddr
from urllib.parse import urlsplit

_SIMPLE_ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# A secret setting may name an SSM SecureString parameter instead of holding the secret:
# "ssm:/vigor-leads/prod/turnstile-secret" (read once per function instance, when needed).
SSM_PREFIX = "ssm:"
_SSM_NAME = re.compile(r"^/?[A-Za-z0-9_.\-/]{1,1011}$")
SECRET_SETTINGS = ("TURNSTILE_SECRET", "LINK_KEY", "CHAT_WEBHOOKS")
# Settings that were renamed: still set, they stop the start-up naming the new one.
RENAMED_SETTINGS = {"ACTION_LINK_KEY": "LINK_KEY", "LINK_SIGNING_KEY": "LINK_KEY"}


def ssm_parameter(value: str | None) -> str | None:
    """The SSM parameter a secret setting names, or None when it holds the secret itself."""
    if value is None or not value.startswith(SSM_PREFIX):
        return None
    return value[len(SSM_PREFIX) :]


def is_address(value: str) -> bool:
    """A plain email address (the shape every address setting holds)."""
    return bool(_SIMPLE_ADDRESS.match(value))


class SettingsError(ValueError):
    """A missing or invalid environment variable; the message names it."""


@dataclass(frozen=True)
class RoutingRule:
    """Send leads whose `field` contains `match` (case-insensitive) to `to`."""

    field: str
    match: str
    to: tuple[str, ...]


@dataclass(frozen=True)
class Settings:
    content_table: str
    leads_table: str
    allowed_origins: tuple[str, ...]
    sender_email: str
    sales_emails: tuple[str, ...]
    autoreply_enabled: bool = False
    autoreply_max_per_hour: int = 200
    rate_limit_per_ip_per_hour: int = 20
    rate_limit_per_email_per_hour: int = 5
    honeypot_field: str = "website"
    turnstile_secret: str | None = None
    turnstile_verify_url: str | None = None
    routing_rules: tuple[RoutingRule, ...] = ()
    check_deliverability: bool = False
    max_notify_attempts: int = 8
    lead_retention_days: int = 730
    spam_retention_days: int = 30
    ses_configuration_set: str | None = None
    outbox_dir: str | None = None
    alert_emails: tuple[str, ...] = ()  # `provision` subscribes them to the alarms
    # Attachments (chalicelib/attachments): off while no bucket is named.
    uploads_bucket: str | None = None
    # The follow-up sweeps (chalicelib/followup/): reminders, escalation, digest, chat.
    follow_up_hours: int = 24  # a lead still new this long after it came is due a reminder
    max_reminders: int = 2
    escalation_emails: tuple[str, ...] = ()
    digest_hour: int = 8
    digest_timezone: str = "Asia/Shanghai"
    digest_emails: tuple[str, ...] = ()  # none: SALES_EMAILS
    chat_webhooks: str | None = None  # ssm:/path of a JSON list (chalicelib/alerts/)
    # The signed links of the sales email (actions, downloads of files too large to attach):
    # their one key's SSM parameter (ssm:/path, chalicelib/signing.py) and the API's public
    # base URL they point to. Both set: links on; else the email has none.
    link_key: str | None = None
    public_api_url: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        for old, new in RENAMED_SETTINGS.items():
            if env.get(old, "").strip():
                raise SettingsError(f"{old} is now {new}: rename it (see README, Configuration)")
        reader = _Reader(env)
        return cls(
            content_table=reader.required("CONTENT_TABLE"),
            leads_table=reader.required("LEADS_TABLE"),
            allowed_origins=reader.origins("ALLOWED_ORIGINS"),
            sender_email=reader.sender("SENDER_EMAIL"),
            sales_emails=reader.addresses("SALES_EMAILS"),
            autoreply_enabled=reader.boolean("AUTOREPLY_ENABLED", False),
            autoreply_max_per_hour=reader.positive_int("AUTOREPLY_MAX_PER_HOUR", 200),
            rate_limit_per_ip_per_hour=reader.positive_int("RATE_LIMIT_PER_IP_PER_HOUR", 20),
            rate_limit_per_email_per_hour=reader.positive_int("RATE_LIMIT_PER_EMAIL_PER_HOUR", 5),
            honeypot_field=reader.optional("HONEYPOT_FIELD") or "website",
            turnstile_secret=reader.secret("TURNSTILE_SECRET"),
            turnstile_verify_url=reader.optional("TURNSTILE_VERIFY_URL"),
            routing_rules=reader.routing_rules("ROUTING_RULES"),
            check_deliverability=reader.boolean("CHECK_DELIVERABILITY", False),
            max_notify_attempts=reader.positive_int("MAX_NOTIFY_ATTEMPTS", 8),
            lead_retention_days=reader.positive_int("LEAD_RETENTION_DAYS", 730),
            spam_retention_days=reader.positive_int("SPAM_RETENTION_DAYS", 30),
            ses_configuration_set=reader.optional("SES_CONFIGURATION_SET"),
            outbox_dir=reader.optional("OUTBOX_DIR"),
            alert_emails=reader.addresses("ALERT_EMAILS", required=False),
            uploads_bucket=reader.optional("UPLOADS_BUCKET"),
            follow_up_hours=reader.positive_int("FOLLOW_UP_HOURS", 24),
            max_reminders=reader.positive_int("MAX_REMINDERS", 2),
            escalation_emails=reader.addresses("ESCALATION_EMAILS", required=False),
            digest_hour=reader.hour("DIGEST_HOUR", 8),
            digest_timezone=reader.timezone("DIGEST_TIMEZONE", "Asia/Shanghai"),
            digest_emails=reader.addresses("DIGEST_EMAILS", required=False),
            chat_webhooks=reader.ssm_only("CHAT_WEBHOOKS"),
            link_key=reader.ssm_only("LINK_KEY"),
            public_api_url=reader.base_url("PUBLIC_API_URL"),
        )

    @property
    def digest_recipients(self) -> tuple[str, ...]:
        return self.digest_emails or self.sales_emails

    @property
    def team(self) -> tuple[str, ...]:
        """Every address the service mails leads to with action links: SALES_EMAILS, the
        routing rules' and the escalation's."""
        rules = (address for rule in self.routing_rules for address in rule.to)
        return (*self.sales_emails, *rules, *self.escalation_emails)

    def as_configured(self, address: str) -> str:
        """The address as the settings spell it (addresses ignore case), else lower case:
        one spelling per owner, so `leads list --owner` finds every lead of theirs."""
        return next((a for a in self.team if a.lower() == address.lower()), address.lower())


class _Reader:
    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = env

    def optional(self, name: str) -> str | None:
        value = self._env.get(name, "").strip()
        return value or None

    def required(self, name: str) -> str:
        value = self.optional(name)
        if value is None:
            raise SettingsError(f"{name} is required but not set")
        return value

    def secret(self, name: str) -> str | None:
        value = self.optional(name)
        parameter = ssm_parameter(value)
        if parameter is not None and not _SSM_NAME.match(parameter):
            raise SettingsError(
                f"{name} names an SSM parameter as ssm:/path/name (letters, digits, _ . - /),"
                f" got {value!r}"
            )
        return value

    def ssm_only(self, name: str) -> str | None:
        """An SSM parameter reference, ssm:/path/name (the value itself never in config).
        The error does not quote the value: it would be the secret (a key, webhook URLs)."""
        value = self.secret(name)
        if value is not None and ssm_parameter(value) is None:
            raise SettingsError(
                f"{name} must name an SSM SecureString parameter as ssm:/path/name"
                " (e.g. ssm:/vigor-leads/prod/link-key); the secret itself never goes"
                " in config.json"
            )
        return value

    def base_url(self, name: str) -> str | None:
        value = self.optional(name)
        if value is None:
            return None
        parts = urlsplit(value)
        if (
            parts.scheme not in ("http", "https")
            or not parts.netloc
            or not value.isascii()
            or parts.query
            or parts.fragment
        ):
            raise SettingsError(
                f"{name} must be the API's public http(s) base URL, like"
                f" https://abc123.execute-api.us-east-1.amazonaws.com/api, got {value!r}"
            )
        return value.rstrip("/")

    def boolean(self, name: str, default: bool) -> bool:
        value = self.optional(name)
        if value is None:
            return default
        lowered = value.lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise SettingsError(f"{name} must be true or false, got {value!r}")

    def positive_int(self, name: str, default: int) -> int:
        value = self.optional(name)
        if value is None:
            return default
        if not value.isdigit() or int(value) < 1:
            raise SettingsError(f"{name} must be a positive integer, got {value!r}")
        return int(value)

    def hour(self, name: str, default: int) -> int:
        value = self.optional(name)
        if value is None:
            return default
        if not value.isdigit() or int(value) > 23:
            raise SettingsError(f"{name} must be an hour of the day, 0 to 23, got {value!r}")
        return int(value)

    def timezone(self, name: str, default: str) -> str:
        value = self.optional(name) or default
        try:
            time_zone(value)
        except ValueError as exc:
            raise SettingsError(f"{name}: {exc}") from None
        return value

    def origins(self, name: str) -> tuple[str, ...]:
        origins = _split(self.required(name))
        for origin in origins:
            parts = urlsplit(origin)
            if (
                parts.scheme not in ("http", "https")
                or not parts.netloc
                or not origin.isascii()
                or parts.path
                or parts.query
                or parts.fragment
            ):
                raise SettingsError(
                    f"{name} must be a comma list of origins like https://example.com"
                    f" (scheme and host, no path; an internationalized host in its xn-- form),"
                    f" got {origin!r}"
                )
        return tuple(origins)

    def sender(self, name: str) -> str:
        value = self.required(name)
        _, address = parseaddr(value)
        if not _SIMPLE_ADDRESS.match(address) or any(c in value for c in "\r\n"):
            raise SettingsError(
                f"{name} must be an email address, optionally with a display name"
                f' like "Vigor Sales <sales@example.com>", got {value!r}'
            )
        return value

    def addresses(self, name: str, required: bool = True) -> tuple[str, ...]:
        addresses = _split(self.required(name) if required else self.optional(name) or "")
        for address in addresses:
            if not _SIMPLE_ADDRESS.match(address):
                raise SettingsError(f"{name} holds an invalid email address: {address!r}")
        return tuple(addresses)

    def routing_rules(self, name: str) -> tuple[RoutingRule, ...]:
        value = self.optional(name)
        if value is None:
            return ()
        example = '[{"field": "country", "match": "Germany", "to": ["eu@example.com"]}]'
        try:
            raw = json.loads(value)
        except ValueError as exc:
            raise SettingsError(f"{name} is not valid JSON ({exc}); example: {example}") from exc
        if not isinstance(raw, list):
            raise SettingsError(f"{name} must be a JSON list; example: {example}")
        rules = []
        for index, item in enumerate(raw):
            if (
                not isinstance(item, dict)
                or item.get("field") not in ("country", "product")
                or not isinstance(item.get("match"), str)
                or not item["match"].strip()
                or not isinstance(item.get("to"), list)
                or not item["to"]
                or not all(isinstance(a, str) and _SIMPLE_ADDRESS.match(a) for a in item["to"])
            ):
                raise SettingsError(
                    f"{name}[{index}] must have field country|product, a non-empty match"
                    f" and a non-empty list of addresses in to; example: {example}"
                )
            rules.append(RoutingRule(item["field"], item["match"].strip(), tuple(item["to"])))
        return tuple(rules)


# Zones without daylight saving time, usable when the runtime has no time zone database
# (Lambda's Amazon Linux 2023 runtimes ship none, and the tzdata package is not bundled).
_FIXED_ZONES = {"Asia/Shanghai": 8, "Asia/Hong_Kong": 8, "Asia/Taipei": 8, "Asia/Singapore": 8}
_OFFSET = re.compile(r"^(?:UTC)?([+-])(\d{2}):(\d{2})$")


def time_zone(name: str) -> datetime.tzinfo:
    """An IANA zone (zoneinfo), a fixed offset ("+08:00", "UTC+08:00") or "UTC"; the four
    zones of _FIXED_ZONES also without a time zone database. ValueError names the fix."""
    if name == "UTC":
        return datetime.UTC
    offset = _OFFSET.match(name)
    if offset:
        sign, hours, minutes = offset.groups()
        delta = datetime.timedelta(hours=int(hours), minutes=int(minutes))
        if delta >= datetime.timedelta(hours=24):
            raise ValueError(f"offset out of range: {name!r}")
        return datetime.timezone(-delta if sign == "-" else delta, name)
    import zoneinfo

    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        if name in _FIXED_ZONES:
            return datetime.timezone(datetime.timedelta(hours=_FIXED_ZONES[name]), name)
        raise ValueError(
            f"unknown time zone {name!r} (an IANA name such as Europe/Berlin, which needs the"
            " runtime's time zone database, or a fixed offset such as +01:00)"
        ) from None


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]
