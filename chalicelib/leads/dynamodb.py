"""The leads table: the one module that knows its keys, index attributes and item shape.

Items (see infra/resources.json):
  lead          pk=LEAD#<id>            sk=LEAD
                list_pk=LEADS#<YYYY-MM>, list_sk=<id>  -> index by_month (listing, export)
                email_pk=<lower-case address>          -> index by_email (erasure)
                retry_pk=PENDING|HELD, retry_at=<epoch> -> sparse index `pending` (the sweep)
                attachments=[{filename, content_type, size}]  (the n-th file is
                leads/<id>/<n> in the uploads bucket, chalicelib/attachments/bucket.py)
  rate counter  pk=RATE#<kind>#<digest> sk=<hour window>   (ADD hits, expires with TTL)
                kinds: ip (inquiries and POST /uploads), email (the normalised mailbox),
                ack_all (acknowledgements sent)
  ack marker    pk=ACK#<digest>         sk=ACK             (last acknowledgement time)
  idempotency   pk=IDEMPOTENCY#<digest> sk=IDEMPOTENCY     (lead id + request fingerprint;
                the digest covers the client's IP too, so one client cannot take another's key)
  chat alert    pk=ALERT#<lead id>      sk=ALERT   retry_pk=ALERT|ALERT_FAILED, retry_at
                (written with the lead when CHAT_WEBHOOKS is set; the sweep sends it)
  digest marker pk=DIGEST#<local date>  sk=DIGEST  (the daily digest: claimed, then sent)
A lead whose notification failed for good keeps retry_pk=FAILED (retry_at = when), so the
daily digest finds it with one Query until it is resent (or sales give it a status).

Counters, markers and idempotency records are keyed by a SHA-256 digest: no raw IP or
address in those keys. Every read is a GetItem or a Query, never a Scan.

Taking a lead is ONE TransactWriteItems: the lead, the rate counters, the idempotency
record and (optionally) the acknowledgement marker and ceiling succeed or fail together,
so a lead is never half-taken and a rate-limited or duplicate request writes nothing.

A pending lead carries retry_pk/retry_at and claim_token: whoever holds the claim (the
request that took it, one retry worker, an admin's resend) may send its notification;
retry_at doubles as the claim's lease, so an abandoned claim is retried. A lead over the
per-address limit is stored with retry_pk=HELD and retry_at = the end of the hour, and the
sweep mails all such leads in one summary. Every state change is a conditional write.

Sales' side of a lead (model.py): sales_status, owner, history (a list of maps, appended),
first_reply_at, score, score_reasons, follow_up_at (while new: when the next reminder is
due), reminders_sent. An item written before these existed reads as new, unowned, unscored;
one with the retired status contacted/closed reads as sent with sales status replied/lost.
A sales change reads the lead, then writes on the condition that what it read still holds
(so two clicks racing each other cannot both win, and the loser re-reads and re-decides).
"""

from __future__ import annotations

import hashlib
import logging
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from chalicelib.aws import error_code
from chalicelib.dynamo import conditional_write, from_item, to_item
from chalicelib.ids import id_floor
from chalicelib.leads.model import (
    INQUIRY_FIELDS,
    LEGACY_STATUSES,
    MAX_HISTORY,
    REPLIES,
    Attachment,
    Change,
    Inquiry,
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
from chalicelib.times import epoch_of, iso

log = logging.getLogger(__name__)

PENDING = "PENDING"
HELD = "HELD"
FAILED_QUEUE = "FAILED"  # notifications that failed for good, for the digest
ALERT = "ALERT"  # chat alerts waiting for the sweep
ALERT_FAILED = "ALERT_FAILED"  # chat alerts given up on, for the digest
ALERT_KEEP_DAYS = 30
MONTH_INDEX = "by_month"
EMAIL_INDEX = "by_email"
QUEUE_INDEX = "pending"
FOLLOW_UP_INDEX = "follow_up"  # sk=LEAD, follow_up_at: the leads still `new` (sparse)
FOLLOW_UP_DONE = 10**11  # follow_up_at of a lead reminded and escalated: never due again
_CONTENTION_TRIES = 6
_DAY = 86400
_FOREVER = 2**62  # a retry_at later than any: the whole queue


class LeadBusy(RuntimeError):
    """Someone (the request that took it, or a retry worker) holds the lead's claim."""


class NotResendable(ValueError):
    """The lead's status does not allow a resend (without --force)."""


class Conflict(RuntimeError):
    """The lead changed between reading and writing it; nothing was written."""


@dataclass(frozen=True)
class AlertClaim:
    """A chat alert taken for one attempt: `lease` is its retry_at while claimed."""

    lead_id: str
    lease: int
    attempts: int
    delivered: tuple[int, ...]  # indexes of the webhooks that took it already


@dataclass(frozen=True)
class Filter:
    """Which leads a listing or an export yields."""

    status: Status | None = None  # None: any
    spam: str = "exclude"  # exclude | include | only
    sales_status: SalesStatus | None = None
    owner: str | None = None
    score: str | None = None

    def expression(self) -> tuple[str, dict[str, str], dict[str, Any]] | None:
        """A FilterExpression (names, values), or None: spam leads are status "spam"."""
        terms: list[str] = []
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        if self.status is not None:
            terms.append("#status = :status")
            values[":status"] = str(self.status)
        elif self.spam == "only":
            terms.append("#status = :spam")
            values[":spam"] = str(Status.SPAM)
        elif self.spam == "exclude":
            terms.append("#status <> :spam")
            values[":spam"] = str(Status.SPAM)
        if terms:
            names["#status"] = "status"
        if self.sales_status is not None:
            # items stored before sales status existed: new, or a retired contacted/closed
            older = [old for old, new in LEGACY_STATUSES.items() if new == self.sales_status]
            legacy = "#status = :legacy" if older else ""
            if self.sales_status == SalesStatus.NEW:
                legacy = "NOT #status IN (:legacy0, :legacy1)"
                values[":legacy0"], values[":legacy1"] = sorted(LEGACY_STATUSES)
            elif older:
                values[":legacy"] = older[0]
            values[":sales"] = str(self.sales_status)
            names.update({"#sales": "sales_status", "#status": "status"})
            unset = f" OR (attribute_not_exists(#sales) AND {legacy})" if legacy else ""
            terms.append(f"(#sales = :sales{unset})")
        for name, value in (("owner", self.owner), ("score", self.score)):
            if value is not None:
                terms.append(f"#{name} = :{name}")
                names[f"#{name}"] = name
                values[f":{name}"] = value
        return (" AND ".join(terms), names, values) if terms else None


@dataclass
class Tally:
    """What a listing's filter left out: DynamoDB reads them and counts them (ScannedCount
    minus Count), so the admin can be told, say, how many spam leads were not exported."""

    filtered_out: int = 0


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:40]


