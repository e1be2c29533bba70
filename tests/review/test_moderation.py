"""Moderation rules on real Git history, the report, and CODEOWNERS."""

from __future__ import annotations

import shutil
from dataclasses import replace

import git
import pytest

from sciapps.config import load_config
from sciapps.review.moderation import Roles, changes, check_roles, codeowners, load_roles, report, semver_key
from tests.conftest import REPO

ROLES = Roles(moderators=("mod",), advanced_developers=("adv",))
ACTOR = git.Actor("t", "t@example.org")


@pytest.fixture
def catalog(tmp_path):
    """A Git repository holding the example catalog, committed once (the base)."""
    for name in ("gaia-dr3-hrd", "jwst-nircam-image-explorer", "herschel-spire-photometry"):
        shutil.copytree(REPO / "datalabs" / name, tmp_path / "datalabs" / name)
    shutil.copy(REPO / "sciapps.yaml", tmp_path / "sciapps.yaml")
    repo = git.Repo.init(tmp_path)
    repo.git.add(A=True)
    repo.index.commit("base", author=ACTOR, committer=ACTOR)
    return tmp_path, replace(load_config(tmp_path / "sciapps.yaml"), path=tmp_path / "sciapps.yaml")


def edit(root, name, old, new):
    path = root / "datalabs" / name / "datalab.yaml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def problems(config, author):
    return [p for c in changes(config, "HEAD") for p in check_roles(c, author, ROLES)]


def test_semver_precedence():
    assert semver_key("1.0.0-rc.1") < semver_key("1.0.0") < semver_key("1.0.1") < semver_key("1.10.0")
    assert semver_key("1.0.0-alpha") < semver_key("1.0.0-alpha.1") < semver_key("1.0.0-beta")


def test_a_changed_datalab_needs_a_higher_version(catalog):
    root, config = catalog
    edit(root, "gaia-dr3-hrd", "keywords: [HR diagram", "keywords: [Hertzsprung-Russell diagram")
    assert any("version did not go up" in p for p in problems(config, "mlindqvist"))
    edit(root, "gaia-dr3-hrd", "version: 1.2.0", "version: 1.2.1")
    assert problems(config, "mlindqvist") == []


def test_advanced_mode_only_by_advanced_developers(catalog):
    root, config = catalog
    edit(root, "jwst-nircam-image-explorer", "version: 1.1.0", "version: 1.1.1")
    assert any("advanced mode" in p and "nobody" in p for p in problems(config, "nobody"))
    assert problems(config, "adv") == [] and problems(config, "mod") == []


def test_published_datalab_is_archived_never_deleted(catalog):
    root, config = catalog
    shutil.rmtree(root / "datalabs" / "gaia-dr3-hrd")
    (change,) = changes(config, "HEAD")
    assert change.kind == "deleted"
    assert "archive it instead" in check_roles(change, "mod", ROLES)[0]


def test_id_never_changes(catalog):
    root, config = catalog
    edit(root, "gaia-dr3-hrd", "id: gaia-dr3-hrd", "id: gaia-hrd")
    edit(root, "gaia-dr3-hrd", "version: 1.2.0", "version: 1.3.0")
    assert any("ids never change" in p for p in problems(config, "mlindqvist"))


def test_only_maintainers_or_moderators_archive(catalog):
    root, config = catalog
    edit(root, "gaia-dr3-hrd", "status: published", "status: archived\narchived:\n  reason: Superseded by a DR4 version.\n  date: 2026-11-25")
    edit(root, "gaia-dr3-hrd", "version: 1.2.0", "version: 1.2.1")
    (change,) = changes(config, "HEAD")
    assert change.kind == "archived"
    assert any("neither one of its maintainers nor a moderator" in p for p in check_roles(change, "stranger", ROLES))
    assert check_roles(change, "mlindqvist", ROLES) == [] and check_roles(change, "mod", ROLES) == []


def test_report_in_words(catalog):
    root, config = catalog
    edit(root, "gaia-dr3-hrd", "version: 1.2.0", "version: 1.3.0")
    edit(root, "gaia-dr3-hrd", "resources: {cpu: 1, memory_gb: 2}", "resources: {cpu: 2, memory_gb: 4}")
    (root / "datalabs" / "gaia-dr3-hrd" / "notebooks" / "extra.ipynb").write_text(
        (root / "datalabs" / "gaia-dr3-hrd" / "notebooks" / "hr_diagram.ipynb").read_text())
    text, ok = report(config, "HEAD", "mlindqvist", ROLES)
    assert "## `gaia-dr3-hrd`: changed" in text
    assert "- `version`: `1.2.0` → `1.3.0`" in text
    assert "- added: `notebooks/extra.ipynb`" in text
    assert "Validation: clean" in text and "Role checks: passed" in text
    assert "| build | not run |" in text and "## Checklist for the moderator" in text
    assert ok is False  # the stages have not run for it yet


def test_codeowners_is_fresh():
    config = load_config(REPO / "sciapps.yaml")
    assert (REPO / "CODEOWNERS").read_text() == codeowners(config, load_roles(config)), "run `sciapps codeowners`"
