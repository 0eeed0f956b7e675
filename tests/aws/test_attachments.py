"""Attachments (chalicelib/attachments): a presigned POST per file, the browser's upload
straight to S3 (moto), the checks when the inquiry names the files, the sales email with
the files attached or linked, the download links, erasure — and their AWS call budgets."""

from __future__ import annotations

import base64
import csv
import json
import zipfile
from io import BytesIO
from typing import Any

import boto3
import pytest
import requests

from chalicelib.attachments.kinds import MAX_FILE_BYTES
from tests.conftest import REGION, SITE, lead_items, post_json, sent_emails
from tests.data import BUYER

BUCKET = "vigor-leads-test-uploads"
KEY = "/vigor-leads/test/link-key"
LINKS = {"LINK_KEY": f"ssm:{KEY}", "PUBLIC_API_URL": "https://api.example.com/api"}


def presign(api: Any, filename: str, size: int, content_type: str = "", **extra: Any) -> Any:
    body = {"filename": filename, "content_type": content_type, "size": size, **extra}
    return api.http.post(
        "/uploads",
        body=json.dumps(body),
        headers={"Content-Type": "application/json", "Origin": SITE},
    )


def upload_file(api: Any, filename: str, data: bytes, declared: int | None = None) -> Any:
    """What the browser does: ask for a presigned POST, then POST the file to S3 with it."""
    answer = presign(api, filename, declared or len(data))
    assert answer.status_code == 201, answer.json_body
    post = answer.json_body["upload"]
    sent = requests.post(post["url"], data=post["fields"], files={"file": (filename, data)})
    assert sent.status_code in (200, 201, 204), sent.text
    return answer.json_body


def ooxml(first_entry: str) -> bytes:
    out = BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(first_entry, "<Types/>")
        archive.writestr("word/document.xml", "<document/>")
    return out.getvalue()


# One tiny file of each allowed type, as its first bytes prove it.
SAMPLES = {
    "photo.jpg": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 40,
    "label.png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 40,
    "part.webp": b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 40,
    "iphone.heic": b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 20,
    "drawing.pdf": b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n",
    "parts list.xlsx": ooxml("[Content_Types].xml"),
    "old list.xls": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 56,
    "报价单.csv": "零件号,数量\n04465-33450,200\n".encode(),
    "spec.docx": ooxml("[Content_Types].xml"),
    "bracket.dwg": b"AC1032\x00\x00\x00\x00\x00" + b"\x00" * 40,
    "bracket.dxf": b"  0\nSECTION\n  2\nHEADER\n  0\nENDSEC\n  0\nEOF\n",
    "shaft.step": b"ISO-10303-21;\nHEADER;\nFILE_DESCRIPTION((''),'2;1');\nENDSEC;\n",
    "shaft.igs": (b"IGES file".ljust(72) + b"S      1\n") * 2,
}


@pytest.fixture
def links(aws: None) -> dict[str, str]:
    """The settings of signed links, with the key `provision` creates."""
    from admin.keys import ensure_link_key

    ensure_link_key(boto3.client("ssm", region_name=REGION), KEY)
    return LINKS


@pytest.fixture
def api(make_client: Any, links: dict[str, str]) -> Any:
    return make_client(**links)


def submit(api: Any, ids: list[str], **headers: str) -> Any:
    return post_json(api, {**BUYER, "attachments": ids}, Origin=SITE, **headers)


# ---- POST /uploads ------------------------------------------------------------------------


def test_presign_answers_a_policy_that_pins_key_size_type_and_expiry(
    api: Any, counter: Any
) -> None:
    counter.reset()
    answer = presign(api, "Bremsbeläge 04465.pdf", 2048, "application/pdf")
    assert answer.status_code == 201
    assert counter.calls == ["dynamodb.UpdateItem"]  # the rate counter; signing is local
    body = answer.json_body
    assert body["max_bytes"] == MAX_FILE_BYTES == 10 * 1024 * 1024
    assert len(body["id"]) == 32 and body["id"] not in json.dumps(body["upload"]["url"])
    fields = body["upload"]["fields"]
    assert fields["key"] == f"uploads/{body['id']}"  # the server's key, never the name
    assert fields["x-amz-algorithm"] == "AWS4-HMAC-SHA256"
    policy = json.loads(base64.b64decode(fields["policy"]))
    conditions = policy["conditions"]
    assert ["content-length-range", 1, MAX_FILE_BYTES] in conditions
    assert {"Content-Type": "application/pdf"} in conditions
    assert {"key": fields["key"]} in conditions and {"bucket": BUCKET} in conditions
    assert {"Content-Disposition": fields["Content-Disposition"]} in conditions
    assert fields["Content-Disposition"].startswith("attachment; filename*=UTF-8''Bremsbel")
    assert policy["expiration"].startswith(body["expires_at"][:16])  # ten minutes


