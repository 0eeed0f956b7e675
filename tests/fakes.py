"""In-memory stand-ins for the fast test tier: the leads store and the mailer.

InMemoryLeads keeps the LeadStore contract (chalicelib/leads/store.py) that the DynamoDB
adapter keeps: the same contract tests (tests/leads_contract.py) run against both, so a
fast test that passes with the fake means the same with the table.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qs

from chalicelib.leads.model import (
    MAX_HISTORY,
    REPLIES,
    Change,
    Lead,
    SalesStatus,
    Status,
    check_transition,
    one_line_note,
)
from chalicelib.leads.store import (
    ACK_INTERVAL_SECONDS,
    IDEMPOTENCY_SECONDS,
    WINDOW_SECONDS,
    Admission,
    Admitted,
    Duplicate,
    LeadNotFound,
    Outcome,
    RateLimited,
    ReplayUnknown,
    StoreUnavailable,
)
from chalicelib.mail import Email, MailError


class InMemoryLeads:
    """The leads table's behaviour in a dict, one lock for the transaction."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self.leads: dict[str, Lead] = {}
        self._counters: dict[tuple[str, str, int], int] = {}
        self._acks: dict[str, int] = {}
        self._keys: dict[str, tuple[str, str, int]] = {}  # key -> lead id, fingerprint, expiry
        self.down = False  # True: every call fails as an unreachable table would

    def admit(self, admission: Admission) -> Admitted:
        self._check_up()
        now = int(self._clock())
        window = now // WINDOW_SECONDS
        with self._lock:
            key = self._key(admission)
            if key is not None:
                first = self._keys.get(key)
                if first is not None and first[2] >= now:
                    raise Duplicate(first[0], first[1])
            if self._hits("ip", admission.client_ip, window) >= admission.ip_limit:
                raise RateLimited(max(1, WINDOW_SECONDS - now % WINDOW_SECONDS), "ip")
            held = self._hits("email", admission.mailbox, window) >= admission.email_limit
            ack = (
                admission.claim_ack
                and not held
                and self._acks.get(admission.mailbox, now - ACK_INTERVAL_SECONDS - 1)
                < now - ACK_INTERVAL_SECONDS
                and self._hits("ack_all", "all", window) < admission.ack_limit
            )
            lead = admission.lead
            if held:
                lead = replace(lead, held_back=True, next_attempt_at=(window + 1) * WINDOW_SECONDS)
            self.leads[lead.id] = lead
            self._bump("ip", admission.client_ip, window)
            if not held:
                self._bump("email", admission.mailbox, window)
            if key is not None:
                self._keys[key] = (lead.id, admission.fingerprint, now + IDEMPOTENCY_SECONDS)
            if ack:
                self._acks[admission.mailbox] = now
                self._bump("ack_all", "all", window)
            return Admitted(ack=ack, held_back=held)

    def count_request(self, client_ip: str, limit: int) -> None:
        self._check_up()
        now = int(self._clock())
        window = now // WINDOW_SECONDS
        with self._lock:
            if self._hits("ip", client_ip, window) >= limit:
                raise RateLimited(max(1, WINDOW_SECONDS - now % WINDOW_SECONDS), "ip")
            self._bump("ip", client_ip, window)

    def replay(self, key: str, client_ip: str) -> Duplicate | None:
        if self.down:
            raise ReplayUnknown("unreachable")
        first = self._keys.get(_digest(client_ip, key))
        if first is None or first[2] < int(self._clock()):
            return None
        return Duplicate(first[0], first[1])

    def settle(self, lead_id: str, claim_token: str, outcome: Outcome) -> bool:
        self._check_up()
        now = int(self._clock())
        with self._lock:
            lead = self.leads.get(lead_id)
            if lead is None or lead.status != Status.PENDING or lead.claim_token != claim_token:
                return False
            changes: dict[str, Any] = {
                "notify_attempts": outcome.attempts,
                "updated_at": now,
                "claim_token": None,
            }
            if outcome.message_id is not None:
                changes.update(
                    status=Status.SENT,
                    notified_at=now,
                    message_id=outcome.message_id,
                    next_attempt_at=None,
                )
            elif outcome.next_attempt_at is not None:
                changes["next_attempt_at"] = outcome.next_attempt_at
            else:
                changes.update(status=Status.FAILED, next_attempt_at=None)
            if outcome.ack is not None:
                changes["ack"] = outcome.ack
            if outcome.error is not None:
                changes["last_error"] = outcome.error[:500]
            self.leads[lead_id] = replace(lead, **changes)
            return True

    def due(self, now: int, held: bool = False) -> Iterator[tuple[str, int]]:
        self._check_up()
        waiting = [
            (lead.next_attempt_at, lead.id)
            for lead in list(self.leads.values())
            if lead.status == Status.PENDING
            and lead.next_attempt_at is not None
            and lead.held_back == held
            and lead.next_attempt_at <= now
        ]
        for when, lead_id in sorted(waiting):
            yield lead_id, when

    def claim(
        self, lead_id: str, seen_next_attempt: int, claim_token: str, lease_until: int
    ) -> Lead | None:
        self._check_up()
        with self._lock:
            lead = self.leads.get(lead_id)
            if (
                lead is None
                or lead.status != Status.PENDING
                or lead.next_attempt_at != seen_next_attempt
            ):
                return None
            claimed = replace(lead, next_attempt_at=lease_until, claim_token=claim_token)
            self.leads[lead_id] = claimed
            return claimed

    def get(self, lead_id: str) -> Lead | None:
        self._check_up()
        return self.leads.get(lead_id)

    def set_sales_status(
        self, lead_id: str, status: SalesStatus, by: str, note: str | None, now: int
    ) -> Lead:
        self._check_up()
        with self._lock:
            lead = self._find(lead_id)
            if lead.sales_status == status:
                return lead
            check_transition(lead.sales_status, status)
            change = Change(now, by, "status", lead.sales_status, status, one_line_note(note))
            first_reply = lead.first_reply_at or (now if status in REPLIES else None)
            changed = replace(
                lead,
                sales_status=status,
                history=(*lead.history, change)[-MAX_HISTORY:],
                first_reply_at=first_reply,
                follow_up_at=None,
                updated_at=now,
            )
            self.leads[lead_id] = changed
            return changed

    def assign(self, lead_id: str, owner: str, by: str, now: int) -> Lead:
        self._check_up()
        with self._lock:
            lead = self._find(lead_id)
            if lead.owner == owner:
                return lead
            change = Change(now, by, "owner", lead.owner, owner)
            history = (*lead.history, change)[-MAX_HISTORY:]
            changed = replace(lead, owner=owner, history=history, updated_at=now)
            self.leads[lead_id] = changed
            return changed

    # ---- internals ---------------------------------------------------------------------

    def _find(self, lead_id: str) -> Lead:
        lead = self.leads.get(lead_id)
        if lead is None:
            raise LeadNotFound(lead_id)
        return lead

    def _check_up(self) -> None:
        if self.down:
            raise StoreUnavailable("unreachable")

    def _key(self, admission: Admission) -> str | None:
        if admission.idempotency_key is None:
            return None
        return _digest(admission.client_ip, admission.idempotency_key)

    def _hits(self, kind: str, subject: str, window: int) -> int:
        return self._counters.get((kind, subject, window), 0)

    def _bump(self, kind: str, subject: str, window: int) -> None:
        self._counters[(kind, subject, window)] = self._hits(kind, subject, window) + 1


