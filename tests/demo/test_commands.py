"""The demo portfolio (seed_demo) and the benchmark generator (generate_portfolio), in demo/."""

from __future__ import annotations

import datetime
import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db.models import Count, Max, Min, OuterRef, Subquery, Sum
from django.utils import timezone

from demo.management.metric_profiles import PROFILES
from gates.models import ChecklistItem, Decision, Gate, GateDecision, StageTransition, Vote
from gates.services import initiative_start
from initiatives.models import (
    BusinessCase,
    Framework,
    Initiative,
    KeyCounter,
    Measurement,
    Membership,
    Stage,
    Target,
    stalls_on_for,
)
from teams.models import Team, TeamMembership
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

DEMO_LOGINS = {
    "admin": "portfolio_admin",
    "exec": "executive",
    "pm": "product_manager",
    "pm2": "product_manager",
    "contrib": "contributor",
    "viewer": "viewer",
    "compliance": "compliance",
}
COUNTED_MODELS = [
    get_user_model(),
    Team,
    TeamMembership,
    Initiative,
    BusinessCase,
    Membership,
    Target,
    Measurement,
    Gate,
    ChecklistItem,
    GateDecision,
    Vote,
    StageTransition,
]


def seed(**options) -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out, **options)
    return out.getvalue()


def row_counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in COUNTED_MODELS}


def assert_denormalised_columns_match(initiatives) -> None:
    """stalls_on, gate_due_on and the latest reading of each target match their source rows."""
    for initiative in initiatives.select_related("stage").prefetch_related("gates"):
        assert initiative.stalls_on == stalls_on_for(
            initiative.stage, initiative.stage_entered_on
        ), initiative.key
        pending = [gate for gate in initiative.gates.all() if gate.is_pending]
        assert len(pending) <= 1, initiative.key
        active = initiative.status == Initiative.Status.ACTIVE
        expected_due = pending[0].due_on if pending and active else None
        assert initiative.gate_due_on == expected_due, initiative.key

    newest = Measurement.objects.filter(target=OuterRef("pk")).order_by("-measured_at", "-pk")
    targets = Target.objects.filter(initiative__in=initiatives).annotate(
        newest_at=Max("measurements__measured_at"),
        newest_value=Subquery(newest.values("value")[:1]),
        readings=Count("measurements"),
    )
    assert targets.exists()
    for target in targets:
        assert target.measurement_count == target.readings, target.pk
        assert target.latest_measured_at == target.newest_at, target.pk
        assert target.latest_value == target.newest_value, target.pk
        if target.newest_at is None:
            assert target.status == Target.Status.NO_DATA
        elif target.is_satisfied_by(target.newest_value):
            assert target.status == Target.Status.MET
        else:
            assert target.status == Target.Status.MISSED


# --- seed_demo ------------------------------------------------------------------------------


@pytest.mark.slow
def test_seed_demo_creates_the_logins_and_a_portfolio_across_frameworks_stages_and_statuses(
    client,
):
    output = seed()

    users = get_user_model().objects.prefetch_related("groups")
    for username, group in DEMO_LOGINS.items():
        user = users.get(username=username)
        assert group in {g.name for g in user.groups.all()}, username
        assert username in output
    admin = users.get(username="admin")
    assert admin.is_superuser and admin.is_staff
    assert client.login(username="pm", password="tollgate-demo")

    initiatives = Initiative.objects.all()
    today = timezone.localdate()

    assert 25 <= initiatives.count() <= 40
    assert set(initiatives.values_list("framework__slug", flat=True)) == {
        "ai-maturity",
        "phased-rollout",
    }
    assert set(initiatives.values_list("stage", flat=True)) == set(
        Stage.objects.values_list("pk", flat=True)
    )
    assert set(initiatives.values_list("status", flat=True)) == set(Initiative.Status.values)
    assert initiatives.overdue(today).exists()
    assert initiatives.stalled(today).exists()

    # Eighteen months of history, made of every kind of decision.
    span = StageTransition.objects.aggregate(
        first=Min("transitioned_at"), last=Max("transitioned_at")
    )
    assert span["last"] - span["first"] > datetime.timedelta(days=365)
    assert set(GateDecision.objects.values_list("decision", flat=True)) == set(Decision.values)
    assert GateDecision.objects.exclude(override_justification="").exists()
    assert Gate.objects.awaiting_vote_from(get_user_model().objects.get(username="exec")).exists()

    # Checklists partly done, with N/A reasons and evidence.
    states = set(ChecklistItem.objects.values_list("state", flat=True))
    assert states == set(ChecklistItem.State.values)
    assert ChecklistItem.objects.exclude(evidence_url="").exists()

    # Production bars met and missed; somebody booked beyond 100%.
    assert {Target.Status.MET, Target.Status.MISSED} <= set(
        Target.objects.values_list("status", flat=True)
    )
    totals = Membership.objects.values("user").annotate(total=Sum("allocation_percent"))
    assert max(row["total"] for row in totals) > 100
    assert_denormalised_columns_match(initiatives)


