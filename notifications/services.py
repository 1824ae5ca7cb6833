"""Reminder scan, weekly digest, sending and the inbox: the writes of the notifications app.

Exactly-once delivery rests on two things: each notification is a row with a
unique `dedupe_key`, inserted before anything is sent (a second or concurrent
scan inserts nothing), and only a pending row is sent, under a row lock.
"""

from __future__ import annotations

import datetime
import logging
import smtplib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

from celery.exceptions import Retry
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import mailers
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from core import background
from gates.describing import describe
from gates.models import Gate
from initiatives.models import Initiative
from notifications import selectors
from notifications.emails import SharedBodyEmail
from notifications.models import (
    Delivery,
    DeliveryPreference,
    Kind,
    Notification,
    NotificationPreference,
    ReminderPolicy,
)

logger = logging.getLogger(__name__)

DEFAULT_RULES = {
    # Days before a gate's due date on which the owner and team hear about it.
    "due_soon_days": [7, 1],
    # While a gate is overdue, remind the owner and team this often.
    "overdue_every_days": 1,
    # Tell the executive sponsor once the gate is this late, then this often.
    "escalate_after_days": 7,
    "escalate_every_days": 7,
    # Nudge the owner after this many days without any activity.
    "quiet_after_days": 14,
    # Remind gatekeepers who have not voted once a review has waited this long.
    "review_waiting_days": 3,
    # A pending notification whose send task went missing is put back after this.
    "redrive_after_minutes": 15,
    # Sending attempts (first try plus retries) before a notification is marked failed.
    "max_send_attempts": 5,
}

# What a send may raise that is worth another try later.
SEND_ERRORS = (smtplib.SMTPException, OSError)


def reminder_defaults() -> dict:
    return {**DEFAULT_RULES, **getattr(settings, "TOLLGATE_REMINDERS", {})}


@dataclass
class Rulebook:
    """The defaults and each framework's overrides, read in one query."""

    defaults: dict
    by_framework: dict[int, dict] = field(default_factory=dict)

    @classmethod
    def load(cls) -> Rulebook:
        defaults = reminder_defaults()
        return cls(
            defaults=defaults,
            by_framework={
                policy.framework_id: {**defaults, **policy.overrides()}
                for policy in ReminderPolicy.objects.all()
            },
        )

    def for_framework(self, framework_id: int) -> dict:
        return self.by_framework.get(framework_id, self.defaults)

    def all(self) -> list[dict]:
        return [self.defaults, *self.by_framework.values()]

    def largest(self, name: str) -> int:
        values = [rules[name] for rules in self.all()]
        return max(max(value) if isinstance(value, list) else value for value in values)

    def smallest(self, name: str) -> int:
        return min(rules[name] for rules in self.all())


@dataclass
class Planned:
    """A notification the scan decided to create, before it is a row."""

    kind: str
    recipient: object
    initiative: Initiative | None
    gate_id: int | None
    dedupe_key: str
    # Rendered on first use: most planned reminders exist already and are never rendered.
    message: _Message | Rendered
    # Escalations and reminders only differ in whether the recipient may opt out.
    always_email: bool = False

    @property
    def subject(self) -> str:
        return self.message.subject

    @property
    def body_text(self) -> str:
        return self.message.text

    @property
    def body_html(self) -> str:
        return self.message.html


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


@dataclass
class ScanResult:
    planned: list[Planned]
    created: int = 0
    redriven: int = 0
    to_send: list[int] = field(default_factory=list)


