"""`manage.py leads ...`: list, show, export, resend, retry, remind, digest, set-status,
assign, stats, erase.

Listing (list, export, stats) walks the by_month index newest first, month by month, back
to --since; spam leads (status "spam", the honeypot was filled) are left out unless
--spam include|only or --status spam asks for them. --status takes a notification status
(pending, sent, failed, spam) or a sales status (new, replied, quoted, won, lost,
not_relevant).
"""

from __future__ import annotations

import argparse
import datetime
import getpass
import io
import json
import os
import sys
import unicodedata
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from admin.command import CommandError, Subcommands, add_command, stage_runtime, usage
from chalicelib.leads.dynamodb import (
    Conflict,
    Filter,
    LeadBusy,
    LeadsTable,
    NotResendable,
    Tally,
)
from chalicelib.leads.model import SalesStatus, Status, TransitionRefused
from chalicelib.leads.store import LeadNotFound
from chalicelib.runtime import Runtime
from chalicelib.settings import Settings
from chalicelib.times import iso

LIST_DAYS = 90
# Leads per Query page in an export: one page is what the export holds in memory at once.
EXPORT_PAGE = 100
SPAM_CHOICES = ("exclude", "include", "only")
STATUSES = tuple(str(status) for status in Status)
SALES_STATUSES = tuple(str(status) for status in SalesStatus)
SCORES = ("A", "B", "C")


