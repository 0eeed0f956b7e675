"""The composition root: the one place where the app's collaborators are built, lazily.

Only the settings are read eagerly, so a bad configuration fails at start-up naming the
variable; AWS clients, the leads table and the mail templates wait for the first request
that needs them (cold start: a GET never loads the inquiry modules).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Mapping
from functools import cached_property
from typing import TYPE_CHECKING

from chalicelib.aws import AwsClients
from chalicelib.settings import Settings, SettingsError, ssm_parameter

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from chalicelib.actions.links import ActionLinks
    from chalicelib.alerts.webhooks import Webhook
    from chalicelib.attachments.bucket import UploadsBucket
    from chalicelib.attachments.files import Attachments
    from chalicelib.content.repository import ContentRepository
    from chalicelib.inquiries.service import CaptchaVerifier, InquiryService
    from chalicelib.leads.dynamodb import LeadsTable
    from chalicelib.mail import Mailer, Templates
    from chalicelib.signing import LinkSigner


class Runtime:
    def __init__(
        self,
        settings: Settings,
        clients: AwsClients | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.clients = clients or AwsClients()
        self.clock = clock

    @classmethod
    def from_environment(cls, env: Mapping[str, str] | None = None) -> Runtime:
        """On Lambda a bad setting stops the function at import: its one line then names the
        function (so the stage) as well as the variable."""
        try:
            return cls(Settings.from_env(os.environ if env is None else env))
        except SettingsError as exc:
            function = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
            if not function:
                raise
            raise SettingsError(
                f"{function}: {exc} (set it in .chalice/config.json, then chalice deploy)"
            ) from None

    @cached_property
    def content(self) -> ContentRepository:
        from chalicelib.content.repository import ContentRepository

        return ContentRepository(self.clients.dynamodb(), self.settings.content_table)

    @cached_property
    def leads(self) -> LeadsTable:
        from chalicelib.leads.dynamodb import LeadsTable

        return LeadsTable(self.clients.dynamodb(), self.settings.leads_table, clock=self.clock)

    @cached_property
    def mailer(self) -> Mailer:
        from chalicelib.mail import OutboxMailer, SesMailer

        mailer: Mailer = SesMailer(self.clients.sesv2(), self.settings.ses_configuration_set)
        if self.settings.outbox_dir:
            mailer = OutboxMailer(mailer, self.settings.outbox_dir)
        return mailer

    @cached_property
    def templates(self) -> Templates:
        from chalicelib.mail import Templates

        return Templates()

    @cached_property
    def inquiries(self) -> InquiryService:
        from chalicelib.inquiries.service import InquiryService

        return InquiryService(
            self.settings,
            self.leads,
            self.mailer,
            self.templates,
            clock=self.clock,
            verify_captcha=self._captcha_verifier(),
            attachments=lambda: self.attachments,
            links=self.action_links,
        )

    def chat_webhooks(self) -> tuple[Webhook, ...] | None:
        """CHAT_WEBHOOKS, read from SSM on first use (only the sweep asks): () when unset,
        None while the parameter cannot be read or parsed (the alerts wait, logged)."""
        if self.settings.chat_webhooks is None:
            return ()
        from chalicelib.alerts.webhooks import parse_webhooks

        text = self._chat_webhooks_text()
        if text is None:
            return None
        try:
            return parse_webhooks(text)
        except ValueError as exc:
            log.error("CHAT_WEBHOOKS parameter: %s", exc)
            return None

    @cached_property
    def _chat_webhooks_text(self) -> Callable[[], str | None]:
        return self._ssm_secret(ssm_parameter(self.settings.chat_webhooks) or "")

    @cached_property
    def uploads(self) -> UploadsBucket | None:
        """The uploads bucket, None when UPLOADS_BUCKET is not set (attachments off)."""
        if not self.settings.uploads_bucket:
            return None
        from chalicelib.attachments.bucket import UploadsBucket

        return UploadsBucket(self.clients.client("s3"), self.settings.uploads_bucket)

    @cached_property
    def attachments(self) -> Attachments | None:
        """Checks, attaches and mails a lead's files; built, not imported, until used."""
        uploads = self.uploads
        if uploads is None:
            return None
        from chalicelib.attachments.files import Attachments

        return Attachments(uploads, self.settings, self.link_signer, self.clock)

    @cached_property
    def link_signer(self) -> LinkSigner | None:
        """Signs and checks every signed link (action and download links) with LINK_KEY;
        None when it is unset. The key is read from SSM on first use: one GetParameters per
        container, whichever kind of link asks first."""
        parameter = ssm_parameter(self.settings.link_key)
        if parameter is None:
            return None
        from chalicelib.signing import KeyRing, LinkSigner

        return LinkSigner(KeyRing(lambda: self.clients.client("ssm"), parameter, self.clock))

    @cached_property
    def action_links(self) -> ActionLinks | None:
        """Signs and checks the sales email's action links; None when they are off."""
        signer, base = self.link_signer, self.settings.public_api_url
        if signer is None or base is None:
            return None
        from chalicelib.actions.links import ActionLinks

        return ActionLinks(base, signer, self.clock)

    def check_email(self, address: str) -> str:
        from chalicelib.inquiries.email_check import normalized_email

        return normalized_email(address, self.settings.check_deliverability)

    def _captcha_verifier(self) -> CaptchaVerifier | None:
        secret = self.settings.turnstile_secret
        if not secret:
            return None
        from chalicelib.inquiries.captcha import VERIFY_URL, verify_turnstile

        url = self.settings.turnstile_verify_url or VERIFY_URL
        parameter = ssm_parameter(secret)
        if parameter is None:
            return lambda token, client_ip: verify_turnstile(secret, token, client_ip, url)
        read = self._ssm_secret(parameter)

        def verify(token: str, client_ip: str) -> bool | None:
            value = read()
            if value is None:  # SSM could not be read: as when Cloudflare cannot be asked
                return None
            return verify_turnstile(value, token, client_ip, url)

        return verify

    def _ssm_secret(self, parameter: str) -> Callable[[], str | None]:
        """The parameter's decrypted value, read on first use and kept for the instance's
        life (one GetParameter per cold start, none per request); None while it cannot be
        read (the next request tries again)."""
        kept: list[str] = []

        def read() -> str | None:
            if not kept:
                try:
                    answer = self.clients.client("ssm").get_parameter(
                        Name=parameter, WithDecryption=True
                    )
                except Exception as exc:
                    from chalicelib.aws import error_code

                    log.warning(
                        "SSM parameter %s unreadable (%s)", parameter, error_code(exc) or exc
                    )
                    return None
                kept.append(str(answer["Parameter"]["Value"]))
            return kept[0]

        return read
