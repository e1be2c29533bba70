"""`sciapps test` on real containers: what passes, what fails, and that nothing is left."""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner

from sciapps.catalog.loader import load_datalab
from sciapps.config import load_config
from sciapps.images.build import build, plan
from sciapps.testing.runner import LABEL, run_tests
from tests.conftest import CASES, REPO

IMAGES = CASES / "images"
EXAMPLES = sorted(p.name for p in (REPO / "datalabs").iterdir() if p.is_dir())


def expected(case: str) -> dict:
    return json.loads((IMAGES / case / "expected.yaml").read_text().splitlines()[1])


def built(engine, approved, case: str):
    settings = load_config(REPO / "sciapps.yaml")
    lab = load_datalab(IMAGES / case, settings.limits)
    outcome = build(engine, plan(lab, settings, approved), log=lambda line: None)
    return lab, outcome.ref


@pytest.mark.parametrize("case", ["tiny-lab", "tiny-desktop", "failing-notebook", "hanging-notebook"])
def test_outcome_matches_expected(engine, approved, case):
    want = expected(case)
    lab, image = built(engine, approved, case)
    report = run_tests(engine, lab, image, notebook_timeout=8, log=lambda line: None)
    assert report.passed is (want["test"] == "passed"), [(c.name, c.passed, c.output[-500:]) for c in report.checks]
    if "checks" in want:
        assert [c.name for c in report.checks] == want["checks"]
    if "failed_check" in want:
        (failed,) = [c for c in report.checks if not c.passed]
        assert failed.name == want["failed_check"] and want["output"] in failed.output
    assert engine.containers_labelled(LABEL) == []  # stopped and removed, even after a timeout


def test_service_that_never_starts(engine, approved):
    lab, image = built(engine, approved, "tiny-lab")
    from sciapps.testing import runner

    container, service = runner.start(engine, lab, image, "test", environment={"DATALAB_PORT": "not-a-port"})
    try:
        check = runner.wait_ready(engine, container, service, timeout=20)
    finally:
        engine.remove(container)
    assert not check.passed and "stopped" in check.output or "no answer" in check.output


@pytest.mark.parametrize("example", EXAMPLES)
def test_example_datalab_builds_and_passes_sciapps_test(engine, approved, example):
    from sciapps.cli import cli

    result = CliRunner().invoke(cli, ["test", example, "--config", str(REPO / "sciapps.yaml")])
    assert result.exit_code == 0, result.output
    assert f"{example}: test passed" in result.output
    assert engine.containers_labelled(LABEL) == []


@pytest.mark.parametrize("kind,advanced", [("jupyterlab", False), ("jupyterlab", True), ("vnc", False), ("vnc", True)])
def test_scaffolded_datalab_builds_tests_and_runs(engine, approved, tmp_path, kind, advanced):
    """The path of issue 4's 'done when': scaffold from a notebook, build, test."""
    from sciapps.cli import cli

    root = tmp_path / "catalog"
    root.mkdir()
    shutil.copy(REPO / "sciapps.yaml", root / "sciapps.yaml")
    (root / "build").mkdir()
    shutil.copy(REPO / "build" / "base-images.json", root / "build" / "base-images.json")
    name = f"new-{kind}-{'advanced' if advanced else 'basic'}"
    args = [
        "new",
        name,
        "--type",
        kind,
        "--maintainer",
        "Ada Example <ada@example.org>",
        "--catalog",
        str(root / "datalabs"),
        "--config",
        str(root / "sciapps.yaml"),
    ]
    if kind == "jupyterlab":
        args += ["--from", str(REPO / "datalabs" / "euclid-q1-photoz" / "notebooks" / "photoz_explorer.ipynb")]
    if advanced:
        args.append("--advanced")
    runner = CliRunner()
    assert runner.invoke(cli, args).exit_code == 0
    if kind == "jupyterlab":  # the notebook reads ../data and needs pandas and matplotlib
        shutil.copytree(REPO / "datalabs" / "euclid-q1-photoz" / "data", root / "datalabs" / name / "data")
        (root / "datalabs" / name / "requirements.txt").write_text(
            (REPO / "datalabs" / "euclid-q1-photoz" / "requirements.txt").read_text()
        )
        if advanced:
            shutil.copy(REPO / "datalabs" / "jwst-nircam-image-explorer" / "Dockerfile", root / "datalabs" / name / "Dockerfile")
            dockerfile = root / "datalabs" / name / "Dockerfile"
            dockerfile.write_text(dockerfile.read_text().replace("image_explorer.ipynb", "photoz_explorer.ipynb"))
    result = runner.invoke(cli, ["test", name, "--config", str(root / "sciapps.yaml")])
    assert result.exit_code == 0, result.output
    assert f"{name}: test passed" in result.output
    assert engine.containers_labelled(LABEL) == []
