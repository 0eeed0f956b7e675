"""A submission's files: checked before the lead is taken, attached to it after, and
carried by the sales email as files (when they fit) or as signed links.

Checking costs one S3 GET per file (the headers give existence, size, type, name and the
uploading client; the first bytes prove the type; a file that will be mailed is read whole
by the same GET), attaching one CopyObject per file: 2k calls for k files.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from chalicelib.attachments.bucket import (
    Fetched,
    UploadMissing,
    UploadsBucket,
    lead_file_key,
    upload_key,
)
from chalicelib.attachments.kinds import (
    MAX_FILE_BYTES,
    MAX_FILES,
    MAX_TOTAL_BYTES,
    SNIFF_BYTES,
    kind_of,
    refusal,
)
from chalicelib.leads.model import Attachment, Lead
from chalicelib.settings import Settings

if TYPE_CHECKING:
    from chalicelib.signing import LinkSigner

log = logging.getLogger(__name__)

# Files go into the sales email while their total stays within this (raw; base64 makes it
# 13.7 MB, well inside SES's 40 MB per message); the rest are links.
MAX_MAILED_BYTES = 10 * 1024 * 1024
DOWNLOAD_SECONDS = 300  # the presigned GET a link redirects to


class FilesUnavailable(RuntimeError):
    """The bucket (or, for a download link, the link key) could not be read now (503, retry)."""


@dataclass(frozen=True)
class Checked:
    """A submission's files, checked: what the lead records, where each upload is, and the
    content of those that will be mailed (None: a link)."""

    upload_ids: tuple[str, ...]
    files: tuple[Attachment, ...]
    contents: tuple[bytes | None, ...]


@dataclass(frozen=True)
class Enclosure:
    """One file as the sales email carries it: attached (data) or as a link (url; None when
    links cannot be made: LINK_KEY or PUBLIC_API_URL unset, or the key unreadable)."""

    file: Attachment
    data: bytes | None = None
    url: str | None = None


def client_tag(client_ip: str) -> str:
    """What an upload records of the client that asked for it (no raw address)."""
    return hashlib.sha256(f"upload-client\0{client_ip}".encode()).hexdigest()[:32]


def decoy_tag() -> str:
    """A tag no client has: a honeypot-filled request's upload can never be attached."""
    return os.urandom(16).hex()