@pytest.mark.slow
def test_seed_demo_run_twice_adds_nothing_and_the_second_run_resets_passwords(client):
    seed()
    counts = row_counts()

    seed(password="another-demo-secret")

    assert row_counts() == counts
    assert client.login(username="exec", password="another-demo-secret")
    assert not client.login(username="viewer", password="tollgate-demo")


@pytest.mark.slow
def test_seed_demo_runs_again_the_next_day_after_people_used_the_demo():
    """`make run` seeds on every start: the next day the files' dates have moved on, and
    people have decided gates meanwhile; what is there is left as it is."""
    import time_machine

    from gates.services import gate_vote

    seed()
    gate = Gate.objects.filter(state=Gate.State.IN_REVIEW).select_related("initiative").first()
    keeper = gate.gatekeepers.select_related("user").first().user
    gate_vote(gate=gate, actor=keeper, decision=Decision.RECYCLE, rationale="Tried in the demo")
    counts = row_counts()

    with time_machine.travel(timezone.now() + datetime.timedelta(days=1)):
        output = seed()

    assert row_counts() == counts
    assert "0 rows created; 30 initiatives already present" in output


# --- generate_portfolio ------------------------------------------------------------------


def test_generate_portfolio_writes_consistent_rows_and_leaves_the_next_key_free():
    output = io.StringIO()
    call_command("generate_portfolio", initiatives=200, seed=11, stdout=output)

    initiatives = Initiative.objects.all()
    assert initiatives.count() == 200
    assert Measurement.objects.count() == 2000
    assert "200 initiatives" in output.getvalue()
    assert Framework.objects.filter(initiatives__isnull=False).distinct().count() == 2
    assert set(initiatives.values_list("status", flat=True)) == set(Initiative.Status.values)
    today = timezone.localdate()
    assert initiatives.overdue(today).exists()
    assert initiatives.stalled(today).exists()
    assert_denormalised_columns_match(initiatives)

    # One transition per stage entered, and a decided gate behind every stage left.
    for initiative in initiatives.select_related("stage").annotate(
        entered=Count("transitions", distinct=True)
    ):
        assert initiative.entered == initiative.stage.order, initiative.key
    for gate in Gate.objects.select_related("stage").annotate(items_count=Count("items")):
        assert gate.items_count >= gate.stage.checklist_templates.count()
        if gate.is_pending:
            weeks = gate.stage.max_weeks or 4
            assert gate.due_on == gate.opened_at.date() + datetime.timedelta(weeks=weeks)
    decided_stage_orders = Gate.objects.filter(state=Gate.State.DECIDED).values_list(
        "stage__order", "initiative__stage__order"
    )
    assert all(gate_order <= current for gate_order, current in decided_stage_orders)

    # The keys came from the counter, so the next initiative started in the app is new.
    counter = KeyCounter.objects.get()
    numbers = [int(key.split("-")[1]) for key in initiatives.values_list("key", flat=True)]
    assert max(numbers) == counter.last_value
    assert len(set(numbers)) == 200
    pm = get_user_model().objects.get(username="bench-pm-1")
    started = initiative_start(
        actor=pm,
        name="Started after the benchmark",
        team=Team.objects.first(),
        owner=pm,
        sponsor=get_user_model().objects.get(username="bench-exec-1"),
    )
    assert int(started.key.split("-")[1]) == counter.last_value + 1


def test_generate_portfolio_continues_after_keys_already_handed_out():
    pm = UserFactory(username="owner", groups=["product_manager"])
    sponsor = UserFactory(username="sponsor", groups=["executive"])
    team = Team.objects.create(name="Existing", slug="existing")
    first = initiative_start(actor=pm, name="Already here", team=team, owner=pm, sponsor=sponsor)

    call_command("generate_portfolio", initiatives=20, measurements=50, stdout=io.StringIO())

    numbers = sorted(
        int(key.split("-")[1]) for key in Initiative.objects.values_list("key", flat=True)
    )
    assert numbers == list(range(int(first.key.split("-")[1]), numbers[0] + 21))