# ---- item <-> Lead -------------------------------------------------------------------


def lead_key(lead_id: str) -> dict[str, str]:
    return {"pk": f"LEAD#{lead_id}", "sk": "LEAD"}


def is_lead_item(item: dict[str, Any]) -> bool:
    """For tools that read raw items (tests): is this plain item a lead?"""
    return str(item.get("pk", "")).startswith("LEAD#")


def lead_item(lead: Lead, queue: str = PENDING) -> dict[str, Any]:
    """The lead as stored: its attributes, keys and index attributes."""
    received = lead.received_iso
    item: dict[str, Any] = {
        **lead_key(lead.id),
        "id": lead.id,
        **lead.inquiry.as_dict(),
        "received_at": received,
        "status": str(lead.status),
        "spam": lead.spam,
        "notify_attempts": lead.notify_attempts,
        "sales_status": str(lead.sales_status),
        "reminders_sent": lead.reminders_sent,
        "list_pk": f"LEADS#{received[:7]}",
        "list_sk": lead.id,
        "email_pk": lead.inquiry.email.lower(),
        "expires_at": lead.expires_at,
    }
    optional = {
        "captcha": lead.captcha,
        "notified_at": lead.notified_at,
        "message_id": lead.message_id,
        "ack": lead.ack,
        "last_error": lead.last_error,
        "updated_at": lead.updated_at,
        "claim_token": lead.claim_token,
        "owner": lead.owner,
        "first_reply_at": lead.first_reply_at,
        "score": lead.score,
        "score_reasons": list(lead.score_reasons) or None,
        "follow_up_at": lead.follow_up_at,
        "history": [_change_item(change) for change in lead.history] or None,
    }
    item.update({k: v for k, v in optional.items() if v is not None})
    if lead.held_back:
        item["held_back"] = True
    if lead.attachments:
        item["attachments"] = [a.__dict__ for a in lead.attachments]
    if lead.next_attempt_at is not None:
        item["retry_pk"] = HELD if lead.held_back else queue
        item["retry_at"] = lead.next_attempt_at
    return item


def lead_of(row: dict[str, Any]) -> Lead:
    """A stored item (plain values) as a Lead."""
    values = {name: row[name] for name in INQUIRY_FIELDS if row.get(name) is not None}
    status = str(row["status"])
    sales_status = row.get("sales_status") or LEGACY_STATUSES.get(status, SalesStatus.NEW)
    return Lead(
        id=str(row["id"]),
        received_at=epoch_of(row.get("received_at")) or 0,
        inquiry=Inquiry.of(values),
        status=Status.SENT if status in LEGACY_STATUSES else Status(status),
        expires_at=int(row.get("expires_at", 0)),
        spam=bool(row.get("spam", False)),
        captcha=row.get("captcha"),
        held_back=bool(row.get("held_back", False)),
        notify_attempts=int(row.get("notify_attempts", 0)),
        notified_at=row.get("notified_at"),
        message_id=row.get("message_id") or None,
        ack=row.get("ack"),
        last_error=row.get("last_error"),
        updated_at=row.get("updated_at"),
        next_attempt_at=row.get("retry_at") if row.get("retry_pk") in (PENDING, HELD) else None,
        claim_token=row.get("claim_token"),
        attachments=tuple(
            Attachment(str(a["filename"]), str(a["content_type"]), int(a["size"]))
            for a in row.get("attachments") or ()
        ),
        sales_status=SalesStatus(sales_status),
        owner=row.get("owner"),
        history=tuple(_change_of(change) for change in row.get("history") or ()),
        first_reply_at=row.get("first_reply_at"),
        score=row.get("score"),
        score_reasons=tuple(row.get("score_reasons") or ()),
        follow_up_at=row.get("follow_up_at"),
        reminders_sent=int(row.get("reminders_sent", 0)),
    )


