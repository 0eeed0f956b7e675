"""The README's configuration table stays true: one row per setting Settings reads, with
its default, and no row for a setting that does not exist."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from chalicelib.settings import Settings

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def table_rows() -> dict[str, str]:
    section = README.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([A-Z_]+)` \| ([^|]+) \|", section, flags=re.MULTILINE)
    return {name: default.strip() for name, default in rows}


def test_the_configuration_table_has_a_row_for_every_setting_and_no_other() -> None:
    settings = {field.name.upper() for field in dataclasses.fields(Settings)}
    assert set(table_rows()) == settings


def test_the_table_states_each_default_the_code_has() -> None:
    rows = table_rows()
    for field in dataclasses.fields(Settings):
        shown = rows[field.name.upper()]
        if field.default is dataclasses.MISSING:
            assert shown == "— (required)", field.name
        elif field.default in (None, ()):
            assert shown in ("unset", "none", "Cloudflare's"), (field.name, shown)
        else:
            expected = (
                str(field.default).lower()
                if isinstance(field.default, bool)
                else str(field.default)
            )
            assert shown == f"`{expected}`", (field.name, shown)
