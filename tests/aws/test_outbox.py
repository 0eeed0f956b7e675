"""Local runs keep a copy of every email SES accepted: the raw .eml and a readable .html."""

from __future__ import annotations

import email
from email.policy import default
from pathlib import Path
from typing import Any

import pytest

from chalicelib.mail import Email, MailError, OutboxMailer


class FakeSes:
    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.sent: list[bytes] = []

    def send(self, message: Email) -> str:
        if self.fail:
            raise MailError("SES is down")
        self.sent.append(message.raw)
        return "msg-1"


MESSAGE = Email(
    sender="Vigor <leads@example.com>",
    to=("sales@example.com",),
    subject="Inquiry from 张伟",
    text="hello",
    html="<p>hello</p>",
)


def test_accepted_email_is_written_exactly_as_sent(tmp_path: Path, capsys: Any) -> None:
    ses = FakeSes()
    assert OutboxMailer(ses, str(tmp_path)).send(MESSAGE) == "msg-1"
    (eml,) = tmp_path.glob("*.eml")
    (html,) = tmp_path.glob("*.html")
    assert eml.read_bytes() == ses.sent[0]
    assert html.read_text(encoding="utf-8") == "<p>hello</p>"
    assert email.message_from_bytes(eml.read_bytes(), policy=default)["Subject"] == MESSAGE.subject
    assert "outbox:" in capsys.readouterr().out


def test_refused_email_is_not_written(tmp_path: Path) -> None:
    with pytest.raises(MailError):
        OutboxMailer(FakeSes(fail=True), str(tmp_path)).send(MESSAGE)
    assert list(tmp_path.iterdir()) == []
