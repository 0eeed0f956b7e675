"""The admin's side of the leads table: list, find, claim for a resend, mark, erase.

Every read is a GetItem or a paginated Query on one of the table's indexes — never a Scan:
  by_month  list_pk=LEADS#YYYY-MM, list_sk=<lead id>  (ALL)        listing and export
  by_email  email_pk=<lower-case address>, list_sk      (KEYS_ONLY)  GDPR erasure
Lead ids are ULIDs, so list_sk orders a month's leads by time and a time maps to an id
bound (`id_floor`): `--since` is a key condition, not a filter.

Every change is a conditional write, in the store's protocol (chalicelib/inquiries/store.py):
a pending lead is claimed (claim_token + retry_at as the claim's lease) before anyone
emails it, so a manual resend never races the request or the scheduled retry.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from chalicelib.dynamo import conditional_write, from_item, to_item
from chalicelib.inquiries.store import PENDING, lead_key

MONTH_INDEX = "by_month"
EMAIL_INDEX = "by_email"
STATUSES = ("pending", "sent", "failed", "spam", "contacted", "closed")
MARKS = ("contacted", "closed")
SPAM = "spam"
# Attributes that only exist for the table's keys and indexes or the claim protocol.
INTERNAL = ("pk", "sk", "list_pk", "list_sk", "email_pk", "retry_pk", "retry_at", "claim_token")
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_DAY = 86400


class LeadNotFound(LookupError):
    def __init__(self, lead_id: str) -> None:
        super().__init__(f"no lead with id {lead_id}")
        self.lead_id = lead_id


class LeadBusy(RuntimeError):
    """Someone (the request that took it, or a retry worker) holds the lead's claim."""


class NotResendable(ValueError):
    """The lead's status does not allow a resend (without --force)."""


class Conflict(RuntimeError):
    """The lead changed between reading and writing it; nothing was written."""


@dataclass(frozen=True)
class Filter:
    """Which leads a listing or an export yields."""

    status: str | None = None  # one of STATUSES, or None for any
    spam: str = "exclude"  # exclude | include | only

    def expression(self) -> tuple[str, dict[str, Any]] | None:
        """A FilterExpression on #status (or None): spam leads are status "spam"."""
        if self.status is not None:
            return "#status = :status", {":status": self.status}
        if self.spam == "only":
            return "#status = :spam", {":spam": SPAM}
        if self.spam == "exclude":
            return "#status <> :spam", {":spam": SPAM}
        return None


def id_floor(epoch: float) -> str:
    """The smallest lead id (ULID) minted at or after `epoch` (seconds)."""
    value = int(epoch * 1000) << 80
    chars = []
    for _ in range(26):
        value, index = divmod(value, 32)
        chars.append(_ALPHABET[index])
    return "".join(reversed(chars))


def months_back(newest: datetime.date, oldest: datetime.date) -> Iterator[str]:
    """'YYYY-MM' from newest's month back to oldest's month, both included."""
    year, month = newest.year, newest.month
    while (year, month) >= (oldest.year, oldest.month):
        yield f"{year:04d}-{month:02d}"
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)


def normalized_address(address: str) -> set[str]:
    """The email_pk forms an address may be stored under (the service lower-cases the
    address email-validator normalized; punycode for an internationalized domain)."""
    raw = address.strip().lower()
    forms = {raw}
    try:
        from chalicelib.inquiries.email_check import normalized_email

        forms.add(normalized_email(address.strip(), check_deliverability=False).lower())
    except ValueError:
        pass
    return {form for form in forms if form}


