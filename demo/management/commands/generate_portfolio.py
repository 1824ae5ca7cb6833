"""Generate a large synthetic portfolio for benchmarks, with bulk inserts.

The per-row services are far too slow for tens of thousands of initiatives, so
this command writes the rows directly and keeps the denormalised columns the
services would have kept: `Initiative.stalls_on` and `gate_due_on`, and each
target's latest value and status. Keys come from a block reserved on the
KeyCounter in one UPDATE, so initiatives started afterwards never collide.
"""

from __future__ import annotations

import datetime
import gc
import math
import random
import time
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from core.versions import portfolio_changed
from demo.management.metric_profiles import PROFILES, capped
from gates.models import (
    ADVANCING,
    ChecklistItem,
    Decision,
    Gate,
    GateDecision,
    Gatekeeper,
    StageTransition,
    Vote,
)
from initiatives.models import (
    Activity,
    BusinessCase,
    Framework,
    Initiative,
    KeyCounter,
    Measurement,
    Membership,
    Stage,
    Tag,
    Target,
    stalls_on_for,
)
from teams.models import Team, TeamMembership
from teams.roles import PortfolioRole, StageRole

USE_CASES = [
    "Invoice matching",
    "Support ticket triage",
    "Demand forecasting",
    "Contract clause extraction",
    "Fraud scoring",
    "Churn prediction",
    "Call summarisation",
    "Document classification",
    "Claims intake automation",
    "Knowledge-base answer bot",
    "Price optimisation",
    "Supplier risk scoring",
    "Predictive maintenance",
    "Route optimisation",
    "Expense auditing",
    "Cash-flow forecasting",
    "Email intent routing",
    "Product categorisation",
    "Anomaly detection on payments",
    "CV screening assistant",
    "Sales call coaching",
    "Visual quality inspection",
    "Meeting notes drafting",
    "Regulatory change monitoring",
    "Next-best-action recommendations",
    "Inventory replenishment",
    "KYC document checks",
    "Code review assistant",
    "Marketing copy generation",
    "Workforce scheduling",
]
SCOPES = [
    "EMEA",
    "North America",
    "APAC",
    "LATAM",
    "retail",
    "wholesale",
    "small business",
    "enterprise accounts",
    "wave 2",
    "pilot region",
    "online channel",
    "stores",
    "call centre",
    "back office",
    "partners",
    "group functions",
]
PROBLEMS = [
    "The work is done by hand, slowly and inconsistently.",
    "Backlogs build up at month end and service levels slip.",
    "Errors are found late, when they are expensive to fix.",
    "Experts spend their time on routine cases instead of hard ones.",
    "Customers wait days for answers that could take minutes.",
    "Decisions rely on judgement and last year's numbers.",
]
BUSINESS_UNITS = [
    "Customer Service",
    "Finance Operations",
    "Risk",
    "Logistics",
    "Marketing",
    "People",
]
TAGS = ["llm", "nlp", "forecasting", "computer-vision", "classification", "genai", "optimisation"]

STATUS_WEIGHTS = {
    Initiative.Status.ACTIVE: 65,
    Initiative.Status.ON_HOLD: 10,
    Initiative.Status.STOPPED: 15,
    Initiative.Status.COMPLETED: 10,
}
STALLED_SHARE = 0.2
IN_REVIEW_SHARE = 0.15
ENGINEER_ROLES = [
    StageRole.ML_ENGINEER,
    StageRole.DATA_SCIENTIST,
    StageRole.SOFTWARE_ENGINEER,
    StageRole.DATA_ENGINEER,
    StageRole.MLOPS_ENGINEER,
    StageRole.UX_DESIGNER,
]


