"""The LeadStore contract (chalicelib/leads/store.py), as tests.

One class, two implementations (the pattern of the Chalice todo-app sample): the fast tier
runs it against the in-memory fake (tests/fast/test_leads_memory.py), the moto tier against
the DynamoDB adapter (tests/aws/test_leads_table.py). A subclass provides `store`, a store
whose clock is the `clock` fixture.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from typing import Any

import pytest

from chalicelib.leads.model import (
    CLAIM_LEASE_SECONDS,
    Lead,
    LineItem,
    SalesStatus,
    Status,
    TransitionRefused,
)
from chalicelib.leads.store import Admission, Duplicate, LeadNotFound, Outcome, RateLimited
from tests.data import HANS

INQUIRY = HANS


class LeadStoreContract:
    @pytest.fixture
    def store(self) -> Any:  # pragma: no cover - each implementation provides it
        raise NotImplementedError

    def take(
        self,
        store: Any,
        clock: Any,
        number: int = 0,
        *,
        ip: str = "198.51.100.1",
        mailbox: str = "hans@example.com",
        key: str | None = None,
        fingerprint: str = "f1",
        ack: bool = False,
        ip_limit: int = 100,
        email_limit: int = 100,
        ack_limit: int = 100,
        inquiry: Any = INQUIRY,
    ) -> tuple[Lead, Any]:
        lead_id = f"01KCVY8Z4Q5M7T0V2W3X4Y{number:04d}"
        lead = Lead.new(
            inquiry, lead_id, clock.now, spam=False, retention_days=730, owner="anna@example.com"
        )
        admitted = store.admit(
            Admission(
                lead=lead,
                client_ip=ip,
                mailbox=mailbox,
                ip_limit=ip_limit,
                email_limit=email_limit,
                idempotency_key=key,
                fingerprint=fingerprint,
                claim_ack=ack,
                ack_limit=ack_limit,
            )
        )
        return lead, admitted

    # ---- taking ------------------------------------------------------------------------

    def test_a_taken_lead_reads_back_pending_and_claimed_by_its_taker(
        self, store: Any, clock: Any
    ) -> None:
        lead, admitted = self.take(store, clock)
        assert not admitted.held_back and not admitted.ack
        read = store.get(lead.id)
        assert read == lead
        assert read.status == Status.PENDING and read.claim_token
        assert read.next_attempt_at == int(clock.now) + CLAIM_LEASE_SECONDS
        assert store.get("01KCVY8Z4Q5M7T0V2W3X4Y9999") is None

    def test_a_request_for_quotation_reads_back_with_every_row(
        self, store: Any, clock: Any
    ) -> None:
        rfq = replace(
            INQUIRY,
            product=None,
            quantity=None,
            items=(
                LineItem("4711-A", "Bremsbelag <vorne>", 2, "sets", "12.50", "EUR"),
                LineItem(description="刹车盘", quantity=10_000_000),
            ),
            incoterm="FOB",
            destination_port="Ningbo",
            whatsapp="+86 138 0013 8000",
            wechat="hans_m",
        )
        lead, _ = self.take(store, clock, inquiry=rfq)
        assert store.get(lead.id) == lead
        assert store.get(lead.id).inquiry.items[0].target_price == "12.50"  # text, no float

    def test_the_same_key_from_the_same_client_replays_the_first_lead(
        self, store: Any, clock: Any
    ) -> None:
        first, _ = self.take(store, clock, 1, key="k")
        with pytest.raises(Duplicate) as again:
            self.take(store, clock, 2, key="k", fingerprint="f2")
        assert (again.value.lead_id, again.value.fingerprint) == (first.id, "f1")
        assert store.get(f"01KCVY8Z4Q5M7T0V2W3X4Y{2:04d}") is None  # nothing written
        replayed = store.replay("k", "198.51.100.1")
        assert replayed is not None and replayed.lead_id == first.id
        assert store.replay("k", "203.0.113.9") is None  # keys are per client
        other, _ = self.take(store, clock, 3, key="k", ip="203.0.113.9")
        assert store.get(other.id) is not None

    def test_a_key_older_than_a_day_is_new_again(self, store: Any, clock: Any) -> None:
        self.take(store, clock, 1, key="daily")
        clock.advance(24 * 3600 + 1)
        assert store.replay("daily", "198.51.100.1") is None
        lead, _ = self.take(store, clock, 2, key="daily")
        assert store.get(lead.id) is not None

    def test_over_the_ip_limit_is_refused_and_nothing_written(self, store: Any, clock: Any) -> None:
        self.take(store, clock, 1, ip_limit=1, mailbox="a@example.com")
        with pytest.raises(RateLimited) as refused:
            self.take(store, clock, 2, ip_limit=1, mailbox="b@example.com")
        assert 1 <= refused.value.retry_after <= 3600
        assert store.get(f"01KCVY8Z4Q5M7T0V2W3X4Y{2:04d}") is None

    def test_over_the_address_limit_the_lead_is_held_for_the_hourly_summary(
        self, store: Any, clock: Any
    ) -> None:
        self.take(store, clock, 1, email_limit=1, ack=True)
        held, admitted = self.take(store, clock, 2, email_limit=1, ack=True)
        assert admitted.held_back and not admitted.ack
        read = store.get(held.id)
        assert read.held_back and read.status == Status.PENDING
        hour_end = (int(clock.now) // 3600 + 1) * 3600
        assert read.next_attempt_at == hour_end
        assert list(store.due(hour_end - 1, held=True)) == []
        assert list(store.due(hour_end, held=True)) == [(held.id, hour_end)]
        assert held.id not in [lead_id for lead_id, _ in store.due(hour_end + 9999)]

    def test_one_acknowledgement_per_mailbox_per_hour_and_a_ceiling_in_all(
        self, store: Any, clock: Any
    ) -> None:
        assert self.take(store, clock, 1, ack=True)[1].ack
        assert not self.take(store, clock, 2, ack=True)[1].ack
        assert self.take(store, clock, 3, ack=True, mailbox="b@example.com", ack_limit=2)[1].ack
        assert not self.take(store, clock, 4, ack=True, mailbox="c@example.com", ack_limit=2)[1].ack
        clock.advance(3601)
        assert self.take(store, clock, 5, ack=True)[1].ack

    # ---- notification state --------------------------------------------------------------

    def test_settling_as_sent_ends_the_claim_and_the_queue(self, store: Any, clock: Any) -> None:
        lead, _ = self.take(store, clock)
        assert not store.settle(lead.id, "someone-else", Outcome(1, message_id="m"))
        assert store.settle(lead.id, lead.claim_token, Outcome(1, message_id="m", ack="sent"))
        read = store.get(lead.id)
        assert (read.status, read.message_id, read.ack) == (Status.SENT, "m", "sent")
        assert read.claim_token is None and read.next_attempt_at is None
        assert read.notified_at == int(clock.now) and read.notify_attempts == 1
        assert not store.settle(lead.id, lead.claim_token, Outcome(2, message_id="again"))

    def test_a_failed_attempt_is_due_again_and_claimed_by_one_worker(
        self, store: Any, clock: Any
    ) -> None:
        lead, _ = self.take(store, clock)
        retry_at = int(clock.now) + 60
        outcome = Outcome(1, next_attempt_at=retry_at, error="MailError: throttled")
        assert store.settle(lead.id, lead.claim_token, outcome)
        assert list(store.due(retry_at - 1)) == []
        assert list(store.due(retry_at)) == [(lead.id, retry_at)]
        claimed = store.claim(lead.id, retry_at, "worker-1", retry_at + 300)
        assert claimed is not None and claimed.claim_token == "worker-1"
        assert claimed.last_error == "MailError: throttled" and claimed.notify_attempts == 1
        assert store.claim(lead.id, retry_at, "worker-2", retry_at + 300) is None
        assert store.settle(lead.id, "worker-1", Outcome(2, message_id="m"))

    def test_the_last_failed_attempt_leaves_the_lead_failed_and_out_of_the_queue(
        self, store: Any, clock: Any
    ) -> None:
        lead, _ = self.take(store, clock)
        assert store.settle(lead.id, lead.claim_token, Outcome(8, error="MailError: rejected"))
        read = store.get(lead.id)
        assert read.status == Status.FAILED and read.next_attempt_at is None
        assert list(store.due(int(clock.now) + 10**6)) == []
        assert store.claim(lead.id, 0, "worker", 1) is None

    def test_a_claim_whose_lease_ran_out_can_be_taken_over(self, store: Any, clock: Any) -> None:
        lead, _ = self.take(store, clock)
        lease_end = lead.next_attempt_at
        assert list(store.due(lease_end)) == [(lead.id, lease_end)]
        taken = store.claim(lead.id, lease_end, "sweeper", lease_end + 300)
        assert taken is not None
        # The request that took it is too late now: its claim is gone.
        assert not store.settle(lead.id, lead.claim_token, Outcome(1, message_id="late"))
        assert replace(taken, claim_token=None).status == Status.PENDING

    # ---- sales state ---------------------------------------------------------------------

    def test_a_taken_lead_is_new_owned_scored_and_due_for_a_follow_up(
        self, store: Any, clock: Any
    ) -> None:
        lead, _ = self.take(store, clock)
        read = store.get(lead.id)
        assert (read.sales_status, read.owner, read.history) == (SalesStatus.NEW, lead.owner, ())
        assert read.score in ("A", "B", "C") and read.score_reasons == lead.score_reasons
        assert read.follow_up_at == int(clock.now) + 24 * 3600 and read.reminders_sent == 0

    def test_a_status_change_is_stamped_once_and_a_replay_changes_nothing(
        self, store: Any, clock: Any
    ) -> None:
        lead, _ = self.take(store, clock)
        clock.advance(5400)
        now = int(clock.now)
        replied = store.set_sales_status(
            lead.id, SalesStatus.REPLIED, "bo@example.com", "call\nme", now
        )
        assert replied.sales_status == SalesStatus.REPLIED and replied.follow_up_at is None
        assert replied.first_reply_at == now and replied.time_to_first_reply == 5400
        (change,) = replied.history
        assert (change.at, change.by, change.what, change.old, change.new, change.note) == (
            now,
            "bo@example.com",
            "status",
            "new",
            "replied",
            "call me",
        )
        assert store.set_sales_status(lead.id, SalesStatus.REPLIED, "x", None, now + 9) == replied
        quoted = store.set_sales_status(
            lead.id, SalesStatus.QUOTED, "bo@example.com", None, now + 60
        )
        assert quoted.first_reply_at == now and len(quoted.history) == 2
        assert store.get(lead.id) == quoted
        with pytest.raises(TransitionRefused, match="quoted can change to"):
            store.set_sales_status(lead.id, SalesStatus.NEW, "x", None, now)
        with pytest.raises(LeadNotFound):
            store.set_sales_status("01KCVY8Z4Q5M7T0V2W3X4Y9999", SalesStatus.WON, "x", None, now)

    def test_closing_without_a_reply_leaves_no_time_to_first_reply(
        self, store: Any, clock: Any
    ) -> None:
        lead, _ = self.take(store, clock)
        closed = store.set_sales_status(lead.id, SalesStatus.NOT_RELEVANT, "x", "a" * 900, 1)
        assert closed.first_reply_at is None and closed.follow_up_at is None
        assert closed.history[0].note == "a" * 500

    def test_the_history_keeps_the_latest_changes_and_the_lead_stays_writable(
        self, store: Any, clock: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Clicking Won and Lost back and forth with long notes must not grow the lead past
        DynamoDB's 400 KB item limit (after which no change could be written). The store's
        cap is lowered to 4 here (MAX_HISTORY itself is sized in test_a_full_history_...)."""
        monkeypatch.setattr(sys.modules[type(store).__module__], "MAX_HISTORY", 4)
        lead, _ = self.take(store, clock)
        flips = (SalesStatus.WON, SalesStatus.LOST)
        for n in range(7):
            store.set_sales_status(lead.id, flips[n % 2], "x", f"{n} " + "n" * 480, n + 1)
        latest = store.assign(lead.id, "bo@example.com", "bo@example.com", 1000)
        assert [c.what for c in latest.history] == ["status"] * 3 + ["owner"]
        assert [c.note[0] for c in latest.history[:3]] == ["4", "5", "6"]  # newest, in order

    def test_assigning_records_the_owner_once(self, store: Any, clock: Any) -> None:
        lead, _ = self.take(store, clock)
        now = int(clock.now)
        taken = store.assign(lead.id, "bo@example.com", "bo@example.com", now)
        assert taken.owner == "bo@example.com" and taken.sales_status == SalesStatus.NEW
        assert [(c.what, c.old, c.new) for c in taken.history] == [
            ("owner", "anna@example.com", "bo@example.com")
        ]
        assert store.assign(lead.id, "bo@example.com", "admin", now + 1) == taken
        assert taken.follow_up_at == lead.follow_up_at  # still new: the reminder stays due

    def test_racing_clicks_change_the_status_once(self, store: Any, clock: Any) -> None:
        from concurrent.futures import ThreadPoolExecutor

        lead, _ = self.take(store, clock)
        with ThreadPoolExecutor(6) as pool:
            results = list(
                pool.map(
                    lambda n: store.set_sales_status(
                        lead.id, SalesStatus.WON, f"s{n}@example.com", None, int(clock.now)
                    ),
                    range(6),
                )
            )
        assert {r.sales_status for r in results} == {SalesStatus.WON}
        assert len(store.get(lead.id).history) == 1
