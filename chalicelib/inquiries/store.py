"""Leads in the leads table. Every state change is a conditional write.

Keys (see infra/resources.json):
  lead          pk=LEAD#<id>            sk=LEAD
  rate counter  pk=RATE#<kind>#<digest> sk=<hour window>   (ADD hits, expires with TTL)
                kinds: ip, email (the normalised mailbox), ack_all (acknowledgements sent)
  ack marker    pk=ACK#<digest>         sk=ACK             (last acknowledgement time)
  idempotency   pk=IDEMPOTENCY#<digest> sk=IDEMPOTENCY     (lead id + request fingerprint;
                the digest covers the client's IP too, so one client cannot take another's key)

Taking a lead is ONE TransactWriteItems: the lead, both rate counters, the idempotency
record and (optionally) the acknowledgement marker succeed or fail together, so a lead is
never half-taken and a rate-limited or duplicate request writes nothing.

A pending lead carries retry_pk/retry_at (the sparse `pending` index) and claim_token:
whoever holds the claim (the request that took it, or one retry worker) may send its
notification; retry_at doubles as the claim's lease so an abandoned claim is retried.

A lead over the per-address limit is not refused (anyone could lock a buyer out by
posting with their address): it is stored with retry_pk=HELD and retry_at = the end of
the hour, and the sweep mails all such leads to sales in one summary.
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

log = logging.getLogger(__name__)

WINDOW_SECONDS = 3600
ACK_INTERVAL_SECONDS = 3600
IDEMPOTENCY_SECONDS = 24 * 3600
PENDING = "PENDING"
HELD = "HELD"
_CONTENTION_TRIES = 6


class StoreUnavailable(RuntimeError):
    """DynamoDB could not take the write (unreachable, throttled, erroring)."""


class ReplayUnknown(RuntimeError):
    """An Idempotency-Key was seen before, but its first answer could not be read."""


class RateLimited(Exception):
    def __init__(self, retry_after: int, limit: str) -> None:
        super().__init__(f"rate limited by {limit}")
        self.retry_after = retry_after
        self.limit = limit


class Duplicate(Exception):
    """The Idempotency-Key was seen before: the first request's lead id and fingerprint."""

    def __init__(self, lead_id: str, fingerprint: str) -> None:
        super().__init__(lead_id)
        self.lead_id = lead_id
        self.fingerprint = fingerprint


@dataclass(frozen=True)
class Admission:
    """Everything the transaction that takes a lead checks and writes."""

    lead: dict[str, Any]
    client_ip: str
    mailbox: str  # the normalised address the per-address limits count
    ip_limit: int
    email_limit: int
    idempotency_key: str | None
    fingerprint: str
    claim_ack: bool
    ack_limit: int = 1_000_000  # acknowledgements per hour, all addresses together


@dataclass(frozen=True)
class Admitted:
    """How the lead was taken: with an acknowledgement claimed, or held back."""

    ack: bool
    held_back: bool = False


