"""Every ordering the API offers is total: paging one row at a time through rows that tie
on the ordered field shows each row exactly once (PostgreSQL returned ties in a different
order per page: 28 distinct initiatives of 30, two twice and two never)."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.filters import OrderingFilter

from apiauth.api_urls import router
from apiauth.filters import StableOrderingFilter
from initiatives.models import Initiative
from tests.api.helpers import _fresh_throttle_cache, token_client  # noqa: F401
from tests.factories import InitiativeFactory

pytestmark = pytest.mark.django_db


def _ordered_viewsets():
    for _prefix, viewset, basename in router.registry:
        backends = getattr(viewset, "filter_backends", [])
        if any(issubclass(backend, OrderingFilter) for backend in backends):
            yield basename, viewset


def _orderings():
    for basename, viewset in _ordered_viewsets():
        for field in viewset.ordering_fields:
            for term in (field, f"-{field}"):
                yield pytest.param(basename, term, id=f"{basename}:{term}")


def test_every_ordered_list_orders_stably():
    found = list(_ordered_viewsets())
    assert found, "no list offers ?ordering= any more; drop this test"
    for basename, viewset in found:
        for backend in viewset.filter_backends:
            if issubclass(backend, OrderingFilter):
                assert issubclass(backend, StableOrderingFilter), basename


@pytest.fixture
def tied_initiatives(initiative, owner, team):
    """Eight initiatives (with `initiative`) that tie on every field a client may order by."""
    for _ in range(7):
        InitiativeFactory(team=team, owner=owner, sponsor=initiative.sponsor)
    moment = timezone.now().replace(microsecond=0)
    Initiative.objects.update(
        name="Same name",
        created_at=moment,
        updated_at=moment,
        stage_entered_on=datetime.date(2026, 1, 5),
        gate_due_on=datetime.date(2026, 3, 2),
    )
    return set(Initiative.objects.values_list("key", flat=True))


@pytest.mark.slow
@pytest.mark.parametrize(("basename", "ordering"), list(_orderings()))
def test_paging_one_by_one_shows_every_row_once(basename, ordering, tied_initiatives, owner):
    assert basename == "initiative", f"give {basename} tied rows in this test"
    client = token_client(owner)
    url = reverse(f"{basename}-list")
    seen = []
    for page in range(1, len(tied_initiatives) + 1):
        response = client.get(url, {"ordering": ordering, "page_size": 1, "page": page})
        assert response.status_code == 200, response.content
        seen += [row["key"] for row in response.json()["results"]]
    assert len(seen) == len(set(seen)), f"repeated: {seen}"
    assert set(seen) == tied_initiatives


@pytest.mark.parametrize(
    ("basename", "viewset"), list(_ordered_viewsets()), ids=lambda value: str(value)[:40]
)
@pytest.mark.parametrize("ordering", ["nonsense", "-nonsense", "name,bogus", "password"])
def test_an_ordering_the_list_does_not_offer_is_a_400_naming_the_choices(
    basename, viewset, ordering, owner
):
    # DRF dropped an unknown term silently: a typo came back in the default order.
    response = token_client(owner).get(reverse(f"{basename}-list"), {"ordering": ordering})
    assert response.status_code == 400, response.content
    body = response.json()
    assert "ordering" in str(body)
    assert viewset.ordering_fields[0] in str(body)


def _documented_orderings():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            names = [parameter["name"] for parameter in operation.get("parameters", [])]
            if "ordering" in names:
                yield method, path


def test_every_operation_that_documents_an_ordering_applies_it(initiative, owner):
    # Three nested lists documented the initiatives' ordering and ignored it.
    found = list(_documented_orderings())
    assert found
    client = token_client(owner)
    for method, path in found:
        url = path.replace("{key}", initiative.key)
        assert method == "get"
        assert client.get(url, {"ordering": "no-such-field"}).status_code == 400, path


@pytest.mark.parametrize(
    ("ordering", "named"),
    [(",", "an empty term"), ("name,", "an empty term"), (" ,-", "an empty term, -")],
)
def test_an_empty_ordering_term_is_named_as_such(ordering, named, owner):
    # "Unknown ordering: , ." said nothing about what was wrong.
    response = token_client(owner).get(reverse("initiative-list"), {"ordering": ordering})
    assert response.status_code == 400, response.content
    assert response.json()["errors"]["ordering"][0].startswith(f"Unknown ordering: {named}. ")
