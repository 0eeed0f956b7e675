"""Taking a lead: decide spam and captcha, store it, email sales, acknowledge the visitor —
and never lose it.

Failure rules (docs/architecture.md):
* SES fails  -> the lead is stored `pending`; the visitor still gets 201; retry.py resends.
* DynamoDB fails -> email sales anyway (the email is then the lead's only copy) and answer
  201 if that worked; Unavailable (503) only when both channels failed, or when this
  instance has already used that channel as often as the per-IP limit allows (the rate
  counters live in DynamoDB, so without this bound a burst against a failing table would
  mail sales without limit; see FALLBACK_PER_HOUR).
* The rich sales email cannot be built (a template or header bug) -> the plain one is sent:
  a stored lead never fails for a reason that retrying cannot cure.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chalicelib.inquiries.email_check import mailbox_key
from chalicelib.inquiries.messages import (
    acknowledgement,
    held_back_summary,
    owner_for,
    plain_sales_notification,
    sales_notification,
)
from chalicelib.leads.model import Inquiry, Lead
from chalicelib.leads.store import (
    WINDOW_SECONDS,
    Admission,
    Duplicate,
    LeadStore,
    Outcome,
    ReplayUnknown,
    StoreUnavailable,
)
from chalicelib.mail import Email, Mailer, MailError, Templates
from chalicelib.metrics import emit
from chalicelib.settings import Settings
from chalicelib.times import iso

if TYPE_CHECKING:
    from chalicelib.actions.links import ActionLinks
    from chalicelib.attachments.files import Attachments, Checked, Enclosure

log = logging.getLogger(__name__)

# The acknowledgement is a courtesy: skipped when the request has already taken this long,
# so that with slow AWS answers the visitor still gets an answer before API Gateway's 29 s.
ACK_TIME_BUDGET_SECONDS = 8.0
# Leads one instance may email as "[NOT STORED]" per hour, all clients together; per client
# the bound is RATE_LIMIT_PER_IP_PER_HOUR, as when DynamoDB counts.
FALLBACK_PER_HOUR = 50

# Captcha verifier: (token, client ip) -> True/False as the provider says, None when it
# could not be asked (the lead is then kept, marked unverified).
CaptchaVerifier = Callable[[str, str], bool | None]
# What SES said about a refused message follows this in the reason a lead records (its
# `last_error`, shown to the admin) and is cut off before the reason is logged: SES's text
# can quote addresses, and no log line carries personal data.
SES_SAID = " - SES said: "


class Unavailable(RuntimeError):
    """Neither DynamoDB nor SES could take the lead."""


class IdempotencyConflict(Exception):
    """The Idempotency-Key was used before for a different inquiry."""


class CaptchaFailed(Exception):
    """The anti-robot check was required and not passed."""


@dataclass(frozen=True)
class Submitted:
    """What the HTTP layer knows of a submission beyond its validated fields."""

    client_ip: str
    idempotency_key: str | None = None
    honeypot_filled: bool = False
    captcha_token: Any = None  # as sent: may be missing, empty or not a string


def fingerprint(inquiry: Inquiry, spam: bool) -> str:
    payload = json.dumps({**inquiry.as_dict(), "spam": spam}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class InquiryService:
    def __init__(
        self,
        settings: Settings,
        store: LeadStore,
        mailer: Mailer,
        templates: Templates,
        clock: Callable[[], float] = time.time,
        new_id: Callable[[float], str] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        verify_captcha: CaptchaVerifier | None = None,
        attachments: Callable[[], Attachments | None] = lambda: None,
        links: ActionLinks | None = None,
    ) -> None:
        from chalicelib.ids import new_id as default_new_id

        self._settings = settings
        self._store = store
        self._mailer = mailer
        self._templates = templates
        self._clock = clock
        self._new_id = new_id or default_new_id
        self._monotonic = monotonic
        self._verify_captcha = verify_captcha
        self._links = links
        self._fallback_used: dict[tuple[int, str], int] = {}
        self._files = attachments  # called only for a lead with files (lazy imports)

    def submit(self, inquiry: Inquiry, submitted: Submitted) -> str:
        """Take the lead; returns its id. Raises CaptchaFailed, RateLimited,
        IdempotencyConflict, Unavailable."""
        ack_deadline = self._monotonic() + ACK_TIME_BUDGET_SECONDS
        spam = submitted.honeypot_filled
        captcha = None
        if self._verify_captcha is not None:
            if submitted.idempotency_key is not None:
                # A retry carries the same single-use token: answer it before the captcha.
                first = self._replay(inquiry, spam, submitted)
                if first is not None:
                    return first
            captcha = self._captcha(submitted)
        # A bot's files (honeypot) are not even looked at; they expire with the uploads.
        checked = None
        if inquiry.attachments and not spam:
            checked = self._check_files(inquiry, submitted)
        now = self._clock()
        settings = self._settings
        lead_id = self._new_id(now)
        lead = Lead.new(
            inquiry,
            lead_id,
            now,
            spam=spam,
            captcha=captcha,
            retention_days=settings.spam_retention_days if spam else settings.lead_retention_days,
            attachments=checked.files if checked is not None else (),
            owner=owner_for(inquiry, lead_id, settings),
            follow_up_hours=settings.follow_up_hours,
        )
        admission = Admission(
            lead=lead,
            client_ip=submitted.client_ip,
            mailbox=mailbox_key(inquiry.email),
            ip_limit=settings.rate_limit_per_ip_per_hour,
            email_limit=settings.rate_limit_per_email_per_hour,
            idempotency_key=submitted.idempotency_key,
            fingerprint=fingerprint(inquiry, spam),
            claim_ack=settings.autoreply_enabled and not spam,
            ack_limit=settings.autoreply_max_per_hour,
            chat_alert=settings.chat_webhooks is not None and not spam,
        )
        try:
            admitted = self._store.admit(admission)
        except Duplicate as duplicate:
            if duplicate.fingerprint != admission.fingerprint:
                raise IdempotencyConflict(submitted.idempotency_key) from None
            return duplicate.lead_id
        except ReplayUnknown as exc:
            # The key was seen but its first answer cannot be read now. Taking the lead again
            # could mail it twice: ask the client to retry with the same key instead.
            raise Unavailable(str(exc)) from exc
        except StoreUnavailable as exc:
            log.error("lead %s: DynamoDB unavailable (%s); emailing sales only", lead.id, exc)
            if spam:
                return lead.id  # a bot's submission is not worth the fallback channel
            self._use_fallback(submitted.client_ip, now)
            self._attach(lead, checked)
            self._email_without_store(lead, checked)
            return lead.id
        self._attach(lead, checked)
        if spam:
            log.info("lead %s: honeypot filled, kept as spam, nobody emailed", lead.id)
        elif admitted.held_back:
            log.info("lead %s: address over its hourly limit, held for the summary", lead.id)
        else:
            self._notify(
                lead,
                attempts=1,
                ack_deadline=ack_deadline if admitted.ack else None,
                checked=checked,
            )
        return lead.id

    def resend(self, lead: Lead) -> bool:
        """One more attempt at a claimed pending lead's sales email; True when sent."""
        return self._notify(lead, attempts=lead.notify_attempts + 1)

    def send_held_back(self, claimed: list[Lead]) -> bool:
        """Mail claimed held-back leads to sales in one summary; True when sent."""
        settings, templates = self._settings, self._templates
        message_id, error = self._send(lambda: held_back_summary(claimed, settings, templates))
        for lead in claimed:
            self._settle(lead, lead.notify_attempts + 1, message_id, error)
        return message_id is not None

    # ---- internals -------------------------------------------------------------------

    def _replay(self, inquiry: Inquiry, spam: bool, submitted: Submitted) -> str | None:
        try:
            duplicate = self._store.replay(submitted.idempotency_key or "", submitted.client_ip)
        except ReplayUnknown as exc:
            raise Unavailable(str(exc)) from exc
        if duplicate is None:
            return None
        if duplicate.fingerprint != fingerprint(inquiry, spam):
            raise IdempotencyConflict(submitted.idempotency_key)
        return duplicate.lead_id

    def _captcha(self, submitted: Submitted) -> str:
        """ "verified" or "unverified" (the provider could not be asked); CaptchaFailed."""
        from chalicelib.inquiries.captcha import usable_token

        token = usable_token(submitted.captcha_token)
        if token is None or self._verify_captcha is None:
            raise CaptchaFailed()
        verdict = self._verify_captcha(token, submitted.client_ip)
        if verdict is False:
            raise CaptchaFailed()
        return "verified" if verdict else "unverified"

    def _check_files(self, inquiry: Inquiry, submitted: Submitted) -> Checked:
        """The submission's files, checked in S3; Invalid (422) names each bad one,
        Unavailable (503) when S3 cannot be read. Nothing is taken before this passes."""
        from chalicelib.inquiries.fields import ATTACHMENTS_FIELD, Invalid
        from chalicelib.inquiries.texts import in_locale

        files = self._files()
        if files is None:
            problem = "cannot be sent here (this site takes no files): please email them to us"
            raise Invalid(in_locale({ATTACHMENTS_FIELD: problem}, inquiry.locale))
        from chalicelib.attachments.files import FilesUnavailable

        try:
            checked, errors = files.check(inquiry.attachments, submitted.client_ip)
        except FilesUnavailable as exc:
            log.error("the uploads bucket could not be read (%s): 503", exc)
            raise Unavailable(str(exc)) from exc
        if errors:
            self._count_refusal(submitted.client_ip)
            raise Invalid(in_locale(errors, inquiry.locale))
        return checked

    def _count_refusal(self, client_ip: str) -> None:
        """A refused file check has had S3 read the files (up to 10 MB) and is no lead, so
        admission never counted it: count it against the per-IP limit, or one good upload
        named beside a bad id could be read again and again (RateLimited: 429 past it).
        One UpdateItem, on this refusal's path only."""
        try:
            self._store.count_request(client_ip, self._settings.rate_limit_per_ip_per_hour)
        except StoreUnavailable as exc:
            log.warning("rate counter unavailable for a refused file check (%s)", exc)

    def _attach(self, lead: Lead, checked: Checked | None) -> None:
        files = self._files() if checked is not None else None
        if files is not None and checked is not None:
            files.attach(lead.id, checked)

    def _enclosures(self, lead: Lead, checked: Checked | None) -> list[Enclosure]:
        """The lead's files for its email: attached or linked; never raises (a file that
        cannot be had is named without a link: the lead still reaches sales)."""
        if not lead.attachments:
            return []
        from chalicelib.attachments.files import Enclosure

        try:
            files = self._files()
            if files is not None:
                return files.enclosures(lead, checked)
        except Exception as exc:
            log.error("lead %s: files not enclosed (%s)", lead.id, type(exc).__name__)
        return [Enclosure(file) for file in lead.attachments]

    def _notify(
        self,
        lead: Lead,
        attempts: int,
        ack_deadline: float | None = None,
        checked: Checked | None = None,
    ) -> bool:
        settings, templates = self._settings, self._templates
        message_id, error = self._send(lambda: self._sales_email(lead, checked=checked))
        ack = None
        if ack_deadline is not None and self._monotonic() > ack_deadline:
            ack = "skipped"  # AWS was slow: answer the visitor in time rather than acknowledge
            log.warning("lead %s: acknowledgement skipped, request already slow", lead.id)
        elif ack_deadline is not None:
            ack_id, ack_error = self._send(lambda: acknowledgement(lead, settings, templates))
            ack = "sent" if ack_id else "failed"
            if ack_id is None:
                log.warning("lead %s: acknowledgement not sent (%s)", lead.id, loggable(ack_error))
        self._settle(lead, attempts, message_id, error, ack)
        return message_id is not None

    def _settle(
        self,
        lead: Lead,
        attempts: int,
        message_id: str | None,
        error: str | None,
        ack: str | None = None,
    ) -> None:
        """Record one claimed attempt: sent, retry later (backing off), or failed for good."""
        if message_id is not None:
            outcome = Outcome(attempts, message_id=message_id, ack=ack)
        elif attempts >= self._settings.max_notify_attempts:
            log.error(
                "lead %s: notification FAILED for good after %d attempts (%s)",
                lead.id,
                attempts,
                loggable(error),
            )
            emit(self._settings.leads_table, NotificationsFailed=1)  # the alarm's metric
            outcome = Outcome(attempts, ack=ack, error=error)
        else:
            retry_at = int(self._clock()) + backoff_seconds(attempts)
            log.warning(
                "lead %s: notification attempt %d failed (%s); retry at %s",
                lead.id,
                attempts,
                loggable(error),
                iso(retry_at),
            )
            outcome = Outcome(attempts, next_attempt_at=retry_at, ack=ack, error=error)
        try:
            self._store.settle(lead.id, lead.claim_token or "", outcome)
        except Exception:
            # The lead is stored and still claimed: when the claim's lease runs out the retry
            # sweep takes it again. Worst case sales gets the same lead twice, never zero times.
            log.exception("lead %s: could not record the notification outcome", lead.id)

    def _sales_email(
        self, lead: Lead, stored: bool = True, checked: Checked | None = None
    ) -> Email:
        """The rich notification, or the plain one when the rich cannot be built."""
        enclosures = self._enclosures(lead, checked)
        try:
            # The owner's own action links (signed for them); none for a lead not stored.
            links = self._links
            owner = lead.owner
            actions = links.for_recipient(lead.id, owner) if links and owner and stored else []
            email = sales_notification(
                lead,
                self._settings,
                self._templates,
                stored=stored,
                enclosures=enclosures,
                actions=actions,
            )
            _ = email.raw  # build the MIME bytes now: a header problem shows here, not in SES
            return email
        except Exception as exc:
            log.error(
                "lead %s: formatted sales email could not be built (%s); sending the plain copy",
                lead.id,
                type(exc).__name__,
            )
            return plain_sales_notification(lead, self._settings, stored, enclosures)

    def _send(self, build: Callable[[], Email]) -> tuple[str | None, str | None]:
        """(message id, None) when SES took it, else (None, reason). Never raises."""
        try:
            return self._mailer.send(build()), None
        except MailError as exc:  # SES down, throttled or rejected: its message names the code
            said = _what_ses_said(exc)
            return None, f"MailError: {exc}"[:300] + (f"{SES_SAID}{said}"[:300] if said else "")
        except Exception as exc:  # a bug: its message may quote what the visitor typed
            return None, type(exc).__name__

    def _use_fallback(self, client_ip: str, now: float) -> None:
        """Count one "[NOT STORED]" email; Unavailable once this instance's bound is reached."""
        window = int(now // WINDOW_SECONDS)
        used = self._fallback_used
        for key in [key for key in used if key[0] != window]:
            del used[key]
        per_ip, total = used.get((window, client_ip), 0), used.get((window, ""), 0)
        if per_ip >= self._settings.rate_limit_per_ip_per_hour or total >= FALLBACK_PER_HOUR:
            log.error("DynamoDB unavailable and the email fallback's hourly bound reached: 503")
            raise Unavailable("fallback bound reached")
        used[(window, client_ip)], used[(window, "")] = per_ip + 1, total + 1

    def _email_without_store(self, lead: Lead, checked: Checked | None) -> None:
        message_id, error = self._send(
            lambda: self._sales_email(lead, stored=False, checked=checked)
        )
        if message_id is None:
            log.error(
                "lead %s: DynamoDB and SES both failed, answering 503 (%s)",
                lead.id,
                loggable(error),
            )
            raise Unavailable(loggable(error))
        log.warning("lead %s: not stored; its only copy is sales email %s", lead.id, message_id)
        # The write may have committed after all (its answer was lost): then mark it sent,
        # or the retry sweep would mail it a second time. No such lead: the condition fails.
        try:
            self._store.settle(lead.id, lead.claim_token or "", Outcome(1, message_id=message_id))
        except Exception as exc:
            log.warning("lead %s: could not check for a committed write (%s)", lead.id, exc)


def loggable(error: str | None) -> str | None:
    """A send failure's reason without what SES said (see SES_SAID)."""
    return None if error is None else error.split(SES_SAID, 1)[0]


def _what_ses_said(exc: MailError) -> str | None:
    """SES's own explanation of a refusal ("Email address is not verified. ..."), if any."""
    response = getattr(exc.__cause__, "response", None)
    if not isinstance(response, dict):
        return None
    message = str(response.get("Error", {}).get("Message") or "").strip()
    return " ".join(message.split()) or None


def backoff_seconds(attempts: int) -> int:
    """1, 2, 4, ... minutes after each failed attempt, at most 6 hours."""
    return int(min(60 * 2 ** max(attempts - 1, 0), 6 * 3600))