def digest(text: str) -> str:
    """Counters and markers are keyed by a digest: no raw IP or address in those keys."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:40]


class LeadStore:
    def __init__(
        self,
        dynamodb: Any,
        table: str,
        clock: Callable[[], float] = time.time,
        pause: Callable[[float], None] = time.sleep,
    ) -> None:
        self._db = dynamodb
        self._table = table
        self._clock = clock
        self._pause = pause

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
                reasons = cancellation_reasons(exc)
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
        lead = admission.lead
        if held_back:
            lead = {
                **lead,
                "held_back": True,
                "retry_pk": HELD,
                "retry_at": (window + 1) * WINDOW_SECONDS,  # the summary, once an hour
            }
        writes = [
            (
                "lead",
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": to_item(lead),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ),
            self._counter("ip", admission.client_ip, window, admission.ip_limit, counter_expiry),
        ]
        if not held_back:  # a held-back lead's address is over its limit already
            writes.append(
                self._counter(
                    "email", admission.mailbox, window, admission.email_limit, counter_expiry
                )
            )
        if admission.idempotency_key is not None:
            writes.append(
                (
                    "idempotency",
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": to_item(
                                {
                                    **_idempotency_key(
                                        admission.idempotency_key, admission.client_ip
                                    ),
                                    "lead_id": lead["id"],
                                    "fingerprint": admission.fingerprint,
                                    "expires_at": int(now) + IDEMPOTENCY_SECONDS,
                                }
                            ),
                            # TTL deletes late (up to days): an expired record counts as gone.
                            "ConditionExpression": "attribute_not_exists(pk) OR expires_at < :now",
                            "ExpressionAttributeValues": to_item({":now": int(now)}),
                        }
                    },
                )
            )
        if claim_ack:
            writes.append(
                (
                    "ack",
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": to_item(
                                {
                                    "pk": f"ACK#{digest(admission.mailbox)}",
                                    "sk": "ACK",
                                    "sent_at": int(now),
                                    "expires_at": int(now) + 2 * ACK_INTERVAL_SECONDS,
                                }
                            ),
                            "ConditionExpression": "attribute_not_exists(pk) OR sent_at < :since",
                            "ExpressionAttributeValues": to_item(
                                {":since": int(now) - ACK_INTERVAL_SECONDS}
                            ),
                        }
                    },
                )
            )
            # The ceiling on acknowledgements in all: SES reputation is the whole site's.
            writes.append(
                self._counter("ack_all", "all", window, admission.ack_limit, counter_expiry)
            )
        return writes

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
        return Duplicate(str(row["lead_id"]), str(row["fingerprint"]))

    # ---- notification state ----------------------------------------------------------

    def record_outcome(
        self,
        lead_id: str,
        claim_token: str,
        *,
        sent: bool,
        attempts: int,
        message_id: str | None = None,
        next_retry_at: int | None = None,
        ack: str | None = None,
        error: str | None = None,
    ) -> bool:
        """Settle a claimed notification attempt. False when the claim was lost meanwhile.

        sent -> status sent; not sent with next_retry_at -> stays pending until then;
        not sent without next_retry_at -> status failed (no more tries).
        """
        now = int(self._clock())
        sets = ["notify_attempts = :attempts", "updated_at = :now"]
        values: dict[str, Any] = {
            ":attempts": attempts,
            ":now": now,
            ":token": claim_token,
            ":pending": "pending",
        }
        removes = ["claim_token"]
        if sent:
            sets += ["#status = :sent", "notified_at = :now", "message_id = :message_id"]
            values[":sent"] = "sent"
            values[":message_id"] = message_id or ""
            removes += ["retry_pk", "retry_at"]
        elif next_retry_at is not None:
            sets += ["retry_at = :retry_at"]
            values[":retry_at"] = next_retry_at
        else:
            sets += ["#status = :failed"]
            values[":failed"] = "failed"
            removes += ["retry_pk", "retry_at"]
        if ack is not None:
            sets.append("ack = :ack")
            values[":ack"] = ack
        if error is not None:
            sets.append("last_error = :error")
            values[":error"] = error[:500]
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

    def due(self, now: int, page_size: int = 25, queue: str = PENDING) -> Iterator[tuple[str, int]]:
        """(lead id, retry_at) of pending (or HELD) leads whose time has come, oldest first."""
        args: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": "pending",
            "KeyConditionExpression": "retry_pk = :p AND retry_at <= :now",
            "ExpressionAttributeValues": to_item({":p": queue, ":now": now}),
            "Limit": page_size,
        }
        while True:
            response = self._db.query(**args)
            for item in response["Items"]:
                row = from_item(item)
                yield row["pk"].removeprefix("LEAD#"), row["retry_at"]
            if "LastEvaluatedKey" not in response:
                return
            args["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def claim(
        self, lead_id: str, seen_retry_at: int, claim_token: str, lease_until: int
    ) -> dict[str, Any] | None:
        """Take a due lead for one retry; None when someone else took it first."""
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
                    ":pending": "pending",
                    ":seen": seen_retry_at,
                }
            ),
            ReturnValues="ALL_NEW",
        )
        return None if response is None else from_item(response["Attributes"])

    def get(self, lead_id: str) -> dict[str, Any] | None:
        response = self._db.get_item(
            TableName=self._table, Key=to_item(lead_key(lead_id)), ConsistentRead=True
        )
        return from_item(response["Item"]) if "Item" in response else None


def cancellation_reasons(exc: Exception) -> list[str]:
    response: dict[str, Any] = getattr(exc, "response", {})
    return [str(r.get("Code") or "None") for r in response.get("CancellationReasons", [])]


def lead_key(lead_id: str) -> dict[str, str]:
    return {"pk": f"LEAD#{lead_id}", "sk": "LEAD"}


def _idempotency_key(key: str, client_ip: str) -> dict[str, str]:
    return {"pk": f"IDEMPOTENCY#{digest(client_ip + chr(0) + key)}", "sk": "IDEMPOTENCY"}
