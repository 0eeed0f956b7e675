"""The baseline: the least any implementation of Vigor Leads' routes must do.

The same framework (a Chalice app, entered as `app(event, context)` as the Lambda runtime
enters it), the same AWS calls per route with the same items, keys and condition
expressions, plain boto3 with its defaults — and nothing else: no validation, no templates,
no settings object, no error shapes, no CORS, no ETag, no request log. `make bench`
measures Vigor Leads against it in the same run, on the same emulator, requests
alternating; the ratio is how far the app is from the physical limit on this machine.

Per route (exactly the calls of Vigor Leads; the bench checks that they are the same):
  GET /contact, GET /news/categories  one GetItem / Query, then answered from memory (60 s)
  GET /news[?category=&cursor=]        one Query on an index, limit + 1 items
  GET /news/{slug}                     one GetItem
  POST /inquiries                      one TransactWriteItems with the same six writes
                                       (the lead, the per-IP and per-address counters, the
                                       idempotency record, the acknowledgement marker and
                                       ceiling), SendEmail to sales and to the visitor (a
                                       multipart text + HTML message written with
                                       f-strings), one conditional UpdateItem

Why Chalice too: the app is deployed with Chalice; a baseline without it would measure the
framework, which this project does not choose per route. The same environment variables as
the app's name the tables and addresses (CONTENT_TABLE, LEADS_TABLE, SENDER_EMAIL,
SALES_EMAILS); everything else is hard-wired.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time
import uuid
from collections.abc import Mapping
from typing import Any

from chalice import Chalice, Response

CACHE_SECONDS = 60.0


def create_app(session: Any = None, env: Mapping[str, str] | None = None) -> Chalice:
    env = os.environ if env is None else env
    app = Chalice(app_name="baseline")
    content, leads = env["CONTENT_TABLE"], env["LEADS_TABLE"]
    sender, sales = env["SENDER_EMAIL"], env["SALES_EMAILS"].split(",")[0].strip()
    clients: dict[str, Any] = {}
    cache: dict[str, tuple[float, Any]] = {}

    def client(service: str) -> Any:
        if service not in clients:
            import boto3

            clients[service] = (session or boto3).client(service)
        return clients[service]

    def cached(key: str, load: Any) -> Any:
        hit = cache.get(key)
        if hit is None or time.monotonic() - hit[0] > CACHE_SECONDS:
            hit = (time.monotonic(), load())
            cache[key] = hit
        return hit[1]

    def ok(body: Any, status: int = 200) -> Response:
        return Response(body=json.dumps(body), status_code=status)

    @app.route("/contact", methods=["GET"], content_types=["*/*"])
    def contact() -> Response:
        def load() -> Any:
            key = {"pk": {"S": "CONTACT"}, "sk": {"S": "CONTACT"}}
            item = client("dynamodb").get_item(TableName=content, Key=key)["Item"]
            return {k: v.get("S") for k, v in item.items()}

        return ok(cached("contact", load))

    @app.route("/news/categories", methods=["GET"], content_types=["*/*"])
    def categories() -> Response:
        def load() -> Any:
            items = client("dynamodb").query(
                TableName=content,
                KeyConditionExpression="pk = :p",
                ExpressionAttributeValues={":p": {"S": "CATEGORY"}},
            )["Items"]
            return [{"slug": i["sk"]["S"], "name": i["name"]["S"]} for i in items]

        return ok({"items": cached("categories", load)})

    @app.route("/news", methods=["GET"], content_types=["*/*"])
    def news() -> Response:
        params = app.current_request.query_params or {}
        limit = int(params.get("limit", 10))
        category = params.get("category")
        index, key, value = "feed", "feed_pk", "NEWS"
        if category:
            index, key, value = "category_feed", "category_pk", f"NEWS#{category}"
        args: dict[str, Any] = {
            "TableName": content,
            "IndexName": index,
            "KeyConditionExpression": f"{key} = :p",
            "ExpressionAttributeValues": {":p": {"S": value}},
            "ScanIndexForward": False,
            "Limit": limit + 1,
        }
        if params.get("cursor"):
            feed_sk = base64.urlsafe_b64decode(params["cursor"] + "==").decode()
            slug = feed_sk.split("#", 1)[1]
            args["ExclusiveStartKey"] = {
                key: {"S": value},
                "feed_sk": {"S": feed_sk},
                "pk": {"S": f"ARTICLE#{slug}"},
                "sk": {"S": "ARTICLE"},
            }
        rows = client("dynamodb").query(**args)["Items"]
        page = [{k: next(iter(v.values())) for k, v in row.items()} for row in rows[:limit]]
        cursor = None
        if len(rows) > limit:
            cursor = base64.urlsafe_b64encode(page[-1]["feed_sk"].encode()).decode().rstrip("=")
        return ok({"items": page, "next_cursor": cursor})

    @app.route("/news/{slug}", methods=["GET"], content_types=["*/*"])
    def article(slug: str) -> Response:
        key = {"pk": {"S": f"ARTICLE#{slug}"}, "sk": {"S": "ARTICLE"}}
        item = client("dynamodb").get_item(TableName=content, Key=key)["Item"]
        return ok({k: next(iter(v.values())) for k, v in item.items()})

    @app.route(
        "/inquiries",
        methods=["POST"],
        content_types=["application/json", "application/x-www-form-urlencoded"],
    )
    def inquiry() -> Response:
        request = app.current_request
        fields = json.loads(request.raw_body)
        lead_id = uuid.uuid4().hex.upper()[:26]
        token = uuid.uuid4().hex
        now = int(time.time())
        window = now // 3600
        ip = request.context["identity"]["sourceIp"]
        email = fields["email"]
        received = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))
        lead = {k: {"N": str(v)} if k == "quantity" else {"S": v} for k, v in fields.items()}
        lead.update(
            pk={"S": f"LEAD#{lead_id}"},
            sk={"S": "LEAD"},
            id={"S": lead_id},
            locale={"S": "en"},
            received_at={"S": received},
            status={"S": "pending"},
            spam={"BOOL": False},
            notify_attempts={"N": "0"},
            list_pk={"S": f"LEADS#{received[:7]}"},
            list_sk={"S": lead_id},
            email_pk={"S": email.lower()},
            expires_at={"N": str(now + 730 * 86400)},
            claim_token={"S": token},
            retry_pk={"S": "PENDING"},
            retry_at={"N": str(now + 300)},
        )

        def digest(text: str) -> str:
            return hashlib.sha256(text.encode()).hexdigest()[:40]

        def counter(kind: str, subject: str) -> dict[str, Any]:
            return {
                "Update": {
                    "TableName": leads,
                    "Key": {
                        "pk": {"S": f"RATE#{kind}#{digest(subject)}"},
                        "sk": {"S": str(window)},
                    },
                    "UpdateExpression": "ADD hits :one SET expires_at = :expires",
                    "ConditionExpression": "attribute_not_exists(hits) OR hits < :limit",
                    "ExpressionAttributeValues": {
                        ":one": {"N": "1"},
                        ":limit": {"N": "1000000"},
                        ":expires": {"N": str((window + 2) * 3600)},
                    },
                }
            }

        def put(item: dict[str, Any], condition: str, **values: Any) -> dict[str, Any]:
            put = {"TableName": leads, "Item": item, "ConditionExpression": condition}
            if values:
                put["ExpressionAttributeValues"] = values
            return {"Put": put}

        key = digest(f"{ip} {request.headers.get('idempotency-key')}")
        client("dynamodb").transact_write_items(
            TransactItems=[
                put(lead, "attribute_not_exists(pk)"),
                counter("ip", ip),
                counter("email", email.lower()),
                put(
                    {
                        "pk": {"S": f"IDEMPOTENCY#{key}"},
                        "sk": {"S": "IDEMPOTENCY"},
                        "lead_id": {"S": lead_id},
                        "fingerprint": {"S": digest(request.raw_body.decode())},
                        "expires_at": {"N": str(now + 86400)},
                    },
                    "attribute_not_exists(pk) OR expires_at < :now",
                    **{":now": {"N": str(now)}},
                ),
                put(
                    {
                        "pk": {"S": f"ACK#{digest(email.lower())}"},
                        "sk": {"S": "ACK"},
                        "sent_at": {"N": str(now)},
                        "expires_at": {"N": str(now + 7200)},
                    },
                    "attribute_not_exists(pk) OR sent_at < :since",
                    **{":since": {"N": str(now - 3600)}},
                ),
                counter("ack_all", "all"),
            ]
        )
        rows = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>\r\n" for k, v in fields.items())
        sent = send(
            sales,
            f"Inquiry from {fields['name']}",
            "\r\n".join(f"{k}: {v}" for k, v in fields.items()),
            f"<html><body><h1>New inquiry {lead_id}</h1><table>\r\n{rows}</table></body></html>",
            f"Reply-To: {email}\r\n",
        )
        thanks = f"We received your inquiry. Your reference number: {lead_id}"
        send(email, f"We received your inquiry ({lead_id})", thanks, f"<p>{thanks}</p>")
        client("dynamodb").update_item(
            TableName=leads,
            Key={"pk": {"S": f"LEAD#{lead_id}"}, "sk": {"S": "LEAD"}},
            UpdateExpression="SET notify_attempts = :attempts, updated_at = :now,"
            " #status = :sent, notified_at = :now, message_id = :message_id, ack = :ack"
            " REMOVE claim_token, retry_pk, retry_at",
            ConditionExpression="#status = :pending AND claim_token = :token",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={
                ":attempts": {"N": "1"},
                ":now": {"N": str(now)},
                ":token": {"S": token},
                ":pending": {"S": "pending"},
                ":sent": {"S": "sent"},
                ":message_id": {"S": sent},
                ":ack": {"S": "sent"},
            },
        )
        return ok({"id": lead_id, "status": "received"}, 201)

    def send(to: str, subject: str, text: str, html: str, extra: str = "") -> str:
        boundary = uuid.uuid4().hex
        part = 'Content-Type: text/{}; charset="utf-8"\r\nContent-Transfer-Encoding: 8bit\r\n'
        raw = (
            f"From: {sender}\r\nTo: {to}\r\n{extra}Subject: {subject}\r\n"
            f'MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary="{boundary}"\r\n'
            f"\r\n--{boundary}\r\n{part.format('plain')}\r\n{text}\r\n"
            f"--{boundary}\r\n{part.format('html')}\r\n{html}\r\n--{boundary}--\r\n"
        )
        answer = client("sesv2").send_email(
            FromEmailAddress=sender,
            Destination={"ToAddresses": [to]},
            Content={"Raw": {"Data": raw.encode()}},
        )
        return str(answer["MessageId"])

    return app