def test_generate_portfolio_feeds_take_the_measurements_beyond_ten_per_initiative():
    call_command(
        "generate_portfolio",
        initiatives=30,
        measurements=3300,
        feeds=3,
        seed=5,
        stdout=io.StringIO(),
    )
    assert Measurement.objects.count() == 3300
    by_target = (
        Measurement.objects.values("target")
        .annotate(readings=Count("pk"))
        .order_by("-readings")
        .values_list("readings", flat=True)
    )
    # 300 spread over every target; 3,000 from three feeds, one reading a minute each.
    assert list(by_target[:3]) >= [1000, 1000, 1000]
    feed = Target.objects.filter(latest_measured_at__isnull=False).order_by("-latest_measured_at")[
        0
    ]
    times = list(feed.measurements.order_by("-measured_at").values_list("measured_at", flat=True))
    assert times[0] - times[1] == datetime.timedelta(minutes=1)
    assert_denormalised_columns_match(Initiative.objects.all())


@pytest.mark.slow
def test_seed_demo_activity_shows_when_each_event_happened():
    from initiatives.models import Activity

    seed()
    entries = Activity.objects.filter(verb="gate.decided")
    assert entries.count() == GateDecision.objects.count()
    decisions = set(GateDecision.objects.values_list("decided_at", flat=True))
    assert {entry.created_at for entry in entries} == decisions
    # The oldest start is about 18 months back, and the log says so.
    first = Activity.objects.filter(verb="initiative.created").order_by("created_at").first()
    assert timezone.now() - first.created_at > datetime.timedelta(days=500)
    start = StageTransition.objects.filter(initiative=first.initiative, from_stage__isnull=True)
    assert start.get().transitioned_at == first.created_at


def test_demo_data_files_are_moved_so_their_day_is_today():
    import csv

    from demo.loading import DATA_WRITTEN_ON, demo_files, read_table

    later = DATA_WRITTEN_ON + datetime.timedelta(days=40)
    files = {source.name: source.content.decode() for source in demo_files(today=later)}
    moved = list(csv.DictReader(io.StringIO(files["history.csv"])))
    original = read_table("history")
    first_moved = datetime.datetime.fromisoformat(moved[0]["entered_on"])
    first_original = datetime.datetime.fromisoformat(original[0]["entered_on"])
    assert first_moved - first_original == datetime.timedelta(days=40)
    # Readings that would lie after now are left out rather than dated in the future.
    readings = list(csv.DictReader(io.StringIO(files["measurements.csv"])))
    assert all(
        datetime.datetime.fromisoformat(row["measured_at"]) <= timezone.now() for row in readings
    )


def test_every_standard_metric_has_one_synthetic_profile_in_the_same_order():
    # generate_portfolio samples metrics from this order with a seeded generator.
    assert list(PROFILES) == list(Target.STANDARD_METRICS)


# Rows whose time is not an event of the demo's history: the frameworks come with the
# migrations, and the import logs itself when it runs.
NOT_DEMO_EVENTS = {("initiatives.Framework", "created_at")}


@pytest.mark.slow
def test_every_demo_row_carries_the_time_its_event_happened():
    """No row of the demo's initiatives, gates, compliance or collaboration is dated by the
    seed's clock: each carries the time the data files give its event (found by field, so a
    new model's time column is checked without editing the test)."""
    from django.apps import apps
    from django.db import models

    from initiatives.models import Activity

    started = timezone.now()
    seed()
    late = []
    for label in ("initiatives", "gates", "compliance", "collaboration"):
        for model in apps.get_app_config(label).get_models():
            rows = model.objects.all()
            if model is Activity:
                rows = rows.exclude(verb="portfolio.imported")
            for field in model._meta.concrete_fields:
                if not isinstance(field, models.DateTimeField):
                    continue
                if (model._meta.label, field.name) in NOT_DEMO_EVENTS:
                    continue
                count = rows.filter(**{f"{field.name}__gte": started}).count()
                if count:
                    late.append(f"{model._meta.label}.{field.name}: {count} of {rows.count()}")
    assert late == []
    assert Activity.objects.filter(verb="classification.confirmed").exists()