class LeadAdmin:
    def __init__(
        self,
        dynamodb: Any,
        table: str,
        clock: Callable[[], float] = time.time,
        page_size: int = 250,
    ) -> None:
        self._db = dynamodb
        self._table = table
        self._clock = clock
        self._page_size = page_size

    # ---- reads --------------------------------------------------------------------

    def get(self, lead_id: str) -> dict[str, Any]:
        response = self._db.get_item(
            TableName=self._table, Key=to_item(lead_key(lead_id)), ConsistentRead=True
        )
        if "Item" not in response:
            raise LeadNotFound(lead_id)
        return from_item(response["Item"])

    def pages(
        self, since: float, which: Filter = Filter()
    ) -> Iterator[tuple[str, list[dict[str, Any]]]]:
        """(month, page of leads), newest first, from this month back to `since`'s month.

        One Query page at a time: memory stays constant however many leads there are.
        """
        now = self._clock()
        newest = _utc(now).date()
        oldest = _utc(since).date()
        floor = id_floor(since)
        for month in months_back(newest, oldest):
            args: dict[str, Any] = {
                "TableName": self._table,
                "IndexName": MONTH_INDEX,
                "KeyConditionExpression": "list_pk = :month AND list_sk >= :floor",
                "ExpressionAttributeValues": {":month": f"LEADS#{month}", ":floor": floor},
                "ScanIndexForward": False,
                "Limit": self._page_size,
            }
            condition = which.expression()
            if condition is not None:
                args["FilterExpression"] = condition[0]
                args["ExpressionAttributeNames"] = {"#status": "status"}
                args["ExpressionAttributeValues"].update(condition[1])
            args["ExpressionAttributeValues"] = to_item(args["ExpressionAttributeValues"])
            while True:
                response = self._db.query(**args)
                items = [from_item(item) for item in response["Items"]]
                if items:
                    yield month, items
                if "LastEvaluatedKey" not in response:
                    break
                args["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def newest_first(self, since: float, which: Filter = Filter()) -> Iterator[dict[str, Any]]:
        for _, page in self.pages(since, which):
            yield from page

    def keys_for_address(self, address: str) -> Iterator[dict[str, Any]]:
        """The keys of every lead stored under this address (by_email is KEYS_ONLY)."""
        for email_pk in sorted(normalized_address(address)):
            args: dict[str, Any] = {
                "TableName": self._table,
                "IndexName": EMAIL_INDEX,
                "KeyConditionExpression": "email_pk = :email",
                "ExpressionAttributeValues": to_item({":email": email_pk}),
            }
            while True:
                response = self._db.query(**args)
                for item in response["Items"]:
                    row = from_item(item)
                    yield {"pk": row["pk"], "sk": row["sk"], "email_pk": email_pk}
                if "LastEvaluatedKey" not in response:
                    break
                args["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    # ---- changes ------------------------------------------------------------------

    def claim_for_resend(
        self, lead_id: str, claim_token: str, lease_seconds: int, force: bool = False
    ) -> dict[str, Any]:
        """Take the lead for one manual resend; returns the lead as claimed.

        pending (nobody sending it right now) and failed leads may be resent; a sent lead
        only with force (sales gets it again, on purpose). The lead is (again) pending
        with the claim's lease as retry_at, so if this process dies before it records the
        outcome, the scheduled retry takes the lead over when the lease ends: never lost.
        """
        lead = self.get(lead_id)
        status = lead.get("status")
        now = int(self._clock())
        lease = now + lease_seconds
        if status == "pending":
            if lead.get("claim_token") and int(lead.get("retry_at", 0)) > now:
                raise LeadBusy(
                    f"lead {lead_id} is being emailed right now (claimed until"
                    f" {_iso(int(lead['retry_at']))}); try again after that"
                )
            update = "SET retry_at = :lease, claim_token = :token"
            condition = (
                "#status = :seen AND (attribute_not_exists(claim_token) OR retry_at <= :now)"
            )
            values: dict[str, Any] = {":now": now}
        elif status == "failed" or (status == "sent" and force):
            update = (
                "SET #status = :pending, retry_pk = :queue, retry_at = :lease, claim_token = :token"
            )
            condition = "#status = :seen"
            values = {":pending": "pending", ":queue": PENDING}
        elif status == "sent":
            raise NotResendable(
                f"lead {lead_id} was already emailed to sales at {lead.get('notified_at')};"
                " use --force to send it again anyway"
            )
        else:
            raise NotResendable(
                f"lead {lead_id} is {status}: "
                + (
                    "nobody is emailed for spam"
                    if status == SPAM
                    else "sales has already handled it"
                )
                + "; only pending, failed or (with --force) sent leads are resent"
            )
        values.update({":lease": lease, ":token": claim_token, ":seen": status})
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
        return from_item(response["Attributes"])

    def mark(self, lead_id: str, status: str, lead_retention_days: int) -> dict[str, Any]:
        """Set a lead's status to contacted or closed; returns the lead before the change.

        A pending lead leaves the retry queue (sales has it in hand). A spam lead that
        sales marks is evidently a real one: it is kept as long as other leads.
        """
        if status not in MARKS:
            raise ValueError(f"status must be one of {', '.join(MARKS)}")
        lead = self.get(lead_id)
        if lead.get("status") == status:
            return lead
        now = int(self._clock())
        sets = ["#status = :status", "updated_at = :now"]
        values: dict[str, Any] = {":status": status, ":now": now, ":seen": lead.get("status")}
        if lead.get("status") == SPAM:
            received = _epoch(lead.get("received_at")) or now
            sets.append("expires_at = :expires")
            values[":expires"] = max(
                int(lead.get("expires_at", 0)), received + lead_retention_days * _DAY
            )
        marked = conditional_write(
            self._db.update_item,
            TableName=self._table,
            Key=to_item(lead_key(lead_id)),
            UpdateExpression=f"SET {', '.join(sets)} REMOVE retry_pk, retry_at, claim_token",
            ConditionExpression="attribute_exists(pk) AND #status = :seen",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=to_item(values),
        )
        if marked is None:
            raise Conflict(
                f"lead {lead_id} changed while it was being marked; run the command again"
            )
        return lead

    def erase(self, address: str, dry_run: bool = False) -> Iterator[dict[str, Any]]:
        """Delete every lead stored under this address; yields each one removed (or, with
        dry_run, that would be): id, received_at, status. Idempotent."""
        keys: Iterable[dict[str, Any]] = list(self.keys_for_address(address))
        for key in keys:
            if dry_run:
                response = self._db.get_item(
                    TableName=self._table,
                    Key=to_item({"pk": key["pk"], "sk": key["sk"]}),
                    ProjectionExpression="#id, received_at, #status",
                    ExpressionAttributeNames={"#id": "id", "#status": "status"},
                )
                if "Item" in response:
                    yield _summary(from_item(response["Item"]))
                continue
            removed = conditional_write(
                self._db.delete_item,
                TableName=self._table,
                Key=to_item({"pk": key["pk"], "sk": key["sk"]}),
                # the index may lag a little: only ever delete what holds this address
                ConditionExpression="email_pk = :email",
                ExpressionAttributeValues=to_item({":email": key["email_pk"]}),
                ReturnValues="ALL_OLD",
            )
            if removed is None:
                continue  # already gone (or no longer this address's)
            yield _summary(from_item(removed.get("Attributes", {})))


def _summary(row: dict[str, Any]) -> dict[str, Any]:
    return {"id": row.get("id"), "received_at": row.get("received_at"), "status": row.get("status")}


def _utc(epoch: float) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(epoch, datetime.UTC)


def _iso(epoch: int) -> str:
    return _utc(epoch).strftime("%Y-%m-%dT%H:%M:%SZ")


def _epoch(iso: Any) -> int | None:
    if not isinstance(iso, str):
        return None
    try:
        return int(datetime.datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp())
    except ValueError:
        return None
