"""Text from a merge request, an advisory database or a container reaches GitLab as
Markdown only as code spans, fenced blocks and checked links: no line of it can be a quick
action, a mention, a link or HTML there."""

from __future__ import annotations

import re

import pytest

from sciapps.revisits.audit import issue_body as audit_issue
from sciapps.config import is_loopback
from sciapps.revisits.health import issue_body as health_issue
from sciapps.text import md_block, md_code, md_link

HOSTILE = [
    "\n/close\n/assign @everyone",
    "@all please",
    "[click](javascript:alert(1))",
    "<img src=x onerror=alert(1)>",
    "``` ``` `",
    "a\u202eb\u200bc",
    "x" * 5000,
    "~~~\n/label ~spam\n~~~",
]


def _lines_outside_code(markdown: str) -> list[str]:
    """Each line with its code spans and fenced blocks taken out: what GitLab would render or run."""
    out, fence = [], None
    for line in markdown.splitlines():
        if fence:
            if line.strip() == fence:
                fence = None
            continue
        if re.fullmatch(r"`{3,}", line.strip()):
            fence = line.strip()
            continue
        out.append(re.sub(r"(`+)(.*?)\1", "", line))
    return out


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_text_stays_code(value):
    span = md_code(value)
    assert "\n" not in span and len(span) < 320 and _lines_outside_code(span) == [""]
    block = "\n".join(md_block(value))
    assert all(not line.strip() for line in _lines_outside_code(block))
    link = md_link(value, f"javascript:{value}")
    assert all("](" not in line and "javascript" not in line for line in _lines_outside_code(link))


def test_a_plain_advisory_link_stays_a_link():
    assert (
        md_link("GHSA-1234", "https://osv.dev/vulnerability/GHSA-1234")
        == "[`GHSA-1234`](https://osv.dev/vulnerability/GHSA-1234)"
    )


def _inert(markdown: str) -> None:
    for line in _lines_outside_code(markdown):
        assert not line.lstrip().startswith("/") and "@" not in line and "](" not in line and "<" not in line, line


@pytest.mark.parametrize("value", HOSTILE)
def test_the_maintainers_issues_carry_hostile_values_inert(value):
    advisory = {"id": value, "url": value, "package": value, "version": value, "severity": value, "fixed": value}
    _inert(
        audit_issue(
            "xmm-epic-spectrum-fit", [{"version": value, "build": 1, "image": value, "advisories": [advisory]}], "2026-12-02"
        )
    )
    entry = {
        "datalab": "xmm-epic-spectrum-fit",
        "version": value,
        "build": 2,
        "image": value,
        "summary": value,
        "failed": [{"check": value, "output": value}],
    }
    _inert(health_issue(entry, "2026-12-02"))


@pytest.mark.parametrize(
    "host,loopback",
    [
        ("127.0.0.1:5000", True),
        ("localhost:5000", True),
        ("[::1]:5000", True),
        ("127.3.2.1", True),
        ("LOCALHOST", True),
        ("127.evil.example.org", False),
        ("127.0.0.1.nip.io:5000", False),
        ("localhost.example.org", False),
        ("127.0.0.1:5000@evil", False),
        ("[::1]evil", False),
        ("0x7f000001", False),
        ("registry.example.org", False),
        ("10.0.0.1:5000", False),
    ],
)
def test_only_this_machine_is_loopback(host, loopback):
    assert is_loopback(host) is loopback