def register(commands: Subcommands) -> None:
    group = commands.add_parser(
        "leads",
        help="list, show, export, resend, retry, remind, digest, set-status, assign, stats and"
        " erase leads",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    group.set_defaults(handler=usage(group))
    leads = group.add_subparsers(title="leads commands", metavar="COMMAND")

    listing = add_command(leads, "list", "the newest leads first (default: the last 90 days)")
    _filters(
        listing, f"only leads received on or after this UTC day (default: {LIST_DAYS} days ago)"
    )
    listing.add_argument(
        "--limit", type=_positive, default=50, help="show at most this many (default: 50)"
    )
    listing.set_defaults(handler=list_leads)

    show = add_command(leads, "show", "one lead with every field")
    show.add_argument("id", help="the lead id (the reference the visitor was given)")
    show.add_argument("--json", action="store_true", help="print the stored item as JSON")
    show.set_defaults(handler=show_lead)

    export = add_command(
        leads,
        "export",
        "every lead since a day as CSV (for Excel) or JSON Lines, streamed to stdout or a file",
    )
    export.add_argument("--format", choices=("csv", "jsonl"), default="csv", help="default: csv")
    _filters(
        export,
        "only leads received on or after this UTC day (default: as far back as leads are"
        " kept, LEAD_RETENTION_DAYS)",
    )
    export.add_argument(
        "-o", "--output", type=Path, help="write to this file instead of standard output"
    )
    export.set_defaults(handler=export_leads)

    resend = add_command(leads, "resend", "email one lead to sales again, now")
    resend.add_argument("id")
    resend.add_argument(
        "--force", action="store_true", help="also resend a lead that was already emailed"
    )
    resend.set_defaults(handler=resend_lead)

    retry = add_command(
        leads, "retry", "the retry sweep, now: resend every pending lead whose time has come"
    )
    retry.add_argument(
        "--max", type=_positive, default=200, help="at most this many leads (default: 200)"
    )
    retry.set_defaults(handler=retry_leads)

    remind = add_command(
        leads,
        "remind",
        "the reminder sweep, now: remind the owner of every lead still new whose follow-up"
        " is due (FOLLOW_UP_HOURS), or escalate it after MAX_REMINDERS",
    )
    remind.add_argument(
        "--dry-run", action="store_true", help="print what would be sent; send and claim nothing"
    )
    remind.set_defaults(handler=remind_leads)

    digest = add_command(
        leads,
        "digest",
        "the daily digest, now (whatever the hour): yesterday's leads, the unanswered, the"
        " failed; once a day, as the scheduled one (not again if that was sent today)",
    )
    digest.add_argument(
        "--dry-run", action="store_true", help="print the digest; send and claim nothing"
    )
    digest.set_defaults(handler=send_digest_now)

    set_status = add_command(
        leads,
        "set-status",
        "record where sales stands with a lead (as the action links in the sales email do)",
    )
    set_status.add_argument("id")
    set_status.add_argument("status", choices=SALES_STATUSES)
    set_status.add_argument("--note", help="a short note for the history (one line, 500 chars)")
    _by(set_status)
    set_status.set_defaults(handler=set_lead_status)

    assign = add_command(leads, "assign", "make someone the lead's owner")
    assign.add_argument("id")
    assign.add_argument("owner", help="the new owner's email address")
    _by(assign)
    assign.set_defaults(handler=assign_lead)

    stats = add_command(
        leads,
        "stats",
        "leads of the last days: how many per sales status, median time to first reply,"
        " by country and by source",
    )
    stats.add_argument(
        "--days", type=_positive, default=30, help="the last this many days (default: 30)"
    )
    stats.set_defaults(handler=lead_stats)

    erase = add_command(
        leads, "erase", "delete every lead of one email address (a GDPR erasure request)"
    )
    erase.add_argument("--email", required=True, metavar="ADDRESS")
    erase.add_argument(
        "--dry-run", action="store_true", help="show what would be deleted, delete nothing"
    )
    erase.set_defaults(handler=erase_leads)


# ---- handlers -----------------------------------------------------------------------


def list_leads(args: argparse.Namespace) -> int:
    runtime = stage_runtime(args.stage)
    store = _table(runtime, page_size=min(args.limit + 1, 250))
    since = _since(args.since, runtime.clock(), LIST_DAYS)
    tally = Tally()
    rows = store.newest_first(since, _filter(args, runtime.settings), tally)
    shown = 0
    widths = (17, 26, 9, 12, 5, 26, 22, 30, 14, 24)
    titles = ("RECEIVED (UTC)", "ID", "STATUS", "SALES", "SCORE", "OWNER", "NAME", "EMAIL")
    print(_line((*titles, "COUNTRY", "PRODUCT"), widths))
    for lead in rows:
        if shown == args.limit:
            print(
                f"... more leads since {_day(since)}: raise --limit, narrow --since,"
                " or use `leads export`",
                file=sys.stderr,
            )
            break
        received = lead.received_iso.replace("T", " ").rstrip("Z")[:16]
        inquiry = lead.inquiry
        # pending and over its address's hourly limit: mailed in the hourly summary
        held = lead.held_back and lead.status == Status.PENDING
        status = "held" if held else str(lead.status)
        cells = (received, lead.id, status, lead.sales_status, lead.score, lead.owner)
        parts = inquiry.rows  # the first part, and how many more
        product = parts[0].label if parts else None
        if len(parts) > 1:
            product = f"{product} +{len(parts) - 1}"
        print(_line((*cells, inquiry.name, inquiry.email, inquiry.country, product), widths))
        shown += 1
    print(f"{shown} lead{'s' if shown != 1 else ''} since {_day(since)}", file=sys.stderr)
    _say_what_was_left_out(args, tally, "shown")
    return 0


def show_lead(args: argparse.Namespace) -> int:
    lead_id = _lead_id(args.id)
    runtime = stage_runtime(args.stage)
    try:
        lead = runtime.leads.find(lead_id)
    except LeadNotFound as exc:
        raise CommandError(str(exc)) from None
    if args.json:
        print(json.dumps(lead.record(), ensure_ascii=False, indent=2, sort_keys=True))
        return 0
    for name, value in lead.record().items():
        if name == "items":
            print("items:")
            for n, item in enumerate(lead.inquiry.items, 1):
                print(f"    {n}. {item.summary()}")
            continue
        if name == "attachments":
            print("attachments:")
            for file in lead.attachments:
                print(f"    {file.line()}")
            continue
        text = str(value)
        if isinstance(value, dict):  # the source: one line, as in the sales email
            text = " · ".join(f"{key}={item}" for key, item in value.items())
        if isinstance(value, list):  # the history, the score's reasons: one per line
            print(f"{name}:")
            for item in value:
                print(f"    {item}")
        elif "\n" in text:
            print(f"{name}:")
            for line in text.splitlines():
                print(f"    {line}")
        else:
            print(f"{name}: {text}")
    if lead.status == Status.PENDING and lead.next_attempt_at:
        when = "in the hourly summary at" if lead.held_back else "next attempt:"
        print(f"{when} {iso(lead.next_attempt_at)}")
    return 0


def export_leads(args: argparse.Namespace) -> int:
    from admin.export import Progress, write_export

    runtime = stage_runtime(args.stage)
    since = _since(args.since, runtime.clock(), runtime.settings.lead_retention_days)
    tally = Tally()
    pages = _table(runtime, EXPORT_PAGE).pages(since, _filter(args, runtime.settings), tally)
    progress = Progress(sys.stderr)
    where = str(args.output) if args.output else "standard output"
    print(f"exporting leads since {_day(since)} as {args.format} to {where}", file=sys.stderr)
    with _output(args.output) as out:
        count = write_export(pages, out, args.format, progress)
    print(f"exported {count} lead{'s' if count != 1 else ''}", file=sys.stderr)
    _say_what_was_left_out(args, tally, "exported")
    return 0


def resend_lead(args: argparse.Namespace) -> int:
    from chalicelib.leads.model import CLAIM_LEASE_SECONDS, new_claim_token

    lead_id = _lead_id(args.id)
    runtime = stage_runtime(args.stage)
    table = runtime.leads
    try:
        lead = table.claim_for_resend(
            lead_id, new_claim_token(), CLAIM_LEASE_SECONDS, force=args.force
        )
    except (LeadNotFound, LeadBusy, NotResendable, Conflict) as exc:
        raise CommandError(str(exc)) from None
    sent = runtime.inquiries.resend(lead)
    after = table.find(lead_id)
    if sent:
        print(f"lead {lead_id}: emailed to sales (SES message id {after.message_id})")
        return 0
    print(f"error: SES did not take lead {lead_id}: {after.last_error}", file=sys.stderr)
    if after.status == Status.PENDING and after.next_attempt_at:
        print(
            f"  it stays pending; the scheduled retry tries again at {iso(after.next_attempt_at)}",
            file=sys.stderr,
        )
    else:
        print(f"  it is {after.status} now", file=sys.stderr)
    return 1


def retry_leads(args: argparse.Namespace) -> int:
    from chalicelib.inquiries.retry import retry_pending

    runtime = stage_runtime(args.stage)
    report = retry_pending(runtime.leads, runtime.inquiries, runtime.clock, max_leads=args.max)
    print(
        f"due: {report.due}, sent: {report.sent}, still pending: {report.still_pending},"
        f" taken by another worker: {report.taken_by_others},"
        f" held back and sent in a summary: {report.held_back_sent}"
    )
    return 0


def remind_leads(args: argparse.Namespace) -> int:
    from chalicelib.followup.reminders import send_reminders

    runtime = stage_runtime(args.stage)
    report = send_reminders(
        runtime.leads,
        runtime.mailer,
        runtime.templates,
        runtime.settings,
        runtime.clock,
        dry_run=args.dry_run,
        links=runtime.action_links,
    )
    if args.dry_run:
        for line in report.planned:
            print(line)
        print(f"{len(report.planned)} due; nothing sent (--dry-run)")
        return 0
    print(
        f"reminded: {report.reminded}, escalated: {report.escalated}, not sent (SES, due"
        f" again in 5 minutes): {report.not_sent}, taken by another worker:"
        f" {report.taken_by_others}"
    )
    return 1 if report.not_sent else 0


def send_digest_now(args: argparse.Namespace) -> int:
    from chalicelib.followup.digest import send_digest

    runtime = stage_runtime(args.stage)
    run = send_digest(
        runtime.leads,
        runtime.mailer,
        runtime.templates,
        runtime.settings,
        runtime.clock,
        now_regardless_of_hour=True,
        dry_run=args.dry_run,
    )
    if run.email is not None and args.dry_run:
        print(f"To: {', '.join(run.email.to)}\nSubject: {run.email.subject}\n")
        print(run.email.text, end="")
        print("(--dry-run: nothing sent)")
        return 0
    # run.day is the day it is sent; the digest covers the day before (its subject says so)
    subject = run.email.subject if run.email is not None else ""
    messages = {
        "sent": f"sent to {', '.join(runtime.settings.digest_recipients)}: {subject}",
        "done_already": f"today's digest ({run.day}) was sent already (or is being sent)",
        "failed": f"today's digest ({run.day}) could not be sent (SES); the schedule tries again",
    }
    print(messages[run.outcome], file=sys.stdout if run.outcome != "failed" else sys.stderr)
    return 1 if run.outcome == "failed" else 0


def set_lead_status(args: argparse.Namespace) -> int:
    lead_id = _lead_id(args.id)
    runtime = stage_runtime(args.stage)
    try:
        before = runtime.leads.find(lead_id)
        after = runtime.leads.set_sales_status(
            lead_id,
            SalesStatus(args.status),
            args.by,
            args.note,
            int(runtime.clock()),
            keep_days=runtime.settings.lead_retention_days,
        )
    except (LeadNotFound, Conflict, TransitionRefused) as exc:
        raise CommandError(str(exc)) from None
    if before.sales_status == after.sales_status:
        print(f"lead {lead_id} is already {after.sales_status}")
        return 0
    print(f"lead {lead_id}: {before.sales_status} -> {after.sales_status}")
    if after.expires_at > before.expires_at:
        days = runtime.settings.lead_retention_days
        print(f"  no longer treated as spam: kept {days} days like other leads")
    return 0


def assign_lead(args: argparse.Namespace) -> int:
    from chalicelib.settings import is_address

    lead_id = _lead_id(args.id)
    if not is_address(args.owner.strip()):
        raise CommandError(f"OWNER must be an email address, got {args.owner!r}")
    runtime = stage_runtime(args.stage)
    owner = runtime.settings.as_configured(args.owner.strip())
    try:
        before = runtime.leads.find(lead_id)
        after = runtime.leads.assign(lead_id, owner, args.by, int(runtime.clock()))
    except (LeadNotFound, Conflict) as exc:
        raise CommandError(str(exc)) from None
    if before.owner == after.owner:
        print(f"lead {lead_id} is already {owner}'s")
    else:
        print(f"lead {lead_id}: owner {before.owner or '-'} -> {after.owner}")
    return 0


def lead_stats(args: argparse.Namespace) -> int:
    from admin.stats import Stats

    runtime = stage_runtime(args.stage)
    since = runtime.clock() - args.days * 86400
    stats = Stats()
    for lead in _table(runtime).newest_first(since):
        stats.add(lead)
    print(f"leads of the last {args.days} days (since {iso(since)}, spam left out)")
    print(stats.report(), end="")
    return 0


def erase_leads(args: argparse.Namespace) -> int:
    address = args.email.strip()
    if "@" not in address:
        raise CommandError(f"--email needs an email address, got {args.email!r}")
    runtime = stage_runtime(args.stage)
    removed = 0
    verb = "would delete" if args.dry_run else "deleted"
    for lead in runtime.leads.erase(_stored_forms(address), dry_run=args.dry_run):
        removed += 1
        files = int(lead.get("files") or 0)
        if files and not args.dry_run:
            _erase_files(runtime, str(lead["id"]), files)
        with_files = f" and its {files} file{'s' if files != 1 else ''}" if files else ""
        print(
            f"{verb} lead {lead['id']}{with_files}"
            f" (received {lead['received_at']}, {lead['status']})"
        )
    if removed == 0:
        print(f"no leads stored for {address}")
    else:
        print(f"{verb} {removed} lead{'s' if removed != 1 else ''} of {address}")
    if not args.dry_run:
        print(
            "  not covered here: copies in the sales mailbox, DynamoDB point-in-time backups"
            " (kept up to 35 days), exports made before, and the files as uploaded (the"
            " bucket deletes uploads/ a day after the upload)"
        )
    return 0


# ---- helpers ------------------------------------------------------------------------


def _erase_files(runtime: Runtime, lead_id: str, files: int) -> None:
    """Delete an erased lead's files from the uploads bucket (leads/<id>/<n>)."""
    attachments = runtime.attachments
    if attachments is None:
        raise CommandError(
            f"lead {lead_id} had {files} file(s), but UPLOADS_BUCKET is not set: delete"
            f" leads/{lead_id}/ from the stage's uploads bucket yourself"
        )
    attachments.erase(lead_id, files)


def _filters(parser: argparse.ArgumentParser, since_help: str) -> None:
    parser.add_argument("--since", metavar="YYYY-MM-DD", type=_date, help=since_help)
    parser.add_argument(
        "--status",
        choices=STATUSES + SALES_STATUSES,
        help="only leads with this notification or sales status",
    )
    parser.add_argument("--owner", metavar="ADDRESS", help="only this owner's leads")
    parser.add_argument("--score", choices=SCORES, type=str.upper, help="only leads of this score")
    parser.add_argument(
        "--spam",
        choices=SPAM_CHOICES,
        default="exclude",
        help="spam leads (honeypot filled): exclude (default), include, or only them",
    )


def _say_what_was_left_out(args: argparse.Namespace, tally: Tally, verb: str) -> None:
    """Never skip leads silently: name how many the filter left out, and how to get them."""
    if not tally.filtered_out:
        return
    count = tally.filtered_out
    leads = f"{count} lead{'s' if count != 1 else ''}"
    only_spam = args.status is None and not args.owner and not args.score
    if only_spam and args.spam == "exclude":
        print(f"not {verb}: {leads} marked spam (--spam include to add them)", file=sys.stderr)
    else:
        print(f"not {verb}: {leads} the filter left out", file=sys.stderr)


def _filter(args: argparse.Namespace, settings: Settings) -> Filter:
    sales = args.status in SALES_STATUSES
    if args.status is not None and args.spam == "only" and args.status != Status.SPAM:
        raise CommandError(f"--spam only and --status {args.status} contradict each other")
    return Filter(
        status=None if args.status is None or sales else Status(args.status),
        spam=args.spam,
        sales_status=SalesStatus(args.status) if sales else None,
        owner=settings.as_configured(args.owner.strip()) if args.owner else None,
        score=args.score,
    )


def _by(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--by",
        default=f"{getpass.getuser()} (manage.py)",
        help="who made the change, for the history (default: your login name)",
    )


def _table(runtime: Runtime, page_size: int = 250) -> LeadsTable:
    """The leads table for listings: Query pages of at most 250 leads (DynamoDB also ends
    a page at 1 MB), so what one page costs in memory bounds what a whole export costs."""
    return LeadsTable(
        runtime.clients.dynamodb(), runtime.settings.leads_table, runtime.clock, page_size=page_size
    )


def _stored_forms(address: str) -> set[str]:
    """The forms an address may be stored under: lower-cased as typed, and as the service
    stores it (email-validator's normalized form, punycode for an internationalized domain)."""
    from chalicelib.inquiries.email_check import normalized_email

    forms = {address.lower()}
    with suppress(ValueError):
        forms.add(normalized_email(address, check_deliverability=False).lower())
    return forms


def _since(day: datetime.date | None, now: float, default_days: int) -> float:
    if day is None:
        start = datetime.datetime.fromtimestamp(now, datetime.UTC) - datetime.timedelta(
            days=default_days
        )
        day = start.date()
    midnight = datetime.datetime(day.year, day.month, day.day, tzinfo=datetime.UTC)
    return midnight.timestamp()


def _date(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a day like 2026-01-31, got {text!r}") from None


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}")
    return int(text)


def _lead_id(text: str) -> str:
    from chalicelib.ids import is_id

    lead_id = text.strip().upper()
    if not is_id(lead_id):
        raise CommandError(
            f"{text!r} is not a lead id (26 letters and digits, like 01JD3Q4Z8W6KQ9X2M5T7V0B1CE)"
        )
    return lead_id


@contextmanager
def _output(path: Path | None) -> Any:
    """Standard output, or FILE written through a temporary file beside it that replaces
    FILE only once the whole export is written: a failed export (AWS refused half way,
    Ctrl-C) leaves no partial file, and an earlier FILE as it was."""
    if path is not None:
        partial = path.with_name(f".{path.name}.partial")
        try:
            handle = partial.open("w", encoding="utf-8", newline="")
        except OSError as exc:
            raise CommandError(f"cannot write {path}: {exc.strerror}") from None
        try:
            with handle:
                yield handle
            os.replace(partial, path)
        except BaseException:
            partial.unlink(missing_ok=True)
            print(f"export failed: {path} not written", file=sys.stderr)
            raise
        return
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:  # stdout replaced by a text-only stream
        yield sys.stdout
        return
    sys.stdout.flush()
    stream = io.TextIOWrapper(buffer, encoding="utf-8", newline="", write_through=True)
    try:
        yield stream
    finally:
        stream.flush()
        stream.detach()  # leave sys.stdout's buffer open


def _day(epoch: float) -> str:
    return datetime.datetime.fromtimestamp(epoch, datetime.UTC).strftime("%Y-%m-%d")


def _line(cells: tuple[Any, ...], widths: tuple[int, ...]) -> str:
    return "  ".join(_cell(cell, width) for cell, width in zip(cells, widths, strict=True)).rstrip()


def _cell(value: Any, width: int) -> str:
    """Fit text into `width` terminal columns (CJK characters take two), padded."""
    text = " ".join(str(value if value is not None else "-").split())
    size = sum(_columns(char) for char in text)
    if size <= width:
        return text + " " * (width - size)
    kept, used = [], 0
    for char in text:
        if used + _columns(char) > width - 1:
            break
        kept.append(char)
        used += _columns(char)
    return "".join(kept) + "…" + " " * (width - used - 1)


def _columns(char: str) -> int:
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