class Attachments:
    def __init__(
        self,
        bucket: UploadsBucket,
        settings: Settings,
        signer: LinkSigner | None,
        clock: Callable[[], float],
    ) -> None:
        self._bucket = bucket
        self._settings = settings
        self._signer = signer
        self._clock = clock

    @property
    def bucket(self) -> UploadsBucket:
        return self._bucket

    # ---- at submit: check, then attach ----------------------------------------------

    def check(self, upload_ids: tuple[str, ...], client_ip: str) -> tuple[Checked, dict[str, str]]:
        """The files, and what is wrong with each bad one (`attachments[i]` -> sentence);
        FilesUnavailable when S3 cannot be read."""
        errors: dict[str, str] = {}
        if len(upload_ids) > MAX_FILES:
            return Checked((), (), ()), {"attachments": f"must be at most {MAX_FILES} files"}
        tag = client_tag(client_ip)
        files: list[Attachment] = []
        contents: list[bytes | None] = []
        mailed = total = 0
        for index, upload_id in enumerate(upload_ids):
            name = f"attachments[{index}]"
            if upload_id in upload_ids[:index]:
                errors[name] = "is the same file as an earlier one"
                continue

            room = MAX_MAILED_BYTES - mailed  # read whole only what will be mailed
            try:
                fetched = self._bucket.fetch(
                    upload_key(upload_id),
                    lambda size, room=room: size <= min(MAX_FILE_BYTES, room),  # type: ignore[misc]
                    SNIFF_BYTES,
                )
            except UploadMissing:
                errors[name] = "was not found: upload it first (an upload is kept for a day)"
                continue
            except Exception as exc:
                raise FilesUnavailable(type(exc).__name__) from exc
            problem = _problem(fetched, tag)
            if problem:
                errors[name] = problem
                continue
            total += fetched.size
            if fetched.data is not None:
                mailed += fetched.size
            files.append(Attachment(fetched.filename, fetched.content_type, fetched.size))
            contents.append(fetched.data)
        if total > MAX_TOTAL_BYTES and not errors:
            errors["attachments"] = f"must be at most {MAX_TOTAL_BYTES // 2**20} MB in all"
        return Checked(upload_ids, tuple(files), tuple(contents)), errors

    def attach(self, lead_id: str, checked: Checked) -> None:
        """Copy each upload under the lead (kept as long as the lead); a failure is logged:
        the email still carries the file when it fits, and the upload lives a day."""
        for number, upload_id in enumerate(checked.upload_ids, start=1):
            try:
                self._bucket.copy(upload_key(upload_id), lead_file_key(lead_id, number))
            except Exception as exc:
                log.error("lead %s: file %d not attached (%s)", lead_id, number, exc)

    # ---- the sales email ----------------------------------------------------------------

    def enclosures(self, lead: Lead, checked: Checked | None = None) -> list[Enclosure]:
        """Each file of the lead as attached or linked. The contents come from `checked`
        (at submit) or are read from the bucket (a retry); a file that cannot be read is a
        link: the lead reaches sales whatever S3 does."""
        found: list[Enclosure] = []
        mailed = 0
        for number, file in enumerate(lead.attachments, start=1):
            data = checked.contents[number - 1] if checked is not None else None
            if checked is None and mailed + file.size <= MAX_MAILED_BYTES:
                try:
                    data = self._bucket.read(lead_file_key(lead.id, number))
                except Exception as exc:
                    log.warning("lead %s: file %d not read, linked (%s)", lead.id, number, exc)
            if data is not None:
                mailed += len(data)
                found.append(Enclosure(file, data=data))
            else:
                found.append(Enclosure(file, url=self.link(lead, number)))
        return found

    # ---- links: GET /attachments/{lead_id}/{n}?exp=&sig= -----------------------------------

    def link(self, lead: Lead, number: int) -> str | None:
        """A download link valid as long as the lead is kept; None when none can be made."""
        base = self._settings.public_api_url
        if not base or self._signer is None:
            return None
        expires = lead.expires_at
        signature = self._signer.sign("file", lead.id, number, expires)
        if signature is None:
            return None
        query = urlencode({"exp": expires, "sig": signature})
        return f"{base}/attachments/{lead.id}/{number}?{query}"

    def download(self, lead_id: str, number: int, expires: int, signature: str) -> str | None:
        """A fresh presigned GET for a link's file; None when its signature is not ours;
        FilesUnavailable while the link key cannot be read (a valid link is not refused)."""
        if self._signer is None:
            return None
        genuine = self._signer.verify(signature, "file", lead_id, number, expires)
        if genuine is None:
            raise FilesUnavailable("link key unreadable")
        if not genuine:
            return None
        return self._bucket.presigned_get(lead_file_key(lead_id, number), DOWNLOAD_SECONDS)

    def erase(self, lead_id: str, files: int) -> None:
        """Delete a lead's files (manage.py leads erase)."""
        keys = [lead_file_key(lead_id, number) for number in range(1, files + 1)]
        if keys:
            self._bucket.delete(keys)


def _problem(fetched: Fetched, tag: str) -> str | None:
    if fetched.client != tag:
        return "was uploaded by someone else (upload ids are not transferable)"
    if fetched.size == 0:
        return "is empty"
    if fetched.size > MAX_FILE_BYTES:
        return f"is larger than {MAX_FILE_BYTES // 2**20} MB"
    kind = kind_of(fetched.filename)
    if kind is None or fetched.content_type not in kind.content_types:
        return "is not a type we accept"
    return refusal(kind, fetched.head)
