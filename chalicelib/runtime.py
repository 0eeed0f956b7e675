"""The one place where the app's collaborators are built (lazily, on first use).

Only the settings are read eagerly, so a bad configuration fails at start-up naming the
variable; AWS clients, repositories and the mail templates wait for the first request
that needs them.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any

from chalicelib.aws import AwsClients
from chalicelib.settings import Settings

if TYPE_CHECKING:
    from chalicelib.content.repository import ContentRepository


class Runtime:
    def __init__(
        self,
        settings: Settings,
        clients: AwsClients | None = None,
        clock: Callable[[], float] = time.time,
        mailer: Any = None,
    ) -> None:
        self.settings = settings
        self.clients = clients or AwsClients()
        self.clock = clock
        self._mailer = mailer

    @classmethod
    def from_environment(cls, env: Mapping[str, str] | None = None) -> Runtime:
        return cls(Settings.from_env(os.environ if env is None else env))

    @cached_property
    def content(self) -> ContentRepository:
        from chalicelib.content.repository import ContentRepository

        return ContentRepository(self.clients.dynamodb(), self.settings.content_table)

    @cached_property
    def leads(self) -> Any:
        from chalicelib.inquiries.store import LeadStore

        return LeadStore(self.clients.dynamodb(), self.settings.leads_table, clock=self.clock)

    @cached_property
    def mailer(self) -> Any:
        if self._mailer is not None:
            return self._mailer
        from chalicelib.mail import OutboxMailer, SesMailer

        mailer: Any = SesMailer(self.clients.sesv2(), self.settings.ses_configuration_set)
        if self.settings.outbox_dir:
            mailer = OutboxMailer(mailer, self.settings.outbox_dir)
        return mailer

    @cached_property
    def inquiries(self) -> Any:
        from chalicelib.inquiries.service import InquiryService
        from chalicelib.mail import Templates

        return InquiryService(self.settings, self.leads, self.mailer, Templates(), clock=self.clock)

    def check_email(self, address: str) -> str:
        from chalicelib.inquiries.email_check import normalized_email

        return normalized_email(address, self.settings.check_deliverability)
