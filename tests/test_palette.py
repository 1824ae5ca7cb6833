"""The stylesheet's colours: each gate decision has a badge of its own, readable at 4.5:1."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings

from gates.models import Decision

STYLESHEET = Path(settings.BASE_DIR) / "static" / "css" / "tollgate.css"


def _declarations(css: str, selector: str) -> dict[str, str]:
    """The declarations of the rule whose selector list is exactly `selector`."""
    match = re.search(rf"(?m)^{re.escape(selector)} \{{([^}}]*)\}}", css)
    assert match, f"no rule for {selector}"
    return dict(re.findall(r"([\w-]+):\s*([^;]+);", match.group(1)))


def _colour(value: str, palette: dict[str, str]) -> tuple[float, float, float]:
    value = value.strip()
    while value.startswith("var("):
        value = palette[value[4:-1].strip()].strip()
    value = value.lstrip("#")
    return tuple(int(value[i : i + 2], 16) / 255 for i in (0, 2, 4))


def _luminance(rgb: tuple[float, float, float]) -> float:
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(foreground, background) -> float:
    lighter, darker = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def test_contrast_of_the_green_badge_was_short_of_aa():
    # The measure itself: the old green badge, #15803d on #e8f6ec, is 4.49:1.
    assert 4.4 < contrast(_colour("#15803d", {}), _colour("#e8f6ec", {})) < 4.5


def test_every_decision_has_its_own_readable_badge():
    css = STYLESHEET.read_text()
    palette = _declarations(css, ":root")
    palette = {name: value for name, value in palette.items() if name.startswith("--")}
    seen = {}
    for decision in Decision.values:
        rule = _declarations(css, f".decision-badge--{decision}")
        colours = (_colour(rule["color"], palette), _colour(rule["background"], palette))
        assert contrast(*colours) >= 4.5, (decision, contrast(*colours))
        seen[decision] = colours
    assert len(set(seen.values())) == len(Decision.values), seen


def test_decisions_are_shown_with_their_badge_everywhere():
    # Every template that prints a decision's name gives it the decision's badge.
    root = Path(settings.BASE_DIR)
    for template in ("initiatives/detail.html", "reports/brief.html"):
        path = next(root.rglob(f"templates/{template}"))
        source = path.read_text()
        assert "gate-state--decided" not in source, template
        assert "decision-badge--" in source, template
