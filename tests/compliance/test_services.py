"""Classifying an initiative, and its obligations on the gates."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from compliance.models import (
    Classification,
    ClassificationRevision,
    ObligationItem,
    ReviewInterval,
    add_months,
)
from compliance.services import classification_confirm, classification_propose
from core import events
from gates.models import ChecklistItem, Decision, Gate
from gates.services import checklist_item_update
from initiatives.exceptions import InvalidState, StaleEdit
from initiatives.models import Activity, ChecklistItemTemplate
from tests.compliance.conftest import HIGH_RISK, MINIMAL, PROHIBITED
from tests.gates.helpers import clear_required, decide, go_with_override

pytestmark = pytest.mark.django_db

DESIGN_STAGE = {"art4-ai-literacy", "art9-risk-management", "art10-data-governance"}
RELEASE_STAGE = {
    "art11-technical-documentation",
    "art12-record-keeping",
    "art13-instructions-for-use",
    "art14-human-oversight",
    "art15-accuracy-robustness-security",
    "art17-quality-management",
    "art43-conformity-assessment",
    "art49-registration",
}
IN_USE_STAGE = {"art72-post-market-monitoring", "art73-serious-incidents"}


def obligations_on(gate: Gate, live_only: bool = True) -> set[str]:
    links = ObligationItem.objects.filter(gate=gate)
    if live_only:
        links = links.filter(dropped_at__isnull=True)
    return set(links.values_list("obligation__code", flat=True))


def regulatory_items(gate: Gate) -> list[ChecklistItem]:
    return list(gate.items.exclude(regulation="").order_by("order"))


def test_a_proposal_puts_nothing_on_the_gates_until_it_is_confirmed(initiative, gate, owner):
    revision = classification_propose(initiative=initiative, actor=owner, answers=HIGH_RISK)
    assert (revision.number, revision.state, revision.tier) == (1, "proposed", "high_risk")
    assert revision.questionnaire_version == 1
    assert regulatory_items(gate) == []
    assert not Classification.objects.filter(initiative=initiative).exists()


def test_only_an_admin_or_the_compliance_role_confirms(initiative, owner, executive, admin_user):
    classification_propose(initiative=initiative, actor=owner, answers=MINIMAL)
    for person in (owner, executive):
        with pytest.raises(PermissionDenied):
            classification_confirm(initiative=initiative, actor=person)
    classification = classification_confirm(initiative=initiative, actor=admin_user)
    assert classification.tier == "minimal"
    assert classification.revision.confirmed_by == admin_user
    assert classification.revision.classified_by == owner


def test_confirming_nothing_or_a_replaced_proposal_is_refused(initiative, owner, admin_user):
    with pytest.raises(InvalidState):
        classification_confirm(initiative=initiative, actor=admin_user)
    classification_propose(initiative=initiative, actor=owner, answers=MINIMAL)
    classification_propose(initiative=initiative, actor=owner, answers=HIGH_RISK)
    with pytest.raises(StaleEdit):
        classification_confirm(initiative=initiative, actor=admin_user, revision_number=1)
    assert classification_confirm(
        initiative=initiative, actor=admin_user, revision_number=2
    ).tier == ("high_risk")


def test_answers_that_do_not_fit_are_refused_by_field(initiative, owner):
    with pytest.raises(ValidationError) as error:
        classification_propose(initiative=initiative, actor=owner, answers={"role": "landlord"})
    assert "role" in error.value.message_dict


def test_obligations_land_on_the_gate_of_the_stage_the_catalogue_names(
    initiative, gate, classify, owner
):
    classify(initiative, HIGH_RISK)
    assert obligations_on(gate) == DESIGN_STAGE
    items = regulatory_items(gate)
    assert all(item.required and item.state == "open" for item in items)
    risk = next(item for item in items if item.regulation == "Art. 9")
    assert "2 December 2027" in risk.guidance and "Digital Omnibus" in risk.guidance
    assert risk.regulation_url.endswith("#art_9")

    mvp_gate = go_with_override(initiative)  # the PoC gate; the MVP gate opens
    mvp_gate = initiative.gates.get(state=Gate.State.OPEN)
    assert obligations_on(mvp_gate) == RELEASE_STAGE
    clear_required(mvp_gate, owner)
    decide(mvp_gate, Decision.GO)
    production_gate = initiative.gates.get(state=Gate.State.OPEN)
    assert production_gate.stage.key == "production"
    assert obligations_on(production_gate) == IN_USE_STAGE


def test_obligations_survive_a_change_of_the_stage_template(initiative, classify):
    classify(initiative, HIGH_RISK)
    mvp = initiative.framework.stages.get(key="mvp")
    # An admin rewrites the MVP template: one item goes, one comes.
    mvp.checklist_templates.order_by("order").first().delete()
    ChecklistItemTemplate.objects.create(stage=mvp, order=99, text="Accessibility reviewed")
    go_with_override(initiative)
    mvp_gate = initiative.gates.get(state=Gate.State.OPEN)
    texts = list(mvp_gate.items.values_list("text", flat=True))
    assert "Accessibility reviewed" in texts
    assert obligations_on(mvp_gate) == RELEASE_STAGE
    orders = list(mvp_gate.items.values_list("order", flat=True))
    assert len(orders) == len(set(orders))


def test_a_reclassification_marks_dropped_obligations_not_applicable_and_keeps_them(
    initiative, gate, classify
):
    classify(initiative, HIGH_RISK)
    items_before = {item.pk for item in regulatory_items(gate)}
    classify(initiative, MINIMAL)
    items = regulatory_items(gate)
    assert {item.pk for item in items} == items_before  # nothing deleted
    dropped = [item for item in items if item.regulation in ("Art. 9", "Art. 10")]
    assert [(item.state, item.na_reason) for item in dropped] == [
        ("not_applicable", "reclassified")
    ] * 2
    literacy = next(item for item in items if item.regulation == "Art. 4")
    assert literacy.state == "open"  # AI literacy applies to every tier
    assert obligations_on(gate) == {"art4-ai-literacy"}
    assert obligations_on(gate, live_only=False) == DESIGN_STAGE
    assert (
        Activity.objects.filter(
            initiative=initiative, verb="item.changed", after="not_applicable"
        ).count()
        == 2
    )

    # Back to high-risk: the same items reopen; no duplicates.
    classify(initiative, HIGH_RISK)
    items = regulatory_items(gate)
    assert {item.pk for item in items} == items_before
    assert {item.state for item in items} == {"open"}
    assert obligations_on(gate) == DESIGN_STAGE
    revisions = ClassificationRevision.objects.filter(initiative=initiative).order_by("number")
    assert [(r.number, r.tier, r.state) for r in revisions] == [
        (1, "high_risk", "superseded"),
        (2, "minimal", "superseded"),
        (3, "high_risk", "confirmed"),
    ]


def test_a_done_obligation_stays_done_when_it_no_longer_applies(initiative, gate, classify, owner):
    classify(initiative, HIGH_RISK)
    risk = gate.items.get(regulation="Art. 9")
    checklist_item_update(item=risk, actor=owner, state="done", evidence_url="https://x.test/r")
    classify(initiative, MINIMAL)
    risk.refresh_from_db()
    assert risk.state == "done"


def test_a_classification_later_in_life_puts_earlier_obligations_on_the_gate_in_play(
    initiative, classify
):
    go_with_override(initiative)
    mvp_gate = initiative.gates.get(state=Gate.State.OPEN)
    classify(initiative, HIGH_RISK)
    assert obligations_on(mvp_gate) == DESIGN_STAGE | RELEASE_STAGE


def test_a_conditional_go_carries_open_obligations_as_conditions(initiative, gate, classify):
    classify(initiative, HIGH_RISK)
    decide(gate, Decision.CONDITIONAL_GO)
    mvp_gate = initiative.gates.get(state=Gate.State.OPEN)
    carried = mvp_gate.items.filter(is_condition=True, regulation="Art. 9").get()
    assert ObligationItem.objects.get(obligation__code="art9-risk-management").item == carried
    # Not added twice: the condition is the obligation's item now.
    assert mvp_gate.items.filter(regulation="Art. 9").count() == 1
    assert obligations_on(mvp_gate) == DESIGN_STAGE | RELEASE_STAGE


@pytest.mark.parametrize("decision", [Decision.GO, Decision.CONDITIONAL_GO])
def test_a_prohibited_initiative_cannot_pass_a_gate(initiative, gate, classify, decision):
    classify(initiative, PROHIBITED)
    with pytest.raises(ValidationError) as error:
        decide(gate, decision, override_justification="We accept the risk.")
    assert "prohibited" in error.value.message_dict["decision"][0]
    initiative.refresh_from_db()
    assert initiative.stage.key == "poc"


def test_a_prohibited_initiative_can_still_be_stopped(initiative, gate, classify):
    classify(initiative, PROHIBITED)
    decide(gate, Decision.STOP)
    initiative.refresh_from_db()
    assert initiative.status == "stopped"


def test_confirming_announces_initiative_classified(
    initiative, classify, django_capture_on_commit_callbacks
):
    received = []

    def listener(event, payload):
        received.append((event, payload))

    events.subscribe(events.Event.INITIATIVE_CLASSIFIED, listener)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            classify(initiative, HIGH_RISK)
    finally:
        events.unsubscribe(events.Event.INITIATIVE_CLASSIFIED, listener)
    assert [event for event, _ in received] == ["initiative.classified"]
    payload = received[0][1]
    assert (payload["initiative"], payload["tier"], payload["confirmed_by"]) == (
        initiative.key,
        "high_risk",
        "compliance",
    )
    assert "art9-risk-management" in payload["obligations"]


def test_the_review_date_follows_the_tier(initiative, classify):
    ReviewInterval.objects.filter(tier="high_risk").update(months=6)
    classification = classify(initiative, HIGH_RISK)
    assert classification.next_review_on == add_months(classification.confirmed_at.date(), 6)
