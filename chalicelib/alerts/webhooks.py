"""The four chat flavours: what each is sent and how, with the standard library only.

* wecom     WeCom (企业微信) group robot: POST {"msgtype": "markdown", ...} to its webhook URL.
* dingtalk  DingTalk (钉钉) robot with signing: `timestamp` (ms) and `sign` query parameters,
            sign = url-encoded base64 of HMAC-SHA256(secret, "<timestamp>\\n<secret>").
* slack     Slack incoming webhook: POST {"text": ...}.
* webhook   any receiver: POST a JSON event with the header
            X-Vigor-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>;
            verify_signature() below is what a receiver does (README, "Chat alerts").

The message is short and holds no contact data: who (name, company, country), what (the
first part, its quantity and how many more), the score and a link that mails the lead to
whoever of the sales team opens it (or the lead's id, when action links are off).
Values the visitor typed are cut short and stripped of markup characters and URL schemes,
so they cannot become links.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus, urlsplit

KINDS = ("wecom", "dingtalk", "slack", "webhook")
TIMEOUT_SECONDS = 2.0
SIGNATURE_HEADER = "X-Vigor-Signature"
SIGNATURE_TOLERANCE_SECONDS = 300  # what a receiver should accept as "recent"
_MARKUP = str.maketrans({c: " " for c in "[]()<>*_`#~|\\!&\r\n\t"})
_MAX_VALUE = 60
# The link (actions/links.py, CHAT_ACTION) mails the lead to whoever of the team opens it.
LINK_TEXT = "Send me lead"


class DeliveryError(RuntimeError):
    """Not delivered. `retry`: worth another attempt (timeout, 5xx, 429, a robot's error
    code); False for a refusal that will not change (another 4xx: a wrong URL or token)."""

    def __init__(self, reason: str, retry: bool) -> None:
        super().__init__(reason)
        self.retry = retry


@dataclass(frozen=True)
class Webhook:
    kind: str
    url: str
    secret: str | None = None


@dataclass(frozen=True)
class Alert:
    """One lead's alert, as plain lines (each flavour formats them its way)."""

    lead_id: str
    title: str
    who: str
    what: str
    score: str | None
    link: str | None

    def lines(self, kind: str = "webhook") -> list[str]:
        """The message's lines, the link formatted as `kind` shows one: markdown (WeCom,
        DingTalk), Slack's <url|text>, the bare URL (the generic webhook's text)."""
        lines = [f"Who: {self.who}"]
        if self.what:
            lines.append(f"What: {self.what}")
        if self.score:
            lines.append(f"Score: {self.score}")
        if not self.link:
            lines.append(f"Reference: {self.lead_id}")
        elif kind in ("wecom", "dingtalk"):
            lines.append(f"[{LINK_TEXT} {self.lead_id}]({self.link})")
        elif kind == "slack":
            url = self.link.replace("&", "&amp;")  # Slack's text escapes &, < and >
            lines.append(f"<{url}|{LINK_TEXT} {self.lead_id}>")
        else:
            lines.append(f"{LINK_TEXT} {self.lead_id}: {self.link}")
        return lines


def parse_webhooks(text: str) -> tuple[Webhook, ...]:
    """The CHAT_WEBHOOKS parameter's JSON; ValueError naming what is wrong."""
    example = '[{"kind": "slack", "url": "https://hooks.slack.com/services/…"}]'
    try:
        raw = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"not valid JSON ({exc}); example: {example}") from None
    if not isinstance(raw, list):
        raise ValueError(f"must be a JSON list; example: {example}")
    hooks = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict) or item.get("kind") not in KINDS:
            raise ValueError(f"[{index}]: kind must be one of {', '.join(KINDS)}")
        url = item.get("url")
        if not isinstance(url, str) or urlsplit(url).scheme not in ("https", "http"):
            raise ValueError(f"[{index}]: url must be an http(s) URL")
        secret = item.get("secret")
        if secret is not None and (not isinstance(secret, str) or not secret):
            raise ValueError(f"[{index}]: secret must be a non-empty string")
        if item["kind"] == "webhook" and secret is None:
            raise ValueError(f"[{index}]: a generic webhook needs a secret to sign with")
        hooks.append(Webhook(item["kind"], url, secret))
    return tuple(hooks)


def plain(value: Any) -> str:
    """A visitor's value as a chat message may carry it: no markup, one line, short."""
    text = " ".join(str(value).replace("://", " ").translate(_MARKUP).split())
    return text if len(text) <= _MAX_VALUE else text[: _MAX_VALUE - 1] + "…"


