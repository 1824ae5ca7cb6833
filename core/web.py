"""Small helpers every app's pages share."""

from __future__ import annotations


def positive_int(value, default: int = 1, maximum: int = 1000) -> int:
    """A page number or version from the query string: at least 1, at most `maximum`."""
    try:
        return min(max(int(value), 1), maximum)
    except (TypeError, ValueError):
        return default


def person_name(user) -> str:
    """How people see a person: the full name, the username only when there is none."""
    return user.get_full_name() or user.get_username()
