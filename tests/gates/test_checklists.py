"""Checklist items: ticking, not applicable with a reason, evidence, stale edits."""

import pytest
from django.core.exceptions import ValidationError

from gates.models import (
    ChecklistItem,
    Decision,
)
from gates.services import (
    checklist_item_update,
)
from initiatives.exceptions import InvalidState, StaleEdit
from initiatives.models import (
    Activity,
)
from tests.gates.helpers import (
    decide,
    item_at,
)

pytestmark = pytest.mark.django_db


# --- Checklist items ----------------------------------------------------------------------


def test_ticking_an_item_marks_it_done_and_logs_it(gate, member):
    item = item_at(gate, 2)
    version = gate.initiative.version

    updated = checklist_item_update(item=item, actor=member, state="done", expected_version=1)

    assert updated.state == ChecklistItem.State.DONE and updated.is_cleared
    assert updated.version == 2
    assert updated.updated_by == member
    entry = Activity.objects.get(verb="item.changed")
    assert (entry.actor, entry.field, entry.before, entry.after) == (
        member,
        "state",
        "open",
        "done",
    )
    assert entry.object_id == str(item.pk)
    gate.initiative.refresh_from_db()
    assert gate.initiative.version == version + 1


def test_unticking_an_item_reopens_it(gate, member):
    item = checklist_item_update(item=item_at(gate, 2), actor=member, state="done")
    item = checklist_item_update(item=item, actor=member, state="open")
    assert item.state == ChecklistItem.State.OPEN
    assert item.version == 3
    assert Activity.objects.filter(verb="item.changed", field="state").count() == 2


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_not_applicable_needs_a_reason(gate, member, reason):
    item = item_at(gate, 2)
    with pytest.raises(ValidationError) as error:
        checklist_item_update(item=item, actor=member, state="not_applicable", na_reason=reason)
    assert "na_reason" in error.value.error_dict
    item.refresh_from_db()
    assert item.state == ChecklistItem.State.OPEN and item.version == 1


def test_not_applicable_with_a_reason_clears_the_item_until_reopened(gate, member):
    item = checklist_item_update(
        item=item_at(gate, 3),
        actor=member,
        state="not_applicable",
        na_reason="  Uses public data only.  ",
    )
    assert item.state == ChecklistItem.State.NOT_APPLICABLE and item.is_cleared
    assert item.na_reason == "Uses public data only."
    assert gate.readiness_counts() == (1, 6)

    item = checklist_item_update(item=item, actor=member, state="open")
    assert item.na_reason == ""
    fields = set(Activity.objects.filter(verb="item.changed").values_list("field", flat=True))
    assert fields == {"state", "na_reason"}


def test_an_unknown_state_is_refused(gate, member):
    with pytest.raises(ValidationError) as error:
        checklist_item_update(item=item_at(gate, 1), actor=member, state="finished")
    assert "state" in error.value.error_dict


@pytest.mark.parametrize(
    "url", ["not a url", "ftp://files.example.com/report.pdf", "javascript:alert(1)", "//x.com"]
)
def test_evidence_url_must_be_a_web_address(gate, member, url):
    item = item_at(gate, 2)
    with pytest.raises(ValidationError) as error:
        checklist_item_update(item=item, actor=member, evidence_url=url)
    assert "evidence_url" in error.value.error_dict
    item.refresh_from_db()
    assert item.evidence_url == ""


def test_evidence_url_and_note_are_stored_and_each_change_logged(gate, member):
    item = checklist_item_update(
        item=item_at(gate, 2),
        actor=member,
        state="done",
        evidence_url=" https://wiki.example.com/poc-scale-test ",
        note="Load test at 3x projected volume.",
    )
    assert item.evidence_url == "https://wiki.example.com/poc-scale-test"
    assert item.note == "Load test at 3x projected volume."
    assert item.version == 2  # one write, however many fields changed
    logged = Activity.objects.filter(verb="item.changed", object_id=str(item.pk))
    assert set(logged.values_list("field", flat=True)) == {"state", "evidence_url", "note"}

    item = checklist_item_update(item=item, actor=member, evidence_url="")
    assert item.evidence_url == ""


def test_an_edit_that_changes_nothing_writes_nothing(gate, member):
    item = item_at(gate, 2)
    before = Activity.objects.count()
    same = checklist_item_update(item=item, actor=member, state="open", note="")
    assert same.version == 1
    assert Activity.objects.count() == before


def test_a_stale_edit_raises_with_the_current_item(gate, member, owner):
    item = item_at(gate, 2)
    checklist_item_update(item=item, actor=member, state="done", expected_version=1)

    with pytest.raises(StaleEdit) as error:
        checklist_item_update(item=item, actor=owner, note="Mine", expected_version=1)

    assert error.value.current.pk == item.pk
    assert error.value.current.version == 2
    assert error.value.current.state == ChecklistItem.State.DONE
    item.refresh_from_db()
    assert item.note == ""


def test_a_decided_gate_checklist_is_frozen(gate, member):
    decide(gate, Decision.STOP)
    with pytest.raises(InvalidState):
        checklist_item_update(item=item_at(gate, 2), actor=member, state="done")