class Command(BaseCommand):
    help = "Generate N synthetic initiatives (with gates, checklists, targets, measurements)."

    def add_arguments(self, parser):
        parser.add_argument("--initiatives", type=int, required=True, help="How many to create.")
        parser.add_argument(
            "--measurements", type=int, default=None, help="Total measurements (default 10 × N)."
        )
        parser.add_argument("--seed", type=int, default=None, help="Random seed, for repeat runs.")
        parser.add_argument("--batch-size", type=int, default=2000)
        parser.add_argument(
            "--feeds",
            type=int,
            default=20,
            help="Targets fed one reading a minute by an integration; they take every "
            "measurement beyond 10 per initiative (default 20).",
        )

    def handle(
        self, *args, initiatives: int, measurements, seed, batch_size: int, feeds: int, **options
    ):
        if initiatives < 1:
            raise CommandError("--initiatives must be at least 1.")
        measurements = 10 * initiatives if measurements is None else measurements
        if measurements < 0:
            raise CommandError("--measurements cannot be negative.")
        if feeds < 1:
            raise CommandError("--feeds must be at least 1.")
        self.rng = random.Random(seed)
        self.batch_size = batch_size
        self.feed_count = feeds
        self.today = timezone.localdate()
        self.now = timezone.now()
        self.moments: dict[tuple[datetime.date, int], datetime.datetime] = {}
        self.timings: list[tuple[str, float]] = []
        started = time.perf_counter()

        self.frameworks = self.load_frameworks()
        if not self.frameworks:
            raise CommandError("No framework with stages exists; run migrate first.")
        with transaction.atomic():
            self.people = self.ensure_people()
            self.teams = self.ensure_teams()
            self.tags = self.ensure_tags()
        self.lap("people, teams, tags", started)

        # Reserved in its own short transaction so people starting initiatives in the
        # app are not blocked for the whole run; a failed run just leaves a gap in keys.
        with transaction.atomic():
            first_number = self.reserve_keys(initiatives)
        # Hundreds of thousands of long-lived model instances make the cyclic garbage
        # collector rescan them again and again; nothing here needs it until the end.
        gc.disable()
        try:
            with transaction.atomic():
                self.generate(initiatives, measurements, first_number)
                # Rows written in bulk bypass the activity log: say the portfolio changed.
                portfolio_changed()
        finally:
            gc.enable()

        total = time.perf_counter() - started
        for label, seconds in self.timings:
            self.stdout.write(f"  {label:<28} {seconds:7.2f} s")
        self.stdout.write(
            self.style.SUCCESS(
                f"Generated {initiatives} initiatives ({self.prefix}-{first_number:03d} to "
                f"{self.prefix}-{first_number + initiatives - 1:03d}) and {measurements} "
                f"measurements in {total:.1f} s."
            )
        )

    def moment(self, day: datetime.date, hour: int) -> datetime.datetime:
        """That hour of that day, but never later than now."""
        key = (day, hour)
        if key not in self.moments:
            at = timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, 0)))
            self.moments[key] = min(at, self.now)
        return self.moments[key]

    def lap(self, label: str, since: float) -> float:
        now = time.perf_counter()
        self.timings.append((label, now - since))
        return now

    def bulk(self, model, objects: list) -> list:
        return model.objects.bulk_create(objects, batch_size=self.batch_size)

    # --- Reference data ------------------------------------------------------------------

    def load_frameworks(self) -> list[tuple[Framework, list[Stage], int]]:
        """(framework, ordered stages with their templates, weight) for frameworks with stages."""
        result = []
        for framework in Framework.objects.prefetch_related("stages__checklist_templates"):
            stages = sorted(framework.stages.all(), key=lambda stage: stage.order)
            for stage in stages:
                stage.templates = sorted(
                    stage.checklist_templates.all(), key=lambda template: template.order
                )
            if stages:
                result.append((framework, stages, 7 if framework.is_default else 3))
        return result

    def ensure_people(self) -> dict[str, list]:
        User = get_user_model()
        wanted = {
            PortfolioRole.PRODUCT_MANAGER: [f"bench-pm-{n}" for n in range(1, 7)],
            PortfolioRole.EXECUTIVE: [f"bench-exec-{n}" for n in range(1, 4)],
            PortfolioRole.CONTRIBUTOR: [f"bench-eng-{n}" for n in range(1, 13)],
        }
        usernames = [name for names in wanted.values() for name in names]
        existing = set(
            User.objects.filter(username__in=usernames).values_list("username", flat=True)
        )
        User.objects.bulk_create(
            [
                User(
                    username=name,
                    first_name=name.split("-")[1].upper(),
                    last_name=name.split("-")[2],
                    email=f"{name}@bench.example",
                    password=make_password(None),
                )
                for name in usernames
                if name not in existing
            ]
        )
        by_name = {user.username: user for user in User.objects.filter(username__in=usernames)}
        groups = {group.name: group for group in Group.objects.filter(name__in=list(wanted))}
        Through = User.groups.through
        Through.objects.bulk_create(
            [
                Through(user_id=by_name[name].pk, group_id=groups[role].pk)
                for role, names in wanted.items()
                if role in groups
                for name in names
            ],
            ignore_conflicts=True,
        )
        return {role: [by_name[name] for name in names] for role, names in wanted.items()}

    def ensure_teams(self) -> list[Team]:
        slugs = {f"bench-{unit.lower().replace(' ', '-')}": unit for unit in BUSINESS_UNITS}
        Team.objects.bulk_create(
            [Team(slug=slug, name=f"{unit} (benchmark)") for slug, unit in slugs.items()],
            ignore_conflicts=True,
        )
        teams = list(Team.objects.filter(slug__in=list(slugs)).order_by("slug"))
        pms = self.people[PortfolioRole.PRODUCT_MANAGER]
        engineers = self.people[PortfolioRole.CONTRIBUTOR]
        TeamMembership.objects.bulk_create(
            [
                TeamMembership(team=team, user=pms[index % len(pms)], role="lead")
                for index, team in enumerate(teams)
            ]
            + [
                TeamMembership(team=team, user=engineers[(index * 2 + offset) % len(engineers)])
                for index, team in enumerate(teams)
                for offset in range(2)
            ],
            ignore_conflicts=True,
        )
        return teams

    def ensure_tags(self) -> list[Tag]:
        Tag.objects.bulk_create([Tag(name=name) for name in TAGS], ignore_conflicts=True)
        return list(Tag.objects.filter(name__in=TAGS))

    def reserve_keys(self, count: int) -> int:
        """Take `count` numbers off the key counter in one UPDATE; return the first."""
        self.prefix = settings.TOLLGATE_KEY_PREFIX
        KeyCounter.objects.get_or_create(prefix=self.prefix)
        KeyCounter.objects.filter(prefix=self.prefix).update(last_value=F("last_value") + count)
        last = KeyCounter.objects.values_list("last_value", flat=True).get(prefix=self.prefix)
        return last - count + 1

    # --- The portfolio --------------------------------------------------------------------

    def generate(self, count: int, measurement_count: int, first_number: int) -> None:
        rng = self.rng
        lap = time.perf_counter()
        self.initiatives: list[Initiative] = []
        self.cases: list[BusinessCase] = []
        self.gates: list[Gate] = []
        self.gatekeepers: list[Gatekeeper] = []
        self.decisions: list[GateDecision] = []
        self.votes: list[Vote] = []
        self.items: list[dict] = []
        self.transitions: list[StageTransition] = []
        self.targets: list[Target] = []
        self.memberships: list[Membership] = []
        self.activities: list[Activity] = []
        self.tag_links: list[tuple[Initiative, Tag]] = []
        framework_weights = [weight for _, _, weight in self.frameworks]
        statuses = list(STATUS_WEIGHTS)
        status_weights = list(STATUS_WEIGHTS.values())
        for offset in range(count):
            framework, stages, _ = rng.choices(self.frameworks, weights=framework_weights)[0]
            status = rng.choices(statuses, weights=status_weights)[0]
            self.plan_initiative(
                key=f"{self.prefix}-{first_number + offset:03d}",
                framework=framework,
                stages=stages,
                status=status,
            )
        # Up to 10 readings per initiative are spread over all targets; the rest is the
        # steady stream of a few integration feeds, as monitoring systems produce it.
        spread = min(measurement_count, 10 * count)
        measurements = self.plan_measurements(spread)
        feeds = self.plan_feeds(measurement_count - spread)
        lap = self.lap("plan in memory", lap)

        self.bulk(Initiative, self.initiatives)
        lap = self.lap(f"initiatives ({len(self.initiatives)})", lap)
        self.bulk(BusinessCase, self.cases)
        Through = Initiative.tags.through
        self.bulk(
            Through, [Through(initiative=initiative, tag=tag) for initiative, tag in self.tag_links]
        )
        self.bulk(Membership, self.memberships)
        self.bulk(Activity, self.activities)
        lap = self.lap("cases, tags, members, log", lap)
        self.bulk(Target, self.targets)
        lap = self.lap(f"targets ({len(self.targets)})", lap)
        self.bulk(Gate, self.gates)
        self.bulk(Gatekeeper, self.gatekeepers)
        self.bulk(GateDecision, self.decisions)
        self.bulk(Vote, self.votes)
        self.bulk(StageTransition, self.transitions)
        lap = self.lap(f"gates ({len(self.gates)})", lap)
        self.bulk(
            ChecklistItem,
            [
                ChecklistItem(
                    gate_id=item.pop("gate").pk,
                    target_id=target.pk if (target := item.pop("target")) else None,
                    **item,
                )
                for item in self.items
            ],
        )
        lap = self.lap(f"checklist items ({len(self.items)})", lap)
        source = Measurement.Source.INTEGRATION
        self.bulk(
            Measurement,
            [
                Measurement(target_id=target.pk, value=value, measured_at=at, source=source)
                for target, value, at in measurements
            ],
        )
        lap = self.lap(f"measurements ({len(measurements)})", lap)
        if feeds:
            self.write_feeds(feeds)
            self.lap(f"feed measurements ({sum(n for _, n in feeds)})", lap)

    def plan_feeds(self, count: int) -> list[tuple[Target, int]]:
        """(target, readings) for the integration feeds; their newest reading is their latest.

        Reading k (1 = newest) of a feed is taken k minutes before the current minute,
        at threshold * (1 + spread * sin(k / 60)); write_feeds writes the same in bulk.
        """
        if count <= 0 or not self.targets:
            return []
        chosen = self.rng.sample(self.targets, min(self.feed_count, len(self.targets)))
        per_feed, extra = divmod(count, len(chosen))
        newest = self.now.replace(second=0, microsecond=0)
        self.feed_newest = newest
        feeds = []
        for position, target in enumerate(chosen):
            readings = per_feed + (1 if position < extra else 0)
            if not readings:
                continue
            target.measurement_count += readings
            target.latest_measured_at = newest - datetime.timedelta(minutes=1)
            target.latest_value = target.threshold * (1 + target.spread * math.sin(1 / 60))
            target.status = (
                Target.Status.MET
                if target.is_satisfied_by(target.latest_value)
                else Target.Status.MISSED
            )
            feeds.append((target, readings))
        return feeds

    def write_feeds(self, feeds: list[tuple[Target, int]]) -> None:
        """Millions of rows: generated by the database itself on PostgreSQL, in chunks."""
        source = Measurement.Source.INTEGRATION
        newest = self.feed_newest
        chunk = 500_000
        for target, readings in feeds:
            for first in range(1, readings + 1, chunk):
                last = min(first + chunk - 1, readings)
                if connection.vendor == "postgresql":
                    with connection.cursor() as cursor:
                        cursor.execute(
                            "INSERT INTO initiatives_measurement "
                            "(target_id, value, measured_at, source, created_at) "
                            "SELECT %s, %s * (1 + %s * sin(g::float8 / 60)), "
                            "%s - g * interval '1 minute', %s, %s "
                            "FROM generate_series(%s, %s) AS g",
                            [
                                target.pk,
                                target.threshold,
                                target.spread,
                                newest,
                                source,
                                self.now,
                                first,
                                last,
                            ],
                        )
                    continue
                self.bulk(
                    Measurement,
                    [
                        Measurement(
                            target_id=target.pk,
                            value=target.threshold * (1 + target.spread * math.sin(k / 60)),
                            measured_at=newest - datetime.timedelta(minutes=k),
                            source=source,
                        )
                        for k in range(first, last + 1)
                    ],
                )

    def plan_initiative(self, *, key, framework, stages, status) -> None:
        rng, today = self.rng, self.today
        gated = [index for index, stage in enumerate(stages) if stage.has_exit_gate]
        if status in (Initiative.Status.ON_HOLD, Initiative.Status.STOPPED) and not gated:
            status = Initiative.Status.ACTIVE
        if status == Initiative.Status.COMPLETED:
            current = len(stages) - 1
        elif status == Initiative.Status.ACTIVE:
            # Earlier stages are busier: the funnel narrows.
            current = rng.choices(range(len(stages)), weights=range(len(stages), 0, -1))[0]
        else:
            current = rng.choices(gated, weights=range(len(gated), 0, -1))[0]
        stage = stages[current]

        # How long the initiative has been in its current stage.
        max_days = 7 * (stage.max_weeks or 40)
        if status == Initiative.Status.ACTIVE and stage.max_weeks and rng.random() < STALLED_SHARE:
            days_in = max_days + rng.randint(1, 90)  # stalled, and its gate overdue
        elif status == Initiative.Status.ACTIVE:
            days_in = rng.randint(0, max_days)
        else:
            days_in = rng.randint(14, 400)
        entered = today - datetime.timedelta(days=days_in)

        # Walk back through the earlier stages to the start date.
        entries = [entered]
        for past in reversed(stages[:current]):
            low = max(past.min_weeks, 2) * 7
            high = max(low, round(7 * (past.max_weeks or 12) * 1.25))
            entries.insert(0, entries[0] - datetime.timedelta(days=rng.randint(low, high)))
        start = entries[0]

        owner = rng.choice(self.people[PortfolioRole.PRODUCT_MANAGER])
        sponsor = rng.choice(self.people[PortfolioRole.EXECUTIVE])
        use_case = rng.choice(USE_CASES)
        team = rng.choice(self.teams)
        initiative = Initiative(
            key=key,
            name=f"{use_case} for {rng.choice(SCOPES)}",
            summary=f"{use_case}, run by {team.name}.",
            problem=rng.choice(PROBLEMS),
            team_id=team.pk,
            owner_id=owner.pk,
            sponsor_id=sponsor.pk,
            framework_id=framework.pk,
            stage_id=stage.pk,
            stage_entered_on=entered,
            status=status,
            maturity_level=min(2, current // 2 + rng.randint(0, 1)),
            stalls_on=stalls_on_for(stage, entered),
            gate_due_on=None,
        )
        self.initiatives.append(initiative)
        self.cases.append(self.business_case(initiative))
        for tag in rng.sample(self.tags, k=min(len(self.tags), rng.randint(0, 2))):
            self.tag_links.append((initiative, tag))
        self.activities.append(
            Activity(
                created_at=self.moment(start, 9),
                actor_id=owner.pk,
                initiative=initiative,
                initiative_key=key,
                verb="initiative.created",
                object_type="initiative",
                object_repr=f"{key} {initiative.name}"[:300],
                after={"stage": stages[0].name, "framework": framework.slug},
                message=f"Started in {stages[0].name} (generated)",
            )
        )
        targets = self.plan_targets(initiative, start)
        self.plan_members(initiative, stage)

        self.transitions.append(
            StageTransition(
                initiative=initiative,
                from_stage_id=None,
                to_stage_id=stages[0].pk,
                decided_by_id=owner.pk,
                transitioned_at=self.moment(start, 9),
            )
        )
        # A decided gate behind every stage already left; conditions follow a conditional go.
        carried: list[dict] = []
        for index, past in enumerate(stages[:current]):
            exited_on = entries[index + 1]
            gate, decision = None, Decision.GO
            if past.has_exit_gate:
                decision = Decision.CONDITIONAL_GO if rng.random() < 0.15 else Decision.GO
                gate, carried = self.plan_gate(
                    initiative, past, entries[index], decision, exited_on, targets, carried
                )
            else:
                carried = []
            self.transitions.append(
                StageTransition(
                    initiative=initiative,
                    from_stage_id=past.pk,
                    to_stage_id=stages[index + 1].pk,
                    gate=gate,
                    decision=decision,
                    decided_by_id=sponsor.pk,
                    transitioned_at=self.moment(exited_on, 15),
                )
            )

        # The current stage's gate: pending while active, decided by the hold or the stop.
        if not stage.has_exit_gate or status == Initiative.Status.COMPLETED:
            return
        if status == Initiative.Status.ACTIVE:
            gate, _ = self.plan_gate(initiative, stage, entered, None, None, targets, carried)
            initiative.gate_due_on = gate.due_on
        else:
            decision = Decision.HOLD if status == Initiative.Status.ON_HOLD else Decision.STOP
            decided_on = entered + datetime.timedelta(
                days=rng.randint(1, max(1, min(days_in - 1, max_days)))
            )
            self.plan_gate(initiative, stage, entered, decision, decided_on, targets, carried)

    def business_case(self, initiative: Initiative) -> BusinessCase:
        rng = self.rng
        baseline = rng.randint(10, 90)
        return BusinessCase(
            initiative=initiative,
            outcome=f"Improve {initiative.name.lower()} outcomes by a measurable margin.",
            metric_name="Cases handled without rework (%)",
            metric_baseline=Decimal(baseline),
            metric_target=Decimal(min(99, baseline + rng.randint(5, 40))),
            expected_annual_value=Decimal(rng.randrange(50_000, 5_000_000, 10_000)),
            investment_to_date=Decimal(rng.randrange(0, 900_000, 5_000)),
            planned_team_cost=Decimal(rng.randrange(50_000, 700_000, 5_000)),
            planned_infra_cost=Decimal(rng.randrange(5_000, 200_000, 1_000)),
            cost_per_task_budget=Decimal(rng.choice(["0.001", "0.005", "0.01", "0.02", "0.05"])),
            monthly_volume=rng.randrange(1_000, 2_000_000, 500),
        )

    def plan_targets(self, initiative: Initiative, start: datetime.date) -> dict[str, Target]:
        rng = self.rng
        keys = rng.sample(list(PROFILES), k=rng.randint(2, 5))
        targets = {}
        for metric_key in keys:
            category, comparator, unit = Target.STANDARD_METRICS[metric_key]
            profile = PROFILES[metric_key]
            threshold = round(rng.uniform(profile.low, profile.high), 4 if profile.high < 1 else 2)
            target = Target(
                initiative=initiative,
                metric_key=metric_key,
                category=category,
                comparator=comparator,
                threshold=threshold,
                unit=unit,
            )
            # Planning-only attributes: how readings scatter, and when they may start.
            target.spread = profile.spread
            target.first_second = int(self.moment(start, 12).timestamp())
            targets[metric_key] = target
            self.targets.append(target)
        return targets

    def plan_members(self, initiative: Initiative, stage: Stage) -> None:
        rng = self.rng
        self.memberships.append(
            Membership(
                initiative=initiative,
                user_id=initiative.owner_id,
                stage_role=StageRole.PRODUCT_MANAGER,
                allocation_percent=rng.choice([10, 20, 30]),
            )
        )
        roles = [role for role in stage.recommended_roles if role in ENGINEER_ROLES] or [
            StageRole.ML_ENGINEER
        ]
        engineers = rng.sample(self.people[PortfolioRole.CONTRIBUTOR], k=rng.randint(1, 3))
        for index, user in enumerate(engineers):
            self.memberships.append(
                Membership(
                    initiative=initiative,
                    user_id=user.pk,
                    stage_role=roles[index % len(roles)],
                    allocation_percent=rng.choice([10, 20, 25, 40, 50, 80]),
                )
            )

    def plan_gate(self, initiative, stage, opened_on, decision, decided_on, targets, carried):
        """A gate with its checklist (undecided when `decision` is None).

        Returns the gate and the required items a conditional go leaves open.
        """
        rng = self.rng
        due_on = stage.gate_due_on(opened_on)
        gate = Gate(
            initiative=initiative,
            stage_id=stage.pk,
            opened_at=self.moment(opened_on, 9),
            due_on=due_on,
        )
        self.gates.append(gate)
        self.gatekeepers.append(Gatekeeper(gate=gate, user_id=initiative.sponsor_id))

        advancing = decision in ADVANCING
        share_done = 1.0 if advancing else rng.random()
        # Items stay dicts until their gate and target have primary keys (see `generate`).
        items = [
            {
                "gate": gate,
                "target": targets.get(template.metric_key) if template.metric_key else None,
                "template_id": template.pk,
                "order": template.order,
                "text": template.text,
                "guidance": template.guidance,
                "required": template.required,
                "metric_key": template.metric_key,
            }
            for template in stage.templates
        ]
        next_order = (items[-1]["order"] if items else 0) + 1
        for offset, condition in enumerate(carried):
            items.append(
                {
                    "gate": gate,
                    "target": condition["target"],
                    "order": next_order + offset,
                    "text": condition["text"],
                    "guidance": condition["guidance"],
                    "required": True,
                    "metric_key": condition["metric_key"],
                    "is_condition": True,
                    "condition_due_on": due_on,
                }
            )
        span = max(0, ((decided_on or self.today) - opened_on).days)
        open_state = ChecklistItem.State.OPEN
        for item in items:
            item["state"] = open_state
            if advancing or rng.random() < share_done:
                if item["required"] and rng.random() < 0.05:
                    item["state"] = ChecklistItem.State.NOT_APPLICABLE
                    item["na_reason"] = "Does not apply to this use case (generated)."
                elif item["required"] or rng.random() < 0.6:
                    item["state"] = ChecklistItem.State.DONE
                    if rng.random() < 0.5:
                        item["evidence_url"] = (
                            f"https://wiki.bench.example/{initiative.key.lower()}/"
                        )
            if item["state"] != open_state:
                item["updated_by_id"] = initiative.owner_id
            item["updated_at"] = self.moment(
                opened_on + datetime.timedelta(days=rng.randint(0, span)), 11
            )
        conditions = []
        if decision == Decision.CONDITIONAL_GO:
            # One required item stays open and follows into the next gate as a condition.
            plain = [item for item in items if item["required"] and not item.get("is_condition")]
            if plain:
                leftover = plain[-1]
                for field in ("na_reason", "evidence_url", "updated_by_id"):
                    leftover.pop(field, None)
                leftover["state"] = open_state
                conditions = [leftover]
        self.items.extend(items)

        if decision is None:
            if rng.random() < IN_REVIEW_SHARE:
                gate.state = Gate.State.IN_REVIEW
                gate.review_round = 1
                gate.review_requested_at = max(
                    gate.opened_at, self.now - datetime.timedelta(hours=rng.randint(1, 120))
                )
                gate.review_requested_by_id = initiative.owner_id
            return gate, conditions

        decided_at = self.moment(decided_on, 15)
        required = [item for item in items if item["required"]]
        snapshot = {
            "taken_at": decided_at.isoformat(),
            "generated": True,
            "readiness": {
                "cleared": sum(1 for item in required if item["state"] != open_state),
                "required": len(required),
            },
            "checklist": [
                {
                    "id": None,
                    "text": item["text"],
                    "required": item["required"],
                    "state": item["state"],
                }
                for item in items
            ],
            "targets": [],
        }
        rationale = f"{Decision(decision).label} at the {stage.name} gate (generated)."
        gate.state = Gate.State.DECIDED
        gate.decision = decision
        gate.review_round = 1
        gate.review_requested_at = decided_at - datetime.timedelta(days=2)
        gate.review_requested_by_id = initiative.owner_id
        gate.decided_by_id = initiative.sponsor_id
        gate.decided_at = decided_at
        gate.rationale = rationale
        gate.snapshot = snapshot
        self.decisions.append(
            GateDecision(
                gate=gate,
                round=1,
                decision=decision,
                decided_by_id=initiative.sponsor_id,
                decided_at=decided_at,
                rationale=rationale,
                snapshot=snapshot,
            )
        )
        self.votes.append(
            Vote(
                gate=gate,
                voter_id=initiative.sponsor_id,
                round=1,
                decision=decision,
                rationale=rationale,
                created_at=decided_at,
            )
        )
        return gate, conditions

    def plan_measurements(self, count: int) -> list[tuple[Target, float, datetime.datetime]]:
        """Spread `count` readings over the targets; each target's newest one becomes its latest.

        Readings stay plain tuples until their targets have primary keys: building
        the model instances then, with `target_id`, is much cheaper.
        """
        rng, targets = self.rng, self.targets
        if not targets:
            return []
        latest_second = int(self.now.timestamp()) - 3600
        seen: set[tuple[int, int]] = set()
        rows = []
        for _ in range(count):
            index = rng.randrange(len(targets))
            target = targets[index]
            second = rng.randint(min(target.first_second, latest_second), latest_second)
            while (index, second) in seen:  # keep "the newest reading" unambiguous
                second -= 1
            seen.add((index, second))
            measured_at = datetime.datetime.fromtimestamp(second, tz=datetime.UTC)
            value = target.threshold * (1 + rng.uniform(-1, 0.8) * target.spread)
            value = round(value, 4 if target.threshold < 10 else 2)
            value = capped(target.metric_key, value)
            rows.append((target, value, measured_at))
            target.measurement_count += 1
            if target.latest_measured_at is None or measured_at > target.latest_measured_at:
                target.latest_measured_at = measured_at
                target.latest_value = value
        for target in targets:
            if target.latest_measured_at is None:
                target.status = Target.Status.NO_DATA
            elif target.is_satisfied_by(target.latest_value):
                target.status = Target.Status.MET
            else:
                target.status = Target.Status.MISSED
        return rows
