"""Every page, in Chromium, on a phone, a tablet and a laptop, with long unbroken words in the data.

The pages come from the URL conf (the access matrix's walk), so a new page is covered
without editing this file: each GET route is opened as each role, and every answer that is a
whole HTML document is checked. On the demo portfolio plus one initiative whose name, team,
owner, notes, rationale, comment and evidence URL are long words with no break:

- at 390, 768 and 1366 px the document is no wider than the viewport, and nothing inside it
  scrolls sideways (a box that must scroll says so with `data-scroll-x`);
- no ordinary word (letters only, up to 20) and no initiative key is split across lines:
  only a word that cannot fit its box breaks;
- chart text (SVG) renders at 9 px or more;
- axe-core finds no serious or critical violation.

TOLLGATE_AXE_REPORT=path writes the axe counts per page and role as JSON;
TOLLGATE_SHOTS=dir saves a screenshot of every page at every width.
"""

from __future__ import annotations

import io
import json
import os
import re
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.core.management import call_command
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from collaboration.services import comment_create
from gates.services.decisions import gate_request_review, gatekeeper_add
from initiatives.models import Framework, Initiative
from portfolio_import.reading import SourceFile
from portfolio_import.services import portfolio_import
from teams.models import Team, TeamMembership
from tests import test_access_matrix as matrix
from tests.browser.test_import import _csv

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PASSWORD = "tollgate-demo-every-page"
WIDTHS = (390, 768, 1366)
HEIGHT = 900
ROLES = ("pm", "admin")
SERIOUS = ("serious", "critical")


def long_word(stem: str, length: int = 150) -> str:
    """A word of `length` characters with no place to break it."""
    return (stem * length)[:length]


LONG_NAME = long_word("Initiativename")
LONG_TEAM = long_word("Teamname", 120)  # the longest team name the column holds
LONG_NOTE = long_word("Evidencenote")
LONG_URL = "https://wiki.tollgate.example/" + long_word("evidence", 150)
LONG_RATIONALE = long_word("Rationale")


