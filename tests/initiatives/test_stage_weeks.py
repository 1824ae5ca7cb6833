"""A stage's expected weeks changed in the admin: its initiatives' stall dates follow."""

from __future__ import annotations

import datetime
from html.parser import HTMLParser

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from initiatives.models import Initiative
from initiatives.services import stage_stall_dates_refresh

pytestmark = pytest.mark.django_db


class _FormFields(HTMLParser):
    """What a browser would send for the page's main form: named inputs, checked boxes,
    selected options and text areas, as a dict of lists."""

    def __init__(self):
        super().__init__()
        self.data: dict[str, list[str]] = {}
        self._select = self._textarea = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name and attrs.get("type") not in ("submit", "button", "file"):
            if attrs.get("type") in ("checkbox", "radio") and "checked" not in attrs:
                return
            self.data.setdefault(name, []).append(attrs.get("value") or "")
        elif tag == "select" and name:
            self._select = name
            self.data.setdefault(name, [])
        elif tag == "option" and self._select and "selected" in attrs:
            self.data[self._select].append(attrs.get("value") or "")
        elif tag == "textarea" and name:
            self._textarea = name
            self.data[name] = [""]

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self.data[self._textarea][0] += data.lstrip("\n")


def _submit(client, url: str, **changes) -> None:
    fields = _FormFields()
    fields.feed(client.get(url).content.decode())
    data = {**fields.data, **{name: [value] for name, value in changes.items()}}
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]


@pytest.fixture
def root_client(client):
    root = get_user_model().objects.create_superuser("root", "root@example.com", "pw-12345678")
    client.force_login(root)
    return client


def test_the_stall_date_follows_a_new_maximum_and_its_removal(initiative):
    stage = initiative.stage
    stage.max_weeks = stage.min_weeks + 1
    stage.save()
    assert stage_stall_dates_refresh(stage=stage) == 1
    initiative.refresh_from_db()
    weeks = datetime.timedelta(weeks=stage.max_weeks)
    assert initiative.stalls_on == initiative.stage_entered_on + weeks
    stage.max_weeks = None
    stage.save()
    stage_stall_dates_refresh(stage=stage)
    initiative.refresh_from_db()
    assert initiative.stalls_on is None


def test_a_maximum_changed_on_the_stage_page_moves_the_stall_dates(root_client, initiative):
    stage = initiative.stage
    before = initiative.stalls_on
    _submit(
        root_client,
        reverse("admin:initiatives_stage_change", args=[stage.pk]),
        max_weeks=str(stage.max_weeks + 5),
    )
    initiative.refresh_from_db()
    assert initiative.stalls_on == before + datetime.timedelta(weeks=5)


def test_a_maximum_changed_among_the_framework_stages_moves_the_stall_dates(
    root_client, initiative
):
    stage = initiative.stage
    url = reverse("admin:initiatives_framework_change", args=[stage.framework_id])
    fields = _FormFields()
    fields.feed(root_client.get(url).content.decode())
    prefix = next(
        name.removesuffix("-id")
        for name, values in fields.data.items()
        if name.endswith("-id") and values == [str(stage.pk)]
    )
    _submit(root_client, url, **{f"{prefix}-max_weeks": str(stage.min_weeks)})
    initiative.refresh_from_db()
    weeks = datetime.timedelta(weeks=stage.min_weeks)
    assert initiative.stalls_on == initiative.stage_entered_on + weeks
    untouched = Initiative.objects.exclude(stage=stage).filter(stalls_on__isnull=False)
    for other in untouched:
        assert other.stalls_on == other.stage_entered_on + datetime.timedelta(
            weeks=other.stage.max_weeks
        )
