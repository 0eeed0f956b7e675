"""The allow-list of attachment types, and how a file's first bytes prove its type.

A file is accepted only when its name's extension, its declared content type and its first
bytes (SNIFF_BYTES, read from S3 at submit time) agree on one kind below. Executables,
scripts, archives and HTML never are: no kind admits them, and they are named as such.
"""

from __future__ import annotations

import codecs
import re
import struct
from dataclasses import dataclass

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_TOTAL_BYTES = 20 * 1024 * 1024
MAX_FILES = 5
SNIFF_BYTES = 128  # enough for every signature below (IGES: column 73 of the first line)
# Browsers say this (or nothing) for types they do not know (DWG, STEP...): the kind's own
# content type is used instead.
UNKNOWN_TYPES = ("", "application/octet-stream")


@dataclass(frozen=True)
class Kind:
    name: str  # as a sentence names it: "a JPEG image"
    extensions: tuple[str, ...]
    content_types: tuple[str, ...]  # the first is the one the object is stored with


OOXML_SHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
OOXML_DOC = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
KINDS = (
    Kind("a JPEG image", (".jpg", ".jpeg"), ("image/jpeg", "image/pjpeg")),
    Kind("a PNG image", (".png",), ("image/png",)),
    Kind("a WebP image", (".webp",), ("image/webp",)),
    Kind("a HEIC image", (".heic", ".heif"), ("image/heic", "image/heif")),
    Kind("a PDF document", (".pdf",), ("application/pdf",)),
    Kind("an Excel workbook (XLSX)", (".xlsx",), (OOXML_SHEET,)),
    Kind("an Excel 97-2003 workbook (XLS)", (".xls",), ("application/vnd.ms-excel",)),
    Kind("a CSV table", (".csv",), ("text/csv", "application/vnd.ms-excel", "text/plain")),
    Kind("a Word document (DOCX)", (".docx",), (OOXML_DOC,)),
    Kind("a DWG drawing", (".dwg",), ("image/vnd.dwg", "application/acad", "application/x-dwg")),
    Kind("a DXF drawing", (".dxf",), ("image/vnd.dxf", "application/dxf", "image/x-dxf")),
    Kind("a STEP model", (".step", ".stp"), ("model/step", "application/step")),
    Kind("an IGES model", (".iges", ".igs"), ("model/iges", "application/iges")),
)
ALLOWED_EXTENSIONS = tuple(ext for kind in KINDS for ext in kind.extensions)

_HEIC_BRANDS = (b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1")
_OOXML_FIRST_ENTRIES = ("[Content_Types].xml", "_rels/", "docProps/", "xl/", "word/")
_HTML = re.compile(rb"^\s*<(!doctype|html|head|body|script|svg|\?xml|iframe)", re.I)
_EXECUTABLES = (
    b"MZ",  # Windows PE / DOS
    b"\x7fELF",
    b"\xfe\xed\xfa\xce",  # Mach-O, both byte orders, 32 and 64 bits, and universal
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",
    b"#!",
)


def kind_of(filename: str) -> Kind | None:
    """The kind the file name's extension names, or None when it is not on the list."""
    lowered = filename.lower()
    for kind in KINDS:
        if lowered.endswith(kind.extensions):
            return kind
    return None


def stored_type(kind: Kind, declared: str) -> str | None:
    """The content type the object is stored with, or None when `declared` contradicts the
    extension (a .pdf declared as text/html)."""
    declared = declared.strip().lower()
    if declared in UNKNOWN_TYPES:
        return kind.content_types[0]
    return declared if declared in kind.content_types else None


def refusal(kind: Kind, head: bytes) -> str | None:
    """What is wrong with a file of this declared kind starting with `head`; None: fine."""
    if head.startswith(_EXECUTABLES):
        return "is an executable program or script, which is not accepted"
    if _HTML.match(head.removeprefix(codecs.BOM_UTF8)):
        return "is a web page (HTML), which is not accepted"
    if head.startswith(b"PK\x03\x04") and kind.extensions[0] not in (".xlsx", ".docx"):
        return "is a ZIP archive, which is not accepted"
    if not _looks_like(kind, head):
        return f"is not {kind.name} as its name says"
    return None


def _looks_like(kind: Kind, head: bytes) -> bool:
    extension = kind.extensions[0]
    if extension == ".jpg":
        return head.startswith(b"\xff\xd8\xff")
    if extension == ".png":
        return head.startswith(b"\x89PNG\r\n\x1a\n")
    if extension == ".webp":
        return head[:4] == b"RIFF" and head[8:12] == b"WEBP"
    if extension == ".heic":
        return head[4:8] == b"ftyp" and head[8:12] in _HEIC_BRANDS
    if extension == ".pdf":
        return head.startswith(b"%PDF-")
    if extension in (".xlsx", ".docx"):
        return _ooxml(head)
    if extension == ".xls":
        return head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")
    if extension == ".dwg":
        return head.startswith(b"AC10") or head.startswith(b"AC1.")
    if extension == ".step":
        return _text(head) is not None and head.lstrip().startswith(b"ISO-10303-21")
    text = _text(head)
    if text is None:
        return extension == ".dxf" and head.startswith(b"AutoCAD Binary DXF\r\n\x1a\x00")
    if extension == ".dxf":  # group code 0 (SECTION) or 999 (a comment) first
        return text.lstrip().split(None, 1)[:1] in (["0"], ["999"])
    if extension == ".iges":  # 80-column records, the first of the Start section
        first = text.split("\n", 1)[0].rstrip("\r")
        return len(text) < 73 or (len(first) >= 73 and first[72] in "SG")
    return True  # CSV: any UTF-8 text without NUL


def _text(head: bytes) -> str | None:
    """The bytes as UTF-8 text (a character cut at the end is fine), or None."""
    if b"\x00" in head:
        return None
    try:
        return codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return None


def _ooxml(head: bytes) -> bool:
    """A ZIP whose first entry is an Office Open XML part, not any ZIP archive."""
    if not head.startswith(b"PK\x03\x04") or len(head) < 30:
        return False
    (name_length,) = struct.unpack_from("<H", head, 26)
    name = head[30 : 30 + name_length].decode("ascii", "replace")
    return name.startswith(_OOXML_FIRST_ENTRIES)
