"""Who may open what: every URL and every API operation against an explicit table of outcomes.

The walk covers the whole URL conf (get_resolver(), recursively) and every operation in
the OpenAPI schema. A URL or operation with no row in the tables below fails
`test_every_url_and_operation_has_a_row`, so nothing ships unguarded: a new view needs a
line here saying who gets what. Run with TOLLGATE_MATRIX_DUMP=1 to print the observed
outcomes of the missing rows in table syntax, then check them before pasting.

Pages are fetched with GET. For unsafe methods only the refusals are exercised; a
persona who would succeed is marked OK and not requested, so no write happens.

Outcomes: an HTTP status, LOGIN (302 to the sign-in page), or OK (allowed, not requested).
"""

from __future__ import annotations

import os
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from rest_framework.test import APIClient

from apiauth.models import ApiToken
from collaboration.services import attachment_upload, comment_create
from initiatives.models import Activity
from notifications.models import Notification
from portfolio_import.models import ImportRun
from teams.models import TeamMembership
from tests.factories import TargetFactory, UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "LOGIN"
OK = "OK"

# The column order of every row below.
PERSONAS = (
    "anonymous",  # no session, no token
    "viewer",  # reads everything, writes nothing
    "member",  # contributor on `initiative` (ML engineer)
    "outsider",  # contributor with no relation to any initiative
    "owner",  # product manager who owns `initiative`
    "other_pm",  # product manager who leads `other_team` and owns `other_initiative` only
    "executive",  # sponsor and gatekeeper of `initiative`
    "admin_user",  # portfolio admin
)

# URL names left out of the walk, with the reason.
EXCLUDED = {
    # Django's sign-in and password-reset views: public by design, tested in tests/teams/.
    "login": "public by design",
    "logout": "public by design (POST only)",
    "password_reset": "public by design",
    "password_reset_done": "public by design",
    "password_reset_confirm": "public by design; needs a one-time token",
    "password_reset_complete": "public by design",
}
EXCLUDED_PREFIXES = ("admin/", "static/", "media/", "__debug__/")
# The API's router patterns are checked through the schema's operations instead; these
# two are not operations: the browsable root and the JSON 404 for unknown API paths.
API_PREFIX = "api/v1/"
API_NON_OPERATIONS = {"api-root", None}

# --- Pages -------------------------------------------------------------------------------
# GET rows are requested for every persona; POST rows only where the answer is a refusal.
#  anonymous viewer member outsider owner other_pm executive admin
EVERYONE = (LOGIN, 200, 200, 200, 200, 200, 200, 200)
PUBLIC = (200, 200, 200, 200, 200, 200, 200, 200)
POST_ONLY = (LOGIN, 405, 405, 405, 405, 405, 405, 405)
SIGNED_IN_WRITE = (LOGIN, OK, OK, OK, OK, OK, OK, OK)
# Reads of `initiative` and what hangs from it: the PM of the other team and the outsider
# may not know it exists (404).
READ_INITIATIVE = (LOGIN, 200, 200, 404, 200, 404, 200, 200)
# Edits: the owner and admins; readers who try get 403.
EDIT_INITIATIVE = (LOGIN, 403, 403, 404, OK, 404, 403, OK)
# Checklist and measurements: the owner's side plus the initiative's members.
WORK_ON_INITIATIVE = (LOGIN, 403, OK, 404, OK, 404, 403, OK)
# Comments: every reader but viewers.
COMMENT_ON_INITIATIVE = (LOGIN, 403, OK, 404, OK, 404, OK, OK)
# Portfolio admins only, on something everybody who may read it can see.
ADMIN_ON_INITIATIVE = (LOGIN, 403, 403, 404, 403, 404, 403, OK)
# Team management: admins and the team's leads (no lead among these personas but the
# admin); people who read the team get 403, those who cannot see it 404.
MANAGE_TEAM = (LOGIN, 403, 403, 404, 403, 404, 403, OK)
# The portfolio import: portfolio admins only.
ADMIN_PAGE = (LOGIN, 403, 403, 403, 403, 403, 403, 200)
ADMIN_WRITE = (LOGIN, 403, 403, 403, 403, 403, 403, OK)

