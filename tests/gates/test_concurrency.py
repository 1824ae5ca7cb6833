"""Concurrent deciders and editors, on real connections (PostgreSQL only).

Each thread opens its own connection, so the rows the test sets up must be
committed: these tests use transactional databases, and serialized rollback puts
back the frameworks and groups the data migrations loaded.
"""

import threading

import pytest
from django.db import connection

from gates.models import ChecklistItem, Decision, Gate, GateDecision, StageTransition, Vote
from gates.services import checklist_item_update, gate_request_review, gate_vote, gatekeeper_add
from initiatives.exceptions import AlreadyDecided, InvalidState, StaleEdit

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture(autouse=True)
def _needs_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises every writer")


def run_at_once(*calls) -> list:
    """Run each call in its own thread, released together; return results or exceptions."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def worker(index, call):
        from django.db import connection as thread_connection

        try:
            barrier.wait(timeout=10)
            results[index] = call()
        except Exception as error:  # the test inspects what each thread got
            results[index] = error
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=worker, args=pair) for pair in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)
    return results


def test_two_gatekeepers_deciding_at_once_make_one_decision(
    gate, owner, executive, other_executive, admin_user
):
    gatekeeper_add(gate=gate, user=other_executive, actor=admin_user)
    for item in gate.items.filter(required=True):
        checklist_item_update(item=item, actor=owner, state=ChecklistItem.State.DONE)
    gate_request_review(gate=gate, actor=owner)

    def vote(user):
        return lambda: gate_vote(gate=gate, actor=user, decision=Decision.GO, rationale="Go.")

    results = run_at_once(vote(executive), vote(other_executive))

    decided = [r for r in results if isinstance(r, Gate)]
    refused = [r for r in results if not isinstance(r, Gate)]
    assert len(decided) == 1, results
    assert len(refused) == 1 and isinstance(refused[0], AlreadyDecided | InvalidState), results
    assert GateDecision.objects.filter(gate=gate).count() == 1
    assert StageTransition.objects.filter(gate=gate).count() == 1
    assert Vote.objects.filter(gate=gate).count() == 1
    assert gate.initiative.gates.filter(state=Gate.State.OPEN).count() == 1


def test_concurrent_edits_of_one_item_let_exactly_one_win(gate, owner, member, team_lead):
    item = gate.items.get(order=2)
    editors = [owner, member, team_lead, owner, member, team_lead]

    def edit(user, index):
        return lambda: checklist_item_update(
            item=item, actor=user, note=f"Edit {index}", state="done", expected_version=1
        )

    results = run_at_once(*(edit(user, index) for index, user in enumerate(editors)))

    winners = [r for r in results if isinstance(r, ChecklistItem)]
    losers = [r for r in results if not isinstance(r, ChecklistItem)]
    assert len(winners) == 1, results
    assert all(isinstance(r, StaleEdit) for r in losers), results
    assert all(r.current.version == 2 for r in losers)
    item.refresh_from_db()
    assert item.version == 2
    assert item.note == winners[0].note
