"""Semantic Versioning 2.0 precedence: the one ordering of datalab versions, for the
review (a changed datalab's version goes up) and for release records (newest first)."""

from __future__ import annotations

import re

SEMVER = re.compile(r"^(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+.*)?$")


def semver_key(version: str) -> tuple:
    """A sort key: 1.10.0 after 1.9.0, a pre-release before its release, numeric
    pre-release parts before alphanumeric ones; build metadata (`+...`) ignored. What is not
    a version sorts before every version."""
    match = SEMVER.match(version)
    if not match:
        return (-1,)
    major, minor, patch, pre = match.groups()
    if pre is None:
        return (int(major), int(minor), int(patch), 1, ())
    parts = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split("."))
    return (int(major), int(minor), int(patch), 0, parts)
