"""A merge request's review image: pushed to <registry>/review/<id> with GitLab's job
credentials only, recorded for the preview store, and never taken for a release by
`sciapps verify` or `launch` (exit 1, one sentence; with --allow-unverified, a warning
that says it is a preview)."""

from __future__ import annotations

import json
import re
import urllib.request

import pytest
from click.testing import CliRunner

from sciapps.cli import cli
from sciapps.pipeline import push_review
from sciapps.results import REVIEW_IMAGE, read_pushed
from tests.releases.conftest import make_catalog, remove_images

COMMIT = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture
def catalog(tmp_path, registry, engine):
    made = make_catalog(tmp_path, registry, engine)
    yield made
    remove_images(made)


def _run(catalog, *args):
    result = CliRunner().invoke(cli, [*args, "--config", str(catalog.root / "sciapps.yaml")])
    return result.exit_code, result.output


def test_a_review_image_is_pushed_apart_recorded_and_never_a_release(catalog):
    ref, _ = catalog.image("checked")
    catalog.results(ref, "")
    lines: list[str] = []
    protected = {"SCIAPPS_REGISTRY_USER": "deploy", "SCIAPPS_REGISTRY_PASSWORD": "publication-secret"}
    assert push_review(catalog.config, (catalog.datalab,), "12", COMMIT, lines.append, environ=protected) == 0, lines
    recorded = read_pushed(catalog.config.path_of(catalog.config.results_dir), catalog.datalab, REVIEW_IMAGE)
    repository = f"{catalog.config.registry}/review/{catalog.datalab}"
    assert re.fullmatch(re.escape(repository) + r"@sha256:[0-9a-f]{64}", recorded["image"])
    assert recorded["tag"] == "mr-12-0123456789ab" and recorded["merge_request"] == "12"
    with urllib.request.urlopen(f"http://{catalog.registry}/v2/sciapps/review/{catalog.datalab}/tags/list", timeout=10) as r:
        assert json.load(r)["tags"] == ["mr-12-0123456789ab"]
    with urllib.request.urlopen(f"http://{catalog.registry}/v2/sciapps/{catalog.datalab}/tags/list", timeout=10) as r:
        assert "mr-12-0123456789ab" not in json.load(r)["tags"]  # never among the releases
    digest = recorded["image"].rpartition("@")[2]
    code, output = _run(catalog, "verify", f"{catalog.datalab}@{digest}")
    assert code == 1 and output.count("\n") == 1, output
    assert output.startswith(f"not verified: {digest[:19]}… is the review image mr-12-0123456789ab of {catalog.datalab}")
    code, output = _run(catalog, "launch", f"{catalog.datalab}@{digest}")
    assert code == 1 and f"refusing to launch {catalog.datalab}@{digest}: not verified:" in output
    assert "a merge request's preview" in output
    code, output = _run(catalog, "launch", f"{catalog.datalab}@{digest}", "--allow-unverified", "--kubeconfig", "/nonexistent")
    assert "WARNING: launching a PREVIEW" in output and "unreviewed and unsigned" in output


def test_a_review_image_needs_a_merge_request_and_a_checked_build(catalog):
    from sciapps.errors import SciAppsError

    lines: list[str] = []
    try:
        push_review(catalog.config, (catalog.datalab,), "not-a-number", COMMIT, lines.append)
    except SciAppsError as exc:
        assert "merge request's number and commit" in exc.message
    else:
        raise AssertionError("a review image without a merge request was pushed")
    assert push_review(catalog.config, (catalog.datalab,), "12", COMMIT, lines.append, environ={}) == 1
    assert lines == [f"{catalog.datalab}: no review image: its build and test did not both pass in this pipeline"]
