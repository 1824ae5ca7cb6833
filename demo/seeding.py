"""Loading the demo portfolio: its people and teams, then its data files through the importer."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from compliance.models import Classification, ClassificationRevision
from compliance.services import classification_confirm, classification_propose
from demo.loading import DATA, demo_files, moment, read_table
from gates.models import Gate
from initiatives.models import Initiative, Measurement
from portfolio_import.models import ExternalReference
from portfolio_import.report import ImportReport
from portfolio_import.services import portfolio_import
from teams.models import Team, TeamMembership
from teams.roles import PortfolioRole

DEMO_PASSWORD = "tollgate-demo"
EMAIL_DOMAIN = "tollgate.example"
DEMO_LOGINS = ["admin", "exec", "pm", "pm2", "contrib", "viewer", "compliance"]


class DemoNotLoaded(Exception):
    def __init__(self, report: ImportReport):
        super().__init__(report.summary())
        self.report = report


@dataclass
class DemoSummary:
    report: ImportReport
    already_present: int
    people: list[dict]
    initiatives: int
    statuses: dict[str, int]
    frameworks: dict[str, int]
    overdue: int
    stalled: int
    in_review: int
    measurements: int


def demo_people(password: str) -> dict:
    """The demo's people, with their portfolio roles; the password is set on every run."""
    User = get_user_model()
    groups = {role: Group.objects.get_or_create(name=role)[0] for role in PortfolioRole.values}
    # One hash for everyone: hashing is deliberately slow, and these are demo accounts.
    hashed = make_password(password)
    users = {}
    for person in read_table("people"):
        username, role = person["username"], person["portfolio_role"]
        user, _ = User.objects.get_or_create(username=username)
        user.first_name, user.last_name = person["first_name"], person["last_name"]
        user.email = f"{username}@{EMAIL_DOMAIN}"
        user.is_active = True
        user.is_staff = user.is_superuser = role == PortfolioRole.ADMIN
        user.password = hashed
        user.save()
        user.groups.add(groups[role])
        users[username] = user
    return users


def demo_teams(users: dict) -> dict:
    teams = {}
    for row in read_table("teams"):
        team, _ = Team.objects.get_or_create(
            slug=row["slug"], defaults={"name": row["name"], "description": row["description"]}
        )
        for column, role in (("leads", TeamMembership.Role.LEAD), ("members", None)):
            for username in filter(None, (name.strip() for name in row[column].split(","))):
                defaults = {"role": role} if role else {}
                TeamMembership.objects.get_or_create(
                    team=team, user=users[username], defaults=defaults
                )
        teams[row["slug"]] = team
    return teams


@transaction.atomic
def demo_classify(*, admin) -> None:
    """A few initiatives classified under the EU AI Act (demo/data/classifications.json):
    proposed by their owner, most confirmed by the admin, on the files' dates moved as the
    other data files' are. Run again, it changes nothing."""
    rows = json.loads((DATA / "classifications.json").read_text(encoding="utf-8"))
    initiatives = {
        initiative.external_reference.external_id: initiative
        for initiative in Initiative.objects.filter(
            external_reference__external_id__in=[row["initiative"] for row in rows]
        ).select_related("owner", "external_reference")
    }
    for row in rows:
        initiative = initiatives.get(row["initiative"])
        if initiative is None:
            continue
        latest = ClassificationRevision.objects.filter(initiative=initiative).first()
        if latest is None:
            classification_propose(
                initiative=initiative,
                actor=initiative.owner,
                answers=row["answers"],
                at=moment(row["proposed_at"]),
            )
        confirmed = Classification.objects.filter(initiative=initiative).exists()
        if row["confirm"] and not confirmed:
            classification_confirm(
                initiative=initiative, actor=admin, at=moment(row["confirmed_at"])
            )


def demo_seed(*, password: str = DEMO_PASSWORD) -> DemoSummary:
    """People, teams and the portfolio; run again, it adds nothing and resets the passwords.

    A demo initiative already in Tollgate is left as it is: people may have ticked,
    decided or commented since, and on a later day the files' dates move on with
    today, so importing its history again would only disagree with what it holds.
    Raises DemoNotLoaded when the data files do not import.
    """
    users = demo_people(password)
    demo_teams(users)
    external_ids = [row["external_id"] for row in read_table("initiatives")]
    present = frozenset(
        ExternalReference.objects.filter(external_id__in=external_ids).values_list(
            "external_id", flat=True
        )
    )
    report = ImportReport(files=[])
    if len(present) < len(external_ids):
        report = portfolio_import(files=demo_files(leave_out=present), actor=users["admin"])
    if not report.ok:
        raise DemoNotLoaded(report)
    demo_classify(admin=users["admin"])
    initiatives = Initiative.objects.filter(external_reference__external_id__in=external_ids)
    today = timezone.localdate()
    return DemoSummary(
        report=report,
        already_present=len(present),
        people=[row for row in read_table("people") if row["username"] in DEMO_LOGINS],
        initiatives=initiatives.count(),
        statuses=dict(Counter(initiatives.values_list("status", flat=True))),
        frameworks=dict(Counter(initiatives.values_list("framework__slug", flat=True))),
        overdue=initiatives.overdue(today).count(),
        stalled=initiatives.stalled(today).count(),
        in_review=Gate.objects.filter(
            initiative__in=initiatives, state=Gate.State.IN_REVIEW
        ).count(),
        measurements=Measurement.objects.filter(target__initiative__in=initiatives).count(),
    )
