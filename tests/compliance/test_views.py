"""The classification pages: proposing, confirming, the panel and the gate's regulatory items."""

from __future__ import annotations

import pytest
from django.urls import reverse

from compliance.models import Classification, ClassificationRevision
from gates.models import Decision, Gate
from tests.compliance.conftest import HIGH_RISK, MINIMAL, PROHIBITED

pytestmark = pytest.mark.django_db


def classification_url(initiative) -> str:
    return reverse("compliance:classification", args=[initiative.key])


def confirm_url(initiative) -> str:
    return reverse("compliance:confirm", args=[initiative.key])


def test_the_owner_proposes_by_answering_the_questionnaire(client, owner, initiative):
    client.force_login(owner)
    page = client.get(classification_url(initiative))
    assert page.status_code == 200
    assert "Does it use a practice that Article 5 prohibits?" in page.content.decode()
    response = client.post(
        classification_url(initiative),
        {
            "role": "deployer",
            "annex_iii_area": "essential_services",
            "essential_service_use": "credit_scoring",
        },
    )
    assert response.status_code == 302
    revision = ClassificationRevision.objects.get(initiative=initiative)
    assert (revision.tier, revision.state, revision.classified_by) == (
        "high_risk",
        "proposed",
        owner,
    )
    assert "fria_required" in revision.flags


def test_a_questionnaire_without_a_role_is_shown_again_with_the_error(client, owner, initiative):
    client.force_login(owner)
    response = client.post(classification_url(initiative), {"annex_iii_area": "education"})
    assert response.status_code == 200
    assert "This field is required" in response.content.decode()
    assert not ClassificationRevision.objects.exists()


def test_confirming_puts_the_obligations_on_the_gate_the_page_shows(
    client, owner, admin_user, initiative, gate
):
    client.force_login(owner)
    client.post(classification_url(initiative), {"role": "provider", "annex_iii_area": "education"})
    detail = client.get(initiative.get_absolute_url()).content.decode()
    assert "Awaiting confirmation" in detail
    assert "Confirm classification" not in detail  # the owner may not confirm

    client.force_login(admin_user)
    response = client.post(confirm_url(initiative), {"revision": 1})
    assert response.status_code == 302
    detail = client.get(initiative.get_absolute_url()).content.decode()
    assert "High-risk" in detail
    assert "regulatory · " in detail and ">Art. 9</a>" in detail
    assert Classification.objects.get(initiative=initiative).tier == "high_risk"


def test_the_owner_cannot_confirm(client, owner, initiative, classify):
    client.force_login(owner)
    client.post(classification_url(initiative), {"role": "provider"})
    assert client.post(confirm_url(initiative), {"revision": 1}).status_code == 403


def test_the_compliance_role_confirms(client, owner, compliance_officer, initiative):
    client.force_login(owner)
    client.post(classification_url(initiative), {"role": "provider"})
    client.force_login(compliance_officer)
    client.post(confirm_url(initiative), {"revision": 1})
    assert Classification.objects.get(initiative=initiative).tier == "minimal"


@pytest.mark.parametrize("revision", [None, "", "latest", "0"])
def test_confirming_by_the_page_needs_the_proposal_seen(
    client, owner, compliance_officer, initiative, revision
):
    # A POST without the number confirmed whatever proposal waited by then.
    client.force_login(owner)
    client.post(classification_url(initiative), {"role": "provider"})
    client.force_login(compliance_officer)
    data = {} if revision is None else {"revision": revision}
    response = client.post(confirm_url(initiative), data, follow=True)
    assert "out of date" in response.content.decode()
    assert not Classification.objects.filter(initiative=initiative).exists()


def test_a_prohibited_initiative_cannot_advance_by_the_page(
    client, initiative, gate, classify, executive
):
    classify(initiative, PROHIBITED)
    gate.state = Gate.State.IN_REVIEW
    gate.save()
    client.force_login(executive)
    response = client.post(
        reverse("gates:vote", args=[gate.pk]),
        {"decision": Decision.GO, "rationale": "Ship it.", "override_justification": "Because."},
    )
    assert "cannot pass any gate" in response.content.decode()
    gate.refresh_from_db()
    assert gate.state == Gate.State.IN_REVIEW
    initiative.refresh_from_db()
    assert initiative.stage.key == "poc"


@pytest.mark.parametrize("answers", [MINIMAL, HIGH_RISK])
def test_the_initiative_page_costs_the_same_queries_whatever_the_obligations(
    client, django_assert_num_queries, owner, initiative, gate, classify, answers
):
    # Minimal risk puts one obligation on the gate, high-risk three now and twelve in all.
    classify(initiative, answers)
    client.force_login(owner)
    client.get(initiative.get_absolute_url())
    with django_assert_num_queries(25):
        assert client.get(initiative.get_absolute_url()).status_code == 200


@pytest.mark.parametrize("state", ["unclassified", "proposed", "confirmed"])
def test_the_classify_link_leads_to_the_questionnaire_from_every_page(
    client, owner, compliance_officer, initiative, gate, state
):
    """From the initiative page and from the classification page itself, in every state,
    Classify (or Reclassify) leads to the questionnaire's form; and no link of either page
    leads to the page it is on without naming an element of it."""
    import re
    from urllib.parse import urlsplit

    from compliance.services import classification_confirm, classification_propose

    if state != "unclassified":
        classification_propose(initiative=initiative, actor=owner, answers=HIGH_RISK)
    if state == "confirmed":
        classification_confirm(initiative=initiative, actor=compliance_officer)
    client.force_login(owner)
    for here in (initiative.get_absolute_url(), classification_url(initiative)):
        html = client.get(here).content.decode()
        ids = set(re.findall(r'\sid="([^"]+)"', html))
        links = re.findall(
            r'<a [^>]*href="([^"]*)"[^>]*>\s*(Classify|Reclassify|Change the answers)\s*</a>', html
        )
        assert len(links) == 1, (here, links)
        # "Reclassify" only once there is a classification to change.
        expected = {"unclassified": "Classify", "proposed": "Change the answers"}
        assert links[0][1] == expected.get(state, "Reclassify"), (here, links)
        target = urlsplit(links[0][0])
        assert target.path == classification_url(initiative), here
        form_page = client.get(target.path).content.decode()
        assert re.search(rf'id="{target.fragment}"[^>]*>\s*<h2[^>]*>Questionnaire', form_page)
        for href in re.findall(r'<a [^>]*href="([^"]*)"', html):
            link = urlsplit(href)
            if link.path == here:
                assert link.fragment in ids, (here, href)
