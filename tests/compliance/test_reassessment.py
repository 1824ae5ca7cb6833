"""Reassessment: a review date per tier, reminders through the reminder scan, and a prompt
to review when an initiative enters Production or Scale."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.utils import timezone

from compliance.models import Classification
from gates.models import Decision, Gate
from notifications.models import Kind, Notification
from notifications.services import reminder_scan
from tests.compliance.conftest import HIGH_RISK, MINIMAL
from tests.gates.helpers import clear_required, decide, go_with_override

pytestmark = pytest.mark.django_db


def review_notices(initiative):
    return Notification.objects.filter(initiative=initiative, kind=Kind.CLASSIFICATION_REVIEW)


def test_the_owner_is_reminded_before_and_when_the_review_is_due(initiative, owner, classify):
    classification = classify(initiative, MINIMAL)
    due = classification.next_review_on
    assert (due - timezone.localdate()).days > 300  # minimal risk: every 24 months
    reminder_scan(enqueue=False)
    assert not review_notices(initiative).exists()

    with time_machine.travel(due - datetime.timedelta(days=10), tick=False):
        reminder_scan(enqueue=False)
        reminder_scan(enqueue=False)  # a second scan sends nothing twice
    with time_machine.travel(due, tick=False):
        reminder_scan(enqueue=False)
    notices = list(review_notices(initiative).order_by("created_at"))
    assert [notice.recipient for notice in notices] == [owner, owner]
    assert "due for review in 10 days" in notices[0].subject
    assert notices[1].subject.endswith("AI Act classification due for review")


def test_entering_production_asks_for_a_review_at_once(
    initiative, owner, classify, django_capture_on_commit_callbacks
):
    classify(initiative, HIGH_RISK)
    with django_capture_on_commit_callbacks(execute=True):
        go_with_override(initiative)  # into MVP: no prompt
    assert Classification.objects.get(initiative=initiative).review_prompt == ""
    mvp_gate = initiative.gates.get(state=Gate.State.OPEN)
    clear_required(mvp_gate, owner)
    with django_capture_on_commit_callbacks(execute=True):
        decide(mvp_gate, Decision.GO)
    classification = Classification.objects.get(initiative=initiative)
    assert classification.review_prompt == "it entered Production"
    assert classification.next_review_on == timezone.localdate()

    reminder_scan(enqueue=False)
    notice = review_notices(initiative).get()
    assert "it entered Production" in notice.body_text
    assert notice.recipient == owner


def test_a_new_confirmation_clears_the_prompt(initiative, classify):
    classify(initiative, MINIMAL)
    Classification.objects.filter(initiative=initiative).update(review_prompt="it entered Scale")
    assert classify(initiative, MINIMAL).review_prompt == ""
