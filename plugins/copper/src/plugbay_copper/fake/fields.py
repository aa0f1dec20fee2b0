"""Checks of single field values, as Copper validates them (422 when they fail)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from plugbay_copper.fake.errors import invalid


def check_str(name: str, value: Any) -> None:
    """Refuse a value that is not a string."""
    if not isinstance(value, str):
        raise invalid(f"{name} must be a string")


def check_int(name: str, value: Any) -> None:
    """Refuse a value that is not an integer (booleans included)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid(f"{name} must be an integer")


def check_number(name: str, value: Any) -> None:
    """Refuse a value that is not a number (booleans included)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise invalid(f"{name} must be a number")


def check_str_list(name: str, value: Any) -> None:
    """Refuse a value that is not a list of strings."""
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise invalid(f"{name} must be a list of strings")


def check_categorized(name: str, key: str, categories: tuple[str, ...]) -> Callable[[Any], None]:
    """A check for a list of ``{key, category}`` objects (emails...)."""

    def check(value: Any) -> None:
        if not isinstance(value, list):
            raise invalid(f"{name} must be a list of {{{key}, category}} objects")
        for item in value:
            check_entry(name, key, categories, item)

    return check


def check_entry(name: str, key: str, categories: tuple[str, ...], item: Any) -> None:
    """Refuse a ``{key, category}`` entry without a value or category."""
    if not isinstance(item, dict) or not isinstance(item.get(key), str) or not item[key]:
        raise invalid(f"{name} entries need a non-empty {key!r}")
    category = item.get("category")
    if category is not None and category not in categories:
        allowed = ", ".join(categories)
        raise invalid(f"{name} category {category!r} is not one of {allowed}")


def check_address(value: Any) -> None:
    """Refuse an address that is not an object of known string fields."""
    if not isinstance(value, dict):
        raise invalid("address must be an object")
    for key, item in value.items():
        if key not in ("street", "city", "state", "postal_code", "country"):
            raise invalid(f"address has no field {key!r}")
        if item is not None and not isinstance(item, str):
            raise invalid(f"address.{key} must be a string")


def name_parts(name: str) -> tuple[str, str | None]:
    """First and last name of a full name, as Copper splits it."""
    first, _, last = name.strip().partition(" ")
    return first, last.strip() or None


def emails_of(record: dict[str, Any]) -> list[str]:
    """The lower-cased emails of a person or lead."""
    if "emails" in record:
        return [entry["email"].lower() for entry in record.get("emails") or []]
    email = record.get("email")
    return [email["email"].lower()] if isinstance(email, dict) and email.get("email") else []


def digits_of(text: str) -> str:
    """The digits of a phone number, for matching."""
    return "".join(ch for ch in text if ch.isdigit())


def as_list(value: Any) -> list[Any]:
    """A value as a list (a filter takes one value or several)."""
    return value if isinstance(value, list) else [value]
