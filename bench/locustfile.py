"""Locust users for `make load`: people on the board and initiative pages, and integrations.

Started by bench/load.py, which writes the fixtures (session cookies, ids to act on,
an API token) to the file named by LOAD_FIXTURES. Every request that answers
4xx or 5xx counts as a failure; redirects are not followed, so a POST is timed
on its own.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re

from locust import HttpUser, between, task

FIXTURES = json.loads(open(os.environ["LOAD_FIXTURES"]).read())  # noqa: SIM115
_editors = itertools.cycle(FIXTURES["editors"])
_voters = itertools.cycle(FIXTURES["voters"])
VERSION = re.compile(r'name="item-(\d+)-version" value="(\d+)"')


class BrowserUser(HttpUser):
    """Reads the board (full page and HTMX filter fragment), initiative pages and the dashboard."""

    weight = 3
    wait_time = between(1, 3)

    def on_start(self):
        self.client.cookies.set("sessionid", FIXTURES["reader_session"])
        self.teams = FIXTURES["teams"]
        self.keys = FIXTURES["initiative_keys"]

    @task(4)
    def board(self):
        self.client.get("/", name="board")

    @task(2)
    def board_filtered(self):
        team = random.choice(self.teams)
        self.client.get(
            f"/?status=active&team={team}",
            headers={"HX-Request": "true"},
            name="board fragment (filter)",
        )

    @task(3)
    def initiative(self):
        self.client.get(f"/initiatives/{random.choice(self.keys)}/", name="initiative page")

    @task(1)
    def dashboard(self):
        self.client.get("/dashboard/", name="dashboard")


class EditorUser(HttpUser):
    """An initiative owner ticking checklist items on their own initiatives (HTMX POST)."""

    weight = 1
    wait_time = between(1, 3)

    def on_start(self):
        editor = next(_editors)
        self.client.cookies.set("sessionid", editor["session"])
        self.client.cookies.set("csrftoken", editor["csrf"])
        self.csrf = editor["csrf"]
        self.items = editor["items"]

    @task
    def tick_item(self):
        item = random.choice(self.items)
        page = self.client.get(f"/items/{item}/", name="checklist item page")
        found = {int(pk): version for pk, version in VERSION.findall(page.text)}
        if item not in found:
            return
        self.client.post(
            f"/items/{item}/",
            {
                f"item-{item}-state": random.choice(["done", "open"]),
                f"item-{item}-evidence_url": "https://wiki.bench.example/load",
                f"item-{item}-note": "Load test",
                f"item-{item}-na_reason": "",
                f"item-{item}-version": found[item],
            },
            headers={"HX-Request": "true", "X-CSRFToken": self.csrf},
            name="checklist item save",
            allow_redirects=False,
        )


class GatekeeperUser(HttpUser):
    """A sponsor deciding gates that wait for their vote (each gate once)."""

    weight = 1
    wait_time = between(2, 5)

    def on_start(self):
        voter = next(_voters)
        self.client.cookies.set("sessionid", voter["session"])
        self.client.cookies.set("csrftoken", voter["csrf"])
        self.csrf = voter["csrf"]
        self.gates = list(voter["gates"])
        random.shuffle(self.gates)

    @task
    def decide(self):
        if not self.gates:
            self.client.get("/gates/awaiting/", name="gates awaiting")
            return
        gate = self.gates.pop()
        with self.client.post(
            f"/gates/{gate}/vote/",
            {"decision": random.choice(["hold", "recycle"]), "rationale": "Load test decision."},
            headers={"X-CSRFToken": self.csrf},
            name="gate decision",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code in (200, 302):
                response.success()


class IntegrationUser(HttpUser):
    """A BI tool or monitoring system reading the portfolio over the API."""

    weight = 1
    wait_time = between(1, 3)

    def on_start(self):
        self.client.headers["Authorization"] = f"Bearer {FIXTURES['token']}"

    @task(3)
    def initiatives(self):
        page = random.randint(1, FIXTURES["api_pages"])
        self.client.get(
            f"/api/v1/initiatives/?page_size=100&page={page}", name="API initiative list"
        )

    @task(1)
    def summary(self):
        self.client.get("/api/v1/portfolio/summary/", name="API portfolio summary")

    @task(1)
    def missed_targets(self):
        self.client.get("/api/v1/targets/?status=missed&page_size=100", name="API targets missed")
