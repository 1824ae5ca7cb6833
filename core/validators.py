"""Checks of values whose shape the database does not hold: a JSON column meant as a list."""

from __future__ import annotations

from collections.abc import Iterable


def choice_list_problem(value, allowed: Iterable[str], *, required: bool = False) -> str | None:
    """Why `value` (a JSON field's content) is not a list of some of `allowed`, in words;
    None when it is. Nested lists, objects, numbers and bare strings are refused by name,
    never hashed or iterated as if they were a list of strings."""
    allowed = list(allowed)
    expected = f"A JSON list of some of: {', '.join(allowed)}."
    if value is None or value == []:
        return expected if required else None
    if not isinstance(value, list):
        kind = "an object" if isinstance(value, dict) else f"a {type(value).__name__}"
        return f"{expected} Not {kind}."
    wrong = [item for item in value if not isinstance(item, str) or item not in allowed]
    if wrong:
        shown = ", ".join(str(item)[:40] for item in wrong[:5])
        return f"{expected} Not: {shown}."
    return None
