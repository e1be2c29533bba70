"""Descriptions are rendered and sanitized: nothing in them can run script."""

from __future__ import annotations

import pytest

from sciapps.site.markdown import render

ATTACKS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[click](javascript:alert(1))",
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    "<iframe src='https://evil.example'></iframe>",
    "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "<svg onload=alert(1)>",
    "<style>body{display:none}</style>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    "<object data='x.swf'></object>",
    "<form action='https://evil.example'><input></form>",
    '<a href="vbscript:msgbox(1)">x</a>',
]


@pytest.mark.parametrize("attack", ATTACKS)
def test_attacks_are_removed(attack):
    html = render(f"Intro\n\n{attack}\n\nend").lower()
    for bad in (
        "<script",
        "onerror",
        "onload",
        "javascript:",
        "vbscript:",
        "<iframe",
        "data:",
        "<style",
        "style=",
        "<object",
        "<form",
        "<svg",
    ):
        assert bad not in html, (attack, html)


def test_markdown_still_works():
    html = render("# Title\n\nSome **bold** `code` and a [link](https://www.esa.int).\n\n| a | b |\n|---|---|\n| 1 | 2 |\n")
    assert "<h2>Title</h2>" in html  # the page keeps one h1
    assert "<strong>bold</strong>" in html and "<code>code</code>" in html and "<table>" in html
    assert 'href="https://www.esa.int" rel="noopener noreferrer nofollow"' in html