PAGES: dict[str, dict[str, tuple]] = {
    # Board, dashboard and exports: every signed-in persona, each sees only what it may read.
    "initiatives:list": {"GET": EVERYONE},
    "reports:dashboard": {"GET": EVERYONE},
    "reports:portfolio-csv": {"GET": EVERYONE},
    "reports:gates-csv": {"GET": EVERYONE},
    "reports:ai-register-csv": {"GET": EVERYONE},
    "reports:ai-register-json": {"GET": EVERYONE},
    "initiatives:create": {
        "GET": (LOGIN, 403, 403, 403, 200, 200, 403, 200),
        "POST": (LOGIN, 403, 403, 403, OK, OK, 403, OK),
    },
    "initiatives:detail": {"GET": READ_INITIATIVE},
    "initiatives:resume": {"GET": POST_ONLY, "POST": EDIT_INITIATIVE},
    "initiatives:member-add": {
        "GET": (LOGIN, 403, 403, 404, 200, 404, 403, 200),
        "POST": EDIT_INITIATIVE,
    },
    "initiatives:member-remove": {"GET": POST_ONLY, "POST": EDIT_INITIATIVE},
    "initiatives:activity": {"GET": READ_INITIATIVE},
    "initiative-brief": {"GET": READ_INITIATIVE},
    "initiatives:edit": {
        "GET": (LOGIN, 403, 403, 404, 200, 404, 403, 200),
        "POST": EDIT_INITIATIVE,
    },
    "initiatives:business-case": {
        "GET": (LOGIN, 403, 403, 404, 200, 404, 403, 200),
        "POST": EDIT_INITIATIVE,
    },
    "initiatives:target-add": {
        "GET": (LOGIN, 403, 403, 404, 200, 404, 403, 200),
        "POST": EDIT_INITIATIVE,
    },
    "initiatives:measurement-add": {
        "GET": (LOGIN, 403, 200, 404, 200, 404, 403, 200),
        "POST": WORK_ON_INITIATIVE,
    },
    # The AI Act classification: readers read it, the owner's side proposes, and only
    # portfolio admins (or the compliance role, not among these personas) confirm.
    "compliance:classification": {"GET": READ_INITIATIVE, "POST": EDIT_INITIATIVE},
    "compliance:confirm": {"GET": POST_ONLY, "POST": ADMIN_ON_INITIATIVE},
    # A checklist item: its fragment for readers, its update for the initiative's workers.
    "gates:item": {"GET": READ_INITIATIVE, "POST": WORK_ON_INITIATIVE},
    # The discussion: readers read it and everybody but viewers writes in it; `member`
    # wrote the comment and uploaded the file that the pk rows name.
    "collaboration:discussion": {"GET": READ_INITIATIVE},
    "collaboration:comment-add": {"GET": POST_ONLY, "POST": COMMENT_ON_INITIATIVE},
    "collaboration:mention-suggestions": {"GET": READ_INITIATIVE},
    "collaboration:live": {"GET": READ_INITIATIVE},
    "collaboration:watch": {"GET": POST_ONLY, "POST": (LOGIN, OK, OK, 404, OK, 404, OK, OK)},
    "collaboration:comment-edit": {
        "GET": (LOGIN, 403, 200, 404, 403, 404, 403, 403),
        "POST": (LOGIN, 403, OK, 404, 403, 404, 403, 403),
    },
    "collaboration:comment-delete": {
        "GET": POST_ONLY,
        "POST": (LOGIN, 403, OK, 404, 403, 404, 403, OK),
    },
    "collaboration:item-file-add": {"GET": POST_ONLY, "POST": WORK_ON_INITIATIVE},
    "collaboration:file": {"GET": READ_INITIATIVE},
    "collaboration:file-delete": {
        "GET": POST_ONLY,
        "POST": (LOGIN, 403, OK, 404, OK, 404, 403, OK),
    },
    "gates:awaiting": {"GET": EVERYONE},
    "gates:awaiting-count": {"GET": EVERYONE},
    "gates:review": {"GET": POST_ONLY, "POST": EDIT_INITIATIVE},
    # Only the gatekeepers vote (the sponsor here), admins included in the refusal.
    "gates:vote": {"GET": POST_ONLY, "POST": (LOGIN, 403, 403, 404, 403, 404, OK, 403)},
    "gates:gatekeeper-add": {"GET": POST_ONLY, "POST": ADMIN_ON_INITIATIVE},
    "gates:rule": {"GET": POST_ONLY, "POST": ADMIN_ON_INITIATIVE},
    "gates:gatekeeper-remove": {"GET": POST_ONLY, "POST": ADMIN_ON_INITIATIVE},
    # Each person's own inbox; the bell answers 204 to the anonymous (nothing to show).
    "notifications:inbox": {"GET": EVERYONE},
    "notifications:bell": {"GET": (204, 200, 200, 200, 200, 200, 200, 200)},
    "notifications:preferences": {"GET": POST_ONLY, "POST": SIGNED_IN_WRITE},
    "notifications:read-all": {"GET": POST_ONLY, "POST": SIGNED_IN_WRITE},
    # `member`'s notification: nobody else learns it exists.
    "notifications:read": {"GET": POST_ONLY, "POST": (LOGIN, 404, OK, 404, 404, 404, 404, 404)},
    # Each person's own API tokens; `owner`'s token is nobody else's to revoke.
    "apiauth:tokens": {"GET": EVERYONE, "POST": SIGNED_IN_WRITE},
    "apiauth:token-revoke": {"GET": POST_ONLY, "POST": (LOGIN, 404, 404, 404, OK, 404, 404, 404)},
    "password_change": {"GET": EVERYONE, "POST": SIGNED_IN_WRITE},
    "password_change_done": {"GET": EVERYONE},
    # Teams: readers of a team's initiatives (or its members) see it; others get 404.
    "teams:list": {"GET": EVERYONE},
    "teams:detail": {"GET": READ_INITIATIVE},
    "teams:member-add": {"GET": POST_ONLY, "POST": MANAGE_TEAM},
    "teams:member-role": {"GET": POST_ONLY, "POST": MANAGE_TEAM},
    "teams:member-remove": {"GET": POST_ONLY, "POST": MANAGE_TEAM},
    "teams:people": {"GET": EVERYONE},
    "teams:invite": {
        "GET": (LOGIN, 403, 403, 403, 403, 403, 403, 200),
        "POST": (LOGIN, 403, 403, 403, 403, 403, 403, OK),
    },
    "portfolio_import:upload": {"GET": ADMIN_PAGE, "POST": ADMIN_WRITE},
    "portfolio_import:template": {"GET": ADMIN_PAGE},
    "portfolio_import:export": {"GET": ADMIN_PAGE},
    "portfolio_import:preview": {"GET": ADMIN_PAGE},
    "portfolio_import:apply": {"GET": POST_ONLY, "POST": ADMIN_WRITE},
    # What a departing person holds, and handing it to a successor: portfolio admins only.
    "departures:list": {"GET": ADMIN_PAGE},
    "departures:person": {"GET": ADMIN_PAGE, "POST": ADMIN_WRITE},
    # Public by design: load balancers and integrators before they have a token.
    "healthz": {"GET": PUBLIC},
    "favicon": {"GET": PUBLIC},
    "schema": {"GET": PUBLIC},
    "api-docs": {"GET": PUBLIC},
}