def site_url(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


class _Message:
    """The subject and bodies of one reminder, rendered once on first use and shared by
    every recipient."""

    def __init__(self, *, kind: str, initiative: Initiative, days: int, **extra):
        self._context = {
            "kind": kind,
            "initiative": initiative,
            "days": days,
            **extra,
        }

    @cached_property
    def _rendered(self) -> Rendered:
        initiative = self._context["initiative"]
        context = {
            **self._context,
            "stage": initiative.stage,
            "days_text": _plural(self._context["days"], "day"),
            "url": site_url(initiative.get_absolute_url()),
        }
        subject = render_to_string("notifications/email/subject.txt", context).strip()
        context["subject"] = subject
        return Rendered(
            subject=subject,
            text=render_to_string("notifications/email/reminder.txt", context),
            html=render_to_string("notifications/email/reminder.html", context),
        )

    @property
    def subject(self) -> str:
        return self._rendered.subject

    @property
    def text(self) -> str:
        return self._rendered.text

    @property
    def html(self) -> str:
        return self._rendered.html


def _materialise(candidates: list[selectors.Candidate]) -> list[Planned]:
    """The planned notifications of a batch of candidates, with their messages.

    Three reads whatever the batch's size: the recipients, the initiatives (with stage
    and owner, which the texts name) and, for reviews waiting, the gates. A message is
    shared by every recipient of one reminder about one initiative and rendered once.
    """
    people = get_user_model().objects.in_bulk({c.recipient_id for c in candidates})
    initiatives = Initiative.objects.select_related(
        "stage", "owner", "sponsor", "ai_classification"
    ).in_bulk({c.initiative_id for c in candidates})
    review_gates = {c.gate_id for c in candidates if c.kind == Kind.REVIEW_WAITING}
    gates = Gate.objects.in_bulk(review_gates) if review_gates else {}
    messages: dict[tuple, _Message] = {}
    planned = []
    for candidate in candidates:
        initiative = initiatives[candidate.initiative_id]
        extra = {}
        if candidate.kind in (Kind.DUE_SOON, Kind.OVERDUE, Kind.ESCALATION):
            extra["due_on"] = initiative.gate_due_on
        elif candidate.kind == Kind.QUIET:
            # The day of the last activity, which the key names (quiet:initiative:owner:day:n).
            extra["last_activity_at"] = datetime.date.fromisoformat(
                candidate.dedupe_key.split(":")[3]
            )
        elif candidate.kind == Kind.REVIEW_WAITING:
            extra["gate"] = gates[candidate.gate_id]
        elif candidate.kind == Kind.CLASSIFICATION_REVIEW:
            classification = initiative.ai_classification
            extra["due_on"] = classification.next_review_on
            extra["prompt"] = classification.review_prompt
            extra["tier"] = classification.get_tier_display()
        shared = (candidate.kind, candidate.initiative_id, candidate.gate_id, candidate.days)
        message = messages.get(shared)
        if message is None:
            message = messages[shared] = _Message(
                kind=candidate.kind, initiative=initiative, days=candidate.days, **extra
            )
        planned.append(
            Planned(
                kind=candidate.kind,
                recipient=people[candidate.recipient_id],
                initiative=initiative,
                gate_id=candidate.gate_id,
                dedupe_key=candidate.dedupe_key,
                message=message,
                always_email=candidate.kind == Kind.ESCALATION,
            )
        )
    return planned


# --- Inserting and sending ---------------------------------------------------------------


REMINDER_KINDS = {
    Kind.DUE_SOON,
    Kind.OVERDUE,
    Kind.QUIET,
    Kind.REVIEW_WAITING,
    Kind.CLASSIFICATION_REVIEW,
}


def _delivery(planned: Planned, preferences: dict, deliveries: dict) -> str:
    """now, daily or off: how this notice reaches its recipient by email."""
    if not planned.recipient.email:
        return Delivery.OFF
    if planned.always_email:
        return Delivery.NOW
    chosen = deliveries.get((planned.recipient.pk, planned.kind))
    if chosen is not None:
        return chosen
    if planned.kind == Kind.DIGEST or planned.kind in REMINDER_KINDS:
        email_digest, email_reminders = preferences.get(planned.recipient.pk, (True, True))
        wanted = email_digest if planned.kind == Kind.DIGEST else email_reminders
        return Delivery.NOW if wanted else Delivery.OFF
    return Delivery.NOW


_STATE_FOR_DELIVERY = {
    Delivery.NOW: Notification.State.PENDING,
    Delivery.DAILY: Notification.State.DAILY,
    Delivery.OFF: Notification.State.SKIPPED,
}


def _insert(planned: list[Planned], *, now: datetime.datetime) -> tuple[int, list[int]]:
    """Insert the planned rows that do not exist yet; return (created, ids to send)."""
    preferences = {
        user_id: (digest, reminders)
        for user_id, digest, reminders in NotificationPreference.objects.values_list(
            "user_id", "email_digest", "email_reminders"
        )
    }
    fresh = _not_created_yet(planned)
    deliveries = {
        (user_id, kind): delivery
        for user_id, kind, delivery in DeliveryPreference.objects.filter(
            user_id__in={item.recipient.pk for item in fresh}
        ).values_list("user_id", "kind", "delivery")
    }
    scan_id = uuid.uuid4()
    rows = []
    for item in fresh:
        state = _STATE_FOR_DELIVERY[_delivery(item, preferences, deliveries)]
        email = state == Notification.State.PENDING
        rows.append(
            Notification(
                recipient=item.recipient,
                kind=item.kind,
                initiative=item.initiative,
                gate_id=item.gate_id,
                dedupe_key=item.dedupe_key,
                subject=item.subject[:200],
                body_text=item.body_text,
                body_html=item.body_html,
                state=state,
                scan_id=scan_id,
                enqueued_at=now if email else None,
                created_at=now,
            )
        )
    # A key that exists already (an earlier or a concurrent scan) inserts nothing.
    Notification.objects.bulk_create(rows, ignore_conflicts=True, batch_size=2000)
    mine = Notification.objects.filter(scan_id=scan_id).values_list("pk", "state")
    created, to_send = 0, []
    for pk, state in mine:
        created += 1
        if state == Notification.State.PENDING:
            to_send.append(pk)
    return created, to_send


def _not_created_yet(planned: list[Planned]) -> list[Planned]:
    """Drop the planned notifications whose key exists already, before rendering them."""
    existing = set(
        Notification.objects.filter(
            dedupe_key__in=[item.dedupe_key for item in planned]
        ).values_list("dedupe_key", flat=True)
    )
    return [item for item in planned if item.dedupe_key not in existing]


def _claim_stranded(*, now: datetime.datetime) -> list[int]:
    """Pending rows whose send task was lost (broker down, worker killed): claim them again."""
    cutoff = now - datetime.timedelta(minutes=reminder_defaults()["redrive_after_minutes"])
    # skip_locked: a row a send task is working on right now is not stranded.
    ids = list(
        Notification.objects.select_for_update(skip_locked=True)
        .filter(state=Notification.State.PENDING, enqueued_at__lt=cutoff)
        .values_list("pk", flat=True)
    )
    if ids:
        Notification.objects.filter(pk__in=ids).update(enqueued_at=now)
    return ids


def enqueue_after_commit(*, ids: list[int]) -> None:
    """Put one send task per batch of notifications on the queue once the rows are committed.

    If the broker is down the rows stay pending; the next scan puts them back.
    """
    if not ids:
        return

    def enqueue():
        from notifications.tasks import notifications_send_task

        batches = _batches(list(ids), send_batch_size())
        for position, batch in enumerate(batches):
            try:
                background.dispatch(notifications_send_task, batch)
            except Retry:
                # Only in-process (eager) runs raise this: the failures are on the rows,
                # which stay pending, and the next scan's re-drive tries again.
                logger.warning("Notifications %s could not be sent; the next scan retries", batch)
            except Exception:
                logger.exception(
                    "Could not enqueue a batch of notifications; %s left pending for the next scan",
                    sum(len(rest) for rest in batches[position:]),
                )
                return

    transaction.on_commit(enqueue)


def reminder_candidates(*, now: datetime.datetime | None = None) -> list[selectors.Candidate]:
    """The reminders the rules call for at `now` that do not exist yet: one query per rule."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    rulebook = Rulebook.load()
    return [
        *selectors.reminder_candidates_due_soon(rulebook=rulebook, today=today),
        *selectors.reminder_candidates_overdue(rulebook=rulebook, today=today),
        *selectors.reminder_candidates_escalation(rulebook=rulebook, today=today),
        *selectors.reminder_candidates_quiet(rulebook=rulebook, now=now),
        *selectors.reminder_candidates_review_waiting(rulebook=rulebook, now=now),
        *selectors.reminder_candidates_classification_review(today=today),
    ]


def reminder_scan(
    *, now: datetime.datetime | None = None, dry_run: bool = False, enqueue: bool = True
) -> ScanResult:
    """Create the reminders due at `now` and queue them for sending.

    The rules' queries return only what is not created yet, so a second scan of the
    day reads no rows. The new ones are rendered, inserted and queued a batch
    (TOLLGATE_NOTIFICATION_BATCH_SIZE) at a time, one transaction each; the unique
    key still makes a concurrent scan's insert a no-op. With `dry_run`, returns what
    would be created and writes nothing. With `enqueue=False` the caller sends
    `result.to_send` itself (no worker).
    """
    now = now or timezone.now()
    candidates = reminder_candidates(now=now)
    if dry_run:
        return ScanResult(planned=_materialise(candidates))
    result = ScanResult(planned=[])
    for batch in _batches(candidates, send_batch_size()):
        planned = _materialise(batch)
        with transaction.atomic():
            created, to_send = _insert(planned, now=now)
            if enqueue:
                enqueue_after_commit(ids=to_send)
        result.created += created
        result.to_send += to_send
    with transaction.atomic():
        redriven = _claim_stranded(now=now)
        if enqueue:
            enqueue_after_commit(ids=redriven)
    result.redriven = len(redriven)
    result.to_send += redriven
    return result


def _render_digest(*, now: datetime.datetime) -> tuple[str, str, str]:
    since = now - datetime.timedelta(days=7)
    today = timezone.localdate(now)
    sections = selectors.digest_sections(since=since, today=today)
    for activity in sections["targets_missed"].items:
        activity.description = describe(activity)
        activity.url = (
            site_url(reverse("initiatives:detail", args=[activity.initiative_key]))
            if activity.initiative_key
            else ""
        )
    context = {
        **sections,
        "since": timezone.localdate(since),
        "today": today,
        "site_url": settings.SITE_URL.rstrip("/"),
        "quiet_week": not any(section.total for section in sections.values()),
    }
    subject = f"Tollgate weekly digest, {context['since']:%d %b} – {today:%d %b %Y}"
    context["subject"] = subject
    text = render_to_string("notifications/email/digest.txt", context)
    html = render_to_string("notifications/email/digest.html", context)
    return subject, text, html


def digest_send(*, now: datetime.datetime | None = None, enqueue: bool = True) -> ScanResult:
    """Create this week's executive digest for each executive and portfolio admin, then queue it."""
    now = now or timezone.now()
    subject, text, html = _render_digest(now=now)
    year, week, _ = timezone.localdate(now).isocalendar()
    planned = [
        Planned(
            kind=Kind.DIGEST,
            recipient=person,
            initiative=None,
            gate_id=None,
            dedupe_key=f"{Kind.DIGEST}:{person.pk}:{year}-W{week:02d}",
            message=Rendered(subject=subject, text=text, html=html),
        )
        for person in selectors.digest_recipients()
    ]
    with transaction.atomic():
        created, to_send = _insert(planned, now=now)
        if enqueue:
            enqueue_after_commit(ids=to_send)
    return ScanResult(planned=planned, created=created, to_send=to_send)


def _email(notification: Notification, connection, shared: dict) -> None:
    message = SharedBodyEmail(
        subject=notification.subject,
        body=notification.body_text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[notification.recipient.email],
        shared=shared,
    )
    if notification.body_html:
        message.attach_alternative(notification.body_html, "text/html")
    connection.send_messages([message])


def send_batch_size() -> int:
    return settings.TOLLGATE_NOTIFICATION_BATCH_SIZE


def _batches(ids: list[int], size: int) -> list[list[int]]:
    return [ids[start : start + size] for start in range(0, len(ids), size)]


def _open(connection) -> Exception | None:
    """Open the mail connection; the error instead of raising it, so each row can note it."""
    try:
        connection.open()
    except SEND_ERRORS as error:
        return error
    return None


def notifications_send_batch(*, notification_ids: list[int]) -> dict[str, int]:
    """Email a batch of pending notifications over one mail connection, in one transaction.

    The rows stay locked (FOR UPDATE SKIP LOCKED) from before the first message is
    handed to the mail server until their new state commits, so a concurrent sender
    skips them and a row is never emailed twice: exactly-once holds per row as it did
    when each row had its own transaction, at one connection and one commit per batch.
    A row whose send fails keeps its attempt count and error, and stays pending for a
    retry (or is marked failed after the last attempt); the rest of the batch goes on.
    Returns the counts: sent, failed, retry_later.
    """
    max_attempts = reminder_defaults()["max_send_attempts"]
    counts = {"sent": 0, "failed": 0, "retry_later": 0}
    with transaction.atomic():
        batch = list(
            Notification.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("recipient")
            .filter(pk__in=notification_ids, state=Notification.State.PENDING)
            .order_by("pk")
        )
        if not batch:
            return counts
        now = timezone.now()
        connection = mailers.default
        broken = _open(connection)
        # A reminder's team shares its subject and bodies: their MIME is built once.
        shared: dict = {}
        try:
            for notification in batch:
                if not notification.recipient.is_active:
                    # Deactivated since it was planned: no email to somebody who left.
                    notification.state = Notification.State.SKIPPED
                    notification.last_error = "The recipient is deactivated."
                    continue
                notification.attempts += 1
                error = broken
                if error is None:
                    try:
                        _email(notification, connection, shared)
                    except SEND_ERRORS as failure:
                        error = failure
                        # A dropped connection would fail every later message: start afresh.
                        connection.close()
                        broken = _open(connection)
                if error is None:
                    notification.state = Notification.State.SENT
                    notification.sent_at = now
                    notification.last_error = ""
                    counts["sent"] += 1
                    continue
                notification.last_error = f"{type(error).__name__}: {error}"[:2000]
                if notification.attempts >= max_attempts:
                    notification.state = Notification.State.FAILED
                    counts["failed"] += 1
                    logger.error("Notification %s failed: %s", notification.pk, error)
                else:
                    # A retry is about to be queued; the re-drive leaves it alone until then.
                    notification.enqueued_at = now
                    counts["retry_later"] += 1
        finally:
            connection.close()
        # Most of a batch ends the same way: sent now, with no error. Those rows take one
        # UPDATE; bulk_update's CASE per row and column cost more to plan than to run.
        sent = [n.pk for n in batch if n.state == Notification.State.SENT]
        Notification.objects.filter(pk__in=sent).update(
            state=Notification.State.SENT, sent_at=now, last_error="", attempts=F("attempts") + 1
        )
        others = [n for n in batch if n.state != Notification.State.SENT]
        if others:
            Notification.objects.bulk_update(
                others, ["attempts", "last_error", "state", "sent_at", "enqueued_at"]
            )
    return counts


def notification_send(*, notification_id: int) -> Notification | None:
    """Email one pending notification once; a failure worth retrying is raised after it is noted.

    Returns None when there is nothing to do: the row is sent already, failed,
    or another worker holds it right now.
    """
    counts = notifications_send_batch(notification_ids=[notification_id])
    if not any(counts.values()):
        return None
    notification = Notification.objects.get(pk=notification_id)
    if counts["retry_later"]:
        raise smtplib.SMTPException(notification.last_error)
    return notification


def notifications_send_now(*, ids: Iterable[int]) -> dict[str, int]:
    """Send in this process, without a worker, a batch at a time; failures stay pending for
    the next scan."""
    counts = {"sent": 0, "failed": 0, "retry_later": 0}
    for batch in _batches(list(ids), send_batch_size()):
        for name, value in notifications_send_batch(notification_ids=batch).items():
            counts[name] += value
    return counts


@transaction.atomic
def notifications_retry_failed(*, queryset) -> int:
    """Put failed notifications back to pending with fresh attempts, and queue them."""
    ids = list(queryset.filter(state=Notification.State.FAILED).values_list("pk", flat=True))
    Notification.objects.filter(pk__in=ids).update(
        state=Notification.State.PENDING, attempts=0, enqueued_at=timezone.now()
    )
    enqueue_after_commit(ids=ids)
    return len(ids)


# --- The inbox ---------------------------------------------------------------------------


def notification_mark_read(*, notification: Notification) -> Notification:
    """Mark one notification read (reading it twice keeps the first time)."""
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


def notification_preference_set(
    *, user, email_digest: bool, email_reminders: bool
) -> NotificationPreference:
    """Choose which emails a person gets; the inbox keeps everything either way."""
    preference, _ = NotificationPreference.objects.update_or_create(
        user=user, defaults={"email_digest": email_digest, "email_reminders": email_reminders}
    )
    return preference


def notifications_mark_all_read(*, user) -> int:
    """Mark every unread notification of `user` read; returns how many."""
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )


def delivery_preferences_set(*, user, deliveries: dict[str, str]) -> None:
    """Choose, per kind, whether a notice is emailed at once, in the daily summary, or not.

    Raises ValueError for a kind that cannot be chosen or a delivery that is not one of
    `Delivery`: the form says so to people before this is called.
    """
    from notifications.models import CHOOSABLE_KINDS

    with transaction.atomic():
        for kind, delivery in deliveries.items():
            if kind not in CHOOSABLE_KINDS or delivery not in Delivery.values:
                raise ValueError(f"No delivery {delivery!r} for notices of kind {kind!r}.")
            DeliveryPreference.objects.update_or_create(
                user=user, kind=kind, defaults={"delivery": delivery}
            )