def long_word_portfolio() -> Initiative:
    """One initiative of the five-stage framework made of long words, imported like the demo."""
    User = get_user_model()
    person = User.objects.create_user(
        username="longname",
        first_name=long_word("Firstname", 60),
        last_name=long_word("Lastname", 60),
        email="longname@tollgate.example",
    )
    team = Team.objects.create(name=LONG_TEAM, slug="long-words", description=LONG_NOTE)
    pm = User.objects.get(username="pm")
    for user, role in ((pm, TeamMembership.Role.LEAD), (person, TeamMembership.Role.MEMBER)):
        TeamMembership.objects.create(team=team, user=user, role=role)
    external_id = "long-words"
    initiative = {
        "external_id": external_id,
        "name": LONG_NAME,
        "summary": LONG_NOTE,
        "problem": LONG_NOTE,
        "team": "long-words",
        "owner": "pm",
        "sponsor": "exec",
        "framework": "phased-rollout",
        "stage": "pilot",
        "stage_entered_on": "2026-09-30",
        "status": "active",
        "maturity": "1",
        "tags": long_word("tag", 40),
        "outcome": LONG_NOTE,
        "metric_name": long_word("Metric", 100),
        "metric_baseline": "12",
        "metric_target": "95.2",
        "expected_annual_value": "1234567",
        "investment_to_date": "250000",
        "planned_team_cost": "300000",
        "planned_infra_cost": "45000",
        "cost_per_task_budget": "0.004",
        "monthly_volume": "120000",
        "targets": "accuracy >= 92 %; uptime >= 99.5 %; cost_per_task <= 0.004 USD",
    }
    history = [
        {
            "initiative": external_id,
            "stage": stage,
            "entered_on": entered,
            "decision": "go",
            "decided_on": decided,
            "decided_by": "exec",
            "rationale": LONG_RATIONALE,
            "override_justification": "",
        }
        for stage, entered, decided in (
            ("poc", "2026-06-01T09:00:00+00:00", "2026-07-01T15:00:00+00:00"),
            ("mvp-build", "", "2026-09-30T15:00:00+00:00"),
        )
    ] + [
        {
            "initiative": external_id,
            "stage": "pilot",
            "entered_on": "",
            "decision": "",
            "decided_on": "",
            "decided_by": "",
            "rationale": "",
            "override_justification": "",
        }
    ]
    measurements = [
        {
            "initiative": external_id,
            "metric": "accuracy",
            "value": "93.4",
            "measured_at": "2026-11-20T06:00:00+00:00",
            "source": "integration",
        }
    ]
    members = [
        {
            "initiative": external_id,
            "person": "longname",
            "stage_role": "ml_engineer",
            "allocation_percent": "40",
        },
        {
            "initiative": external_id,
            "person": "contrib",
            "stage_role": "data_scientist",
            "allocation_percent": "20",
        },
    ]
    files = [
        SourceFile("initiatives.csv", _csv([initiative])),
        SourceFile("history.csv", _csv(history)),
        SourceFile("measurements.csv", _csv(measurements)),
        SourceFile("members.csv", _csv(members)),
    ]
    report = portfolio_import(files=files, actor=User.objects.get(username="admin"))
    assert report.ok, [str(p) for p in report.problems]
    created = Initiative.objects.get(external_reference__external_id=external_id)
    item = created.gates.get(stage=created.stage).items.order_by("pk").first()
    checklist = [
        {
            "initiative": created.key,
            "stage": "pilot",
            "item": item.text,
            "state": "done",
            "na_reason": "",
            "evidence_url": LONG_URL,
            "note": LONG_NOTE,
            "updated_by": "contrib",
            "updated_at": "2026-11-02T10:00:00+00:00",
        }
    ]
    report = portfolio_import(
        files=[SourceFile("checklist.csv", _csv(checklist))],
        actor=User.objects.get(username="admin"),
    )
    assert report.ok, [str(p) for p in report.problems]
    comment_create(initiative=created, actor=pm, body=f"See {LONG_URL} and {LONG_NOTE}")
    # In review, with the admin among its gatekeepers: the vote form and "awaiting my
    # decision" show it too.
    admin = User.objects.get(username="admin")
    gate = created.gates.get(stage=created.stage)
    gatekeeper_add(gate=gate, user=admin, actor=admin)
    gate_request_review(gate=gate, actor=pm)
    return created


def world_for(initiative: Initiative) -> dict:
    """The objects a URL names, all hanging from the long-word initiative."""
    from apiauth.models import ApiToken
    from initiatives.models import Activity
    from notifications.models import Notification
    from portfolio_import.models import ImportRun

    gate = initiative.gates.get(stage=initiative.stage)
    item = gate.items.order_by("pk").first()
    pm = initiative.owner
    comment = initiative.comments.order_by("pk").first()
    return {
        "key": initiative.key,
        "slug": initiative.team.slug,
        "target_id": initiative.targets.order_by("pk").first().pk,
        "target": initiative.targets.order_by("pk").first().pk,
        "gate": gate.pk,
        "item": item.pk,
        "notification": Notification.objects.order_by("pk").values_list("pk", flat=True).first()
        or 0,
        "token": ApiToken.issue(user=pm, name=long_word("Tokenname", 80))[0].pk,
        "team_membership": TeamMembership.objects.filter(team=initiative.team)
        .order_by("pk")
        .first()
        .pk,
        "activity": Activity.objects.filter(initiative=initiative).order_by("pk").first().pk,
        "transition": initiative.transitions.order_by("pk").first().pk,
        "stage": initiative.stage.key,
        "membership_id": initiative.memberships.order_by("pk").first().pk,
        "comment": comment.pk,
        "user_id": pm.pk,
        "person": pm.pk,
        "attachment": 0,
        "import_run": ImportRun.objects.create(
            created_by=pm, report={"files": [long_word("file", 80) + ".csv"]}
        ).pk,
    }