# --- API operations ------------------------------------------------------------------------
# Tokens of each persona with the read_write scope, so the user's rights are what is tested.
#  anonymous viewer member outsider owner other_pm executive admin
API_LIST = (401, 200, 200, 200, 200, 200, 200, 200)
API_READ = (401, 200, 200, 404, 200, 404, 200, 200)
API_EDIT = (401, 403, 403, 404, OK, 404, 403, OK)
API_WORK = (401, 403, OK, 404, OK, 404, 403, OK)

OPERATIONS: dict[str, tuple] = {
    "GET /api/v1/initiatives/": API_LIST,
    "POST /api/v1/initiatives/": (401, 403, 403, 403, OK, OK, 403, OK),
    "GET /api/v1/initiatives/{key}/": API_READ,
    "PUT /api/v1/initiatives/{key}/": API_EDIT,
    "PATCH /api/v1/initiatives/{key}/": API_EDIT,
    "GET /api/v1/initiatives/{key}/business-case/": API_READ,
    "PATCH /api/v1/initiatives/{key}/business-case/": API_EDIT,
    "GET /api/v1/initiatives/{key}/business-case/revisions/": API_READ,
    "GET /api/v1/initiatives/{key}/clearance/": API_READ,
    "GET /api/v1/initiatives/{key}/memberships/": API_READ,
    "GET /api/v1/initiatives/{key}/targets/": API_READ,
    "POST /api/v1/initiatives/{key}/targets/": API_EDIT,
    "GET /api/v1/targets/": API_LIST,
    "GET /api/v1/targets/{id}/": API_READ,
    "GET /api/v1/targets/{id}/measurements/": API_READ,
    "GET /api/v1/targets/{id}/daily/": API_READ,
    # The target is named in the body: an invisible one is "does not exist or is not
    # visible to you", a 400 like a missing one, so its existence does not leak.
    "POST /api/v1/measurements/": (401, 403, OK, 400, OK, 400, 403, OK),
    "GET /api/v1/gates/": API_LIST,
    "GET /api/v1/gates/{id}/": API_READ,
    "POST /api/v1/gates/{id}/request-review/": API_EDIT,
    "POST /api/v1/gates/{id}/decide/": (401, 403, 403, 404, 403, 404, OK, 403),
    "DELETE /api/v1/gates/{id}/gatekeepers/{user_id}/": (401, 403, 403, 404, 403, 404, 403, OK),
    "GET /api/v1/checklist-items/": API_LIST,
    "GET /api/v1/checklist-items/{id}/": API_READ,
    "PATCH /api/v1/checklist-items/{id}/": API_WORK,
    "GET /api/v1/transitions/": API_LIST,
    "GET /api/v1/transitions/{id}/": API_READ,
    "GET /api/v1/activity/": API_LIST,
    "GET /api/v1/activity/{id}/": API_READ,
    "GET /api/v1/portfolio/summary/": API_LIST,
    "GET /api/v1/initiatives/{key}/comments/": API_READ,
    "POST /api/v1/initiatives/{key}/comments/": (401, 403, OK, 404, OK, 404, OK, OK),
    "GET /api/v1/initiatives/{key}/attachments/": API_READ,
    "POST /api/v1/initiatives/{key}/attachments/": (401, 403, OK, 404, OK, 404, OK, OK),
    "GET /api/v1/initiatives/{key}/classification/": API_READ,
    "POST /api/v1/initiatives/{key}/classification/": API_EDIT,
    # Portfolio admins and the compliance role (not among these personas) confirm.
    "POST /api/v1/initiatives/{key}/classification/confirm/": (
        401,
        403,
        403,
        404,
        403,
        404,
        403,
        OK,
    ),
    "GET /api/v1/teams/": API_LIST,
    "GET /api/v1/teams/{slug}/": API_READ,
    "POST /api/v1/imports/": (401, 403, 403, 403, 403, 403, 403, OK),
}
# What an operation needs besides its path to reach the permission check.
QUERIES = {"GET /api/v1/initiatives/{key}/clearance/": "stage"}
BODIES = {"POST /api/v1/measurements/": lambda world: {"target": world["target"], "value": 1.0}}


