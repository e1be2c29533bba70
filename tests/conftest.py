from __future__ import annotations

from pathlib import Path

import pytest

from sciapps.catalog.loader import load_datalab
from sciapps.catalog.rules import ALL_RULES
from sciapps.catalog.rules.base import Context
from sciapps.catalog.validate import check_datalab
from sciapps.config import Config, load_config

REPO = Path(__file__).resolve().parents[1]
CASES = REPO / "tests" / "datalabs"


@pytest.fixture
def config() -> Config:
    return load_config(REPO / "sciapps.yaml")


def findings_for(folder: Path, config: Config, ctx: Context | None = None):
    """Run every rule on one datalab folder."""
    lab = load_datalab(folder, config.limits)
    return check_datalab(lab, [rule() for rule in ALL_RULES], ctx or Context(config=config))


def rule_ids(findings) -> list[str]:
    return sorted(f.rule_id for f in findings)
