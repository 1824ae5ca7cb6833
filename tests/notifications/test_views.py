"""The inbox: who sees what, marking read with and without htmx, and the bell."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from notifications.models import Kind, Notification, NotificationPreference

pytestmark = pytest.mark.django_db


def make_notification(recipient, initiative=None, number: int = 1, **fields) -> Notification:
    return Notification.objects.create(
        recipient=recipient,
        kind=fields.pop("kind", Kind.OVERDUE),
        initiative=initiative,
        dedupe_key=f"test:{recipient.pk}:{number}",
        subject=fields.pop("subject", f"Reminder number {number}"),
        body_text="Body",
        state=Notification.State.SENT,
        created_at=timezone.now(),
        **fields,
    )


def test_anonymous_is_sent_to_log_in(client):
    response = client.get(reverse("notifications:inbox"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_anonymous_cannot_mark_read(client, owner):
    notification = make_notification(owner)
    response = client.post(reverse("notifications:read", args=[notification.pk]))
    assert response.status_code == 302
    notification.refresh_from_db()
    assert notification.read_at is None


def test_inbox_lists_only_my_notifications(client, owner, outsider, initiative):
    make_notification(owner, initiative, subject="Yours")
    make_notification(outsider, number=2, subject="Not yours")
    client.force_login(owner)
    response = client.get(reverse("notifications:inbox"))
    assert response.status_code == 200
    content = response.content.decode()
    assert "Yours" in content and "Not yours" not in content
    assert initiative.get_absolute_url() in content


def test_inbox_is_paginated_with_a_constant_number_of_queries(
    client, owner, initiative, django_assert_num_queries
):
    for number in range(30):
        make_notification(owner, initiative, number=number)
    client.force_login(owner)
    # session, user, count, page, unread count, email preferences, per-kind choices
    with django_assert_num_queries(7):
        response = client.get(reverse("notifications:inbox"))
    assert len(response.context["page"].object_list) == 25
    response = client.get(reverse("notifications:inbox"), {"page": 2})
    assert len(response.context["page"].object_list) == 5


def test_another_users_notification_is_not_found(client, owner, outsider):
    notification = make_notification(owner)
    client.force_login(outsider)
    response = client.post(reverse("notifications:read", args=[notification.pk]))
    assert response.status_code == 404
    notification.refresh_from_db()
    assert notification.read_at is None


def test_mark_read_without_javascript_redirects_to_the_inbox(client, owner):
    notification = make_notification(owner)
    client.force_login(owner)
    response = client.post(reverse("notifications:read", args=[notification.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("notifications:inbox")
    notification.refresh_from_db()
    assert notification.read_at is not None


def test_mark_read_with_htmx_returns_the_item_and_the_bell(client, owner):
    notification = make_notification(owner)
    make_notification(owner, number=2)
    client.force_login(owner)
    response = client.post(
        reverse("notifications:read", args=[notification.pk]), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    content = response.content.decode()
    assert f'id="notification-{notification.pk}"' in content
    assert "<html" not in content
    assert 'hx-swap-oob="true"' in content and ">1</span>" in content  # one left unread


def test_mark_all_read_with_htmx_returns_the_list(client, owner, outsider):
    make_notification(owner)
    make_notification(owner, number=2)
    theirs = make_notification(outsider, number=3)
    client.force_login(owner)
    response = client.post(reverse("notifications:read-all"), HTTP_HX_REQUEST="true")
    content = response.content.decode()
    assert 'id="inbox"' in content and "<html" not in content
    assert "0 unread" in content
    assert Notification.objects.filter(recipient=owner, read_at__isnull=True).count() == 0
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_mark_all_read_without_javascript_redirects(client, owner):
    make_notification(owner)
    client.force_login(owner)
    response = client.post(reverse("notifications:read-all"))
    assert response.status_code == 302
    assert Notification.objects.unread().count() == 0


def test_reading_needs_a_post(client, owner):
    notification = make_notification(owner)
    client.force_login(owner)
    assert client.get(reverse("notifications:read", args=[notification.pk])).status_code == 405


def test_bell_shows_the_unread_count(client, owner):
    make_notification(owner)
    make_notification(owner, number=2, read_at=timezone.now())
    client.force_login(owner)
    response = client.get(reverse("notifications:bell"), HTTP_HX_REQUEST="true")
    content = response.content.decode()
    assert 'id="notification-bell"' in content and ">1</span>" in content
    # The loaded bell does not load itself again at once; it asks again every 30 s.
    assert 'hx-trigger="load"' not in content and 'hx-trigger="every 30s"' in content


def test_bell_marks_itself_current_only_on_the_inbox(client, owner):
    client.force_login(owner)
    bell = reverse("notifications:bell")
    on_board = client.get(
        bell, HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL="http://testserver/"
    ).content.decode()
    on_inbox = client.get(
        bell,
        HTTP_HX_REQUEST="true",
        HTTP_HX_CURRENT_URL=f"http://testserver{reverse('notifications:inbox')}",
    ).content.decode()
    assert 'aria-current="page"' not in on_board
    assert 'aria-current="page"' in on_inbox


def test_every_page_links_to_the_inbox_without_querying_for_the_count(client, owner):
    client.force_login(owner)
    content = client.get(reverse("initiatives:list")).content.decode()
    assert f'hx-get="{reverse("notifications:bell")}"' in content


def test_turning_reminder_emails_off_without_javascript(client, owner):
    client.force_login(owner)
    response = client.post(reverse("notifications:preferences"), {"email_digest": "on"})
    assert response.status_code == 302
    preference = NotificationPreference.objects.get(user=owner)
    assert (preference.email_digest, preference.email_reminders) == (True, False)


def test_preferences_with_htmx_return_the_form(client, owner):
    client.force_login(owner)
    response = client.post(reverse("notifications:preferences"), {}, HTTP_HX_REQUEST="true")
    content = response.content.decode()
    assert 'id="preferences"' in content and "Saved." in content and "<html" not in content
    preference = NotificationPreference.objects.get(user=owner)
    assert (preference.email_digest, preference.email_reminders) == (False, False)


def test_bell_for_an_expired_session_leaves_the_link_alone(client):
    response = client.get(reverse("notifications:bell"), HTTP_HX_REQUEST="true")
    assert response.status_code == 204


@pytest.mark.parametrize("htmx", [True, False])
def test_an_unknown_delivery_is_refused_beside_its_choice_and_nothing_is_saved(client, owner, htmx):
    # An unknown value was skipped without a word: the page said "Saved."
    from notifications.models import CHOOSABLE_KINDS, DeliveryPreference

    first, second = CHOOSABLE_KINDS[0], CHOOSABLE_KINDS[1]
    client.force_login(owner)
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    response = client.post(
        reverse("notifications:preferences"),
        {f"delivery_{first}": "hourly", f"delivery_{second}": "off"},
        **headers,
    )
    assert response.status_code == 400
    content = response.content.decode()
    assert f'id="delivery-{first}-error"' in content and "Saved." not in content
    assert not DeliveryPreference.objects.filter(user=owner).exists()