# --- The walk ------------------------------------------------------------------------------


def _walk(patterns, prefix: str = "", namespace: str = ""):
    """(route, URL name) for every pattern, through includes and namespaces."""
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace
            if pattern.namespace:
                inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            name = pattern.name and (f"{namespace}:{pattern.name}" if namespace else pattern.name)
            yield prefix + str(pattern.pattern), name


def page_routes() -> dict[str, str]:
    """URL name → route of every page the walk checks."""
    routes = {}
    for route, name in _walk(get_resolver().url_patterns):
        if route.startswith(EXCLUDED_PREFIXES) or route.startswith(API_PREFIX):
            continue
        if name in EXCLUDED:
            continue
        routes[name or route] = route
    return routes


def api_route_names() -> set:
    return {
        name
        for route, name in _walk(get_resolver().url_patterns)
        if route.startswith(API_PREFIX) and name not in API_NON_OPERATIONS
    }


def schema_operations() -> list[str]:
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    methods = ("get", "post", "put", "patch", "delete")
    return [
        f"{method.upper()} {path}"
        for path, operations in schema["paths"].items()
        for method in operations
        if method in methods
    ]


# --- Objects behind the path parameters ------------------------------------------------------


@pytest.fixture
def world(initiative, gate, member, team_member, other_initiative):
    """One of each object a URL names, all belonging to `initiative` or its people."""
    target = TargetFactory(initiative=initiative)
    notification = Notification.objects.create(
        recipient=member,
        kind="due_soon",
        initiative=initiative,
        gate=gate,
        dedupe_key="matrix",
        subject="Gate due soon",
        body_text="The gate is due soon.",
    )
    token, _ = ApiToken.issue(user=initiative.owner, name="matrix")
    comment = comment_create(initiative=initiative, actor=member, body="Matrix comment")
    attachment = attachment_upload(
        initiative=initiative,
        actor=member,
        uploaded_file=SimpleUploadedFile("matrix.txt", b"evidence"),
        item=gate.items.order_by("pk").first(),
    )
    return {
        "key": initiative.key,
        "slug": initiative.team.slug,
        "target_id": target.pk,
        "gate": gate.pk,
        "user_id": gate.gatekeepers.get().user_id,
        "item": gate.items.order_by("pk").first().pk,
        "target": target.pk,
        "notification": notification.pk,
        "token": token.pk,
        "team_membership": TeamMembership.objects.get(user=team_member).pk,
        "activity": Activity.objects.filter(initiative=initiative).order_by("pk").first().pk,
        "transition": initiative.transitions.order_by("pk").first().pk,
        "stage": initiative.stage.key,
        "membership_id": initiative.memberships.get(user=member).pk,
        "comment": comment.pk,
        "attachment": attachment.pk,
        "import_run": ImportRun.objects.create(report={"files": ["matrix.csv"]}).pk,
        "person": member.pk,
    }


