"""factory_boy factories. Initiatives and targets go through the services, as the app does."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from gates.services import initiative_start, target_create
from initiatives.models import Initiative, Membership, Target
from teams.models import Team, TeamMembership
from teams.roles import StageRole

DEFAULT_PASSWORD = "tollgate-test"


class UserFactory(factory.django.DjangoModelFactory):
    """A user; `groups=["executive"]` puts them in portfolio-role groups by name."""

    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    first_name = factory.Sequence(lambda n: f"First{n}")
    last_name = "Tester"
    password = factory.django.Password(DEFAULT_PASSWORD)

    @factory.post_generation
    def groups(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.add(*Group.objects.filter(name__in=extracted))


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"Team {n}")
    slug = factory.Sequence(lambda n: f"team-{n}")


class TeamMembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TeamMembership

    team = factory.SubFactory(TeamFactory)
    user = factory.SubFactory(UserFactory)
    role = TeamMembership.Role.MEMBER


class InitiativeFactory(factory.django.DjangoModelFactory):
    """An initiative started through `initiative_start`, so its first gate and transition exist."""

    class Meta:
        model = Initiative

    name = factory.Sequence(lambda n: f"Initiative {n}")
    summary = "Answers support tickets with a retrieval-augmented model."
    problem = "Support backlog grows faster than the team."
    team = factory.SubFactory(TeamFactory)
    owner = factory.SubFactory(UserFactory, groups=["product_manager"])
    sponsor = factory.SubFactory(UserFactory, groups=["executive"])
    framework = None  # the default framework
    entered_on = None  # today
    actor = factory.LazyAttribute(lambda initiative: initiative.owner)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return initiative_start(**kwargs)


class TargetFactory(factory.django.DjangoModelFactory):
    """A production-bar target added through `target_create`, which links checklist items."""

    class Meta:
        model = Target

    initiative = factory.SubFactory(InitiativeFactory)
    metric_key = "accuracy"
    threshold = 90.0
    actor = factory.LazyAttribute(lambda target: target.initiative.owner)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return target_create(**kwargs)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    initiative = factory.SubFactory(InitiativeFactory)
    user = factory.SubFactory(UserFactory, groups=["contributor"])
    stage_role = StageRole.ML_ENGINEER
    allocation_percent = 50
