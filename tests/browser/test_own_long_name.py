"""The signed-in person's own name, as long as its column allows, fits the top bar.

The page-by-page walk puts long words in the data; this one puts them in the name of the person
who is signed in, which every page shows in its top bar.
"""

from __future__ import annotations

import pytest

from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_a_long_unbroken_name_of_the_signed_in_person_fits_every_width(open_page):
    person = UserFactory(
        username="longself", first_name="Firstname" * 16, last_name="Lastname" * 18
    )
    person.first_name = person.first_name[:150]
    person.last_name = person.last_name[:150]
    person.save()
    page, _ = open_page(person.username, DEFAULT_PASSWORD)
    too_wide = []
    for url in ("/", "/teams/", "/people/"):
        page.goto(url)
        for width in (390, 768, 1100, 1366):
            page.set_viewport_size({"width": width, "height": 900})
            document = page.evaluate("document.documentElement.scrollWidth")
            if document > width:
                too_wide.append(f"{url} at {width}px: document {document}px wide")
    assert too_wide == [], "\n".join(too_wide)