def alert_of(
    lead_id: str,
    who: tuple[Any, ...],
    what: str,
    score: str | None,
    link: str | None,
) -> Alert:
    """`what`: the parts asked for in a few words (Inquiry.what)."""
    names = ", ".join(plain(value) for value in who if value)
    title = f"New inquiry [{score}]" if score else "New inquiry"
    return Alert(lead_id, title, names or "(no name)", plain(what), score, link)


def request_for(hook: Webhook, alert: Alert, now: float) -> tuple[str, bytes, dict[str, str]]:
    """(url, body, headers) of the POST that delivers `alert` to `hook`."""
    url, lines = hook.url, alert.lines(hook.kind)
    if hook.kind == "wecom":
        content = f"**{alert.title}**\n" + "\n".join(f"> {line}" for line in lines)
        payload: dict[str, Any] = {"msgtype": "markdown", "markdown": {"content": content}}
    elif hook.kind == "dingtalk":
        text = f"#### {alert.title}\n\n" + "\n\n".join(lines)
        payload = {"msgtype": "markdown", "markdown": {"title": alert.title, "text": text}}
        if hook.secret:
            timestamp, sign = dingtalk_sign(hook.secret, now)
            url += ("&" if "?" in url else "?") + f"timestamp={timestamp}&sign={sign}"
    elif hook.kind == "slack":
        payload = {"text": "\n".join([f"*{alert.title}*", *lines])}
    else:
        payload = {
            "event": "lead.received",
            "lead_id": alert.lead_id,
            "title": alert.title,
            "who": alert.who,
            "what": alert.what,
            "score": alert.score,
            "link": alert.link,
            "text": "\n".join([alert.title, *lines]),
        }
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    headers = {"Content-Type": "application/json; charset=utf-8"}
    if hook.kind == "webhook":
        headers[SIGNATURE_HEADER] = sign_body(hook.secret or "", body, int(now))
    return url, body, headers


def dingtalk_sign(secret: str, now: float) -> tuple[str, str]:
    """(timestamp in ms, sign) as DingTalk's signed robots check them."""
    timestamp = str(int(now * 1000))
    digest = hmac.new(
        secret.encode("utf-8"), f"{timestamp}\n{secret}".encode(), hashlib.sha256
    ).digest()
    return timestamp, quote_plus(base64.b64encode(digest).decode("ascii"))


def sign_body(secret: str, body: bytes, timestamp: int) -> str:
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify_signature(secret: str, body: bytes, header: str, now: float | None = None) -> bool:
    """What a receiver of the generic webhook does: recompute the HMAC over "<t>.<body>"
    (the raw body bytes), compare in constant time, refuse a stale t (replays)."""
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    timestamp = parts.get("t", "")
    if not timestamp.isdigit() or "v1" not in parts:
        return False
    if abs((time.time() if now is None else now) - int(timestamp)) > SIGNATURE_TOLERANCE_SECONDS:
        return False
    expected = sign_body(secret, body, int(timestamp)).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts["v1"])


Opener = Callable[..., Any]


def deliver(
    hook: Webhook,
    alert: Alert,
    now: float,
    opener: Opener | None = None,
    timeout: float = TIMEOUT_SECONDS,
) -> None:
    """POST the alert; returns when the receiver took it, else raises DeliveryError."""
    import http.client
    import urllib.error
    import urllib.request

    url, body, headers = request_for(hook, alert, now)
    open_url = opener or urllib.request.urlopen
    try:
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        with open_url(request, timeout=timeout) as response:
            answer = response.read(65536)
    except urllib.error.HTTPError as exc:
        raise DeliveryError(f"HTTP {exc.code}", exc.code >= 500 or exc.code == 429) from None
    except TimeoutError:
        raise DeliveryError("timed out", True) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        timed_out = isinstance(reason, TimeoutError)
        raise DeliveryError("timed out" if timed_out else "unreachable", True) from None
    except http.client.HTTPException as exc:  # a broken answer: the service's hiccup
        raise DeliveryError(type(exc).__name__, True) from None
    except ValueError as exc:  # a URL urllib cannot use: retrying will not help
        raise DeliveryError(f"bad URL ({type(exc).__name__})", False) from None
    if hook.kind in ("wecom", "dingtalk"):  # the robots answer 200 with an error code
        try:
            code = json.loads(answer or b"{}").get("errcode", 0)
        except (ValueError, AttributeError):
            code = 0
        if code not in (0, None):
            raise DeliveryError(f"{hook.kind} errcode {code}", True)
