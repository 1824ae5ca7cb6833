"""Who may read an initiative, asked from both sides, gets one answer.

`Initiative.objects.visible_to` (the initiatives a person reads: lists, board, search) and
`initiative_readers` (the people who read an initiative: mentions, notices) spell one rule
twice; `access_for(...).can_view` answers it for one pair.
"""

import pytest
from django.contrib.auth import get_user_model

from initiatives.models import Initiative
from initiatives.policy import access_for, initiative_readers

PEOPLE = [
    "viewer",
    "member",
    "outsider",
    "owner",
    "other_pm",
    "executive",
    "admin_user",
    "team_lead",
    "team_member",
    "inactive_user",
]


@pytest.fixture
def superuser(db):
    return get_user_model().objects.create_superuser("root", "root@example.com", "pw-12345678")


def test_both_sides_of_the_read_rule_agree(request, initiative, other_initiative, superuser):
    people = [request.getfixturevalue(name) for name in PEOPLE] + [superuser]
    disagreements = []
    for initiative_ in (initiative, other_initiative):
        readers = set(initiative_readers(initiative_).values_list("pk", flat=True))
        for person in people:
            person = get_user_model().objects.get(pk=person.pk)  # roles read afresh
            listed = Initiative.objects.visible_to(person).filter(pk=initiative_.pk).exists()
            answers = (person.pk in readers, listed, access_for(person, initiative_).can_view)
            if len(set(answers)) != 1:
                disagreements.append(f"{person.username} on {initiative_.key}: {answers}")
    assert disagreements == []
    # The walk is not vacuous: some read, some do not.
    assert 0 < len(initiative_readers(initiative)) < len(people)


def test_readers_are_listed_once(initiative, member):
    from teams.models import TeamMembership

    # Owner who is also on the team and a member: three ties, one row.
    TeamMembership.objects.get_or_create(team=initiative.team, user=initiative.owner)
    pks = list(initiative_readers(initiative).values_list("pk", flat=True))
    assert len(pks) == len(set(pks))
