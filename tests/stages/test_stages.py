"""The one ordered list of stages: every reader follows it, and a new stage is one entry."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import git
import jsonschema
import yaml

from sciapps import reference, results, stages
from sciapps.config import load_config
from sciapps.pipeline import child_pipeline, publish_checked, run_ci
from sciapps.pipeline.gitlab import shard
from sciapps.plan import Plan, Planned
from sciapps.releases import signing
from sciapps.site.pages import Renderer
from sciapps.stages.base import StageReport, Verdict, keep
from tests.conftest import REPO

ACTOR = git.Actor("t", "t@example.org")


def noop_stage(name: str = "noop") -> SimpleNamespace:
    """A placeholder stage: the same shape as every stage module, and no work."""

    def run(config, labs, options, log):
        report = StageReport(name)
        for lab in labs:
            keep(config, lab, name, Verdict("passed", "nothing to do"))
            report.passed.append(lab.id)
        return report

    return SimpleNamespace(
        NAME=name,
        GATES=False,
        WHOLE_CATALOG=False,
        SHOWN_AS_CHECK=True,
        NEEDS=(),
        LEAVES=("build/noop/",),
        NEEDS_BASES=False,
        argv=lambda ids, options: [name, *ids],
        run=run,
    )


def test_every_reader_follows_the_one_list():
    names = [stage.NAME for stage in stages.STAGES]
    assert names == ["validate", "build", "scan", "test", "chart"]  # the pipeline's order
    assert list(results.stage_names()) == names  # the result schema's enum, generated from it
    assert stages.checks() == ("build", "scan", "test", "chart")  # the review's rows and the store's Checks
    assert Renderer(REPO / "site" / "templates").env.globals["checks"] == stages.checks()


def test_a_new_stage_is_one_entry_in_the_list(tmp_path, monkeypatch):
    root = tmp_path / "catalog"
    shutil.copytree(REPO / "datalabs" / "gaia-dr3-hrd", root / "datalabs" / "gaia-dr3-hrd")
    for name in ("sciapps.yaml", "roles.yaml", "scan-policy.yaml"):
        shutil.copy(REPO / name, root / name)
    repo = git.Repo.init(root)
    repo.git.add(A=True)
    repo.index.commit("base", author=ACTOR, committer=ACTOR)
    metadata = root / "datalabs" / "gaia-dr3-hrd" / "datalab.yaml"
    text = metadata.read_text()
    version = next(line for line in text.splitlines() if line.startswith("version: "))
    bumped = version.rpartition(".")[0] + "." + str(int(version.rpartition(".")[2]) + 1)
    metadata.write_text(text.replace(version, bumped, 1))
    config = replace(load_config(root / "sciapps.yaml"), path=root / "sciapps.yaml")

    monkeypatch.setattr(stages, "STAGES", (stages.validate, noop_stage()))
    # What `sciapps schema generate` now writes: the result schema accepts the new stage.
    schema = json.loads(reference.generated_files()[Path("schemas") / results.SCHEMA_FILE])
    assert schema["properties"]["stage"]["enum"] == ["validate", "noop"]
    monkeypatch.setattr(results, "_schema", lambda: schema)
    monkeypatch.setattr(results, "_validator", lambda: jsonschema.Draft202012Validator(schema))

    lines: list[str] = []
    run_ci(config, "HEAD", "mlindqvist", False, None, lines.append)
    assert "== noop: sciapps noop gaia-dr3-hrd --config " + str(root / "sciapps.yaml") in lines
    recorded = json.loads((root / "build" / "results" / "gaia-dr3-hrd" / "noop.json").read_text())
    assert recorded["status"] == "passed" and recorded["datalab_version"] == bumped.removeprefix("version: ")
    assert "| noop | passed | nothing to do |" in (root / "build" / "review.md").read_text()
    assert Renderer(REPO / "site" / "templates").env.globals["checks"] == ("noop",)

    # The GitLab child pipeline has its job in every batch, with its artifacts, and the publication needs it.
    child = child_pipeline(Plan("HEAD", [Planned("gaia-dr3-hrd", "build", ("x",))]), "publish")
    assert child["stages"] == ["sciapps", "noop", "push", "publish"]
    n = shard("gaia-dr3-hrd")
    assert child[f"noop {n}"]["script"] == ["sciapps noop gaia-dr3-hrd"]
    assert child[f"noop {n}"]["artifacts"]["paths"] == ["build/results/", "build/noop/"]
    assert child[f"push {n}"]["needs"] == ["sciapps", f"noop {n}"] and "build/noop/" in child[f"push {n}"]["artifacts"]["paths"]
    # The publication requires it: without its result nothing is pushed or signed, and says so.
    env = {signing.SIGNING_KEY_VARIABLE: str(tmp_path / "release.key")}
    signing.generate(tmp_path / "release.key", root / "keys" / "release.pub")
    (root / "build" / "results" / "gaia-dr3-hrd" / "noop.json").unlink()
    lines.clear()
    assert publish_checked(config, ("gaia-dr3-hrd",), lines.append, environ=env) == 1
    assert lines == ["gaia-dr3-hrd: not published: no noop result: run `sciapps noop gaia-dr3-hrd` in this pipeline first"]


def test_the_pipelines_run_the_stages_in_the_same_order():
    """.gitlab-ci.yml is written by hand: after the job that makes SciApps, it validates
    (the whole-catalog stage); the child pipeline that `sciapps plan` writes runs the other
    stages, in the one list's order, after its own SciApps job."""
    pipeline = yaml.safe_load((REPO / ".gitlab-ci.yml").read_text())
    names = [stage.NAME for stage in stages.STAGES]
    assert pipeline["stages"][:2] == ["sciapps", names[0]] and not set(names[1:]) & set(pipeline["stages"])
    for then in (None, "review", "publish"):
        child = child_pipeline(
            Plan("HEAD", [Planned("gaia-dr3-hrd", "build", ("x",))], trusted="1" * 40), then, target_branch="main"
        )
        assert child["stages"][: len(names)] == ["sciapps", *names[1:]]
