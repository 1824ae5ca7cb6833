"""Notices that follow comments, reviews, decisions, reopened items and joining a team."""

import pytest
from django.core import mail

from collaboration.services import comment_create, watch_set
from gates.services import gate_request_review, gate_vote, gatekeeper_add, measurement_record
from initiatives.services import membership_add
from notifications.models import Delivery, DeliveryPreference, Kind, Notification
from notifications.notices import daily_summary_send, notices_for_event
from notifications.services import notification_send
from notifications.tasks import notices_for_event_task
from tests.factories import TargetFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    """Run what the services queue after commit, as a real request would."""

    def run(function, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return function(**kwargs)

    return run


def kinds_of(user) -> set[str]:
    return set(Notification.objects.filter(recipient=user).values_list("kind", flat=True))


def emails_to(user) -> list:
    return [message for message in mail.outbox if user.email in message.to]


def test_a_mention_reaches_the_person_at_once_in_the_inbox_and_by_email(
    on_commit, initiative, member, team_member
):
    on_commit(
        comment_create,
        initiative=initiative,
        actor=member,
        body=f"@{team_member.username} can you check the eval?",
    )
    assert kinds_of(team_member) == {Kind.MENTION}
    [message] = emails_to(team_member)
    assert "mentioned you" in message.subject and "can you check the eval?" in message.body


def test_a_comment_reaches_the_watchers_but_not_its_author(
    on_commit, initiative, member, owner, executive, team_member
):
    on_commit(comment_create, initiative=initiative, actor=member, body="Latency looks fine")
    # Owner, sponsor and gatekeeper watch by themselves; a plain team member does not.
    assert kinds_of(owner) == {Kind.COMMENT} and kinds_of(executive) == {Kind.COMMENT}
    assert kinds_of(member) == set() and kinds_of(team_member) == set()


def test_unwatching_stops_comment_notices_and_watching_starts_them(
    on_commit, initiative, member, owner, team_member
):
    watch_set(initiative=initiative, user=owner, watching=False)
    watch_set(initiative=initiative, user=team_member, watching=True)
    on_commit(comment_create, initiative=initiative, actor=member, body="Update")
    assert kinds_of(owner) == set() and kinds_of(team_member) == {Kind.COMMENT}


def test_review_requested_reaches_the_gatekeepers_at_once(on_commit, gate, owner, executive):
    on_commit(gate_request_review, gate=gate, actor=owner)
    [message] = emails_to(executive)
    assert message.subject.startswith("Review requested")
    assert "0 of 6 required items are cleared" in message.body


def test_gate_decided_reaches_owner_members_and_watchers_not_the_decider(
    on_commit, gate, owner, executive, member
):
    on_commit(gate_request_review, gate=gate, actor=owner)
    mail.outbox.clear()
    on_commit(gate_vote, gate=gate, actor=executive, decision="hold", rationale="Budget freeze")
    assert Kind.GATE_DECIDED in kinds_of(owner) and Kind.GATE_DECIDED in kinds_of(member)
    assert Kind.GATE_DECIDED not in kinds_of(executive)
    assert "Budget freeze" in emails_to(owner)[0].body


def test_an_item_reopened_by_a_missed_target_is_announced(on_commit, initiative, owner, member):
    target = TargetFactory(initiative=initiative, metric_key="accuracy", threshold=90)
    on_commit(measurement_record, target=target, value=95, actor=member)
    mail.outbox.clear()
    on_commit(measurement_record, target=target, value=80, actor=member)
    assert Kind.ITEM_REOPENED in kinds_of(owner)
    assert "reopened" in emails_to(owner)[0].subject


def test_joining_a_team_and_becoming_gatekeeper_are_announced(
    on_commit, initiative, gate, owner, admin_user, other_executive
):
    person = UserFactory(groups=["contributor"])
    on_commit(
        membership_add, initiative=initiative, actor=owner, user=person, stage_role="data_scientist"
    )
    on_commit(gatekeeper_add, gate=gate, user=other_executive, actor=admin_user)
    assert kinds_of(person) == {Kind.MEMBER_ADDED}
    assert "as Data scientist" in emails_to(person)[0].body
    assert kinds_of(other_executive) == {Kind.GATEKEEPER_ADDED}


def test_off_keeps_the_notice_in_the_inbox_without_email(on_commit, initiative, member, owner):
    DeliveryPreference.objects.create(user=owner, kind=Kind.COMMENT, delivery=Delivery.OFF)
    on_commit(comment_create, initiative=initiative, actor=member, body="Hello")
    assert Notification.objects.get(recipient=owner).state == Notification.State.SKIPPED
    assert emails_to(owner) == []


def test_daily_waits_for_one_summary_email(on_commit, initiative, member, owner):
    DeliveryPreference.objects.create(user=owner, kind=Kind.COMMENT, delivery=Delivery.DAILY)
    on_commit(comment_create, initiative=initiative, actor=member, body="One")
    on_commit(comment_create, initiative=initiative, actor=member, body="Two")
    assert emails_to(owner) == []
    assert on_commit(daily_summary_send) == 1
    [message] = emails_to(owner)
    assert "2 notices today" in message.subject
    # A second run the same day sends nothing more.
    assert on_commit(daily_summary_send) == 0
    assert len(emails_to(owner)) == 1
    states = set(
        Notification.objects.filter(recipient=owner, kind=Kind.COMMENT).values_list(
            "state", flat=True
        )
    )
    assert states == {Notification.State.SENT}


def test_escalations_are_not_a_choice(client, owner):
    client.force_login(owner)
    client.post("/inbox/preferences/", {"delivery_escalation": "off", "delivery_mention": "daily"})
    assert dict(DeliveryPreference.objects.values_list("kind", "delivery")) == {
        Kind.MENTION: Delivery.DAILY
    }


def test_exactly_one_email_per_event_and_person_when_the_task_runs_again(
    on_commit, initiative, member, owner, executive
):
    # The listener's task is delivered twice (a retry after a lost acknowledgement).
    comment = comment_create(initiative=initiative, actor=member, body=f"@{owner.username} hi")
    payload = {
        "initiative": initiative.key,
        "comment": comment.pk,
        "author": member.username,
        "author_name": member.get_full_name(),
        "about": "the initiative",
        "gate": None,
        "body": "hi",
        "mentioned_ids": [owner.pk],
    }
    on_commit(notices_for_event_task.apply, args=("comment.created", payload))
    on_commit(notices_for_event_task.apply, args=("comment.created", payload))
    on_commit(notices_for_event, event="comment.created", payload=payload)
    assert len(emails_to(owner)) == 1 and len(emails_to(executive)) == 1
    # A send task that runs again for a row already sent does nothing.
    row = Notification.objects.get(recipient=owner)
    assert notification_send(notification_id=row.pk) is None
    assert len(emails_to(owner)) == 1