def every_page(world: dict) -> list[tuple[str, str]]:
    """(URL name, URL) of every route but the admin's, the API's and static files."""
    pages = []
    for route, name in matrix._walk(matrix.get_resolver().url_patterns):
        if route.startswith(matrix.EXCLUDED_PREFIXES) or route.startswith(matrix.API_PREFIX):
            continue
        name = name or route
        if name == "password_reset_confirm":
            user = get_user_model().objects.get(username="pm")
            uid = urlsafe_base64_encode(force_bytes(user.pk))
            url = reverse(name, args=[uid, default_token_generator.make_token(user)])
        else:
            url = matrix.page_url(name, route, world)
        pages.append((name, url))
    # The board and the dashboard show one framework at a time: each framework once.
    for slug in Framework.objects.order_by("slug").values_list("slug", flat=True):
        for name in ("initiatives:list", "reports:dashboard"):
            pages.append((f"{name} {slug}", f"{reverse(name)}?framework={slug}"))
    return sorted(set(pages))


# What the page measures in itself: the document's width, and boxes that scroll sideways.
MEASURE = """() => {
  const boxes = [];
  for (const el of document.querySelectorAll('body *')) {
    const style = getComputedStyle(el);
    if (!['auto', 'scroll', 'hidden', 'clip'].includes(style.overflowX)) continue;
    if (el.closest('[data-scroll-x]') || el.matches('input, textarea, select')) continue;
    if (style.display === 'none' || el.getClientRects().length === 0) continue;
    if (el.clientWidth < 5 || el.closest('.visually-hidden')) continue;  // hidden text
    if (el.scrollWidth > el.clientWidth + 1) {
      const id = el.id ? '#' + el.id : '';
      const cls = el.className && typeof el.className === 'string'
        ? '.' + el.className.trim().split(/\\s+/).join('.') : '';
      boxes.push(`${el.tagName.toLowerCase()}${id}${cls} ${el.scrollWidth}>${el.clientWidth}`);
    }
  }
  // A table cell holds what is in it: nothing runs over into the next cell.
  for (const cell of document.querySelectorAll('td, th')) {
    if (cell.getClientRects().length === 0 || cell.closest('.visually-hidden')) continue;
    if (cell.scrollWidth > cell.clientWidth + 1) {
      boxes.push(`${cell.tagName.toLowerCase()} "${cell.textContent.trim().slice(0, 30)}" `
        + `runs over its cell ${cell.scrollWidth}>${cell.clientWidth}`);
    }
  }
  // An ordinary word (letters only, up to 20) or an initiative key is never split across
  // lines: only a word that cannot fit its box may break.
  const splits = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const token = /\\S+/g;
  const ordinary = /^[\\p{L}]{2,20}$|^[A-Z]{1,6}-\\d{1,6}$/u;
  for (let node = walker.nextNode(); node && splits.length < 5; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (!parent || parent.closest('script, style, svg, .visually-hidden, [hidden], option')) {
      continue;
    }
    if (parent.getClientRects().length === 0) continue;
    for (const match of node.data.matchAll(token)) {
      const run = match[0];
      const core = run.replace(/^[(\\[“"'‘«]+/u, '').replace(/[)\\]”"'’».,:;!?…]+$/u, '');
      if (!ordinary.test(core)) continue;
      const start = match.index + run.indexOf(core);
      const range = document.createRange();
      range.setStart(node, start);
      range.setEnd(node, start + core.length);
      const rects = [...range.getClientRects()].filter(r => r.width > 0 && r.height > 0);
      if (rects.length < 2) continue;
      const tops = rects.map(r => r.top);
      if (Math.max(...tops) - Math.min(...tops) > rects[0].height / 2) {
        const where = parent.className && typeof parent.className === 'string'
          ? parent.tagName.toLowerCase() + '.' + parent.className.trim().split(/\\s+/).join('.')
          : parent.tagName.toLowerCase();
        splits.push(`"${core}" in ${where}`);
      }
    }
  }
  // Chart text (SVG) is at least 9 px as rendered, after the chart is scaled to its box.
  const tiny = [];
  for (const text of document.querySelectorAll('svg text')) {
    if (text.getClientRects().length === 0 || !text.textContent.trim()) continue;
    const ctm = text.getScreenCTM();
    if (!ctm) continue;
    const size = parseFloat(getComputedStyle(text).fontSize) * Math.hypot(ctm.a, ctm.b);
    if (size < 9 - 0.05) {
      tiny.push(`"${text.textContent.trim().slice(0, 20)}" ${size.toFixed(1)}px`);
    }
  }
  return {
    width: document.documentElement.scrollWidth,
    boxes: boxes.slice(0, 5),
    splits: splits,
    tiny: tiny.slice(0, 5),
  };
}"""


