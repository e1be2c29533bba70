"""`sciapps plan`: what a change affects and why, on a Git copy of the example catalog."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from sciapps.cli import cli
from sciapps.config import load_config
from sciapps.pipeline.gitlab import child_pipeline, shard
from sciapps.plan import Plan, plan
from tests.conftest import copy_repository

JUPYTERLAB = ["euclid-q1-photoz", "gaia-dr3-hrd", "jwst-nircam-image-explorer", "planck-cmb-map-viewer", "xmm-epic-spectrum-fit"]
DESKTOPS = ["ds9-fits-viewer", "topcat-desktop"]  # herschel-spire-photometry is archived: never rebuilt


def _git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=root, check=True, capture_output=True, text=True
    ).stdout


@pytest.fixture(scope="module")
def repository(tmp_path_factory) -> Path:
    root = copy_repository(tmp_path_factory.mktemp("plan") / "catalog")
    _git(root, "init", "-q")
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "catalog")
    return root


@pytest.fixture
def catalog(repository):
    yield repository
    _git(repository, "checkout", "-q", "--", ".")
    _git(repository, "clean", "-qfd")


def _edit(root: Path, path: str, text: str = "\n# a change\n") -> None:
    with open(root / path, "a", encoding="utf-8") as fh:
        fh.write(text)


def _work(p: Plan) -> dict[str, str]:
    return {item.datalab: item.work for item in p.items}


def test_a_jupyterlab_base_change_rebuilds_exactly_the_published_jupyterlab_datalabs(catalog):
    _edit(catalog, "base-images/jl_base/requirements.txt", "\n")
    p = plan(load_config(catalog / "sciapps.yaml"), "HEAD")
    assert p.changed_bases == ["jl_base"]
    assert _work(p) == dict.fromkeys(JUPYTERLAB, "build")  # the advanced one too: its Dockerfile starts FROM jl_base
    assert all(item.reasons == ("it is built on jl_base: base-images/jl_base/requirements.txt changed",) for item in p.items)


def test_the_common_base_reaches_every_published_datalab(catalog):
    _edit(catalog, "base-images/datalabs_ubuntu_base/Dockerfile")
    p = plan(load_config(catalog / "sciapps.yaml"), "HEAD")
    assert p.changed_bases == ["datalabs_ubuntu_base", "jl_base", "x_base"]
    assert _work(p) == dict.fromkeys(sorted(JUPYTERLAB + DESKTOPS), "build")
    assert (
        "it is built on x_base: it is built on datalabs_ubuntu_base, which changed"
        in dict((i.datalab, i.reasons) for i in p.items)["ds9-fits-viewer"]
    )


def test_a_chart_change_renders_every_published_chart_and_builds_only_what_changed(catalog):
    _edit(catalog, "charts/datalab/values.yaml")
    _edit(catalog, "datalabs/gaia-dr3-hrd/requirements.txt", "\n")
    p = plan(load_config(catalog / "sciapps.yaml"), "HEAD")
    assert _work(p) == {**dict.fromkeys(JUPYTERLAB + DESKTOPS, "chart"), "gaia-dr3-hrd": "build"}
    assert dict((i.datalab, i.reasons) for i in p.items)["topcat-desktop"] == (
        "charts/datalab/values.yaml changed (every chart is rendered from it)",
    )


def test_dropping_an_approved_base_rebuilds_its_dependents(catalog):
    config = catalog / "sciapps.yaml"
    config.write_text(
        config.read_text().replace(
            "approved_bases: [jl_base, x_base, datalabs_ubuntu_base]", "approved_bases: [jl_base, datalabs_ubuntu_base]"
        )
    )
    p = plan(load_config(config), "HEAD")
    assert p.changed_bases == ["x_base"]
    assert _work(p) == {**dict.fromkeys(JUPYTERLAB, "chart"), **dict.fromkeys(DESKTOPS, "build")}
    assert "approved_bases in sciapps.yaml lost it" in dict((i.datalab, i.reasons) for i in p.items)["ds9-fits-viewer"][0]


def test_nothing_changed_plans_nothing_and_all_plans_everything(catalog):
    config = load_config(catalog / "sciapps.yaml")
    assert plan(config, "HEAD").items == []
    everything = plan(config, None, everything=True)
    assert len(everything.items) == 8 and {i.work for i in everything.items} == {"build"}


def test_outdated_plans_every_published_datalab_whose_release_predates_an_approved_base(catalog):
    """The bases schedule: after Debian's updates, jl_base is a new image. A release built on
    the old one is rebuilt, one built on today's is not, and a published datalab without a
    verified release of its current version gets one; archived and draft datalabs never."""
    import shutil

    from sciapps.baselock import BaseImage, write_lock
    from tests.releases.records import keys, mirror, record

    config = load_config(catalog / "sciapps.yaml")
    old, new, plain = "sha256:" + "a" * 64, "sha256:" + "b" * 64, "sha256:" + "c" * 64
    try:
        write_lock(
            config,
            {
                "jl_base": BaseImage("jl_base", new, "r/jl_base:2", "2026-11-26T00:00:00+00:00"),
                "datalabs_ubuntu_base": BaseImage("datalabs_ubuntu_base", plain, "r/u:1", "2026-11-01T00:00:00+00:00"),
            },
        )
        signer = keys(catalog)
        version = lambda lab: str(yaml.safe_load((catalog / "datalabs" / lab / "datalab.yaml").read_text())["version"])  # noqa: E731
        mirror(
            config.path_of(config.releases_dir),
            {
                "gaia-dr3-hrd": [
                    record(
                        signer, "gaia-dr3-hrd", version("gaia-dr3-hrd"), bases=(("datalabs_ubuntu_base", plain), ("jl_base", new))
                    )
                ],
                "xmm-epic-spectrum-fit": [
                    record(
                        signer,
                        "xmm-epic-spectrum-fit",
                        version("xmm-epic-spectrum-fit"),
                        bases=(("datalabs_ubuntu_base", plain), ("jl_base", old)),
                    )
                ],
            },
        )
        p = plan(config, None, outdated=True)
        reasons = {item.datalab: item.reasons for item in p.items}
        assert "gaia-dr3-hrd" not in reasons and "herschel-spire-photometry" not in reasons  # current; archived
        assert {i.work for i in p.items} == {"build"}
        assert reasons["xmm-epic-spectrum-fit"] == (
            f"its release {version('xmm-epic-spectrum-fit')} build 1 was built on jl_base {old[:19]}, "
            f"the approved jl_base is now {new[:19]}",
        )
        assert reasons["ds9-fits-viewer"] == (
            f"it has no verified release of its current version {version('ds9-fits-viewer')} yet",
        )
        assert set(reasons) == set(JUPYTERLAB + DESKTOPS) - {"gaia-dr3-hrd"}
        child = child_pipeline(p, "publish")
        # every runner of the child builds on bases with the same updates the plan compared with
        n = shard("xmm-epic-spectrum-fit")
        assert child[f"build {n}"]["script"][0] == "sciapps base-images build --security-updates | tail -3"
        assert not any(
            "base-images" in line for line in child[f"publish {n}"]["script"]
        )  # it pushes what was built, builds nothing
    finally:
        shutil.rmtree(catalog / "build", ignore_errors=True)
    result = CliRunner().invoke(cli, ["plan", "--outdated", "--config", str(catalog / "sciapps.yaml")])
    assert result.exit_code == 2 and "no approved base images are recorded" in result.output


def test_the_cli_writes_the_plan_and_the_child_pipeline(catalog, tmp_path):
    _edit(catalog, "base-images/x_base/Dockerfile")
    result = CliRunner().invoke(
        cli,
        [
            "plan",
            "--base",
            "HEAD",
            "-o",
            str(tmp_path / "plan.json"),
            "--child-pipeline",
            str(tmp_path / "child.yml"),
            "--config",
            str(catalog / "sciapps.yaml"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "build  ds9-fits-viewer: it is built on x_base" in result.output and "2 to build, 0 to chart only" in result.output
    assert json.loads((tmp_path / "plan.json").read_text())["build"] == DESKTOPS
    child = yaml.safe_load((tmp_path / "child.yml").read_text())
    assert [child[f"build {shard(lab)}"]["script"][-1] for lab in DESKTOPS] == [f"sciapps build {lab}" for lab in DESKTOPS]
    ids = CliRunner().invoke(cli, ["plan", "--base", "HEAD", "--ids", "build", "--config", str(catalog / "sciapps.yaml")])
    assert (
        ids.exit_code == 0 and ids.stdout.splitlines() == DESKTOPS and "it is built on x_base" in ids.stderr
    )  # only ids for a shell
    assert CliRunner().invoke(cli, ["plan", "--config", str(catalog / "sciapps.yaml")]).exit_code == 2
    bad = CliRunner().invoke(cli, ["plan", "--base", "no-such-rev", "--config", str(catalog / "sciapps.yaml")])
    assert bad.exit_code == 2 and "git cannot compare with 'no-such-rev'" in bad.output