# Which object a `pk` names, per URL name (or API path prefix).
PAGE_PKS = {
    "gates:item": "item",
    "collaboration:comment-edit": "comment",
    "collaboration:comment-delete": "comment",
    "collaboration:item-file-add": "item",
    "collaboration:file": "attachment",
    "collaboration:file-delete": "attachment",
    "gates:review": "gate",
    "gates:vote": "gate",
    "gates:gatekeeper-add": "gate",
    "gates:rule": "gate",
    "gates:gatekeeper-remove": "gate",
    "notifications:read": "notification",
    "apiauth:token-revoke": "token",
    "teams:member-role": "team_membership",
    "teams:member-remove": "team_membership",
    "portfolio_import:preview": "import_run",
    "portfolio_import:apply": "import_run",
    "departures:person": "person",
}
API_IDS = {
    "activity": "activity",
    "checklist-items": "item",
    "gates": "gate",
    "targets": "target",
    "transitions": "transition",
}


def page_url(name: str, route: str, world: dict) -> str:
    kwargs = {}
    for parameter in re.findall(r"<(?:\w+:)?(\w+)>", route):
        if parameter == "pk":
            if name not in PAGE_PKS:
                raise AssertionError(f"Say in PAGE_PKS which object the pk of {name} is.")
            kwargs["pk"] = world[PAGE_PKS[name]]
        else:
            kwargs[parameter] = world[parameter]
    return reverse(name, kwargs=kwargs)