NEXT_FRAMES = "() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))"


def _is_document(response) -> bool:
    if response is None or response.status != 200 or response.request.redirected_from:
        return False
    if not response.headers.get("content-type", "").startswith("text/html"):
        return False
    return response.text().lstrip().lower().startswith("<!doctype html")


def _sign_in(page, username: str) -> None:
    page.goto("/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def check_pages(chromium, live_server, pages, role, shots, axe):
    """Layout problems and axe violations of every page this role may open; axe counts."""
    from playwright.sync_api import Error as PlaywrightError

    problems, violations, counts, seen = [], [], {}, []
    context = chromium.new_context(
        base_url=live_server.url, viewport={"width": WIDTHS[-1], "height": HEIGHT}
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    if role != "anonymous":
        _sign_in(page, role)
    for name, url in pages:
        # A tab of its own for each page, so nothing one page does (a poll, a redirect)
        # interrupts the next one.
        page.close()
        page = context.new_page()
        page.set_default_timeout(15_000)
        response = None
        for timeout in (15_000, 60_000):  # on a slow machine, once more and longer
            try:
                response = page.goto(url, timeout=timeout)
                break
            except PlaywrightError:
                # No document to show (405 to a GET, 204, a download), or a slow answer;
                # the pages that must be reached are asserted by name below.
                continue
        if os.environ.get("TOLLGATE_WALK_DEBUG"):
            print(role, url, response and response.status, response and response.url)
        if not _is_document(response) or response.url != page.url:
            continue
        seen.append(name)
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": HEIGHT})
            page.evaluate(NEXT_FRAMES)  # what the page does on resize has happened
            measured = page.evaluate(MEASURE)
            if measured["width"] > width:
                problems.append(f"{role} {url} at {width}px: document {measured['width']}px wide")
            for box in measured["boxes"]:
                problems.append(f"{role} {url} at {width}px: scrolls sideways: {box}")
            for word in measured["splits"]:
                problems.append(f"{role} {url} at {width}px: a word split across lines: {word}")
            for text in measured["tiny"]:
                problems.append(f"{role} {url} at {width}px: chart text below 9px: {text}")
            if shots:
                slug = name.replace(":", "-").replace("/", "_")
                page.screenshot(path=str(shots / f"{role}-{slug}-{width}.png"), full_page=True)
            if width == WIDTHS[-1]:
                results = axe.run(page).response
                serious = {
                    v["id"]: len(v["nodes"])
                    for v in results["violations"]
                    if v["impact"] in SERIOUS
                }
                counts[f"{role} {name} {width}"] = dict(serious)
                for rule, nodes in serious.items():
                    violations.append(f"{role} {url} at {width}px: {rule} ({nodes} times)")
    context.close()
    return problems, violations, counts, seen


def email_problems(chromium) -> list[str]:
    """Every email sent so far (notices, reminders, the digest), as HTML, on a phone."""
    from django.core import mail

    from notifications.services import digest_send, reminder_scan

    reminder_scan()
    digest_send()
    sent = [
        (message.subject, html)
        for message in mail.outbox
        for html, mimetype in getattr(message, "alternatives", [])
        if mimetype == "text/html" and LONG_NAME[:40] in html
    ]
    assert sent, "no email names the long-word initiative"
    problems = []
    page = chromium.new_page(viewport={"width": WIDTHS[0], "height": HEIGHT})
    for subject, html in sent:
        page.set_content(html)
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > WIDTHS[0]:
            problems.append(f"email {subject[:50]!r}: {width}px wide at {WIDTHS[0]}px")
    page.close()
    return problems


def brief_print_problems(chromium, live_server, key: str) -> list[str]:
    """The brief printed on A4: no more pages than its content needs (no half-blank page)."""
    context = chromium.new_context(base_url=live_server.url)
    page = context.new_page()
    _sign_in(page, "admin")
    page.goto(f"/initiatives/{key}/brief/")
    page.emulate_media(media="print")
    # A4 less the 14 mm and 12 mm margins of print.css, in CSS pixels (96 per inch).
    page_height = (297 - 2 * 14) / 25.4 * 96
    page.set_viewport_size({"width": round((210 - 2 * 12) / 25.4 * 96), "height": 1000})
    needed = -(-page.evaluate("document.documentElement.scrollHeight") // page_height)
    printed = len(re.findall(rb"/Type\s*/Page\b(?!s)", page.pdf(format="A4")))
    # A section kept whole moves to the next page and leaves the page before half blank.
    kept_whole = page.evaluate(
        "[...document.querySelectorAll('.brief .card')]"
        ".filter(card => getComputedStyle(card).breakInside === 'avoid').length"
    )
    context.close()
    problems = []
    if printed > needed:
        problems.append(f"the brief of {key} prints on {printed} pages, it needs {needed:.0f}")
    if kept_whole:
        problems.append(f"the brief of {key} keeps {kept_whole} sections whole on paper")
    return problems


def test_every_page_fits_every_width_and_passes_axe(chromium, live_server):
    from axe_playwright_python.sync_playwright import Axe

    call_command("seed_demo", password=PASSWORD, stdout=io.StringIO())
    initiative = long_word_portfolio()
    for user in get_user_model().objects.filter(username__in=ROLES):
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
    pages = every_page(world_for(initiative))
    shots = Path(os.environ["TOLLGATE_SHOTS"]) if os.environ.get("TOLLGATE_SHOTS") else None
    if shots:
        shots.mkdir(parents=True, exist_ok=True)

    axe = Axe()
    problems = email_problems(chromium) + brief_print_problems(chromium, live_server, "AI-001")
    violations, counts, seen = [], {}, {}
    for role in ("anonymous", *ROLES):
        found = check_pages(chromium, live_server, pages, role, shots, axe)
        problems += found[0]
        violations += found[1]
        counts.update(found[2])
        role_seen = found[3]
        seen[role] = role_seen
    if os.environ.get("TOLLGATE_AXE_REPORT"):
        Path(os.environ["TOLLGATE_AXE_REPORT"]).write_text(
            json.dumps({"pages": seen, "serious_or_critical": counts}, indent=1)
        )

    # The walk reached the pages that matter, as each role.
    for role, names in (
        ("anonymous", {"login", "password_reset", "api-docs"}),
        ("pm", {"initiatives:list", "initiatives:detail", "reports:dashboard", "teams:detail"}),
        ("admin", {"initiatives:detail", "portfolio_import:upload", "gates:awaiting"}),
    ):
        assert names <= set(seen[role]), (role, sorted(seen[role]))
    assert problems == [], "\n".join(problems)
    assert violations == [], "axe, serious or critical:\n" + "\n".join(violations)
