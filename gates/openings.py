"""What else a gate gets when it opens: apps built on gates add checklist items here.

A provider is called inside the transaction that opens the gates, once per batch (the
portfolio import opens thousands at once), with the new gates, their items already
saved. It may add items (after the last `order` of each gate). Gates never import the
providers; they register from their AppConfig.ready().
"""

from __future__ import annotations

from collections.abc import Callable

Provider = Callable[..., None]
_providers: list[Provider] = []


def register(provider: Provider) -> None:
    if provider not in _providers:
        _providers.append(provider)


def contribute(*, gates: list, actor) -> None:
    """Let every registered provider add to the gates that just opened."""
    for provider in list(_providers):
        provider(gates=gates, actor=actor)
