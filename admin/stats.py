"""`manage.py leads stats`: how sales is doing with the leads of the last days."""

from __future__ import annotations

import statistics
from collections import Counter
from urllib.parse import urlsplit

from chalicelib.leads.model import Lead, SalesStatus


def source_label(lead: Lead) -> str:
    """Where a lead came from, in a word: utm_source (/utm_medium), else the referrer's
    host, else "google ads" for a gclid, else "direct"."""
    source = lead.source
    if source.get("utm_source"):
        medium = source.get("utm_medium")
        return source["utm_source"] + (f"/{medium}" if medium else "")
    if source.get("gclid"):
        return "google ads"
    referrer = source.get("referrer")
    if referrer:
        return urlsplit(referrer).hostname or "referrer"
    return "direct"


def duration(seconds: float) -> str:
    hours, minutes = divmod(int(seconds) // 60, 60)
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h {minutes}m" if days else f"{hours}h {minutes}m"


class Stats:
    def __init__(self) -> None:
        self.statuses: Counter[str] = Counter()
        self.countries: Counter[str] = Counter()
        self.sources: Counter[str] = Counter()
        self.replies: list[int] = []

    def add(self, lead: Lead) -> None:
        self.statuses[lead.sales_status] += 1
        self.countries[lead.inquiry.country or "(not given)"] += 1
        self.sources[source_label(lead)] += 1
        if lead.time_to_first_reply is not None:
            self.replies.append(lead.time_to_first_reply)

    def report(self) -> str:
        total = sum(self.statuses.values())
        lines = [f"leads: {total}"]
        lines += [f"  {status}: {self.statuses[status]}" for status in SalesStatus]
        if self.replies:
            median = duration(statistics.median(self.replies))
            lines.append(f"median time to first reply: {median} ({len(self.replies)} replied)")
        else:
            lines.append("median time to first reply: - (none replied yet)")
        for title, counts in (("by country", self.countries), ("by source", self.sources)):
            lines.append(f"{title}:")
            lines += [f"  {name}: {count}" for name, count in counts.most_common()]
        return "\n".join(lines) + "\n"
