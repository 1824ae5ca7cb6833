"""What else a gate decision records: apps built on gates add to the snapshot here.

A contributor is called inside the deciding transaction with the gate, its
checklist items and the snapshot dictionary, and may add to the dictionary
(and mark what the decision relied on). Gates never import the contributors.
"""

from __future__ import annotations

from collections.abc import Callable

Contributor = Callable[..., None]
_contributors: list[Contributor] = []


def register(contributor: Contributor) -> None:
    if contributor not in _contributors:
        _contributors.append(contributor)


def contribute(*, gate, items: list, snapshot: dict) -> dict:
    """Let every registered contributor add to `snapshot`; returns it."""
    for contributor in list(_contributors):
        contributor(gate=gate, items=items, snapshot=snapshot)
    return snapshot