def operation_url(path: str, world: dict) -> str:
    resource = path.removeprefix("/" + API_PREFIX).split("/")[0]

    def fill(match):
        parameter = match.group(1)
        if parameter == "id":
            return str(world[API_IDS[resource]])
        return str(world[parameter])

    return re.sub(r"\{(\w+)\}", fill, path)


# --- Requests --------------------------------------------------------------------------------


def outcome(response) -> int | str:
    if response.status_code == 302 and response["Location"].startswith(reverse("login")):
        return LOGIN
    return response.status_code


def page_client(request, persona: str) -> Client:
    client = Client()
    if persona != "anonymous":
        client.force_login(request.getfixturevalue(persona))
    return client


def api_client(request, persona: str) -> APIClient:
    client = APIClient()
    if persona != "anonymous":
        user = request.getfixturevalue(persona)
        _, secret = ApiToken.issue(user=user, name="matrix", scope=ApiToken.Scope.READ_WRITE)
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def _send(client, method: str, url: str, body=None, **extra):
    if method == "GET":
        return client.get(url, body)
    return getattr(client, method.lower())(url, body or {}, **extra)


def _dump(missing: list[str], observed: dict) -> str:
    lines = [f"    {key!r}: {observed[key]!r}," for key in missing if key in observed]
    return "\n".join(lines)


# --- The tests -------------------------------------------------------------------------------


