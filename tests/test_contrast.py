"""Contrast of static/app.css (WCAG 2.1 AA, issue 20): every text colour the stylesheet sets is at
least 4.5:1 against the background it sits on, read from the stylesheet itself so that a new
rule is checked too.

Which background: the rule's own (a background declared for the same selector), else the
nearest enclosing part of its selector that has one (`.sidemenu .menu-title` sits on `.sidemenu`),
else every light surface of the stylesheet (the page's grey, the panels' white, the table
heads, the alerts' tints). Disabled controls are exempt (WCAG 1.4.3), and so are the few boxes
that never hold text (NO_TEXT)."""

import re
from pathlib import Path

import pytest

CSS = Path(__file__).resolve().parent.parent / "static" / "app.css"
AA = 4.5
# Boxes that hold no text: a progress bar's track and fill.
NO_TEXT = {".progress", ".progress .bar"}
EXEMPT = re.compile(r":disabled|\[disabled\]|aria-disabled")
HEX = re.compile(r"#([0-9a-fA-F]{6}|[0-9a-fA-F]{3})\b")


def luminance(colour: str) -> float:
    digits = colour.lstrip("#")
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    channels = [int(digits[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def ratio(one: str, other: str) -> float:
    light, dark = sorted((luminance(one), luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def rules(text: str):
    """(selector, {property: value}) for every rule, those inside @media included."""
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    for match in re.finditer(r"([^{}]+)\{([^{}]*)\}", text):
        declarations = {}
        for part in match[2].split(";"):
            name, _, value = part.partition(":")
            if value.strip():
                declarations[name.strip().lower()] = value.strip()
        for selector in match[1].split(","):
            yield " ".join(selector.split()), declarations


def first_hex(value: str | None) -> str | None:
    found = HEX.search(value or "")
    return found[0].lower() if found else None


def stylesheet():
    """{selector: colour} of text (color, and fill for the chart's SVG text) and of backgrounds."""
    texts, backgrounds = {}, {}
    for selector, declarations in rules(CSS.read_text(encoding="utf-8")):
        if EXEMPT.search(selector):
            continue
        background = first_hex(declarations.get("background-color") or declarations.get("background"))
        if background:
            backgrounds[selector] = background
        for prop in ("color", "fill"):
            colour = first_hex(declarations.get(prop))
            if colour:
                texts[selector] = colour
    return texts, backgrounds


def enclosing(selector: str):
    """The selector's enclosing parts, innermost first: `.a .b > c` → `.a .b`, `.b`, `.a`."""
    parts = re.split(r"\s*[ >+~]\s*", selector)
    for end in range(len(parts) - 1, 0, -1):
        yield " ".join(parts[:end])
        yield parts[end - 1]


def pairs():
    """(text selector, text colour, background, where the background comes from)."""
    texts, backgrounds = stylesheet()
    light = {colour: selector for selector, colour in backgrounds.items()
             if selector not in NO_TEXT and luminance(colour) > 0.5}
    for selector, colour in sorted(texts.items()):
        own = backgrounds.get(selector)
        if own:
            yield selector, colour, own, selector
            continue
        around = next((backgrounds[s] for s in enclosing(selector) if s in backgrounds), None)
        if around:
            yield selector, colour, around, "enclosing"
            continue
        for background, where in sorted(light.items()):
            yield selector, colour, background, where
    # A box with a background and no colour of its own shows the text colour it inherits.
    inherited = texts["body"]
    for selector, background in sorted(backgrounds.items()):
        if selector in texts or selector in NO_TEXT:
            continue
        colour = next((texts[s] for s in enclosing(selector) if s in texts), inherited)
        yield selector, colour, background, "inherited"


def test_the_ratio_formula():
    assert round(ratio("#000", "#fff"), 1) == 21.0
    assert round(ratio("#777", "#f2f4f7"), 2) == 4.06  # the muted grey the audit found (issue 20)
    assert round(ratio("#8a98a8", "#2b3643"), 2) == 4.17  # the old menu section titles


def test_the_stylesheet_is_read():
    texts, backgrounds = stylesheet()
    assert texts[".sidemenu .menu-title"] and backgrounds[".sidemenu"] == "#2b3643"
    assert {".muted", ".hint", ".crumbs", ".grid .empty", ".stat-note", "a", "body"} <= set(texts)
    checked = {selector for selector, *_ in pairs()}
    assert {".sidemenu .menu-title", ".muted", ".grid .empty", ".panel", ".alert-error"} <= checked


@pytest.mark.parametrize("selector, colour, background, where", list(pairs()))
def test_text_contrast_is_at_least_4_5(selector, colour, background, where):
    assert ratio(colour, background) >= AA, (
        f"{selector}: {colour} on {background} ({where}) is {ratio(colour, background):.2f}:1")
