"""Checklist editing in place, asking for review, voting and gatekeepers, through the client."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from gates.models import ChecklistItem, Decision, Gate, Gatekeeper
from gates.services import checklist_item_update, gate_request_review, gate_vote, gatekeeper_add
from initiatives.models import Initiative

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def item_url(item) -> str:
    return reverse("gates:item", args=[item.pk])


def item_data(item, **changes) -> dict:
    """The item form as the page posts it, with `changes` applied."""
    values = {
        "state": item.state,
        "na_reason": item.na_reason,
        "evidence_url": item.evidence_url,
        "note": item.note,
        "version": item.version,
    }
    values.update(changes)
    return {f"item-{item.pk}-{name}": value for name, value in values.items()}


@pytest.fixture
def item(gate):
    return gate.items.get(order=1)


# --- Checklist items ----------------------------------------------------------------------


def test_member_ticks_an_item_and_gets_the_item_and_readiness_back(client, member, item):
    client.force_login(member)
    response = client.post(item_url(item), item_data(item, state="done"), **HTMX)
    content = response.content.decode()
    assert response.status_code == 200
    assert content.lstrip().startswith(f'<li id="item-{item.pk}"')
    assert "checklist__item--done" in content
    assert 'id="readiness" class="readiness" hx-swap-oob="true"' in content
    assert "1 of 6 required items cleared" in content
    item.refresh_from_db()
    assert item.state == ChecklistItem.State.DONE and item.updated_by == member
    assert f'value="{item.version}"' in content  # the next edit names the new version


# session, user; the item with its gate and initiative; the person's roles and membership
# (one query); the service: savepoint, gate and item locks, the update, the activity row,
# the initiative's version, release; the readiness of the gate; the item's comment count
# and files, shown with it.
TICK_QUERIES = 14


@pytest.mark.parametrize("persona", ["member", "owner", "team_lead", "admin_user"])
def test_a_checklist_tick_costs_the_same_few_queries_for_everyone_who_may_tick(
    client, django_assert_num_queries, request, item, persona
):
    user = request.getfixturevalue(persona)
    client.force_login(user)
    client.get(item_url(item))  # warm the session
    with django_assert_num_queries(TICK_QUERIES):
        response = client.post(item_url(item), item_data(item, state="done"), **HTMX)
    assert response.status_code == 200
    assert "1 of 6 required items cleared" in response.content.decode()


def test_untick_reopens_the_item(client, owner, item):
    item = checklist_item_update(item=item, actor=owner, state="done")
    client.force_login(owner)
    response = client.post(item_url(item), item_data(item, state="open"), **HTMX)
    assert "0 of 6 required items cleared" in response.content.decode()
    item.refresh_from_db()
    assert item.state == ChecklistItem.State.OPEN


def test_not_applicable_needs_a_reason_next_to_the_field(client, owner, item):
    client.force_login(owner)
    response = client.post(item_url(item), item_data(item, state="not_applicable"), **HTMX)
    content = response.content.decode()
    assert response.status_code == 200
    assert f'id="id_item-{item.pk}-na_reason_error"' in content
    assert "Say why this item does not apply." in content
    assert '<details class="item-form__details" open>' in content
    item.refresh_from_db()
    assert item.state == ChecklistItem.State.OPEN

    response = client.post(
        item_url(item),
        item_data(item, state="not_applicable", na_reason="Rules-based, no model."),
        **HTMX,
    )
    item.refresh_from_db()
    assert item.state == ChecklistItem.State.NOT_APPLICABLE
    assert "Not applicable: Rules-based, no model." in response.content.decode()


def test_evidence_url_is_validated(client, owner, item):
    client.force_login(owner)
    response = client.post(item_url(item), item_data(item, evidence_url="not a url"), **HTMX)
    assert f'id="id_item-{item.pk}-evidence_url_error"' in response.content.decode()
    item.refresh_from_db()
    assert item.evidence_url == ""

    response = client.post(
        item_url(item),
        item_data(item, evidence_url="https://wiki.example.com/eval", note="Eval run 12"),
        **HTMX,
    )
    item.refresh_from_db()
    assert item.evidence_url == "https://wiki.example.com/eval" and item.note == "Eval run 12"


def test_stale_edit_shows_the_current_value_instead_of_overwriting(client, owner, member, item):
    seen = item_data(item, state="done")  # the owner loaded the page at this version
    checklist_item_update(
        item=item, actor=member, state="not_applicable", na_reason="Covered by vendor SLA."
    )
    client.force_login(owner)
    response = client.post(item_url(item), seen, **HTMX)
    content = response.content.decode()
    assert response.status_code == 200
    assert "Not saved" in content and "changed this item while you were editing" in content
    assert "Covered by vendor SLA." in content
    assert member.get_full_name() in content
    item.refresh_from_db()
    assert item.state == ChecklistItem.State.NOT_APPLICABLE
    assert f'value="{item.version}"' in content  # a retry can now go through


def test_item_post_without_htmx_redirects_to_the_item(client, owner, item):
    client.force_login(owner)
    response = client.post(item_url(item), item_data(item, state="done"))
    assert response.status_code == 302
    assert response["Location"].endswith(f"#item-{item.pk}")


def test_item_page_without_htmx_shows_errors_on_a_page(client, owner, item):
    client.force_login(owner)
    assert client.get(item_url(item)).status_code == 200
    response = client.post(item_url(item), item_data(item, evidence_url="nope"))
    content = response.content.decode()
    assert response.status_code == 200 and "<html" in content
    assert "field__error" in content


def test_readers_cannot_edit_items(client, viewer, executive, team_member, item):
    for user in (viewer, executive, team_member):
        client.force_login(user)
        assert client.get(item_url(item)).status_code == 200
        assert 'class="item-form"' not in client.get(item_url(item)).content.decode()
        response = client.post(item_url(item), item_data(item, state="done"), **HTMX)
        assert response.status_code == 403
    item.refresh_from_db()
    assert item.state == ChecklistItem.State.OPEN


def test_outsider_gets_404_for_items(client, outsider, item):
    client.force_login(outsider)
    assert client.get(item_url(item)).status_code == 404
    assert client.post(item_url(item), item_data(item, state="done")).status_code == 404
    assert client.post(reverse("gates:item", args=[999999]), {}).status_code == 404


def test_items_of_a_decided_gate_are_frozen(client, owner, executive, gate, item):
    gate_request_review(gate=gate, actor=owner)
    gate_vote(gate=gate, actor=executive, decision=Decision.STOP, rationale="No value.")
    client.force_login(owner)
    response = client.post(item_url(item), item_data(item, state="done"), **HTMX)
    content = response.content.decode()
    assert response.status_code == 200
    assert "checklist is frozen" in content
    assert 'class="item-form"' not in content


# --- Asking for review ------------------------------------------------------------------------


def review_url(gate) -> str:
    return reverse("gates:review", args=[gate.pk])


def test_owner_asks_for_review(client, owner, gate):
    client.force_login(owner)
    response = client.post(review_url(gate))
    assert response.status_code == 302
    gate.refresh_from_db()
    assert gate.state == Gate.State.IN_REVIEW
    page = client.get(response["Location"]).content.decode()
    assert "Review requested" in page and "Ask for review" not in page


def test_asking_twice_explains_why_not(client, owner, gate):
    gate_request_review(gate=gate, actor=owner)
    client.force_login(owner)
    response = client.post(review_url(gate), follow=True)
    assert "already been requested" in response.content.decode()


@pytest.mark.parametrize("persona", ["member", "viewer", "executive"])
def test_readers_may_not_ask_for_review(client, request, persona, gate):
    client.force_login(request.getfixturevalue(persona))
    assert client.post(review_url(gate)).status_code == 403


def test_outsider_asking_for_review_gets_404(client, outsider, gate):
    client.force_login(outsider)
    assert client.post(review_url(gate)).status_code == 404


def test_review_request_needs_post(client, owner, gate):
    client.force_login(owner)
    assert client.get(review_url(gate)).status_code == 405


# --- Voting ----------------------------------------------------------------------------------


def vote_url(gate) -> str:
    return reverse("gates:vote", args=[gate.pk])


@pytest.fixture
def in_review(gate, owner):
    return gate_request_review(gate=gate, actor=owner)


def test_gatekeeper_sees_the_vote_form_with_the_override(client, executive, in_review):
    client.force_login(executive)
    content = client.get(in_review.initiative.get_absolute_url()).content.decode()
    assert 'id="vote"' in content
    assert 'name="override"' in content and "6 required items are open" in content


def test_others_do_not_see_the_vote_form(client, owner, viewer, in_review):
    for user in (owner, viewer):
        client.force_login(user)
        assert (
            'id="vote"' not in client.get(in_review.initiative.get_absolute_url()).content.decode()
        )


def test_go_with_open_items_needs_an_override(client, executive, in_review):
    client.force_login(executive)
    response = client.post(vote_url(in_review), {"decision": "go", "rationale": "Looks good."})
    content = response.content.decode()
    assert response.status_code == 200
    assert "6 required items are still open" in content
    # Nobody ticked the override: the box stays unticked, the justification field shows
    # with its error all the same.
    assert 'name="override" id="id_override">' in content
    assert 'name="override" id="id_override" checked' not in content
    assert "override__justification field--invalid" in content
    in_review.refresh_from_db()
    assert in_review.state == Gate.State.IN_REVIEW


def test_override_needs_a_justification(client, executive, in_review):
    client.force_login(executive)
    response = client.post(
        vote_url(in_review), {"decision": "go", "rationale": "Fine.", "override": "on"}
    )
    assert "Write down why the override is justified." in response.content.decode()


def test_rationale_is_required_next_to_the_field(client, executive, in_review):
    client.force_login(executive)
    response = client.post(vote_url(in_review), {"decision": "hold"})
    content = response.content.decode()
    assert response.status_code == 200
    assert "Write down why: the rationale is part of the record." in content


def test_go_with_override_advances_and_the_page_shows_the_new_stage(client, executive, in_review):
    client.force_login(executive)
    response = client.post(
        vote_url(in_review),
        {
            "decision": "go",
            "rationale": "Accuracy is proven.",
            "override": "on",
            "override_justification": "Paperwork follows in MVP.",
        },
    )
    assert response.status_code == 302
    initiative = Initiative.objects.get(pk=in_review.initiative_id)
    assert initiative.stage.key == "mvp"
    page = client.get(response["Location"]).content.decode()
    assert "Decided: Go." in page
    assert "Exit gate: MVP" in page
    assert "Paperwork follows in MVP." in page and "Accuracy is proven." in page
    board = client.get(reverse("initiatives:list")).content.decode()
    mvp_column = board.split('id="stage-mvp"')[1].split('<section class="column"')[0]
    assert initiative.key in mvp_column


def test_go_without_open_items_needs_no_override(client, owner, executive, gate):
    for item in gate.items.filter(required=True):
        checklist_item_update(item=item, actor=owner, state="done")
    gate_request_review(gate=gate, actor=owner)
    client.force_login(executive)
    page = client.get(gate.initiative.get_absolute_url()).content.decode()
    assert 'name="override"' not in page
    response = client.post(vote_url(gate), {"decision": "go", "rationale": "All clear."})
    assert response.status_code == 302
    assert Initiative.objects.get(pk=gate.initiative_id).stage.key == "mvp"


@pytest.mark.parametrize(
    ("decision", "status", "stage", "state"),
    [
        ("conditional_go", "active", "mvp", "decided"),
        ("hold", "on_hold", "poc", "decided"),
        ("recycle", "active", "poc", "open"),
        ("stop", "stopped", "poc", "decided"),
    ],
)
def test_each_decision_through_the_page(
    client, executive, in_review, decision, status, stage, state
):
    client.force_login(executive)
    response = client.post(vote_url(in_review), {"decision": decision, "rationale": "Because."})
    assert response.status_code == 302
    in_review.refresh_from_db()
    initiative = Initiative.objects.get(pk=in_review.initiative_id)
    assert (initiative.status, initiative.stage.key, in_review.state) == (status, stage, state)
    page = client.get(response["Location"]).content.decode()
    assert "Decided:" in page and "Because." in page


def test_second_decider_is_told_the_gate_is_already_decided(
    client, executive, other_executive, admin_user, in_review
):
    gatekeeper_add(gate=in_review, user=other_executive, actor=admin_user)
    client.force_login(other_executive)
    page = client.get(in_review.initiative.get_absolute_url()).content.decode()
    assert 'id="vote"' in page  # the form is open in the second executive's browser...
    gate_vote(gate=in_review, actor=executive, decision=Decision.HOLD, rationale="Wait.")
    response = client.post(  # ...while the first decides
        vote_url(in_review), {"decision": "stop", "rationale": "Too late?"}, follow=True
    )
    assert "already decided" in response.content.decode()
    in_review.refresh_from_db()
    assert in_review.decision == Decision.HOLD


def test_all_rule_waits_for_every_gatekeeper(
    client, executive, other_executive, admin_user, in_review
):
    gatekeeper_add(gate=in_review, user=other_executive, actor=admin_user)
    in_review.rule = Gate.Rule.ALL
    in_review.save(update_fields=["rule"])
    client.force_login(executive)
    response = client.post(
        vote_url(in_review), {"decision": "hold", "rationale": "Wait."}, follow=True
    )
    content = response.content.decode()
    assert "waiting for the other gatekeepers" in content
    assert "voted hold" in content and 'id="vote"' not in content


def test_non_gatekeeper_vote_is_forbidden(client, other_executive, owner, in_review):
    for user in (other_executive, owner):
        client.force_login(user)
        response = client.post(vote_url(in_review), {"decision": "go", "rationale": "x"})
        assert response.status_code == 403


def test_outsider_vote_is_404(client, outsider, in_review):
    client.force_login(outsider)
    assert client.post(vote_url(in_review), {"decision": "go", "rationale": "x"}).status_code == 404


# --- Gatekeepers and rule (portfolio admins) ------------------------------------------------


def test_admin_adds_a_gatekeeper_and_sets_the_rule(client, admin_user, other_executive, gate):
    client.force_login(admin_user)
    page = client.get(gate.initiative.get_absolute_url()).content.decode()
    assert "Gatekeepers and rule" in page
    response = client.post(
        reverse("gates:gatekeeper-add", args=[gate.pk]), {"user": other_executive.pk}
    )
    assert response.status_code == 302
    assert Gatekeeper.objects.filter(gate=gate, user=other_executive).exists()
    response = client.post(reverse("gates:rule", args=[gate.pk]), {"rule": "all"}, follow=True)
    gate.refresh_from_db()
    assert gate.rule == Gate.Rule.ALL
    # The message names the rule just saved.
    assert "Rule: all gatekeepers decide." in response.content.decode()


def test_gatekeeper_must_be_an_executive(client, admin_user, member, gate):
    client.force_login(admin_user)
    response = client.post(reverse("gates:gatekeeper-add", args=[gate.pk]), {"user": member.pk})
    assert response.status_code == 200
    assert "field__error" in response.content.decode()
    assert not Gatekeeper.objects.filter(gate=gate, user=member).exists()


def test_only_admins_manage_gatekeepers(client, owner, executive, other_executive, gate):
    for user in (owner, executive):
        client.force_login(user)
        page = client.get(gate.initiative.get_absolute_url()).content.decode()
        assert "Gatekeepers and rule" not in page
        url = reverse("gates:gatekeeper-add", args=[gate.pk])
        assert client.post(url, {"user": other_executive.pk}).status_code == 403
        assert (
            client.post(reverse("gates:rule", args=[gate.pk]), {"rule": "all"}).status_code == 403
        )


# --- Gates awaiting my decision ----------------------------------------------------------------


def test_awaiting_page_lists_gates_in_review_for_the_gatekeeper(client, executive, in_review):
    client.force_login(executive)
    response = client.get(reverse("gates:awaiting"))
    content = response.content.decode()
    assert response.status_code == 200
    assert in_review.initiative.key in content and "0/6" in content
    fragment = client.get(reverse("gates:awaiting"), **HTMX).content.decode()
    assert fragment.lstrip().startswith('<section id="awaiting"') and "<html" not in fragment


def test_awaiting_page_is_empty_once_voted(client, executive, in_review):
    gate_vote(gate=in_review, actor=executive, decision=Decision.RECYCLE, rationale="Again.")
    client.force_login(executive)
    content = client.get(reverse("gates:awaiting")).content.decode()
    assert "Nothing waits for your decision" in content


def test_awaiting_count_in_the_nav(client, executive, member, in_review):
    client.force_login(executive)
    content = client.get(reverse("gates:awaiting-count"), **HTMX).content.decode()
    assert 'id="awaiting-link"' in content and ">1</span>" in content
    assert "hx-get" not in content
    client.force_login(member)
    assert client.get(reverse("gates:awaiting-count"), **HTMX).content == b""


def test_the_decisions_link_waits_hidden_for_its_count(client, member, initiative):
    # It showed, then vanished once its count said nobody asks this person to decide.
    client.force_login(member)
    page = client.get(reverse("initiatives:list")).content.decode()
    link = re.search(r'<a id="awaiting-link"[^>]*>', page).group(0)
    assert " hidden " in link
    assert client.get(reverse("gates:awaiting-count"), **HTMX).content == b""


def test_awaiting_query_count_does_not_grow(
    client, django_assert_num_queries, owner, executive, team
):
    from tests.factories import InitiativeFactory

    for _ in range(5):
        initiative = InitiativeFactory(team=team, owner=owner, sponsor=executive)
        gate_request_review(gate=initiative.gates.get(), actor=owner)
    client.force_login(executive)
    client.get(reverse("gates:awaiting"))
    # session, user, the gates with their readiness.
    with django_assert_num_queries(3):
        assert client.get(reverse("gates:awaiting")).status_code == 200


def test_awaiting_link_is_current_on_the_awaiting_page(client, executive, in_review):
    client.force_login(executive)
    url = reverse("gates:awaiting-count")
    on_page = client.get(
        url, HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL="http://testserver/gates/awaiting/"
    )
    assert 'aria-current="page"' in on_page.content.decode()
    elsewhere = client.get(url, HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL="http://testserver/")
    assert 'aria-current="page"' not in elsewhere.content.decode()


def test_an_evidence_link_to_tollgate_itself_works_on_any_port(client, owner, gate, settings):
    """Items met by a measurement link to the target with SITE_URL (for emails); on the page
    the link is a path, so it works wherever the app is served (e.g. make run PORT=8080)."""
    settings.SITE_URL = "http://127.0.0.1:8000"
    item = gate.items.order_by("order").first()
    path = f"{gate.initiative.get_absolute_url()}#target-1"
    ChecklistItem.objects.filter(pk=item.pk).update(evidence_url=f"http://127.0.0.1:8000{path}")
    ChecklistItem.objects.filter(pk=gate.items.order_by("order")[1].pk).update(
        evidence_url="https://wiki.example.com/eval"
    )
    client.force_login(owner)
    page = client.get(gate.initiative.get_absolute_url()).content.decode()
    assert f'<a href="{path}"' in page
    assert 'href="http://127.0.0.1:8000' not in page
    assert '<a href="https://wiki.example.com/eval"' in page
