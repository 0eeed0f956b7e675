"""Leads as CSV (opens cleanly in Excel) or JSON Lines, written as the Query pages arrive.

Memory stays constant: one page of leads at a time, each row written before the next page
is read. CSV is UTF-8 with a byte-order mark (so Excel reads Chinese correctly), one header
row, CRLF row endings, and quoting from the csv module — a message with line breaks stays
one cell and reads back unchanged with csv.reader. A cell that starts with = + - @ or a tab
is prefixed with a single quote so that Excel shows it instead of running it as a formula
(visitors write these cells). JSON Lines is exact: one lead per line, UTF-8, no escaping.

The line items (Inquiry.rows: the `items` sent, or the single product/quantity as one row)
are an array of objects in JSON Lines and one readable cell in CSV, a line per row:
`200 pcs × 04465-33450 (brake pads) @ 12.50 USD` (every value of the row; JSON Lines has
them exactly). So are the attachments: a line per file in CSV, `photo.jpg (image/jpeg,
48213 bytes)`.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from typing import Any, TextIO

from chalicelib.leads.model import SOURCE_FIELDS, Lead

FORMATS = ("csv", "jsonl")
COLUMNS = (
    "id",
    "received_at",
    "status",
    "sales_status",
    "owner",
    "score",
    "score_reasons",
    "first_reply_at",
    "spam",
    "name",
    "email",
    "phone",
    "company",
    "country",
    "product",
    "quantity",
    "items",
    "incoterm",
    "destination_port",
    "whatsapp",
    "wechat",
    "message",
    "page",
    "locale",
    "notify_attempts",
    "notified_at",
    "ack",
    "last_error",
    "captcha",
    "held_back",
    "updated_at",
    "expires_at",
    "attachments",  # [{"name", "type", "size"}]; in CSV a line per file
    *SOURCE_FIELDS,
    "history",
)
BOM = "\ufeff"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def public(lead: Lead) -> dict[str, Any]:
    """A lead as exported: the known columns in order (times in ISO 8601 UTC)."""
    record = {**lead.record(), **lead.source}  # the source's fields as columns of their own
    row = {name: record.get(name) for name in COLUMNS}
    row["items"] = [item.as_dict() for item in lead.inquiry.rows]
    return row


def csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):  # score reasons, history: one per line within the cell
        value = "\n".join(str(item) for item in value)
    if isinstance(value, dict):
        value = json.dumps(value, ensure_ascii=False)
    text = str(value)
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text


class Progress:
    """Tells the admin on stderr how far the export is; a bare count when not a terminal."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._tty = bool(getattr(stream, "isatty", lambda: False)())
        self._month: str | None = None
        self._in_month = 0
        self.total = 0

    def page(self, month: str, rows: int) -> None:
        if month != self._month:
            self._end_month()
            self._month, self._in_month = month, 0
        self._in_month += rows
        self.total += rows
        if self._tty:
            self._stream.write(f"\r  {self._month}: {self._in_month} leads ({self.total} in all)")
            self._stream.flush()

    def done(self) -> None:
        self._end_month()

    def _end_month(self) -> None:
        if self._month is None:
            return
        if self._tty:
            self._stream.write("\n")
        else:
            self._stream.write(f"  {self._month}: {self._in_month} leads\n")
        self._stream.flush()


def write_export(
    pages: Iterable[tuple[str, list[Lead]]],
    out: TextIO,
    fmt: str,
    progress: Progress | None = None,
) -> int:
    """Write every page's leads to `out` (opened with newline=""); returns how many."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    count = 0
    writer = None
    if fmt == "csv":
        out.write(BOM)
        writer = csv.writer(out, dialect="excel", lineterminator="\r\n")
        header: list[str] = list(COLUMNS)
        writer.writerow(header)
    for month, page in pages:
        for lead in page:
            row = public(lead)
            if writer is not None:
                row["items"] = "\n".join(item.summary() for item in lead.inquiry.rows)
                row["attachments"] = "\n".join(file.line() for file in lead.attachments)
                writer.writerow([csv_cell(row.get(name)) for name in header])
            else:
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
        out.flush()
        count += len(page)
        if progress is not None:
            progress.page(month, len(page))
    if progress is not None:
        progress.done()
    return count
