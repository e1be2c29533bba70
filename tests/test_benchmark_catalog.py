"""The benchmarks' generated catalogs are real catalogs: every datalab validates against this
repository's rules and settings, so a benchmark never measures a store with nothing in it."""

from __future__ import annotations

import sys

from sciapps.catalog.validate import Summary, validate
from sciapps.config import load_config
from tests.conftest import REPO

sys.path.insert(0, str(REPO / "benchmarks"))
from catalog import generate  # noqa: E402


def test_a_generated_catalog_validates(tmp_path):
    generate(tmp_path, 60)
    summary = Summary()
    findings = list(validate([tmp_path / "datalabs"], load_config(REPO / "sciapps.yaml"), summary=summary))
    assert summary.datalabs == 60 and summary.errors == 0, [f.format() for f in findings][:3]