BAD_DECLARATIONS = [
    ({"filename": "setup.exe", "size": 10}, "filename"),
    ({"filename": "page.html", "size": 10}, "filename"),
    ({"filename": "parts.zip", "size": 10}, "filename"),
    ({"filename": "../../etc/passwd.pdf", "size": 10}, "filename"),
    # shown to sales as "photofdp.exe"; and a name S3's 2 KB of metadata cannot hold
    ({"filename": "photo\u202eexe.pdf", "size": 10}, "filename"),
    ({"filename": "刹车片" * 80 + ".pdf", "size": 10}, "filename"),
    ({"filename": "drawing.pdf", "content_type": "text/html", "size": 10}, "content_type"),
    ({"filename": "drawing.pdf", "size": MAX_FILE_BYTES + 1}, "size"),
    ({"filename": "drawing.pdf", "size": "10"}, "size"),
]


def test_a_bad_declaration_is_a_422_naming_the_field(api: Any, counter: Any) -> None:
    counter.reset()
    for declared, field in BAD_DECLARATIONS:
        answer = api.http.post(
            "/uploads", body=json.dumps(declared), headers={"Content-Type": "application/json"}
        )
        assert answer.status_code == 422, declared
        assert list(answer.json_body["error"]["fields"]) == [field], declared
    assert counter.calls == []  # refused before the rate counter


