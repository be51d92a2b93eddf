"""Template rules that hold for every page, checked on the template sources."""

from __future__ import annotations

import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[1] / "app" / "templates"
TAG = re.compile(r"<[a-z][^>]*>", re.S)


def test_does_no_live_fragment_hand_its_target_to_the_boosted_forms_and_links_inside_it():
    """A fragment that refreshes itself (hx-target on itself) must not pass that target on:
    the page has hx-boost, so a form or link inside would swap a whole page into the fragment
    (a page nested in the page, two timelines, two status badges)."""
    offenders = []
    for path in TEMPLATES.rglob("*.html"):
        for tag in TAG.findall(path.read_text(encoding="utf-8")):
            on_itself = 'hx-target="this"' in tag
            kept = re.search(r'hx-disinherit="([^"]*)"', tag)
            if on_itself and not (kept and {"hx-target", "hx-swap"} <= set(kept[1].split())):
                offenders.append(f"{path.relative_to(TEMPLATES)}: {tag[:90]}")
    assert offenders == []
