"""Reasons a gate may not be passed: apps built on gates refuse advancing decisions here.

A guard is asked, inside the voting transaction, whether a go or conditional go on a
gate is allowed; it answers None, or the reason it is not, which the vote is refused
with (next to the decision, on the page, in the API and in the admin's view of the
gate). Gates never import the guards; they register from their AppConfig.ready().
"""

from __future__ import annotations

from collections.abc import Callable

Guard = Callable[..., str | None]
_guards: list[Guard] = []


def register(guard: Guard) -> None:
    if guard not in _guards:
        _guards.append(guard)


def refusal(*, gate, decision: str) -> str | None:
    """The first reason a registered guard gives to refuse `decision` on `gate`, or None."""
    for guard in list(_guards):
        reason = guard(gate=gate, decision=decision)
        if reason:
            return reason
    return None