def test_every_url_and_operation_has_a_row():
    routes = page_routes()
    unlisted_pages = sorted(set(routes) - set(PAGES))
    stale_pages = sorted(set(PAGES) - set(routes))
    operations = schema_operations()
    unlisted_operations = sorted(set(operations) - set(OPERATIONS))
    stale_operations = sorted(set(OPERATIONS) - set(operations))

    # Every API route the router mounts must be an operation of the schema, so nothing
    # hides from the matrix by being left out of the schema.
    covered = set()
    for operation in operations:
        path = re.sub(r"\{\w+\}", "1", operation.split(" ", 1)[1])
        covered.add(resolve(path).url_name)
    api_outside_schema = sorted(api_route_names() - covered)

    problems = []
    if unlisted_pages:
        problems.append(
            "URLs without a row in PAGES: "
            + ", ".join(f"{n} ({routes[n]})" for n in unlisted_pages)
        )
    if unlisted_operations:
        problems.append(
            "API operations without a row in OPERATIONS: " + ", ".join(unlisted_operations)
        )
    if api_outside_schema:
        problems.append("API routes missing from the schema: " + ", ".join(api_outside_schema))
    if stale_pages or stale_operations:
        problems.append(
            "Rows for URLs that no longer exist: " + ", ".join(stale_pages + stale_operations)
        )
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("persona", PERSONAS)
def test_pages_answer_each_persona_as_the_table_says(request, persona, world):
    column = PERSONAS.index(persona)
    client = page_client(request, persona)
    routes = page_routes()
    wrong, observed = [], {}
    for name, route in routes.items():
        url = page_url(name, route, world)
        for method, row in PAGES.get(name, {"GET": None}).items():
            expected = row[column] if row else None
            if expected == OK:
                continue
            got = outcome(_send(client, method, url))
            observed.setdefault(name, {})[method] = got
            if expected is not None and got != expected:
                wrong.append(f"{method} {url} as {persona}: expected {expected}, got {got}")
    if os.environ.get("TOLLGATE_MATRIX_DUMP"):
        print(f"\n# {persona}")
        for name in sorted(set(routes) - set(PAGES)):
            print(f"{name}: {observed[name]}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("persona", PERSONAS)
def test_api_answers_each_persona_as_the_table_says(request, persona, world):
    column = PERSONAS.index(persona)
    client = api_client(request, persona)
    wrong, observed = [], {}
    for operation in schema_operations():
        method, path = operation.split(" ", 1)
        row = OPERATIONS.get(operation)
        expected = row[column] if row else None
        # An unsafe operation without a row is not sent: it might write.
        if expected == OK or (row is None and method != "GET"):
            continue
        url = operation_url(path, world)
        if operation in QUERIES:
            body = {QUERIES[operation]: world[QUERIES[operation]]}
        else:
            body = BODIES[operation](world) if operation in BODIES else None
        got = outcome(_send(client, method, url, body, format="json"))
        observed[operation] = got
        if expected is not None and got != expected:
            wrong.append(f"{operation} as {persona}: expected {expected}, got {got}")
    if os.environ.get("TOLLGATE_MATRIX_DUMP"):
        print(f"\n# {persona}")
        for operation in sorted(set(observed) - set(OPERATIONS)):
            print(f"{operation}: {observed[operation]}")
    assert not wrong, "\n".join(wrong)


# --- Lists: the object-level rule holds for every list, not only for detail pages ----------

LIST_PAGES = [
    ("initiatives:list", {"status": "all"}),
    ("initiatives:list", {"status": "all", "q": "Support reply"}),
    ("reports:dashboard", {}),
    ("reports:portfolio-csv", {}),
    ("reports:gates-csv", {}),
    ("gates:awaiting", {}),
    ("teams:list", {}),
    ("teams:people", {}),
]
LIST_OPERATIONS = [
    "/api/v1/initiatives/",
    "/api/v1/initiatives/?search=Support",
    "/api/v1/targets/",
    "/api/v1/gates/",
    "/api/v1/checklist-items/",
    "/api/v1/transitions/",
    "/api/v1/activity/",
    "/api/v1/teams/",
]


def _text(response) -> str:
    if response.streaming:
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


def _ids(body) -> set:
    rows = body["results"] if isinstance(body, dict) and "results" in body else body
    return {row.get("id") for row in rows}


@pytest.mark.parametrize("persona", ["outsider", "other_pm"])
def test_lists_hide_what_the_persona_may_not_read(request, persona, world, initiative, gate):
    """`initiative` is hidden from both; `other_pm` sees `other_initiative`, outsiders nothing."""
    # Somebody on `initiative` only, so the people page would show them if it leaked.
    hidden_person = UserFactory(username="hidden-person", groups=["contributor"])
    initiative.memberships.create(user=hidden_person, stage_role="product_manager")
    visible = request.getfixturevalue("other_initiative") if persona == "other_pm" else None
    secrets = [initiative.key, initiative.name, initiative.team.name]

    client = page_client(request, persona)
    for name, query in LIST_PAGES:
        response = client.get(reverse(name), query)
        assert response.status_code == 200, name
        content = _text(response)
        for secret in secrets:
            assert secret not in content, f"{name} {query} shows {secret!r} to {persona}"
        if name == "teams:people":
            assert hidden_person.get_username() not in content
    if visible is not None:
        board = client.get(reverse("initiatives:list"), {"status": "all"}).content.decode()
        assert visible.key in board
        csv = _text(client.get(reverse("reports:portfolio-csv")))
        assert visible.key in csv

    api = api_client(request, persona)
    hidden_ids = {
        "/api/v1/targets/": {world["target"]},
        "/api/v1/gates/": {gate.pk},
        "/api/v1/checklist-items/": set(gate.items.values_list("pk", flat=True)),
        "/api/v1/transitions/": {world["transition"]},
        "/api/v1/activity/": set(initiative.activities.values_list("pk", flat=True)),
    }
    for path in LIST_OPERATIONS:
        response = api.get(path)
        assert response.status_code == 200, path
        content = response.content.decode()
        for secret in secrets:
            assert secret not in content, f"{path} shows {secret!r} to {persona}"
        assert not (_ids(response.json()) & hidden_ids.get(path, set())), path
    summary = api.get("/api/v1/portfolio/summary/").content.decode()
    assert initiative.key not in summary
