"""Notices that follow events: mentions, comments, reviews, decisions, reopened items, joining.

The services announce events on the bus once their transaction commits; the
listener here only queues `notices_for_event_task`, so nothing is sent inside a
web request's transaction. The task inserts one row per event and person under a
unique key (a retried or repeated task inserts nothing) and queues the emails.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from core import background
from core.events import Event
from gates.models import ChecklistItem, Gate
from initiatives.models import Initiative, Membership
from initiatives.policy import Action, can
from notifications.models import Kind, Notification
from notifications.services import (
    Planned,
    Rendered,
    _insert,
    enqueue_after_commit,
    site_url,
)

logger = logging.getLogger(__name__)
User = get_user_model()

EVENTS = [
    Event.COMMENT_CREATED,
    Event.COMMENT_MENTIONED,
    Event.GATE_REVIEW_REQUESTED,
    Event.GATE_DECIDED,
    Event.ITEM_REOPENED,
    Event.GATE_GATEKEEPER_ADDED,
    Event.INITIATIVE_MEMBER_ADDED,
]


def on_event(event: str, payload: dict) -> None:
    """Bus listener: hand the event to a task (a background thread when there is no broker)."""
    from notifications.tasks import notices_for_event_task

    background.dispatch(notices_for_event_task, event, payload)


def _name(user) -> str:
    return user.get_full_name() or user.get_username()


@dataclass
class Notice:
    kind: str
    subject: str
    lines: list[str]
    quote: str = ""


def _render(notice: Notice, initiative: Initiative, url: str) -> Rendered:
    context = {
        "subject": notice.subject,
        "lines": notice.lines,
        "quote": notice.quote,
        "initiative": initiative,
        "url": url,
        "kind_label": Kind(notice.kind).label,
        "preferences_url": site_url("/inbox/#preferences"),
    }
    return Rendered(
        subject=notice.subject[:200],
        text=render_to_string("notifications/email/notice.txt", context),
        html=render_to_string("notifications/email/notice.html", context),
    )


def _readers(people, initiative: Initiative, *, exclude_ids=()) -> list:
    """Active people who may still read the initiative, each once, never the actor."""
    seen, chosen = set(exclude_ids), []
    for person in people:
        if person is None or person.pk in seen or not person.is_active:
            continue
        seen.add(person.pk)
        if can(person, Action.VIEW, initiative):
            chosen.append(person)
    return chosen


def _watchers(initiative: Initiative, *, with_team: bool = False) -> list:
    """Who watches the initiative; with the owner and members even if they opted out."""
    from collaboration.selectors import watcher_ids

    ids = watcher_ids(initiative)
    if with_team:
        ids |= {initiative.owner_id} | set(
            Membership.objects.filter(initiative=initiative).values_list("user_id", flat=True)
        )
    return list(User.objects.filter(pk__in=ids).order_by("pk"))


def _planned_for_event(event: str, payload: dict) -> list[Planned]:
    initiative = (
        Initiative.objects.select_related("owner", "sponsor")
        .filter(key=payload.get("initiative"))
        .first()
    )
    if initiative is None:
        return []
    url = payload.get("url") or site_url(initiative.get_absolute_url())
    title = f"{initiative.key} {initiative.name}"
    planned: list[Planned] = []

    def plan(kind, people, key_stem, notice: Notice, gate_id=None):
        message = _render(notice, initiative, url)
        for person in people:
            planned.append(
                Planned(
                    kind=kind,
                    recipient=person,
                    initiative=initiative,
                    gate_id=gate_id,
                    dedupe_key=f"{kind}:{key_stem}:{person.pk}"[:200],
                    message=message,
                )
            )

    if event in ("comment.created", "comment.mentioned"):
        author = payload.get("author_name") or "Somebody"
        author_user = User.objects.filter(username=payload.get("author")).first()
        author_ids = [author_user.pk] if author_user else []
        mentioned = _readers(
            User.objects.filter(pk__in=payload.get("mentioned_ids") or []).order_by("pk"),
            initiative,
            exclude_ids=author_ids,
        )
        quote = payload.get("body", "")
        about = payload.get("about", "the initiative")
        plan(
            Kind.MENTION,
            mentioned,
            payload["comment"],
            Notice(
                Kind.MENTION,
                f"{author} mentioned you on {title}",
                [f"{author} mentioned you in a comment on {about}."],
                quote,
            ),
            payload.get("gate"),
        )
        if event == "comment.created":
            watchers = _readers(
                _watchers(initiative),
                initiative,
                exclude_ids=[*author_ids, *(p.pk for p in mentioned)],
            )
            plan(
                Kind.COMMENT,
                watchers,
                payload["comment"],
                Notice(
                    Kind.COMMENT,
                    f"{author} commented on {title}",
                    [f"{author} commented on {about}."],
                    quote,
                ),
                payload.get("gate"),
            )
    elif event == "gate.review_requested":
        gate = Gate.objects.select_related("stage").filter(pk=payload["gate"]).first()
        if gate is None:
            return []
        keepers = _readers(
            [keeper.user for keeper in gate.gatekeepers.select_related("user").order_by("pk")],
            initiative,
        )
        asked_by = payload.get("requested_by_name") or "The owner"
        readiness = payload.get("readiness", {})
        plan(
            Kind.REVIEW_REQUESTED,
            keepers,
            f"{gate.pk}:{payload.get('round')}",
            Notice(
                Kind.REVIEW_REQUESTED,
                f"Review requested: exit gate of {gate.stage.name} for {title}",
                [
                    f"{asked_by} asks you, as a gatekeeper, to decide the exit gate of "
                    f"{gate.stage.name}.",
                    f"{readiness.get('cleared', '?')} of {readiness.get('required', '?')} "
                    "required items are cleared.",
                ],
            ),
            gate.pk,
        )
    elif event == "gate.decided":
        decider = User.objects.filter(username=payload.get("decided_by")).first()
        people = _readers(
            _watchers(initiative, with_team=True),
            initiative,
            exclude_ids=[decider.pk] if decider else [],
        )
        decision = payload.get("decision_label") or payload.get("decision", "")
        plan(
            Kind.GATE_DECIDED,
            people,
            f"{payload['gate']}:{payload.get('decided_at')}",
            Notice(
                Kind.GATE_DECIDED,
                f"{title}: {decision} at the exit gate of {payload.get('stage_name')}",
                [
                    f"{_name(decider) if decider else 'A gatekeeper'} decided "
                    f"{decision.lower()} at the exit gate of {payload.get('stage_name')}."
                ],
                payload.get("rationale", ""),
            ),
            payload["gate"],
        )
    elif event == "item.reopened":
        item = ChecklistItem.objects.filter(pk=payload["item"]).first()
        if item is None:
            return []
        people = _readers(_watchers(initiative, with_team=True), initiative)
        plan(
            Kind.ITEM_REOPENED,
            people,
            f"{item.pk}:{payload.get('version')}",
            Notice(
                Kind.ITEM_REOPENED,
                f"{initiative.key}: “{item.text[:80]}” reopened by a missed target",
                [f"The checklist item “{item.text}” was done and is open again.", item.note],
            ),
            item.gate_id,
        )
    elif event == "gate.gatekeeper_added":
        gate = Gate.objects.select_related("stage").filter(pk=payload["gate"]).first()
        person = User.objects.filter(pk=payload.get("user_id")).first()
        if gate is None or person is None:
            return []
        plan(
            Kind.GATEKEEPER_ADDED,
            _readers([person], initiative),
            gate.pk,
            Notice(
                Kind.GATEKEEPER_ADDED,
                f"You are a gatekeeper of {title}",
                [f"You now decide the exit gate of {gate.stage.name} of {title}."],
            ),
            gate.pk,
        )
    elif event == "initiative.member_added":
        person = User.objects.filter(pk=payload.get("user_id")).first()
        if person is None:
            return []
        plan(
            Kind.MEMBER_ADDED,
            _readers([person], initiative),
            payload["membership"],
            Notice(
                Kind.MEMBER_ADDED,
                f"You joined the team of {title}",
                [f"You are on the team of {title} as {payload.get('stage_role_label')}."],
            ),
        )
    return planned


def notices_for_event(*, event: str, payload: dict) -> list[int]:
    """Insert the notices an event calls for (once each) and queue their emails."""
    planned = _planned_for_event(event, payload)
    if not planned:
        return []
    with transaction.atomic():
        _, to_send = _insert(planned, now=timezone.now())
        enqueue_after_commit(ids=to_send)
    return to_send


def daily_summary_send(*, now: datetime.datetime | None = None) -> int:
    """Email each person one summary of the notices they chose to get daily; returns how many."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    with transaction.atomic():
        waiting = list(
            Notification.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(state=Notification.State.DAILY, created_at__lte=now)
            .select_related("recipient", "initiative")
            .order_by("recipient_id", "created_at", "pk")
        )
        by_person: dict[int, list[Notification]] = {}
        for notification in waiting:
            by_person.setdefault(notification.recipient_id, []).append(notification)
        planned = []
        for rows in by_person.values():
            person = rows[0].recipient
            subject = f"Tollgate: {len(rows)} notice{'s' if len(rows) != 1 else ''} today"
            context = {
                "subject": subject,
                "rows": [
                    {
                        "subject": row.subject,
                        "kind": row.get_kind_display(),
                        "url": site_url(row.initiative.get_absolute_url())
                        if row.initiative
                        else site_url("/inbox/"),
                    }
                    for row in rows
                ],
                "preferences_url": site_url("/inbox/#preferences"),
            }
            planned.append(
                Planned(
                    kind=Kind.SUMMARY,
                    recipient=person,
                    initiative=None,
                    gate_id=None,
                    dedupe_key=f"{Kind.SUMMARY}:{person.pk}:{today}",
                    message=Rendered(
                        subject=subject,
                        text=render_to_string("notifications/email/summary.txt", context),
                        html=render_to_string("notifications/email/summary.html", context),
                    ),
                    always_email=True,
                )
            )
        _, to_send = _insert(planned, now=now)
        summarised = Notification.objects.filter(pk__in=to_send).values_list(
            "recipient_id", flat=True
        )
        included = [row.pk for row in waiting if row.recipient_id in set(summarised)]
        # The summaries stand for these rows: they count as sent with it, and the
        # summary itself is no news in the inbox.
        Notification.objects.filter(pk__in=included).update(
            state=Notification.State.SENT, sent_at=now
        )
        Notification.objects.filter(pk__in=to_send).update(read_at=now)
        enqueue_after_commit(ids=to_send)
    return len(to_send)
