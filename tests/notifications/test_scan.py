"""The reminder scan: each rule, its schedule, dedupe, preferences and query count."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from gates.models import Gate
from gates.services import gate_request_review, gate_rule_set, gate_vote, gatekeeper_add
from initiatives.activity import activity_log
from initiatives.models import Initiative
from notifications.models import Kind, Notification, NotificationPreference, ReminderPolicy
from notifications.services import reminder_scan
from tests.factories import InitiativeFactory, MembershipFactory, UserFactory
from tests.notifications.helpers import at, keys

pytestmark = pytest.mark.django_db


@pytest.fixture
def scan(django_capture_on_commit_callbacks):
    """Run one scan at a moment, sending what it queues (tasks run in-process)."""

    def run(moment: datetime.datetime):
        with (
            time_machine.travel(moment, tick=False),
            django_capture_on_commit_callbacks(execute=True),
        ):
            return reminder_scan()

    return run


@pytest.fixture
def quiet_rule_off(settings):
    """Weeks pass in these tests; keep the quiet-initiative nudge out of the mailbox."""
    settings.TOLLGATE_REMINDERS = {**settings.TOLLGATE_REMINDERS, "quiet_after_days": 1000}


def test_due_soon_reaches_owner_and_members_seven_and_one_day_before(
    scan, gate, owner, member, quiet_rule_off
):
    due = gate.due_on

    scan(at(due - datetime.timedelta(days=8)))
    assert keys(Kind.DUE_SOON) == []

    scan(at(due - datetime.timedelta(days=7)))
    assert keys(Kind.DUE_SOON) == [("due_soon", "contrib"), ("due_soon", "pm")]
    assert sorted(message.to[0] for message in mail.outbox) == [
        "contrib@example.com",
        "pm@example.com",
    ]
    assert "due in 7 days" in mail.outbox[0].subject

    # Days 6 to 2 are inside the 7-day window already reminded about.
    scan(at(due - datetime.timedelta(days=3)))
    assert len(keys(Kind.DUE_SOON)) == 2

    scan(at(due - datetime.timedelta(days=1)))
    assert len(keys(Kind.DUE_SOON)) == 4
    assert len(mail.outbox) == 4


def test_a_missed_reminder_day_is_caught_up_once(scan, gate, owner):
    # No scan ran on day -7 (worker down): the first scan inside the window reminds.
    scan(at(gate.due_on - datetime.timedelta(days=5)))
    scan(at(gate.due_on - datetime.timedelta(days=4)))
    assert keys(Kind.DUE_SOON) == [("due_soon", "pm")]


def test_overdue_reminds_the_team_daily_while_overdue(scan, gate, owner, member):
    scan(at(gate.due_on))
    assert keys(Kind.OVERDUE) == []

    for days_late in (1, 2, 3):
        scan(at(gate.due_on + datetime.timedelta(days=days_late)))
        scan(at(gate.due_on + datetime.timedelta(days=days_late), hour=15))
    assert len(keys(Kind.OVERDUE)) == 6  # two people, three days, one a day each
    assert {username for _, username in keys(Kind.OVERDUE)} == {"pm", "contrib"}


def test_escalation_reaches_the_sponsor_at_seven_days_overdue_then_weekly(
    scan, gate, owner, executive, quiet_rule_off
):
    for days_late in range(1, 22):
        scan(at(gate.due_on + datetime.timedelta(days=days_late)))
        escalations = Notification.objects.filter(kind=Kind.ESCALATION)
        expected = 0 if days_late < 7 else 1 + (days_late - 7) // 7
        assert escalations.count() == expected, days_late
    assert set(escalations.values_list("recipient__username", flat=True)) == {"exec"}
    assert [m.subject for m in mail.outbox if m.to == ["exec@example.com"]] == [
        f"Escalation: {gate.initiative.key} Proof of concept gate is {days} days overdue"
        for days in (7, 14, 21)
    ]


def _leave(person) -> None:
    person.is_active = False
    person.save(update_fields=["is_active"])


def test_when_the_sponsor_left_the_team_lead_hears_of_the_escalation(
    scan, gate, owner, executive, team_lead, quiet_rule_off
):
    _leave(executive)
    scan(at(gate.due_on + datetime.timedelta(days=7)))
    assert keys(Kind.ESCALATION) == [("escalation", "lead")]
    [email] = [m for m in mail.outbox if m.to == [team_lead.email]]
    assert "has left; it comes to you in their place" in " ".join(email.body.split())
    # Weekly after that, like the sponsor would have been; never to the one who left.
    scan(at(gate.due_on + datetime.timedelta(days=14)))
    assert keys(Kind.ESCALATION) == [("escalation", "lead")] * 2


def test_when_sponsor_and_team_lead_left_the_portfolio_admins_hear_of_it(
    scan, gate, owner, executive, team_lead, admin_user, quiet_rule_off
):
    _leave(executive)
    _leave(team_lead)
    scan(at(gate.due_on + datetime.timedelta(days=7)))
    assert keys(Kind.ESCALATION) == [("escalation", "admin")]
    # Back to the sponsor as soon as the initiative has an active one again.
    executive.is_active = True
    executive.save(update_fields=["is_active"])
    scan(at(gate.due_on + datetime.timedelta(days=14)))
    assert sorted(keys(Kind.ESCALATION)) == [("escalation", "admin"), ("escalation", "exec")]


def test_no_reminders_for_an_initiative_on_hold(scan, gate, initiative):
    initiative.status = "on_hold"
    initiative.save(update_fields=["status"])
    scan(at(gate.due_on + datetime.timedelta(days=10)))
    assert Notification.objects.count() == 0


def test_quiet_initiative_nudges_only_the_owner(scan, initiative, owner, member):
    created = initiative.created_at.date()
    scan(at(created + datetime.timedelta(days=13)))
    assert keys(Kind.QUIET) == []

    scan(at(created + datetime.timedelta(days=15)))
    scan(at(created + datetime.timedelta(days=16)))
    assert keys(Kind.QUIET) == [("quiet", "pm")]


def test_activity_keeps_an_initiative_from_being_quiet(scan, initiative, owner):
    with time_machine.travel(at(initiative.created_at.date() + datetime.timedelta(days=10))):
        activity_log(actor=owner, initiative=initiative, verb="initiative.changed")
    scan(at(initiative.created_at.date() + datetime.timedelta(days=20)))
    assert keys(Kind.QUIET) == []


def test_review_waiting_reminds_only_gatekeepers_who_have_not_voted(
    scan, gate, owner, executive, other_executive, admin_user
):
    gatekeeper_add(gate=gate, user=other_executive, actor=admin_user)
    gate_rule_set(gate=gate, rule=Gate.Rule.ALL, actor=admin_user)
    gate = gate_request_review(gate=gate, actor=owner)
    gate_vote(gate=gate, actor=executive, decision="hold", rationale="Data is not ready.")
    requested = gate.review_requested_at

    scan(requested + datetime.timedelta(days=2, hours=23))
    assert keys(Kind.REVIEW_WAITING) == []

    scan(requested + datetime.timedelta(days=3, hours=1))
    assert keys(Kind.REVIEW_WAITING) == [("review_waiting", "exec2")]
    assert "waited 3 days for your decision" in mail.outbox[-1].subject


def test_a_frameworks_policy_overrides_the_defaults(scan, gate, owner, executive):
    ReminderPolicy.objects.create(
        framework=gate.initiative.framework, due_soon_days="3", escalate_after_days=2
    )
    scan(at(gate.due_on - datetime.timedelta(days=7)))
    assert keys(Kind.DUE_SOON) == []
    scan(at(gate.due_on - datetime.timedelta(days=3)))
    assert keys(Kind.DUE_SOON) == [("due_soon", "pm")]
    scan(at(gate.due_on + datetime.timedelta(days=2)))
    assert keys(Kind.ESCALATION) == [("escalation", "exec")]


def test_scanning_twice_creates_and_sends_nothing_new(scan, gate, owner, member, executive):
    moment = at(gate.due_on + datetime.timedelta(days=7))
    first = scan(moment)
    sent = len(mail.outbox)
    second = scan(moment)

    assert first.created == 4  # overdue x2, escalation, quiet
    assert second.created == 0
    assert len(mail.outbox) == sent == 4
    assert Notification.objects.count() == 4


def test_reminders_opted_out_stay_in_the_inbox_but_escalations_are_always_emailed(
    scan, gate, owner, member, executive, quiet_rule_off
):
    NotificationPreference.objects.create(user=member, email_reminders=False)
    NotificationPreference.objects.create(user=executive, email_reminders=False)
    scan(at(gate.due_on + datetime.timedelta(days=7)))

    assert Notification.objects.get(recipient=member, kind=Kind.OVERDUE).state == "skipped"
    escalation = Notification.objects.get(recipient=executive, kind=Kind.ESCALATION)
    assert escalation.state == "sent"
    assert sorted(m.to[0] for m in mail.outbox) == [
        "exec@example.com",
        "pm@example.com",
    ]


def test_reminder_email_has_text_html_and_an_absolute_link(
    scan, gate, owner, settings, quiet_rule_off
):
    settings.SITE_URL = "https://tollgate.example.com"
    scan(at(gate.due_on - datetime.timedelta(days=1)))
    message = mail.outbox[0]
    link = f"https://tollgate.example.com/initiatives/{gate.initiative.key}/"
    assert link in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html" and link in html


def test_scan_query_count_does_not_grow_with_the_portfolio(team, owner, executive):
    def portfolio(size: int) -> None:
        for number in range(size):
            initiative = InitiativeFactory(team=team, owner=owner, sponsor=executive)
            MembershipFactory(initiative=initiative)
            MembershipFactory(initiative=initiative, stage_role="data_scientist")
            gate = initiative.gates.get()
            if number % 2:
                gate_request_review(gate=gate, actor=owner)
            else:  # due in three days at the time of the scan
                Gate.objects.filter(pk=gate.pk).update(due_on=due + datetime.timedelta(10))
                Initiative.objects.filter(pk=initiative.pk).update(
                    gate_due_on=due + datetime.timedelta(10)
                )

    def count_queries() -> int:
        Notification.objects.all().delete()
        # Overdue by 7 days and long in review: every rule produces rows.
        with (
            time_machine.travel(at(due + datetime.timedelta(days=7)), tick=False),
            CaptureQueriesContext(connection) as context,
        ):
            result = reminder_scan(enqueue=False)
        return len(context.captured_queries), result.created

    due = timezone.localdate() + datetime.timedelta(weeks=8)  # the PoC gate's due date
    portfolio(2)
    small, created_small = count_queries()
    portfolio(8)
    large, created_large = count_queries()

    assert created_large == 5 * created_small
    assert set(Notification.objects.values_list("kind", flat=True)) == {
        Kind.DUE_SOON,
        Kind.OVERDUE,
        Kind.ESCALATION,
        Kind.QUIET,
        Kind.REVIEW_WAITING,
    }
    # The rules' 8 set-based reads (the eighth: AI Act classifications due for review) and
    # the rulebook; per batch the people, initiatives, gates, preferences (both kinds),
    # existing keys, insert and own rows; stranded rows.
    assert small == large <= 22


def test_keys_keep_the_format_earlier_scans_wrote(
    gate, initiative, owner, member, executive, other_executive
):
    """The rules compute each key in SQL; a key spelled differently from what earlier
    versions stored would send a reminder twice on the day of an upgrade."""
    gatekeeper_add(gate=gate, user=other_executive, actor=owner)
    gate_request_review(gate=gate, actor=owner)
    gate.refresh_from_db()
    requested = gate.review_requested_at
    moment = at(gate.due_on + datetime.timedelta(days=9))
    quiet_since = timezone.localdate(
        initiative.activities.order_by("-created_at").values_list("created_at", flat=True)[0]
    )
    with time_machine.travel(moment, tick=False):
        reminder_scan(enqueue=False)
    waited = (moment - requested).days
    due, pk = gate.due_on, gate.pk
    expected = {
        f"overdue:{pk}:{owner.pk}:{due}:8",
        f"overdue:{pk}:{member.pk}:{due}:8",
        f"escalation:{pk}:{executive.pk}:{due}:0",
        f"quiet:{initiative.pk}:{owner.pk}:{quiet_since}:"
        f"{((moment.date() - quiet_since).days - 14) // 14}",
        f"review_waiting:{pk}:{executive.pk}:{gate.review_round}:{(waited - 3) // 3}",
        f"review_waiting:{pk}:{other_executive.pk}:{gate.review_round}:{(waited - 3) // 3}",
    }
    assert set(Notification.objects.values_list("dedupe_key", flat=True)) == expected


def test_the_second_scan_of_a_day_reads_no_rows_whatever_the_portfolio(team, owner, executive):
    """Only what is not created yet leaves the database: the second scan is the rules'
    queries returning nothing, the same few statements at any size."""
    for _ in range(6):
        initiative = InitiativeFactory(team=team, owner=owner, sponsor=executive)
        MembershipFactory(initiative=initiative)
    moment = at(initiative.gate_due_on + datetime.timedelta(days=8))

    def second_scan(size_before: int) -> int:
        with time_machine.travel(moment, tick=False):
            assert reminder_scan(enqueue=False).created > size_before
            with CaptureQueriesContext(connection) as queries:
                assert reminder_scan(enqueue=False).created == 0
        return len(queries)

    small = second_scan(0)
    for _ in range(6):
        initiative = InitiativeFactory(team=team, owner=owner, sponsor=executive)
        MembershipFactory(initiative=initiative)
    large = second_scan(0)
    # The rulebook, eight rule queries (the eighth: AI Act classifications due for review),
    # the stranded rows (and the transaction's savepoint).
    assert small == large <= 12


def test_the_first_scan_inserts_a_batch_per_transaction(
    settings, team, owner, executive, quiet_rule_off
):
    """New reminders are rendered, inserted and queued a batch at a time: a batch's
    statements are the same whatever the batch, one INSERT each."""
    settings.TOLLGATE_NOTIFICATION_BATCH_SIZE = 4
    for _ in range(5):
        initiative = InitiativeFactory(team=team, owner=owner, sponsor=executive)
        MembershipFactory(initiative=initiative)
    moment = at(initiative.gate_due_on + datetime.timedelta(days=8))
    with (
        time_machine.travel(moment, tick=False),
        CaptureQueriesContext(connection) as queries,
    ):
        result = reminder_scan(enqueue=False)
    inserts = [
        query["sql"]
        for query in queries.captured_queries
        # INSERT ... ON CONFLICT DO NOTHING, or SQLite's INSERT OR IGNORE
        if query["sql"].startswith("INSERT")
        and query["sql"].split("(")[0].endswith('"notifications_notification" ')
    ]
    assert result.created == Notification.objects.count() == 5 * 3  # owner, member, sponsor
    assert len(inserts) == -(-result.created // 4)
    assert len(result.to_send) == result.created
    assert Notification.objects.filter(dedupe_key__startswith="overdue:").count() == 10


def test_dry_run_prints_and_writes_nothing(gate, owner, member, capsys):
    with time_machine.travel(at(gate.due_on + datetime.timedelta(days=1)), tick=False):
        call_command("send_reminders", "--dry-run")
    output = capsys.readouterr().out
    assert "overdue" in output and "pm <pm@example.com>" in output
    assert Notification.objects.count() == 0
    assert mail.outbox == []


def test_send_reminders_scans_and_sends_without_a_worker(gate, owner, capsys, quiet_rule_off):
    with time_machine.travel(at(gate.due_on - datetime.timedelta(days=1)), tick=False):
        call_command("send_reminders")
    assert "1 notification created" in capsys.readouterr().out
    assert Notification.objects.get().state == "sent"
    assert len(mail.outbox) == 1


def test_inactive_people_get_nothing(scan, gate, owner, member, quiet_rule_off):
    member.is_active = False
    member.save(update_fields=["is_active"])
    scan(at(gate.due_on - datetime.timedelta(days=1)))
    assert keys() == [("due_soon", "pm")]


def test_a_person_without_email_gets_the_reminder_in_the_inbox_only(
    scan, gate, owner, quiet_rule_off
):
    other = UserFactory(username="noemail", email="")
    MembershipFactory(initiative=gate.initiative, user=other)
    scan(at(gate.due_on - datetime.timedelta(days=1)))
    assert Notification.objects.get(recipient=other).state == "skipped"
    assert [m.to for m in mail.outbox] == [["pm@example.com"]]
