"""The uploads bucket: the one module that knows its keys and the S3 calls made on it.

Keys:
  uploads/<upload id>        what a browser uploaded through a presigned POST; the bucket's
                             lifecycle rule deletes it a day later, attached or not
  leads/<lead id>/<n>        the n-th file (1-based) of a lead, copied there once the lead
                             is taken; kept as long as leads are (LEAD_RETENTION_DAYS)

Each upload carries, set by the presigned POST's policy (the browser cannot change them):
its Content-Type, a Content-Disposition naming the file (so a download is a download), and
two metadata entries: `filename` (percent-encoded UTF-8) and `client` (a digest of the
uploading client's address: an upload id is only accepted from the client that asked for it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote

from chalicelib.aws import error_code

UPLOADS_PREFIX = "uploads/"
LEADS_PREFIX = "leads/"


class UploadMissing(LookupError):
    """No such upload (never uploaded, expired, or a made-up id)."""


@dataclass(frozen=True)
class Fetched:
    """An upload as S3 answered a GET: its headers and the first bytes, and, when asked
    for, the whole content."""

    size: int
    content_type: str
    filename: str
    client: str
    head: bytes
    data: bytes | None  # the whole file, or None when it was not read


def upload_key(upload_id: str) -> str:
    return UPLOADS_PREFIX + upload_id


def lead_file_key(lead_id: str, number: int) -> str:
    return f"{LEADS_PREFIX}{lead_id}/{number}"


def content_disposition(filename: str) -> str:
    """attachment; filename*=UTF-8''... (RFC 6266/5987): ASCII whatever the name."""
    return f"attachment; filename*=UTF-8''{quote(filename, safe='')}"


class UploadsBucket:
    def __init__(self, s3: Any, bucket: str) -> None:
        self._s3 = s3
        self._bucket = bucket

    @property
    def name(self) -> str:
        return self._bucket

    def presigned_post(
        self,
        upload_id: str,
        filename: str,
        content_type: str,
        client: str,
        max_bytes: int,
        expires_in: int,
    ) -> dict[str, Any]:
        """{"url", "fields"} for a browser's multipart POST: signed locally, no AWS call."""
        fields = {
            "Content-Type": content_type,
            "Content-Disposition": content_disposition(filename),
            "x-amz-meta-filename": quote(filename, safe=""),
            "x-amz-meta-client": client,
        }
        conditions: list[Any] = [{name: value} for name, value in fields.items()]
        conditions.append(["content-length-range", 1, max_bytes])
        answer = self._s3.generate_presigned_post(
            self._bucket,
            upload_key(upload_id),
            Fields=fields,
            Conditions=conditions,
            ExpiresIn=expires_in,
        )
        return dict(answer)

    def fetch(self, key: str, whole: Callable[[int], bool], head_bytes: int) -> Fetched:
        """One GET: the object's headers and first `head_bytes`; the rest is read only when
        `whole(size)` says so (else the stream is closed). UploadMissing when there is none."""
        try:
            answer = self._s3.get_object(Bucket=self._bucket, Key=key)
        except Exception as exc:
            if error_code(exc) in ("NoSuchKey", "404", "NotFound"):
                raise UploadMissing(key) from None
            raise
        body = answer["Body"]
        size = int(answer["ContentLength"])
        try:
            head = body.read(head_bytes)
            data = head + body.read() if whole(size) else None
        finally:
            body.close()
        metadata = answer.get("Metadata") or {}
        return Fetched(
            size=size,
            content_type=str(answer.get("ContentType") or ""),
            filename=unquote(str(metadata.get("filename") or "")),
            client=str(metadata.get("client") or ""),
            head=head,
            data=data,
        )

    def read(self, key: str) -> bytes:
        return self.fetch(key, lambda size: True, 0).data or b""

    def copy(self, source: str, target: str) -> None:
        """Server-side copy, metadata and headers included (one CopyObject)."""
        self._s3.copy_object(
            Bucket=self._bucket, Key=target, CopySource={"Bucket": self._bucket, "Key": source}
        )

    def presigned_get(self, key: str, expires_in: int) -> str:
        """A short-lived download URL, signed locally (no AWS call)."""
        return str(
            self._s3.generate_presigned_url(
                "get_object", Params={"Bucket": self._bucket, "Key": key}, ExpiresIn=expires_in
            )
        )

    def delete(self, keys: list[str]) -> None:
        """Delete these objects (one DeleteObjects per 1000); a missing one is no error."""
        for start in range(0, len(keys), 1000):
            batch = keys[start : start + 1000]
            self._s3.delete_objects(
                Bucket=self._bucket,
                Delete={"Objects": [{"Key": key} for key in batch], "Quiet": True},
            )
