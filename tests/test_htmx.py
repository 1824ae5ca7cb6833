"""Every page that answers htmx with a fragment varies on HX-Request and gives the whole page
to boosted requests and history restores; every page loads the one script that shows failed
htmx requests. The pages are discovered from the URL conf, as the access matrix walks them."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from tests import test_access_matrix as matrix
from tests.test_access_matrix import PAGES, page_routes, page_url

pytestmark = pytest.mark.django_db

world = matrix.world  # one of each object a URL names

DOCUMENT = "<!doctype html>"
ERROR_SCRIPT = "js/htmx-errors.js"
HTMX_SCRIPT = "django_htmx/htmx"


def readable_pages() -> list[str]:
    """URL names of the pages a portfolio admin may GET (200 in the access matrix)."""
    return sorted(
        name
        for name in page_routes()
        if name in PAGES and PAGES[name].get("GET", (None,) * 8)[-1] == 200
    )


def _html(response) -> str:
    """The answer's HTML, or "" when it is something else (JSON, CSV)."""
    assert response.status_code == 200, response
    if not response["Content-Type"].startswith("text/html"):
        return ""
    return response.content.decode()


def _is_document(html: str) -> bool:
    return DOCUMENT in html.lower()


# One test per rule, walking every page with one set of objects: building them per page
# would cost more than the requests.


def test_a_page_that_answers_htmx_with_a_fragment_varies_on_hx_request(client, admin_user, world):
    client.force_login(admin_user)
    checked, problems = [], []
    for name in readable_pages():
        url = page_url(name, page_routes()[name], world)
        plain = client.get(url)
        partial = client.get(url, HTTP_HX_REQUEST="true")
        if not (_is_document(_html(plain)) and _html(partial)) or _is_document(_html(partial)):
            continue  # the answer does not depend on HX-Request
        checked.append(url)
        for response in (plain, partial):
            if "HX-Request" not in response.get("Vary", ""):
                problems.append(f"{url}: no Vary: HX-Request")
        # A boosted request and a history restore after a cache miss want the whole page.
        for header in ("HTTP_HX_BOOSTED", "HTTP_HX_HISTORY_RESTORE_REQUEST"):
            whole = client.get(url, HTTP_HX_REQUEST="true", **{header: "true"})
            if not _is_document(_html(whole)):
                problems.append(f"{url}: a fragment for {header}")
    assert checked  # the board, the dashboard, the teams and people pages at least
    assert problems == []


def test_every_page_with_htmx_loads_the_failed_request_script(client, admin_user, world):
    client.force_login(admin_user)
    with_htmx = []
    for name in readable_pages():
        url = page_url(name, page_routes()[name], world)
        html = _html(client.get(url))
        if HTMX_SCRIPT in html:
            with_htmx.append((url, ERROR_SCRIPT in html))
    assert with_htmx
    assert [url for url, loads in with_htmx if not loads] == []


def test_an_htmx_request_without_a_session_takes_the_whole_page_to_sign_in(client, world):
    """Every URL that sends the signed-out to the sign-in page (GET or POST, from the access
    matrix) answers an htmx request with HX-Redirect to it, `next` being the page, not the
    fragment's URL."""
    the_page = "/initiatives/AI-1/?team=x"
    expected = f"/accounts/login/?{urlencode({'next': the_page})}"
    checked, problems = [], []
    for name, route in page_routes().items():
        url = page_url(name, route, world)
        for method, row in PAGES.get(name, {}).items():
            if row[matrix.PERSONAS.index("anonymous")] != matrix.LOGIN:
                continue
            response = getattr(client, method.lower())(
                url, HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL=f"http://testserver{the_page}"
            )
            checked.append(f"{method} {url}")
            if response.get("HX-Redirect") != expected or response.status_code != 200:
                problems.append(f"{method} {url}: {response.status_code} {response.headers}")
            elif "HX-Request" not in response.get("Vary", ""):
                problems.append(f"{method} {url}: no Vary: HX-Request")
    assert len(checked) > 20
    assert problems == []
    # Without htmx it stays the usual redirect.
    assert client.get("/").status_code == 302
