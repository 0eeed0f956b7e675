"""The rows of a request for quotation: `items` as a JSON array of objects, or a form's
indexed fields `items[0].part_number`, `items[0].quantity`, ... (no JavaScript needed).

Loaded only when a submission has rows. Each row is validated as strictly as the inquiry's
other fields (submission.clean_text) and its errors are named `items[3].quantity`; what is wrong
with the rows as a whole (not an array, more than MAX_ROWS, a row that is not an object,
numbering with gaps) is named `items`. A row's unknown keys are named at `items[3]`.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from chalicelib.inquiries.submission import JsonObject, Submission, clean_text, quantity_of
from chalicelib.leads.model import LineItem

MAX_ROWS = 50
UNITS = ("pcs", "pairs", "sets", "boxes", "cartons", "pallets", "kg", "t", "m", "l")
# name -> max length, for the text fields of a row (quantity is a number)
ROW_TEXT = {"part_number": 64, "description": 200, "unit": 10, "target_price": 16, "currency": 3}
ROW_FIELDS = (*ROW_TEXT, "quantity")
# These reach the email's Subject (the first row names the inquiry): no encoded-words.
ROW_HEADER_FIELDS = ("part_number", "description")
# What makes a form row filled: a form with a fixed table sends blank rows, whose unit and
# currency (often a select with a default) do not count.
_FILLING = ("part_number", "description", "quantity", "target_price")
# items[N].field; an index of more than two digits is refused by its length, never counted.
_INDEXED = re.compile(r"items\[([0-9]+)\]\.(.+)\Z", re.S)
_PRICE = re.compile(r"[0-9]{1,10}(\.[0-9]{1,2})?\Z")
_CURRENCY = re.compile(r"[A-Za-z]{3}\Z")
_TOO_MANY = f"must have at most {MAX_ROWS} rows"
_NAMING_RULE = f"must be sent as fields named items[N].field, N from 0 to {MAX_ROWS - 1}"


def rows_of(submission: Submission) -> tuple[tuple[LineItem, ...], dict[str, str]]:
    """The rows sent (blank form rows left out) and the errors, by field name."""
    raw, errors = _raw_rows(submission)
    rows: list[LineItem] = []
    for index, row in raw:
        blank = not any(_sent(row.get(name)) for name in _FILLING)
        if submission.is_form and blank and set(row) <= set(ROW_FIELDS):
            continue  # a blank row of a fixed table
        row_value, row_errors = _row(index, row, _repeated(submission, index, row))
        errors.update(row_errors)
        if row_value is not None:
            rows.append(row_value)
    return (tuple(rows) if not errors else ()), errors


def _raw_rows(submission: Submission) -> tuple[list[tuple[int, dict[str, Any]]], dict[str, str]]:
    """(index as sent, raw row) for each row, or the error naming `items`."""
    values = submission.values
    indexed: dict[int, dict[str, Any]] = {}
    for key, value in values.items():
        if not key.startswith("items["):
            continue
        match = _INDEXED.match(key)
        digits = match.group(1) if match else ""
        if len(digits) > 2 or (match and int(digits) >= MAX_ROWS):
            return [], {"items": _TOO_MANY}
        if match is None or digits != str(int(digits)):  # items[x], items[0], items[01].x
            return [], {"items": _NAMING_RULE}
        index = int(digits)
        indexed.setdefault(index, {})[match.group(2)] = value
    array = values.get("items")
    if not _sent(array) or array == []:
        array = None
    if array is not None and indexed:
        return [], {"items": "must be sent as an array or as items[N] fields, not both"}
    if indexed:
        if sorted(indexed) != list(range(len(indexed))):
            return [], {"items": "must be numbered items[0], items[1], ... without gaps"}
        return sorted(indexed.items()), {}
    if array is None:
        return [], {}
    if not isinstance(array, list):
        return [], {"items": "must be an array of rows (objects)"}
    if len(array) > MAX_ROWS:
        return [], {"items": _TOO_MANY}
    for index, row in enumerate(array):
        if not isinstance(row, dict):
            return [], {"items": f"must be an array of rows (objects): row {index} is not one"}
    return list(enumerate(array)), {}


def _repeated(submission: Submission, index: int, row: dict[str, Any]) -> set[str]:
    """The row's fields given twice with different values (form or JSON)."""
    if isinstance(row, JsonObject) and row.repeated:
        return set(row.repeated)
    prefix = f"items[{index}]."
    return {key[len(prefix) :] for key in submission.duplicates if key.startswith(prefix)}


def _row(
    index: int, raw: dict[str, Any], repeated: set[str]
) -> tuple[LineItem | None, dict[str, str]]:
    name = f"items[{index}]"
    errors: dict[str, str] = {}
    unknown = sorted(key for key in raw if key not in ROW_FIELDS)
    if unknown:
        shown = ", ".join(key[:40] for key in unknown[:5]) + (", ..." if len(unknown) > 5 else "")
        errors[name] = f"has unknown fields: {shown}"
    clean: dict[str, Any] = {}
    for field, max_length in ROW_TEXT.items():
        value = raw.get(field)
        if field in repeated:
            errors[f"{name}.{field}"] = "was given more than once"
        elif _sent(value):
            if field == "target_price" and isinstance(value, (int, float)):
                value = repr(value)  # bool, NaN, 1e-05 and the like fail _PRICE below
            text, problem = clean_text(value, max_length, header=field in ROW_HEADER_FIELDS)
            if problem is None:
                clean[field] = text
            else:
                errors[f"{name}.{field}"] = problem
    if "quantity" in repeated:
        errors[f"{name}.quantity"] = "was given more than once"
    else:
        quantity = quantity_of(raw.get("quantity"))
        if quantity is None:
            errors[f"{name}.quantity"] = "is required"
        elif isinstance(quantity, str):
            errors[f"{name}.quantity"] = quantity
        else:
            clean["quantity"] = quantity
    named = [f"{name}.{field}" for field in ("part_number", "description")]
    if not ({"part_number", "description"} & set(clean)) and not set(named) & set(errors):
        errors[named[0]] = "is required (or a description)"
    if "unit" in clean:
        clean["unit"] = clean["unit"].lower()
        if clean["unit"] not in UNITS:
            errors[f"{name}.unit"] = f"must be one of {', '.join(UNITS)}"
    if "currency" in clean:
        clean["currency"] = clean["currency"].upper()
        if not _CURRENCY.match(clean["currency"]):
            errors[f"{name}.currency"] = "must be a three-letter ISO 4217 code like USD"
    if "target_price" in clean:
        price = clean["target_price"]
        if not _PRICE.match(price) or Decimal(price) <= 0:
            errors[f"{name}.target_price"] = (
                "must be a price above 0 with at most 2 decimals, like 12.50"
            )
        else:
            clean["target_price"] = str(Decimal(price))  # "012.50" -> "12.50", never a float
            if "currency" not in clean and f"{name}.currency" not in errors:
                errors[f"{name}.currency"] = "is required with a target_price"
    else:
        clean.pop("currency", None)  # a form's currency select is sent with every row
    if errors:
        return None, errors
    return LineItem(**clean), {}


def _sent(value: Any) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())
