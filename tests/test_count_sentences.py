"""Count sentences say their noun (and verb) in the right number: "1 initiative matches",
"2 required items are", never "item(s)"."""

from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError

from core.formatting import counted
from gates.services import gate_request_review, gate_vote
from tests.factories import InitiativeFactory


def test_counted_says_the_noun_in_the_number_of_the_count():
    assert [counted(n, "row") for n in (0, 1, 2, 1200)] == [
        "0 rows",
        "1 row",
        "2 rows",
        "1,200 rows",
    ]
    assert counted(1, "required item") == "1 required item"
    assert counted(2, "person", "people") == "2 people"


@pytest.mark.django_db
def test_the_board_says_how_many_initiatives_match_for_0_1_and_2(
    client, admin_user, initiative, other_team
):
    for _ in range(2):
        InitiativeFactory(team=other_team, owner=initiative.owner, framework=initiative.framework)
    client.force_login(admin_user)

    def sentence(team, **filters) -> str:
        page = client.get("/", {"team": team.slug, **filters}).content.decode()
        return " ".join(re.sub(r"<[^>]+>", " ", page).split())

    assert "0 initiatives match these filters" in sentence(initiative.team, q="nothing like it")
    assert "1 initiative matches these filters" in sentence(initiative.team)
    assert "2 initiatives match these filters" in sentence(other_team)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("open_items", "said"), [(1, "1 required item is"), (2, "2 required items are")]
)
def test_a_go_over_open_items_counts_them_in_words(gate, owner, executive, open_items, said):
    items = list(gate.items.filter(required=True).order_by("order"))
    for item in items[open_items:]:
        item.state = "done"
        item.save()
    gate = gate_request_review(gate=gate, actor=owner)
    with pytest.raises(ValidationError) as refused:
        gate_vote(gate=gate, actor=executive, decision="go", rationale="Ready.")
    assert said in " ".join(refused.value.message_dict["override_justification"])


def texts(path: Path) -> list[tuple[int, str]]:
    """(line, text) of what a file says to people: a template's lines, a module's strings."""
    source = path.read_text(encoding="utf-8")
    if path.suffix != ".py":
        return list(enumerate(source.splitlines(), 1))
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    return [
        (token.start[0], token.string)
        for token in tokens
        if token.type in (tokenize.STRING, getattr(tokenize, "FSTRING_MIDDLE", tokenize.STRING))
    ]


def test_no_sentence_counts_in_the_form_noun_s():
    """Every template and every string of Tollgate's apps: a count says its noun in number."""
    base = Path(settings.BASE_DIR).resolve()
    roots = [base / "templates"] + [
        Path(config.path)
        for config in apps.get_app_configs()
        if Path(config.path).resolve().parent == base
    ]
    found = []
    for root in roots:
        for path in root.rglob("*"):
            if path.suffix not in {".py", ".html", ".txt"} or "migrations" in path.parts:
                continue
            for number, line in texts(path):
                if re.search(r"[a-z]\(s\)", line):
                    found.append(f"{path.relative_to(base)}:{number}: {line.strip()}")
    assert found == []