def _digest(client_ip: str, key: str) -> str:
    return hashlib.sha256(f"{client_ip}\0{key}".encode()).hexdigest()


class RecordingMailer:
    """Keeps every message it is given; `failing` makes it refuse as SES would."""

    def __init__(self) -> None:
        self.sent: list[Email] = []
        self.failing = False

    def send(self, email: Email) -> str:
        if self.failing:
            raise MailError("SES did not accept the message (Throttling)")
        _ = email.raw  # build the bytes, as SES would need them
        self.sent.append(email)
        return f"fake-{len(self.sent)}"

    def to(self, address: str) -> list[Email]:
        return [email for email in self.sent if address in email.to]


class FakeTurnstile(http.server.BaseHTTPRequestHandler):
    """Accepts the token "good", refuses anything else, records what it was asked."""

    seen: list[dict[str, list[str]]] = []  # noqa: RUF012 (a test double's shared log)

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        form = parse_qs(self.rfile.read(length).decode())
        FakeTurnstile.seen.append(form)
        body = json.dumps({"success": form.get("response") == ["good"]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


class FakeChat(http.server.BaseHTTPRequestHandler):
    """A chat service's webhook: records each POST (path with query, headers, body) and
    answers from `answers` (status codes, in turn; then 200 `{"errcode": 0}`). The answer
    "hang" never comes before the test ends (the sender's timeout has to give up)."""

    seen: list[tuple[str, dict[str, str], bytes]] = []  # noqa: RUF012 (a test double's log)
    answers: list[int | str] = []  # noqa: RUF012
    release = threading.Event()

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        FakeChat.seen.append((self.path, dict(self.headers), body))
        answer = FakeChat.answers.pop(0) if FakeChat.answers else 200
        if answer == "hang":
            FakeChat.release.wait()
            return
        self.send_response(int(answer))
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"errcode": 0, "errmsg": "ok"}')

    def log_message(self, *args: Any) -> None:
        pass
