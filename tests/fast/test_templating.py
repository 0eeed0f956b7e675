"""chalicelib.templating renders the email templates exactly as Jinja2 does.

The oracle is Jinja2 (a development dependency only) configured as the app used it before
(autoescape for *.html, StrictUndefined, trim_blocks, lstrip_blocks, keep_trailing_newline)
plus the one filter of ours, field_label. Every email is built from Hypothesis leads through
a Templates that renders each template both ways and requires the same text.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import jinja2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.followup.digest import Digest, digest_email
from chalicelib.inquiries.messages import acknowledgement, held_back_summary, sales_notification
from chalicelib.leads.model import Inquiry, Lead, LineItem
from chalicelib.mail import TEMPLATES_DIR, Templates
from chalicelib.settings import Settings
from chalicelib.templating import Template, TemplateError, field_label
from tests.conftest import SITE, settings_env


def oracle(loader: jinja2.BaseLoader) -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=loader,
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",)),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters["field_label"] = field_label
    return environment


JINJA = oracle(jinja2.FileSystemLoader(str(TEMPLATES_DIR)))


class BothWays(Templates):
    rendered: set[str] = set()  # noqa: RUF012 - shared on purpose: which templates were seen

    def render(self, template: str, **context: Any) -> str:
        ours = super().render(template, **context)
        assert ours == JINJA.get_template(template).render(**context), template
        self.rendered.add(template)
        return ours


text = st.text(st.characters(exclude_categories=["Cs"]), max_size=60)
tricky = st.sampled_from(
    ["<b>&amp;</b>", "\"quoted\" 'single'", "{{ not a tag }}", "{% if %}", "a\nb\n", "  ", "0"]
)
value = st.one_of(text, tricky)
optional = st.none() | value
rows = st.builds(
    LineItem,
    part_number=optional,
    description=optional,
    quantity=st.none() | st.integers(1, 10_000_000),
    unit=st.none() | st.sampled_from(["pcs", "sets"]),
    target_price=st.none() | st.sampled_from(["12.50", "0.01"]),
    currency=st.just("USD"),
)


@st.composite
def leads(draw: st.DrawFn) -> Lead:
    inquiry = Inquiry(
        name=draw(value),
        email=draw(st.sampled_from(["hans@example.com", "a+b&c@example.com", "x@例子.测试"])),
        message=draw(value),
        locale=draw(st.sampled_from(["en", "zh", "de"])),
        phone=draw(optional),
        company=draw(optional),
        country=draw(optional),
        product=draw(optional),
        quantity=draw(st.none() | st.integers(0, 10_000_000)),
        page=draw(st.none() | st.sampled_from([f"{SITE}/c.html?a=1&b=<2>", "https://evil/x"])),
        items=tuple(draw(st.lists(rows, max_size=3))),
        incoterm=draw(st.none() | st.just("FOB")),
        destination_port=draw(optional),
        whatsapp=draw(optional),
        wechat=draw(optional),
    )
    return Lead.new(
        inquiry, "01KCVY8Z4Q5M7T0V2W3X4Y5Z6A", 1_795_000_000, spam=False, retention_days=730
    )


@pytest.fixture(scope="module")
def mail_settings() -> Settings:
    return Settings.from_env(settings_env())


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(lead=leads(), others=st.lists(leads(), max_size=3), stored=st.booleans())
def test_every_email_template_renders_as_jinja2_renders_it(
    lead: Lead, others: list[Lead], stored: bool, mail_settings: Settings
) -> None:
    templates = BothWays()
    sales_notification(lead, mail_settings, templates, stored=stored)
    reminder = ("[Reminder 1/2]", lead.inquiry.name, ("a@example.com",))
    sales_notification(lead, mail_settings, templates, follow_up=reminder)
    for locale in ("en", "zh"):
        acknowledgement(
            replace(lead, inquiry=replace(lead.inquiry, locale=locale)), mail_settings, templates
        )
    held_back_summary([lead, *others], mail_settings, templates)
    counts = [(lead.inquiry.country or "", 2), (lead.inquiry.name, 0)]
    every = [lead, *others]
    digest = Digest("2026-11-19", "2026-11-18", "Asia/Shanghai", 1_795_000_000, len(others))
    digest.by_country = digest.by_product = digest.by_score = counts
    digest.unanswered, digest.unanswered_total = every, len(every) + int(stored)
    digest.failed, digest.failed_total = others, len(others)
    digest.failed_alerts, digest.failed_alerts_total = every[: int(stored)], 3
    digest_email(digest, mail_settings, templates)


def test_every_template_was_compared() -> None:
    assert BothWays.rendered == {path.name for path in TEMPLATES_DIR.iterdir()}


SYNTAX = [
    "plain text\n",
    "{{ a }} and {{ b.c }}\n{{ d | urlencode }} {{ items | length }}\n",
    "{% if a %}\n  yes\n{% elif b.c %}\n  maybe\n{% else %}\n  no\n{% endif %}\nafter\n",
    "  {% if not a and b.c or d %}x{% endif %}  \n{{ a }}",
    "<ul>\n  {% for k, v in pairs %}\n    <li>{{ k }}={{ v }}</li>\n  {% endfor %}\n</ul>\n",
    "{% for item in items %}{{ item }},{% endfor %}\n\n{# a comment #}\nend",
    "    {# indented comment #}\n{% for item in items %}\n{% if item %}{{ item }}{% endif %}\n"
    "{% endfor %}",
    "{{ a }}   {% if a %}\nsame line{% endif %}",
    "{{ label | field_label }}|\n",
]
CONTEXT = {
    "a": "<A & 'a'>",
    "b": {"c": ""},
    "d": "x y/z?&",
    "items": ["1", "", "<3>"],
    "pairs": [("k1", "v1"), ("k<2>", None)],
    "label": "Company",
}


@pytest.mark.parametrize("source", SYNTAX)
@pytest.mark.parametrize("autoescape", [False, True])
def test_the_supported_syntax_means_what_it_means_in_jinja2(source: str, autoescape: bool) -> None:
    expected = oracle(jinja2.DictLoader({"t": source}))
    expected.autoescape = autoescape
    assert Template(source, autoescape).render(CONTEXT) == expected.get_template("t").render(
        **CONTEXT
    )


@pytest.mark.parametrize(
    "source",
    [
        "{{ a ~ b }}",
        "{{ a | upper }}",
        "{% set x = 1 %}",
        "{%- if a %}x{% endif %}",
        "{% if a %}x",
        "{% for x in items %}x",
        "{% endif %}",
        "{{ a[0] }}",
        "{% for x in items if x %}{% endfor %}",
    ],
)
def test_anything_else_is_refused_when_the_template_is_read(source: str) -> None:
    with pytest.raises(TemplateError):
        Template(source)


def test_an_undefined_name_is_an_error_as_with_strict_undefined() -> None:
    with pytest.raises(KeyError):
        Template("{{ missing }}").render({})
    with pytest.raises(KeyError):
        Template("{% if b.missing %}x{% endif %}").render({"b": {}})