def _change_item(change: Change) -> dict[str, Any]:
    item = {"at": change.at, "by": change.by, "what": change.what, "new": change.new}
    item.update({k: v for k, v in (("old", change.old), ("note", change.note)) if v is not None})
    return item


def _change_of(item: dict[str, Any]) -> Change:
    return Change(
        at=int(item["at"]),
        by=str(item["by"]),
        what=str(item["what"]),
        old=item.get("old"),
        new=str(item["new"]),
        note=item.get("note"),
    )


class LeadsTable:
    """The leads table, for the app, the retry sweep and every admin command."""

    def __init__(
        self,
        dynamodb: Any,
        table: str,
        clock: Callable[[], float] = time.time,
        pause: Callable[[float], None] = time.sleep,
        page_size: int = 250,
    ) -> None:
        self._db = dynamodb
        self._table = table
        self._clock = clock
        self._pause = pause
        self._page_size = page_size

    # ---- taking a lead -------------------------------------------------------------

    def admit(self, admission: Admission) -> Admitted:
        """Store the lead. Raises Duplicate, RateLimited (per IP) or StoreUnavailable."""
        claim_ack, held_back = admission.claim_ack, False
        for attempt in range(_CONTENTION_TRIES):
            named = self._admission_writes(admission, claim_ack, held_back)
            try:
                self._db.transact_write_items(TransactItems=[write for _, write in named])
                return Admitted(ack=claim_ack, held_back=held_back)
            except Exception as exc:
                code = error_code(exc)
                if code != "TransactionCanceledException":
                    # The code only: error messages may quote item values (personal data).
                    raise StoreUnavailable(code or type(exc).__name__) from exc
                reasons = _cancellation_reasons(exc)
            failed = {name: code for (name, _), code in zip(named, reasons, strict=False)}
            if failed.get("idempotency") == "ConditionalCheckFailed":
                duplicate = self.replay(admission.idempotency_key or "", admission.client_ip)
                if duplicate is not None:
                    raise duplicate
                continue  # the record expired in between: try to take the lead again
            if failed.get("ip") == "ConditionalCheckFailed":
                now = self._clock()
                raise RateLimited(max(1, int(WINDOW_SECONDS - now % WINDOW_SECONDS)), "ip")
            if failed.get("lead") == "ConditionalCheckFailed":
                # ids are unique: only our own earlier attempt can have written it
                return Admitted(ack=False, held_back=held_back)
            if failed.get("email") == "ConditionalCheckFailed":
                held_back, claim_ack = True, False  # keep the lead, mail it in the summary
                continue
            if failed.get("ack") == "ConditionalCheckFailed":
                claim_ack = False  # acknowledged within the hour: take the lead without one
                continue
            if failed.get("ack_all") == "ConditionalCheckFailed":
                log.warning(
                    "acknowledgement ceiling of %d per hour reached: leads are taken without one",
                    admission.ack_limit,
                )
                claim_ack = False
                continue
            if any(code == "TransactionConflict" for code in failed.values()):
                # Concurrent requests touched the same counter or key: back off, retry.
                self._pause(random.uniform(0.01, 0.05) * (attempt + 1))
                continue
            raise StoreUnavailable(f"transaction cancelled: {failed}")
        raise StoreUnavailable("transaction kept conflicting")

    def _admission_writes(
        self, admission: Admission, claim_ack: bool, held_back: bool
    ) -> list[tuple[str, dict[str, Any]]]:
        """The transaction's writes, each with the name its cancellation reason is read by."""
        now = self._clock()
        window = int(now // WINDOW_SECONDS)
        counter_expiry = (window + 2) * WINDOW_SECONDS
        item = lead_item(admission.lead)
        if held_back:
            item.update(
                held_back=True,
                retry_pk=HELD,
                retry_at=(window + 1) * WINDOW_SECONDS,  # the summary, once an hour
            )
        writes = [
            ("lead", self._put(item, "attribute_not_exists(pk)")),
            self._counter("ip", admission.client_ip, window, admission.ip_limit, counter_expiry),
        ]
        if not held_back:  # a held-back lead's address is over its limit already
            writes.append(
                self._counter(
                    "email", admission.mailbox, window, admission.email_limit, counter_expiry
                )
            )
        if admission.chat_alert:  # the sweep sends it: no webhook call on the request
            alert = {
                **_alert_key(admission.lead.id),
                "lead_id": admission.lead.id,
                "retry_pk": ALERT,
                "retry_at": int(now),
                "attempts": 0,
                "expires_at": int(now) + ALERT_KEEP_DAYS * _DAY,
            }
            writes.append(("alert", self._put(alert, "attribute_not_exists(pk)")))
        if admission.idempotency_key is not None:
            record = {
                **_idempotency_key(admission.idempotency_key, admission.client_ip),
                "lead_id": admission.lead.id,
                "fingerprint": admission.fingerprint,
                "expires_at": int(now) + IDEMPOTENCY_SECONDS,
            }
            # TTL deletes late (up to days): an expired record counts as gone.
            condition = "attribute_not_exists(pk) OR expires_at < :now"
            writes.append(("idempotency", self._put(record, condition, {":now": int(now)})))
        if claim_ack:
            marker = {
                "pk": f"ACK#{digest(admission.mailbox)}",
                "sk": "ACK",
                "sent_at": int(now),
                "expires_at": int(now) + 2 * ACK_INTERVAL_SECONDS,
            }
            condition = "attribute_not_exists(pk) OR sent_at < :since"
            since = {":since": int(now) - ACK_INTERVAL_SECONDS}
            writes.append(("ack", self._put(marker, condition, since)))
            # The ceiling on acknowledgements in all: SES reputation is the whole site's.
            writes.append(
                self._counter("ack_all", "all", window, admission.ack_limit, counter_expiry)
            )
        return writes

    def _put(
        self, item: dict[str, Any], condition: str, values: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        put: dict[str, Any] = {
            "TableName": self._table,
            "Item": to_item(item),
            "ConditionExpression": condition,
        }
        if values:
            put["ExpressionAttributeValues"] = to_item(values)
        return {"Put": put}

    def _counter(
        self, name: str, subject: str, window: int, limit: int, expires_at: int
    ) -> tuple[str, dict[str, Any]]:
        return (
            name,
            {
                "Update": {
                    "TableName": self._table,
                    "Key": to_item({"pk": f"RATE#{name}#{digest(subject)}", "sk": str(window)}),
                    "UpdateExpression": "ADD hits :one SET expires_at = :expires",
                    "ConditionExpression": "attribute_not_exists(hits) OR hits < :limit",
                    "ExpressionAttributeValues": to_item(
                        {":one": 1, ":limit": limit, ":expires": expires_at}
                    ),
                }
            },
        )

    def count_request(self, client_ip: str, limit: int) -> None:
        """Count one request of this client against the per-IP hourly limit that taking a
        lead counts too (POST /uploads): one UpdateItem. Raises RateLimited, or
        StoreUnavailable when the counter cannot be written."""
        now = self._clock()
        window = int(now // WINDOW_SECONDS)
        _, write = self._counter("ip", client_ip, window, limit, (window + 2) * WINDOW_SECONDS)
        try:
            self._db.update_item(**write["Update"])
        except Exception as exc:
            code = error_code(exc)
            if code == "ConditionalCheckFailedException":
                retry_after = max(1, int(WINDOW_SECONDS - now % WINDOW_SECONDS))
                raise RateLimited(retry_after, "ip") from None
            raise StoreUnavailable(code or type(exc).__name__) from exc

    def replay(self, key: str, client_ip: str) -> Duplicate | None:
        """The first request's answer for this client's Idempotency-Key, or None."""
        try:
            response = self._db.get_item(
                TableName=self._table,
                Key=to_item(_idempotency_key(key, client_ip)),
                ConsistentRead=True,
            )
        except Exception as exc:
            raise ReplayUnknown(error_code(exc) or type(exc).__name__) from exc
        if "Item" not in response:
            return None
        row = from_item(response["Item"])
        if int(row.get("expires_at", 0)) < int(self._clock()):
            return None  # expired: TTL deletes late (up to days), the key is new again
        return Duplicate(str(row["lead_id"]), str(row["fingerprint"]))

    # ---- notification state ----------------------------------------------------------

    def settle(self, lead_id: str, claim_token: str, outcome: Outcome) -> bool:
        """Settle a claimed notification attempt. False when the claim was lost meanwhile.

        sent -> status sent; not sent with a next attempt -> stays pending until then;
        neither -> status failed (no more tries).
        """
        now = int(self._clock())
        sets = ["notify_attempts = :attempts", "updated_at = :now"]
        values: dict[str, Any] = {
            ":attempts": outcome.attempts,
            ":now": now,
            ":token": claim_token,
            ":pending": str(Status.PENDING),
        }
        removes = ["claim_token"]
        if outcome.message_id is not None:
            sets += ["#status = :sent", "notified_at = :now", "message_id = :message_id"]
            values[":sent"] = str(Status.SENT)
            values[":message_id"] = outcome.message_id
            removes += ["retry_pk", "retry_at"]
        elif outcome.next_attempt_at is not None:
            sets += ["retry_at = :retry_at"]
            values[":retry_at"] = outcome.next_attempt_at
        else:  # failed for good: into the FAILED queue, which the daily digest lists
            sets += ["#status = :failed", "retry_pk = :failed_queue", "retry_at = :now"]
            values[":failed"] = str(Status.FAILED)
            values[":failed_queue"] = FAILED_QUEUE
        if outcome.ack is not None:
            sets.append("ack = :ack")
            values[":ack"] = outcome.ack
        if outcome.error is not None:
            sets.append("last_error = :error")
            values[":error"] = outcome.error[:500]
        settled = conditional_write(
            self._db.update_item,
            TableName=self._table,
            Key=to_item(lead_key(lead_id)),
            UpdateExpression=f"SET {', '.join(sets)} REMOVE {', '.join(removes)}",
            ConditionExpression="#status = :pending AND claim_token = :token",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=to_item(values),
        )
        return settled is not None

    def due(self, now: int, held: bool = False) -> Iterator[tuple[str, int]]:
        """(lead id, retry_at) of pending (or held) leads whose time has come, oldest first."""
        return self._queue(HELD if held else PENDING, now)

    def _queue(self, queue: str, now: int) -> Iterator[tuple[str, int]]:
        """(lead id, retry_at) of the `pending` index's `queue` up to `now`, oldest first."""
        pages = self._db.get_paginator("query").paginate(
            TableName=self._table,
            IndexName=QUEUE_INDEX,
            KeyConditionExpression="retry_pk = :p AND retry_at <= :now",
            ExpressionAttributeValues=to_item({":p": queue, ":now": now}),
            PaginationConfig={"PageSize": 25},
        )
        for page in pages:
            for item in page["Items"]:
                row = from_item(item)
                yield row["pk"].split("#", 1)[1], row["retry_at"]

    def failed_notifications(self) -> Iterator[tuple[str, int]]:
        """(lead id, when it failed) of every lead whose sales email failed for good and
        that nobody has resent since, oldest first (the digest leaves out those that
        sales gave a status since)."""
        return self._queue(FAILED_QUEUE, _FOREVER)

    # ---- follow-ups (chalicelib/followup/) ------------------------------------------------

    def due_follow_ups(self, now: int) -> Iterator[tuple[str, int]]:
        """(lead id, follow_up_at) of leads still `new` whose next reminder is due."""
        pages = self._db.get_paginator("query").paginate(
            TableName=self._table,
            IndexName=FOLLOW_UP_INDEX,
            KeyConditionExpression="sk = :lead AND follow_up_at <= :now",
            ExpressionAttributeValues=to_item({":lead": "LEAD", ":now": now}),
            PaginationConfig={"PageSize": 25},
        )
        for page in pages:
            for item in page["Items"]:
                row = from_item(item)
                yield row["pk"].removeprefix("LEAD#"), row["follow_up_at"]

    def claim_reminder(self, lead_id: str, seen: int, after: int, reminders_sent: int) -> bool:
        """Take a due reminder: move follow_up_at on from `seen` to `after` and count it,
        if nobody did so first and the lead is still new."""
        claimed = conditional_write(
            self._db.update_item,
            TableName=self._table,
            Key=to_item(lead_key(lead_id)),
            UpdateExpression="SET follow_up_at = :after, reminders_sent = :sent",
            ConditionExpression="follow_up_at = :seen AND sales_status = :new",
            ExpressionAttributeValues=to_item(
                {":after": after, ":sent": reminders_sent, ":seen": seen, ":new": "new"}
            ),
        )
        return claimed is not None

    def release_reminder(self, lead_id: str, after: int, due_at: int, reminders_sent: int) -> None:
        """Give a claimed reminder back (its email was not sent): due again at `due_at`."""
        conditional_write(
            self._db.update_item,
            TableName=self._table,
            Key=to_item(lead_key(lead_id)),
            UpdateExpression="SET follow_up_at = :due, reminders_sent = :sent",
            ConditionExpression="follow_up_at = :after",
            ExpressionAttributeValues=to_item(
                {":due": due_at, ":sent": reminders_sent, ":after": after}
            ),
        )

    def unanswered(self) -> Iterator[tuple[str, int]]:
        """Every lead still `new` (escalated ones too: they wait at FOLLOW_UP_DONE)."""
        return self.due_follow_ups(_FOREVER)

    # ---- chat alerts (chalicelib/alerts/sweep.py) --------------------------------------

    def due_alerts(self, now: int) -> Iterator[tuple[str, int]]:
        return self._queue(ALERT, now)

    def failed_alerts(self) -> Iterator[tuple[str, int]]:
        """(lead id, when given up) of chat alerts that failed for good."""
        return self._queue(ALERT_FAILED, _FOREVER)

    def claim_alert(self, lead_id: str, seen: int, lease_until: int) -> AlertClaim | None:
        """Take a due alert for one attempt; None when another sweep took it first."""
        response = conditional_write(
            self._db.update_item,
            TableName=self._table,
            Key=to_item(_alert_key(lead_id)),
            UpdateExpression="SET retry_at = :lease",
            ConditionExpression="retry_pk = :alert AND retry_at = :seen",
            ExpressionAttributeValues=to_item(
                {":lease": lease_until, ":alert": ALERT, ":seen": seen}
            ),
            ReturnValues="ALL_NEW",
        )
        if response is None:
            return None
        row = from_item(response["Attributes"])
        return AlertClaim(
            lead_id, lease_until, int(row.get("attempts", 0)), tuple(row.get("delivered", []))
        )

    def settle_alert(
        self,
        claim: AlertClaim,
        delivered: tuple[int, ...],
        retry_at: int | None,
        error: str | None,
    ) -> bool:
        """Record one attempt: every hook delivered (done), retry at `retry_at`, or (neither
        and an error) given up. False when the claim was lost meanwhile."""
        values: dict[str, Any] = {
            ":attempts": claim.attempts + 1,
            ":delivered": list(delivered),
            ":lease": claim.lease,
            ":now": int(self._clock()),
        }
        sets = ["attempts = :attempts", "delivered = :delivered", "updated_at = :now"]
        removes = []
        if error is None:
            removes += ["retry_pk", "retry_at"]
        else:
            sets.append("last_error = :error")
            values[":error"] = error[:300]
            if retry_at is not None:
                sets.append("retry_at = :retry_at")
                values[":retry_at"] = retry_at
            else:
                sets += ["retry_pk = :failed", "retry_at = :now"]
                values[":failed"] = ALERT_FAILED
        update = f"SET {', '.join(sets)}" + (f" REMOVE {', '.join(removes)}" if removes else "")
        settled = conditional_write(
            self._db.update_item,
            TableName=self._table,
            Key=to_item(_alert_key(claim.lead_id)),
            UpdateExpression=update,
            ConditionExpression="retry_at = :lease",
            ExpressionAttributeValues=to_item(values),
        )
        return settled is not None

    # ---- the daily digest's marker ------------------------------------------------------

    def claim_digest(self, day: str, lease_seconds: int) -> bool:
        """Take the digest of `day` (a local date) for sending: True for exactly one caller
        while nobody has sent it and no other claim's lease runs."""
        now = int(self._clock())
        claimed = conditional_write(
            self._db.put_item,
            TableName=self._table,
            Item=to_item(
                {
                    "pk": f"DIGEST#{day}",
                    "sk": "DIGEST",
                    "state": "sending",
                    "lease_until": now + lease_seconds,
                    "expires_at": now + 60 * _DAY,
                }
            ),
            ConditionExpression=(
                "attribute_not_exists(pk) OR (#state = :sending AND lease_until < :now)"
            ),
            ExpressionAttributeNames={"#state": "state"},
            ExpressionAttributeValues=to_item({":sending": "sending", ":now": now}),
        )
        return claimed is not None

    def settle_digest(self, day: str, sent: bool) -> None:
        """Sent: the day is done. Not sent: release the claim, so the next run tries again."""
        now = int(self._clock())
        self._db.update_item(
            TableName=self._table,
            Key=to_item({"pk": f"DIGEST#{day}", "sk": "DIGEST"}),
            UpdateExpression="SET #state = :state, lease_until = :until",
            ExpressionAttributeNames={"#state": "state"},
            ExpressionAttributeValues=to_item(
                {":state": "sent" if sent else "sending", ":until": now if sent else 0}
            ),
        )

    def digest_sent(self, day: str) -> bool:
        response = self._db.get_item(
            TableName=self._table,
            Key=to_item({"pk": f"DIGEST#{day}", "sk": "DIGEST"}),
            ConsistentRead=True,
        )
        return from_item(response.get("Item", {})).get("state") == "sent"

    def claim(
        self, lead_id: str, seen_next_attempt: int, claim_token: str, lease_until: int
    ) -> Lead | None:
        """Take a due lead for one attempt; None when someone else took it first."""
        response = conditional_write(
            self._db.update_item,
            TableName=self._table,
            Key=to_item(lead_key(lead_id)),
            UpdateExpression="SET retry_at = :lease, claim_token = :token",
            ConditionExpression="#status = :pending AND retry_at = :seen",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=to_item(
                {
                    ":lease": lease_until,
                    ":token": claim_token,
                    ":pending": str(Status.PENDING),
                    ":seen": seen_next_attempt,
                }
            ),
            ReturnValues="ALL_NEW",
        )
        return None if response is None else lead_of(from_item(response["Attributes"]))

    def get(self, lead_id: str) -> Lead | None:
        response = self._db.get_item(
            TableName=self._table, Key=to_item(lead_key(lead_id)), ConsistentRead=True
        )
        return lead_of(from_item(response["Item"])) if "Item" in response else None

    # ---- the admin's side: list, claim for a resend, erase ----------------------

    def find(self, lead_id: str) -> Lead:
        lead = self.get(lead_id)
        if lead is None:
            raise LeadNotFound(lead_id)
        return lead

    def pages(
        self, since: float, which: Filter = Filter(), tally: Tally | None = None
    ) -> Iterator[tuple[str, list[Lead]]]:
        """(month, page of leads), newest first, from this month back to `since`'s month.

        Lead ids are ULIDs, so a time maps to an id bound and `since` is a key condition,
        not a filter. One Query page at a time: memory stays constant however many leads.
        `tally` counts the leads the filter left out (spam, or other statuses).
        """
        floor = id_floor(since)
        for month in _months_back(iso(self._clock())[:7], iso(since)[:7]):
            values: dict[str, Any] = {":month": f"LEADS#{month}", ":floor": floor}
            args: dict[str, Any] = {
                "TableName": self._table,
                "IndexName": MONTH_INDEX,
                "KeyConditionExpression": "list_pk = :month AND list_sk >= :floor",
                "ScanIndexForward": False,
                "PaginationConfig": {"PageSize": self._page_size},
            }
            condition = which.expression()
            if condition is not None:
                args["FilterExpression"] = condition[0]
                args["ExpressionAttributeNames"] = condition[1]
                values.update(condition[2])
            args["ExpressionAttributeValues"] = to_item(values)
            for page in self._db.get_paginator("query").paginate(**args):
                if tally is not None:
                    tally.filtered_out += page.get("ScannedCount", 0) - page.get("Count", 0)
                leads = [lead_of(from_item(item)) for item in page["Items"]]
                if leads:
                    yield month, leads

    def newest_first(
        self, since: float, which: Filter = Filter(), tally: Tally | None = None
    ) -> Iterator[Lead]:
        for _, page in self.pages(since, which, tally):
            yield from page

    def claim_for_resend(
        self, lead_id: str, claim_token: str, lease_seconds: int, force: bool = False
    ) -> Lead:
        """Take the lead for one manual resend; returns the lead as claimed.

        pending (nobody sending it right now) and failed leads may be resent; a sent lead
        only with force (sales gets it again, on purpose). The lead is (again) pending
        with the claim's lease as its next attempt, so if this process dies before it
        records the outcome, the retry sweep takes the lead over: never lost.
        """
        lead = self.find(lead_id)
        now = int(self._clock())
        lease = now + lease_seconds
        if lead.status == Status.PENDING:
            if lead.claim_token and (lead.next_attempt_at or 0) > now:
                raise LeadBusy(
                    f"lead {lead_id} is being emailed right now (claimed until"
                    f" {iso(lead.next_attempt_at or 0)}); try again after that"
                )
            update = "SET retry_at = :lease, claim_token = :token"
            condition = (
                "#status = :seen AND (attribute_not_exists(claim_token) OR retry_at <= :now)"
            )
            values: dict[str, Any] = {":now": now}
        elif lead.status == Status.FAILED or (lead.status == Status.SENT and force):
            update = (
                "SET #status = :pending, retry_pk = :queue, retry_at = :lease, claim_token = :token"
            )
            condition = "#status = :seen"
            values = {":pending": str(Status.PENDING), ":queue": PENDING}
        elif lead.status == Status.SENT:
            raise NotResendable(
                f"lead {lead_id} was already emailed to sales at"
                f" {iso(lead.notified_at or lead.received_at)}; use --force to send it again"
            )
        else:
            raise NotResendable(
                f"lead {lead_id} is {lead.status}: nobody is emailed for spam;"
                " only pending, failed or (with --force) sent leads are resent"
            )
        values.update({":lease": lease, ":token": claim_token, ":seen": str(lead.status)})
        response = conditional_write(
            self._db.update_item,
            TableName=self._table,
            Key=to_item(lead_key(lead_id)),
            UpdateExpression=update,
            ConditionExpression=condition,
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=to_item(values),
            ReturnValues="ALL_NEW",
        )
        if response is None:
            raise Conflict(
                f"lead {lead_id} changed while it was being claimed (another worker"
                " may be sending it); run the command again"
            )
        return lead_of(from_item(response["Attributes"]))

    def set_sales_status(
        self,
        lead_id: str,
        status: SalesStatus,
        by: str,
        note: str | None,
        now: int,
        keep_days: int | None = None,
    ) -> Lead:
        """Change the lead's sales status; returns the lead after it. The same status again
        is a no-op (a replayed click). Leaving new ends the reminders (follow_up_at goes);
        the first reply stamps first_reply_at. A spam lead sales work on is evidently real:
        with keep_days it is kept that long from its receipt, as other leads are.
        Raises LeadNotFound, TransitionRefused."""
        note = one_line_note(note)
        for _ in range(_CONTENTION_TRIES):
            lead = self.find(lead_id)
            if lead.sales_status == status:
                return lead
            check_transition(lead.sales_status, status)
            change = Change(now, by, "status", str(lead.sales_status), str(status), note)
            sets = ["sales_status = :new"]
            if status in REPLIES:
                sets.append("first_reply_at = if_not_exists(first_reply_at, :now)")
            extra: dict[str, Any] = {}
            if lead.status == Status.SPAM and keep_days is not None:
                sets.append("expires_at = :keep")
                extra[":keep"] = max(lead.expires_at, lead.received_at + keep_days * 86400)
            changed = self._change(lead, "sales_status", str(status), change, sets, extra)
            if changed is not None:
                return changed
        raise Conflict(f"lead {lead_id} kept changing; run the command again")

    def assign(self, lead_id: str, owner: str, by: str, now: int) -> Lead:
        """Make `owner` the lead's owner; returns the lead after it. The same owner again is
        a no-op. Raises LeadNotFound."""
        for _ in range(_CONTENTION_TRIES):
            lead = self.find(lead_id)
            if lead.owner == owner:
                return lead
            change = Change(now, by, "owner", lead.owner, owner)
            changed = self._change(lead, "owner", owner, change, ["#attr = :new"])
            if changed is not None:
                return changed
        raise Conflict(f"lead {lead_id} kept changing; run the command again")

    def _change(
        self,
        lead: Lead,
        attribute: str,
        new: str,
        change: Change,
        sets: list[str],
        extra: dict[str, Any] | None = None,
    ) -> Lead | None:
        """Write a sales change if `attribute` still holds what was read, appending it to
        the history. The lead after it, or None when someone changed it first."""
        seen = change.old
        values: dict[str, Any] = {":new": new, ":now": change.at, **(extra or {})}
        # Absent: never set (no owner), or an item stored before sales status existed
        # (read as new or as its retired status's equivalent); every change sets it.
        condition = "attribute_not_exists(#attr)"
        if seen is not None:
            condition += " OR #attr = :seen"
            values[":seen"] = seen
        condition = f"attribute_exists(pk) AND ({condition})"
        if len(lead.history) < MAX_HISTORY:
            history = "history = list_append(if_not_exists(history, :empty), :changes)"
            values.update({":changes": [_change_item(change)], ":empty": []})
        else:  # the latest changes only; the size check keeps a change made meanwhile
            history = "history = :kept"
            kept = (*lead.history[len(lead.history) - MAX_HISTORY + 1 :], change)
            values.update({":kept": [_change_item(c) for c in kept], ":size": len(lead.history)})
            condition += " AND size(history) = :size"
        sets = [*sets, "updated_at = :now", history]
        remove = " REMOVE follow_up_at" if attribute == "sales_status" else ""
        response = conditional_write(
            self._db.update_item,
            TableName=self._table,
            Key=to_item(lead_key(lead.id)),
            UpdateExpression=f"SET {', '.join(sets)}{remove}",
            ConditionExpression=condition,
            ExpressionAttributeNames={"#attr": attribute},
            ExpressionAttributeValues=to_item(values),
            ReturnValues="ALL_NEW",
        )
        return None if response is None else lead_of(from_item(response["Attributes"]))

    def erase(self, addresses: set[str], dry_run: bool = False) -> Iterator[dict[str, Any]]:
        """Delete every lead stored under these (lower-case) addresses; yields id,
        received_at and status of each one removed (or, with dry_run, that would be).
        Idempotent."""
        keys = list(self._keys_for(addresses))
        for key, email_pk in keys:
            if dry_run:
                response = self._db.get_item(
                    TableName=self._table,
                    Key=to_item(key),
                    ProjectionExpression="#id, received_at, #status, attachments",
                    ExpressionAttributeNames={"#id": "id", "#status": "status"},
                )
                if "Item" in response:
                    yield _summary(from_item(response["Item"]))
                continue
            removed = conditional_write(
                self._db.delete_item,
                TableName=self._table,
                Key=to_item(key),
                # the index may lag a little: only ever delete what holds this address
                ConditionExpression="email_pk = :email",
                ExpressionAttributeValues=to_item({":email": email_pk}),
                ReturnValues="ALL_OLD",
            )
            if removed is not None:  # else already gone (or no longer this address's)
                yield _summary(from_item(removed.get("Attributes", {})))

    def _keys_for(self, addresses: set[str]) -> Iterator[tuple[dict[str, str], str]]:
        """The key of every lead stored under these addresses (by_email is KEYS_ONLY)."""
        for email_pk in sorted(addresses):
            pages = self._db.get_paginator("query").paginate(
                TableName=self._table,
                IndexName=EMAIL_INDEX,
                KeyConditionExpression="email_pk = :email",
                ExpressionAttributeValues=to_item({":email": email_pk}),
            )
            for page in pages:
                for item in page["Items"]:
                    row = from_item(item)
                    yield {"pk": row["pk"], "sk": row["sk"]}, email_pk


def _summary(row: dict[str, Any]) -> dict[str, Any]:
    """What erase tells of a removed lead; `files`: how many attachments it had."""
    return {
        "id": row.get("id"),
        "received_at": row.get("received_at"),
        "status": row.get("status"),
        "files": len(row.get("attachments") or ()),
    }


def _months_back(newest: str, oldest: str) -> Iterator[str]:
    """'YYYY-MM' from newest back to oldest, both included."""
    year, month = int(newest[:4]), int(newest[5:7])
    while f"{year:04d}-{month:02d}" >= oldest:
        yield f"{year:04d}-{month:02d}"
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)


def _cancellation_reasons(exc: Exception) -> list[str]:
    response: dict[str, Any] = getattr(exc, "response", {})
    return [str(r.get("Code") or "None") for r in response.get("CancellationReasons", [])]


def _alert_key(lead_id: str) -> dict[str, str]:
    return {"pk": f"ALERT#{lead_id}", "sk": "ALERT"}


def _idempotency_key(key: str, client_ip: str) -> dict[str, str]:
    return {"pk": f"IDEMPOTENCY#{digest(client_ip + chr(0) + key)}", "sk": "IDEMPOTENCY"}