def test_uploads_keep_the_inquiries_origin_check_rate_limit_and_preflight(
    make_client: Any,
) -> None:
    api = make_client(RATE_LIMIT_PER_IP_PER_HOUR="2")
    foreign = api.http.post(
        "/uploads",
        body=json.dumps({"filename": "a.pdf", "size": 5}),
        headers={"Content-Type": "application/json", "Origin": "https://evil.example"},
    )
    assert foreign.status_code == 403
    assert presign(api, "a.pdf", 5).status_code == 201
    assert post_json(api, BUYER).status_code == 201  # the same per-IP counter
    limited = presign(api, "a.pdf", 5)
    assert limited.status_code == 429 and limited.headers["Retry-After"]
    preflight = api.http.request(
        method="OPTIONS",
        path="/uploads",
        headers={"Origin": SITE, "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Methods"] == "POST"


def test_without_a_bucket_uploads_are_a_404_and_attachments_a_422(make_client: Any) -> None:
    api = make_client(UPLOADS_BUCKET="")
    assert presign(api, "a.pdf", 5).json_body["error"]["code"] == "uploads_not_enabled"
    refused = submit(api, ["0" * 32])
    assert refused.status_code == 422 and "attachments" in refused.json_body["error"]["fields"]


# ---- submit: the checks ---------------------------------------------------------------


def test_every_allowed_type_is_attached_to_the_sales_email(api: Any, settings: Any) -> None:
    names = list(SAMPLES)
    for start in range(0, len(names), 5):  # at most five files per inquiry
        batch = names[start : start + 5]
        ids = [upload_file(api, name, SAMPLES[name])["id"] for name in batch]
        assert submit(api, ids).status_code == 201
    mails = [m for m in sent_emails() if m["To"] == "sales@vigorautomobile.com"]
    attached = {
        part.get_filename(): part.get_payload(decode=True)
        for mail in mails
        for part in mail.iter_attachments()
    }
    assert attached == SAMPLES
    files = [f["filename"] for item in lead_items(settings) for f in item["attachments"]]
    assert sorted(files) == sorted(names)
    s3 = boto3.client("s3", region_name=REGION)
    kept = s3.list_objects_v2(Bucket=BUCKET, Prefix="leads/")["KeyCount"]
    assert kept == len(names)  # copied under their leads, kept as long as the leads


RENAMED = [
    ("photo.jpg", b"MZ\x90\x00" + b"\x00" * 60, "executable"),
    ("quote.pdf", b"#!/bin/sh\nrm -rf /\n", "executable"),
    ("parts.xlsx", ooxml("evil.exe"), "not an Excel workbook"),
    ("parts.csv", b"<!DOCTYPE html><script>alert(1)</script>", "web page"),
    ("old.xls", b"PK\x03\x04" + b"\x00" * 60, "ZIP archive"),
]


def test_a_renamed_file_is_refused_naming_it_and_nothing_is_taken(api: Any, settings: Any) -> None:
    good = upload_file(api, "drawing.pdf", SAMPLES["drawing.pdf"])["id"]
    for filename, data, says in RENAMED:
        bad = upload_file(api, filename, data)["id"]
        answer = submit(api, [good, bad])
        assert answer.status_code == 422, filename
        assert list(answer.json_body["error"]["fields"]) == ["attachments[1]"]
        assert says in answer.json_body["error"]["fields"]["attachments[1]"], filename
    assert lead_items(settings) == [] and sent_emails() == []


def test_an_object_over_10_mb_is_refused_though_s3_stored_it(api: Any) -> None:
    # moto does not enforce the policy's content-length-range: the server checks the size
    data = b"%PDF-1.7\n" + b"0" * (MAX_FILE_BYTES - 8)
    big = upload_file(api, "scan.pdf", data, declared=1000)["id"]
    answer = submit(api, [big])
    assert answer.status_code == 422
    assert "larger than 10 MB" in answer.json_body["error"]["fields"]["attachments[0]"]


def test_a_sixth_file_a_missing_one_and_a_foreign_one_are_refused(
    api: Any, monkeypatch: pytest.MonkeyPatch, counter: Any
) -> None:
    from chalice.local import LambdaEventConverter

    six = [f"{n:032x}" for n in range(6)]
    counter.reset()
    answer = submit(api, six)
    assert answer.json_body["error"]["fields"] == {"attachments": "must be at most 5 files"}
    assert counter.calls == []  # refused before any AWS call
    never_uploaded = presign(api, "a.pdf", 9).json_body["id"]
    answer = submit(api, [never_uploaded])
    assert "was not found" in answer.json_body["error"]["fields"]["attachments[0]"]
    answer = post_json(api, {**BUYER, "locale": "zh", "attachments": [never_uploaded]})
    in_chinese = answer.json_body["error"]["fields"]
    assert in_chinese == {"attachments[0]": "第 1 个附件未找到，请重新上传。"}
    theirs = upload_file(api, "drawing.pdf", SAMPLES["drawing.pdf"])["id"]
    monkeypatch.setattr(LambdaEventConverter, "LOCAL_SOURCE_IP", "198.51.100.7")
    answer = submit(api, [theirs])
    assert answer.status_code == 422
    assert "someone else" in answer.json_body["error"]["fields"]["attachments[0]"]


def test_refused_file_checks_count_against_the_per_ip_limit(
    make_client: Any, settings: Any
) -> None:
    """Else one good upload named beside a missing id has S3 read it (up to 10 MB) on every
    request, without bound: each refusal is not a lead, so admission never counts it."""
    api = make_client(RATE_LIMIT_PER_IP_PER_HOUR="3")
    good = upload_file(api, "drawing.pdf", SAMPLES["drawing.pdf"])["id"]  # counted: 1
    answers = [submit(api, [good, "f" * 32]).status_code for _ in range(3)]
    assert answers == [422, 422, 429]
    assert lead_items(settings) == [] and sent_emails() == []


# ---- the sales email: files or links; the links ------------------------------------------


def test_files_over_the_mail_limit_are_signed_links_to_a_fresh_download(
    make_client: Any, links: dict[str, str], clock: Any, counter: Any, faults: Any
) -> None:
    import re

    from admin.keys import rotate_link_key

    api = make_client(**links)
    six_mb = [b"%PDF-1.7\n" + bytes([48 + n]) * (6 * 2**20) for n in (1, 2)]
    ids = [upload_file(api, f"scan {n}.pdf", data)["id"] for n, data in enumerate(six_mb)]
    counter.reset()
    assert submit(api, ids).status_code == 201
    # one read of the one link key (current and previous) for the action and download links
    assert [c for c in counter.calls if c.startswith("ssm.")] == ["ssm.GetParameters"]
    (mail,) = sent_emails()
    assert [part.get_filename() for part in mail.iter_attachments()] == ["scan 0.pdf"]
    text = mail.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    found = re.search(r"scan 1\.pdf .*: https://api\.example\.com/api(/attachments/\S+)", text)
    assert found, text
    link = found.group(1)
    counter.reset()
    answer = api.http.get(link)
    assert answer.status_code == 302 and counter.calls == []
    assert requests.get(answer.headers["Location"]).content == six_mb[1]
    tampered = link[:-1] + ("A" if link[-1] != "A" else "B")
    assert api.http.get(tampered).status_code == 403
    assert api.http.get(link.replace("/2?", "/1?")).status_code == 403  # another file
    action = re.search(r"https://api\.example\.com/api/leads/(\w+)/actions/won\?\S*sig=(\S+)", text)
    assert action, text
    lead_id, action_sig = action.groups()
    replayed = re.sub(r"sig=\S+", f"sig={action_sig}", link)  # an action link's signature
    assert f"/attachments/{lead_id}/2?" in replayed and api.http.get(replayed).status_code == 403
    # a download link lives as long as its lead: it survives one rotation of the key ...
    ssm = boto3.client("ssm", region_name=REGION)
    rotate_link_key(ssm, KEY)
    clock.advance(301)  # (a warm instance re-reads the keys, at most every 5 minutes)
    assert api.http.get(link).status_code == 302
    assert make_client(**links).http.get(link).status_code == 302  # a cold one
    rotate_link_key(ssm, KEY)  # ... not two (README, "Signed links")
    assert make_client(**links).http.get(link).status_code == 403
    faults.fail("ssm.GetParameters", "server")  # the key unreadable: not refused, retry
    unread = make_client(**links).http.get(link)
    assert unread.status_code == 503 and unread.headers["Retry-After"]
    faults.heal()
    clock.advance(731 * 86400)  # the lead (and its files) are gone by then
    assert api.http.get(link).json_body["error"]["code"] == "link_expired"


def test_the_no_js_form_page_sends_the_files_and_the_source_again(api: Any) -> None:
    """A 422 page (a browser without JavaScript) keeps the hidden fields the site's form had:
    the corrected form sent from it carries the same files and where the visitor came from;
    a hidden value that was refused is left out (the visitor could not correct it)."""
    import re
    from html import unescape

    from tests.conftest import body_of, post_form

    upload = upload_file(api, "photo.jpg", SAMPLES["photo.jpg"])["id"]
    source = [("utm_source", "google"), ("utm_campaign", "brake-pads-eu"), ("gclid", "Cj0K")]
    typed = [(k, v) for k, v in BUYER.items() if k != "email"] + [("email", "buyer@example")]
    browser = {"Accept": "text/html", "Origin": "http://localhost", "Host": "localhost"}
    sent = [*typed, *source, ("landing_page", "javascript:x"), ("attachments", upload)]
    page = post_form(api, sent, **browser)
    assert page.status_code == 422
    html = page.body.decode("utf-8")
    inputs = re.findall(r'<input [^>]*name="([^"]+)"[^>]*value="([^"]*)"', html)
    inputs += re.findall(r'<textarea [^>]*name="([^"]+)"[^>]*>([^<]*)</textarea>', html)
    again = [(name, unescape(value)) for name, value in inputs]
    assert [*source, ("attachments", upload)] == [p for p in again if p in sent[-5:]]
    assert "landing_page" not in dict(again)  # refused: sending it again would fail again
    corrected = [(k, BUYER["email"] if k == "email" else v) for k, v in again]
    assert post_form(api, corrected, **browser).status_code == 201
    (mail,) = sent_emails()
    assert [part.get_filename() for part in mail.iter_attachments()] == ["photo.jpg"]
    assert "utm_source=google · utm_campaign=brake-pads-eu · gclid=Cj0K" in body_of(mail, "plain")


def test_a_retried_email_carries_the_same_files(api: Any, faults: Any, clock: Any) -> None:
    from chalicelib.inquiries.retry import retry_pending

    upload = upload_file(api, "photo.jpg", SAMPLES["photo.jpg"])
    faults.fail("sesv2.SendEmail", "throttle")
    assert submit(api, [upload["id"]]).status_code == 201
    assert sent_emails() == []
    faults.heal()
    clock.advance(3600)
    runtime = api.runtime
    assert retry_pending(runtime.leads, runtime.inquiries, runtime.clock).sent == 1
    (mail,) = sent_emails()
    (part,) = mail.iter_attachments()
    assert (part.get_filename(), part.get_payload(decode=True)) == (
        "photo.jpg",
        SAMPLES["photo.jpg"],
    )


def test_erase_deletes_the_files_and_show_and_export_list_them(
    dev: None, manage: Any, tmp_path: Any
) -> None:
    from chalice.test import Client

    from admin.stages import stage_environment
    from chalicelib.bootstrap import create_app
    from chalicelib.runtime import Runtime
    from chalicelib.settings import Settings

    env = {**stage_environment("dev"), "ALLOWED_ORIGINS": SITE}
    with Client(create_app(Runtime(Settings.from_env(env)))) as api:
        ids = [upload_file(api, name, SAMPLES[name])["id"] for name in ("photo.jpg", "报价单.csv")]
        lead_id = submit(api, ids).json_body["id"]
    shown = manage("leads", "show", lead_id, "--stage", "dev")
    assert f"    photo.jpg (image/jpeg, {len(SAMPLES['photo.jpg'])} bytes)" in shown.out
    assert "报价单.csv (text/csv" in shown.out
    out = tmp_path / "leads.jsonl"
    exported = manage("leads", "export", "--format", "jsonl", "-o", str(out), "--stage", "dev")
    assert exported.code == 0
    (row,) = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [f["name"] for f in row["attachments"]] == ["photo.jpg", "报价单.csv"]
    table = tmp_path / "leads.csv"
    assert manage("leads", "export", "-o", str(table), "--stage", "dev").code == 0
    with table.open(encoding="utf-8-sig", newline="") as rows:
        (cells,) = csv.DictReader(rows)
    photo, sheet = cells["attachments"].split("\n")  # a line per file, as `leads show`
    assert photo == f"photo.jpg (image/jpeg, {len(SAMPLES['photo.jpg'])} bytes)"
    assert sheet.startswith("报价单.csv (text/csv")
    s3 = boto3.client("s3", region_name=REGION)
    bucket = env["UPLOADS_BUCKET"]
    assert s3.list_objects_v2(Bucket=bucket, Prefix=f"leads/{lead_id}/")["KeyCount"] == 2
    erased = manage("leads", "erase", "--email", BUYER["email"], "--stage", "dev")
    assert f"deleted lead {lead_id} and its 2 files" in erased.out
    assert s3.list_objects_v2(Bucket=bucket, Prefix="leads/")["KeyCount"] == 0


def test_s3_failures_refuse_before_and_never_lose_a_lead_after(
    api: Any, faults: Any, clock: Any, settings: Any, counter: Any
) -> None:
    from chalicelib.inquiries.retry import retry_pending

    photo = upload_file(api, "photo.jpg", SAMPLES["photo.jpg"])["id"]
    faults.fail("s3.GetObject", "server")  # the files cannot be checked: nothing taken, 503
    refused = submit(api, [photo])
    assert refused.status_code == 503 and refused.headers["Retry-After"]
    assert lead_items(settings) == []
    faults.heal()
    faults.fail("s3.CopyObject", "server")  # taken, not kept under the lead: still mailed
    assert submit(api, [photo]).status_code == 201
    (mail,) = sent_emails()
    assert [p.get_filename() for p in mail.iter_attachments()] == ["photo.jpg"]
    faults.heal()
    faults.fail("sesv2.SendEmail", "throttle")  # the first email fails ...
    assert submit(api, [photo]).status_code == 201
    faults.heal()
    faults.fail("s3.GetObject", "server")  # ... and the retry cannot read the file: a link
    clock.advance(3600)
    runtime = api.runtime
    assert retry_pending(runtime.leads, runtime.inquiries, runtime.clock).sent == 1
    retried = sent_emails()[-1]
    assert list(retried.iter_attachments()) == []
    text = retried.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "photo.jpg (image/jpeg, 51 bytes): https://api.example.com/api/attachments/" in text
    # a bot's files are never looked at: the honeypot answers 201 without any S3 call
    faults.heal()
    counter.reset()
    bot = post_json(api, {**BUYER, "website": "x", "attachments": ["f" * 32]}, Origin=SITE)
    assert bot.status_code == 201 and not [c for c in counter.calls if c.startswith("s3.")]


def test_the_bucket_is_private_encrypted_and_cleans_up_after_itself(aws: None) -> None:
    s3 = boto3.client("s3", region_name=REGION)
    block = s3.get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"]
    assert all(block.values()) and len(block) == 4
    (encryption,) = s3.get_bucket_encryption(Bucket=BUCKET)["ServerSideEncryptionConfiguration"][
        "Rules"
    ]
    assert encryption["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    (cors,) = s3.get_bucket_cors(Bucket=BUCKET)["CORSRules"]
    assert cors["AllowedMethods"] == ["POST"]
    assert cors["AllowedOrigins"] == ["https://www.vigorautomobile.com"]  # the stage's origins
    rules = {
        rule["Prefix"]: rule["Expiration"]["Days"]
        for rule in s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]
    }
    assert rules == {"uploads/": 1, "leads/": 731}  # a day; LEAD_RETENTION_DAYS + 1
