"""After a successful write the person lands on a page they may see.

Every form that posts is found the way a person finds it: on the pages of the URL conf
(tests/test_access_matrix.py walks them), as each persona sees them. Each form is sent with
what the page puts in it, and again with every pair of choices of its drop-downs; whatever
the write redirects to must answer 200 to the same person. Each send is rolled back, so one
form's write does not change what the next one finds.
"""

from __future__ import annotations

import itertools
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.db import transaction
from django.test import Client
from django.urls import Resolver404, resolve

from tests import test_access_matrix as matrix
from tests.test_access_matrix import page_routes, page_url

pytestmark = pytest.mark.django_db

world = matrix.world

PERSONAS = ("owner", "team_lead", "member", "other_pm")
# Sign-out ends the session by design; its landing is the sign-in page.
NOT_A_WRITE = {"logout"}
MOST_COMBINATIONS = 30


class _Forms(HTMLParser):
    """The POST forms of a page: action, fixed fields and the choices of each select."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self._form = None
        self._select = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and (attrs.get("method") or "").lower() == "post":
            self._form = {"action": attrs.get("action") or "", "fields": {}, "selects": {}}
            self.forms.append(self._form)
        if self._form is None:
            return
        name = attrs.get("name")
        if tag == "input" and name:
            kind = (attrs.get("type") or "text").lower()
            if kind in ("checkbox", "radio"):
                if "checked" in attrs:
                    self._form["fields"][name] = attrs.get("value", "on")
            elif kind == "file":
                pass
            elif kind == "number":
                self._form["fields"][name] = attrs.get("value") or attrs.get("min") or "1"
            elif kind == "date":
                self._form["fields"][name] = attrs.get("value") or "2026-12-01"
            elif kind == "email":
                self._form["fields"][name] = attrs.get("value") or "someone@example.test"
            else:
                self._form["fields"][name] = attrs.get("value") or "Landing check"
        elif tag == "textarea" and name:
            self._form["fields"][name] = "Landing check"
        elif tag == "select" and name:
            self._select = name
            self._form["selects"][name] = []
        elif tag == "option" and self._select:
            value = attrs.get("value", "")
            if value:
                self._form["selects"][self._select].append(value)
            if "selected" in attrs and value:
                self._form["fields"][self._select] = value

    def handle_endtag(self, tag):
        if tag == "select":
            if self._select and self._select not in self._form["fields"]:
                choices = self._form["selects"][self._select]
                if choices:
                    self._form["fields"][self._select] = choices[0]
            self._select = None
        elif tag == "form":
            self._form = None


def _variants(form: dict):
    """The form as the page fills it, then each pair of drop-down choices."""
    yield dict(form["fields"])
    selects = [(name, choices) for name, choices in form["selects"].items() if len(choices) > 1]
    count = 0
    for (first, first_choices), (second, second_choices) in itertools.combinations(selects, 2):
        for a, b in itertools.product(first_choices, second_choices):
            if count >= MOST_COMBINATIONS:
                return
            count += 1
            yield {**form["fields"], first: a, second: b}
    for name, choices in selects if len(selects) == 1 else ():
        for choice in choices:
            yield {**form["fields"], name: choice}


def _url_name(path: str) -> str | None:
    try:
        return resolve(urlsplit(path).path).view_name
    except Resolver404:
        return None


def test_every_successful_write_lands_on_a_page_the_person_may_see(request, world):
    problems, landed = [], set()
    for persona in PERSONAS:
        client = Client()
        client.force_login(request.getfixturevalue(persona))
        seen = set()
        for name, route in page_routes().items():
            response = client.get(page_url(name, route, world))
            if response.status_code != 200 or response.streaming:
                continue
            if not response["Content-Type"].startswith("text/html"):
                continue
            parser = _Forms()
            parser.feed(response.content.decode())
            for form in parser.forms:
                action = form["action"] or page_url(name, route, world)
                target = _url_name(action)
                if target is None or target in NOT_A_WRITE or target in seen:
                    continue
                seen.add(target)
                for data in _variants(form):
                    with transaction.atomic():
                        answer = client.post(action, data)
                        if answer.status_code in (301, 302, 303):
                            where = answer["Location"]
                            if where.startswith("/"):
                                status = client.get(where).status_code
                                landed.add(target)
                                if status != 200:
                                    problems.append(
                                        f"{persona}: POST {action} {data} → {where} answers "
                                        f"{status}"
                                    )
                        transaction.set_rollback(True)
    # The initiative's forms (create, edit, business case, targets...) at least.
    assert {"initiatives:create", "initiatives:edit", "initiatives:business-case"} <= landed
    assert problems == [], "\n".join(problems)


def test_a_new_initiative_the_creator_would_not_see_is_refused_with_a_clear_error(
    client, owner, other_team, other_pm, executive
):
    """The instance found: a product manager starts an initiative for a team they are not on
    with somebody else as owner. Refused, saying why; nothing is created."""
    from initiatives.models import Initiative

    client.force_login(owner)
    data = {
        "name": "Invoice triage",
        "team": other_team.pk,
        "owner": other_pm.pk,
        "sponsor": executive.pk,
        "framework": Initiative._meta.get_field("framework").related_model.default().pk,
    }
    before = Initiative.objects.count()
    response = client.post("/initiatives/new/", data)
    assert response.status_code == 200
    assert "You would not see this initiative afterwards" in response.content.decode()
    assert Initiative.objects.count() == before
    # Owning it themselves, they may start it in any team, and see it.
    response = client.post("/initiatives/new/", {**data, "owner": owner.pk})
    assert response.status_code == 302
    assert client.get(response["Location"]).status_code == 200


def test_the_creator_owns_a_new_initiative_by_default_and_the_owner_joins_its_team(
    client, owner, team, other_team, executive
):
    from initiatives.models import Initiative
    from teams.models import TeamMembership

    TeamMembership.objects.create(team=team, user=owner)
    client.force_login(owner)
    form = client.get("/initiatives/new/").context["form"]
    assert form.initial["owner"] == owner.pk
    assert form.initial["team"] == team.pk
    framework = Initiative._meta.get_field("framework").related_model.default()
    response = client.post(
        "/initiatives/new/",
        {
            "name": "Claims intake",
            "team": other_team.pk,
            "owner": owner.pk,
            "sponsor": executive.pk,
            "framework": framework.pk,
        },
    )
    assert response.status_code == 302
    assert TeamMembership.objects.filter(team=other_team, user=owner).exists()
