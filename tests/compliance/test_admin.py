"""The admin: the catalogue is edited there; decisions and classifications follow the rules."""

from __future__ import annotations

import pytest
from django.urls import reverse

from compliance.models import Classification, ClassificationRevision, Obligation
from compliance.services import classification_propose
from gates.models import Gate
from tests.compliance.conftest import PROHIBITED

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser(db):
    from tests.factories import UserFactory

    return UserFactory(username="root", is_staff=True, is_superuser=True)


def test_the_catalogue_is_listed_and_editable(client, superuser):
    client.force_login(superuser)
    page = client.get(reverse("admin:compliance_obligation_changelist"))
    assert page.status_code == 200
    assert "art27-fria" in page.content.decode()
    obligation = Obligation.objects.get(code="art9-risk-management")
    change = client.get(reverse("admin:compliance_obligation_change", args=[obligation.pk]))
    assert "Digital Omnibus" in change.content.decode()


def test_a_prohibited_initiative_cannot_advance_through_the_admin(
    client, superuser, initiative, gate, classify
):
    classify(initiative, PROHIBITED)
    client.force_login(superuser)
    url = reverse("admin:gates_gate_change", args=[gate.pk])
    page = client.get(url).content.decode()
    assert "cannot pass any gate" in page  # the reason, beside the read-only decision
    # The decision is not a field the admin can write: posting one changes nothing.
    client.post(url, {"decision": "go", "state": "decided", "rule": "any"})
    gate.refresh_from_db()
    initiative.refresh_from_db()
    assert (gate.state, gate.decision, initiative.stage.key) == (Gate.State.OPEN, "", "poc")
    change = reverse("admin:initiatives_initiative_change", args=[initiative.pk])
    client.post(change, {"stage": initiative.framework.stages.get(key="mvp").pk})
    initiative.refresh_from_db()
    assert initiative.stage.key == "poc"


def test_the_admin_confirms_a_proposal_through_the_service(client, superuser, owner, initiative):
    classification_propose(initiative=initiative, actor=owner, answers={"role": "provider"})
    client.force_login(superuser)
    revision = ClassificationRevision.objects.get()
    client.post(
        reverse("admin:compliance_classificationrevision_changelist"),
        {"action": "confirm", "_selected_action": [revision.pk]},
    )
    assert Classification.objects.get(initiative=initiative).revision.confirmed_by == superuser


def test_an_obligation_cannot_be_placed_on_a_stage_without_an_exit_gate():
    from django.core.exceptions import ValidationError

    from compliance.models import ObligationStage
    from initiatives.models import Stage

    scale = Stage.objects.get(framework__slug="ai-maturity", key="scale")
    row = ObligationStage(
        obligation=Obligation.objects.get(code="art4-ai-literacy"),
        framework=scale.framework,
        stage=scale,
    )
    with pytest.raises(ValidationError) as error:
        row.clean()
    assert "no exit gate" in error.value.message_dict["stage"][0]


WRONG_LISTS = [
    [["provider"]],
    [{"role": "provider"}],
    {"provider": True},
    "provider",
    5,
    [1, 2],
    ["provider", None],
]


@pytest.mark.parametrize(
    ("model", "name"),
    [
        ("compliance.Obligation", "roles"),
        ("compliance.Obligation", "tiers"),
        ("initiatives.Stage", "recommended_roles"),
    ],
)
@pytest.mark.parametrize("wrong", WRONG_LISTS, ids=repr)
def test_a_json_list_of_choices_refuses_every_other_shape_by_field(model, name, wrong):
    """The JSON columns that hold a list of choices: nested, object or wrong-typed JSON is a
    field error, never a TypeError from hashing it."""
    from django.apps import apps
    from django.core.exceptions import ValidationError

    instance = apps.get_model(model).objects.first()
    setattr(instance, name, wrong)
    with pytest.raises(ValidationError) as raised:
        instance.full_clean()
    assert name in raised.value.message_dict


@pytest.mark.parametrize("wrong", ['[["provider"]]', '{"provider": 1}', "[1]", '"deployer"'])
def test_the_admin_answers_a_wrong_roles_list_with_a_field_error(client, superuser, wrong):
    obligation = Obligation.objects.get(code="art9-risk-management")
    url = reverse("admin:compliance_obligation_change", args=[obligation.pk])
    client.force_login(superuser)
    form = client.get(url).context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data.update(
        {
            "roles": wrong,
            "tiers": '[["high_risk"]]',
            "applies_from": obligation.applies_from.isoformat(),
            "stages-TOTAL_FORMS": "0",
            "stages-INITIAL_FORMS": "0",
        }
    )
    data["is_active"] = "on"
    response = client.post(url, data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "roles" in errors and "tiers" in errors
    obligation.refresh_from_db()
    assert obligation.roles == ["provider"]
