"""Building images on a real Docker engine, pushing to a real registry.

Skipped without Docker on a developer's machine; CI provides both (see .ci/run).
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from sciapps.catalog.loader import load_datalab
from sciapps.config import load_config
from sciapps.images.build import ImageCheckFailed, build, plan
from sciapps.engine import BuildFailed, Engine, EngineError
from tests.conftest import CASES, REPO
from tests.catalogs import write_settings

IMAGES = CASES / "images"


@pytest.fixture
def settings(registry):
    return replace(load_config(REPO / "sciapps.yaml"), registry=f"{registry}/sciapps")


def copy(tmp_path: Path, case: str) -> Path:
    target = tmp_path / "datalabs" / case
    shutil.copytree(IMAGES / case, target)
    return target


def test_build_checks_tags_and_skips_when_unchanged(engine, approved, settings, tmp_path):
    folder = copy(tmp_path, "tiny-lab")
    lab = load_datalab(folder, settings.limits)
    first = build(engine, plan(lab, settings, approved), log=lambda line: None)
    assert first.status == "built" and engine.image_id(first.ref) == first.image_id
    attrs = engine.image(first.ref)
    labels = attrs["Config"]["Labels"]
    assert labels["int.esa.datalabs.datalab"] == "tiny-lab" and labels["org.opencontainers.image.licenses"] == "MIT"
    assert labels["org.opencontainers.image.version"] == "1.0.0"
    assert attrs["Config"]["User"] == "1000"
    base_layers = engine.image(approved["jl_base"].image_id)["RootFS"]["Layers"]
    assert attrs["RootFS"]["Layers"][: len(base_layers)] == base_layers

    again = build(engine, plan(load_datalab(folder, settings.limits), settings, approved), log=lambda line: None)
    assert again.status == "unchanged" and again.ref == first.ref and again.seconds < 1

    # a notebook changes: new tag, and every dependency layer is reused
    notebook = folder / "notebooks" / "check.ipynb"
    notebook.write_text(notebook.read_text().replace("# Test notebook", "# Test notebook, edited"))
    lines: list[str] = []
    changed = build(engine, plan(load_datalab(folder, settings.limits), settings, approved), log=lines.append)
    assert changed.status == "built" and changed.ref != first.ref
    output = "\n".join(lines)
    assert "apt-get install" in output and "pip install" in output  # the steps are listed...
    assert "Setting up jq" not in output and "Collecting six" not in output  # ...but not run again
    assert output.count("Using cache") >= 5


def test_push_then_an_unchanged_datalab_is_found_in_the_registry(engine, approved, settings, tmp_path):
    folder = copy(tmp_path, "tiny-lab")
    (folder / "notebooks" / "extra.txt").write_text("pushed variant\n")
    p = plan(load_datalab(folder, settings.limits), settings, approved)
    pushed = build(engine, p, push=True, log=lambda line: None)
    assert pushed.digest and pushed.digest.startswith("sha256:")
    engine.untag(p.ref)  # gone from this machine, still in the registry
    asked = build(engine, plan(load_datalab(folder, settings.limits), settings, approved), log=lambda line: None)
    assert asked.status == "in-registry" and asked.digest == pushed.digest


def test_failed_build_tags_nothing(engine, approved, settings, tmp_path):
    folder = copy(tmp_path, "broken-requirements")
    p = plan(load_datalab(folder, settings.limits), settings, approved)
    with pytest.raises(BuildFailed) as info:
        build(engine, p, log=lambda line: None)
    assert "No matching distribution" in "\n".join(info.value.log_tail)
    assert "pip install" in info.value.message
    assert engine.image_id(p.ref) is None


def test_image_running_as_root_is_not_tagged(engine, approved, settings, tmp_path):
    folder = copy(tmp_path, "root-image")
    p = plan(load_datalab(folder, settings.limits), settings, approved)
    with pytest.raises(ImageCheckFailed, match="runs as root"):
        build(engine, p, log=lambda line: None)
    assert engine.image_id(p.ref) is None


def test_advanced_image_must_start_from_the_approved_base(engine, approved, settings, tmp_path):
    folder = copy(tmp_path, "root-image")
    (folder / "Dockerfile").write_text("FROM datalabs_ubuntu_base\nUSER 1000\n")
    p = plan(load_datalab(folder, settings.limits), settings, approved)
    assert [b.name for b in p.bases] == ["datalabs_ubuntu_base"]
    # pretend the approved jl_base was named: the layers do not match it
    p.bases = [approved["jl_base"]]
    with pytest.raises(ImageCheckFailed, match="do not start with the approved base jl_base"):
        build(engine, p, log=lambda line: None)


def test_no_docker_is_one_clear_sentence(monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    with pytest.raises(EngineError) as info:
        Engine()
    assert "Docker is not running or not reachable" in info.value.message
    assert "dockerd" in info.value.hint


def test_build_command_refuses_invalid_datalabs_and_writes_results(engine, approved, tmp_path):
    from sciapps.cli import cli

    catalog = tmp_path / "catalog"
    folder = copy(catalog, "tiny-desktop")
    (folder / "datalab.yaml").write_text((folder / "datalab.yaml").read_text().replace("license: MIT", "license: nonsense"))
    (catalog / "sciapps.yaml").write_text((REPO / "sciapps.yaml").read_text())
    (catalog / "build").mkdir()
    shutil.copy(REPO / "build" / "base-images.json", catalog / "build" / "base-images.json")
    result = CliRunner().invoke(cli, ["build", "tiny-desktop", "--config", str(catalog / "sciapps.yaml")])
    assert result.exit_code == 1
    assert "DL-022" in result.output
    written = yaml.safe_load((catalog / "build" / "results" / "tiny-desktop" / "build.json").read_text())
    assert written["status"] == "failed" and "validation error" in written["summary"]


def test_builds_use_the_locked_base_whatever_the_engine_tags_say(engine, approved, settings, tmp_path):
    """`FROM jl_base` is the jl_base of build/base-images.json, even when another catalog's
    base build (or anyone) made the engine's `jl_base` tag point at another image."""
    folder = copy(tmp_path, "root-image")
    dockerfile = folder / "Dockerfile"
    dockerfile.write_text(dockerfile.read_text().rstrip("\n") + "\nUSER 1000\n")
    moved = ["jl_base:latest", f"{settings.registry}/jl_base:latest"]
    for ref in moved:
        engine.tag(approved["datalabs_ubuntu_base"].image_id, ref)
    try:
        outcome = build(
            engine, plan(load_datalab(folder, settings.limits), settings, approved), nocache=True, log=lambda line: None
        )
    finally:
        for ref in moved:
            engine.untag(ref)
    layers = engine.image(outcome.image_id)["RootFS"]["Layers"]
    base_layers = engine.image(approved["jl_base"].image_id)["RootFS"]["Layers"]
    assert outcome.status == "built" and layers[: len(base_layers)] == base_layers


def test_base_images_of_another_catalog_are_found_not_built_again(engine, approved, registry, tmp_path):
    """Same inputs, another catalog and registry: the same images, nothing rebuilt, and
    this catalog's lock untouched."""
    from sciapps.images import bases

    root = tmp_path / "other-catalog"
    shutil.copytree(REPO / "base-images", root / "base-images")
    write_settings(root, {"registry": f"{registry}/other"})
    lock_before = (REPO / "build" / "base-images.json").read_text()
    lines: list[str] = []
    other = bases.build_all(engine, load_config(root / "sciapps.yaml"), log=lines.append)
    assert {name: b.image_id for name, b in other.items()} == {name: b.image_id for name, b in approved.items()}
    assert all("up to date" in line for line in lines), lines
    assert other["jl_base"].ref.startswith(f"{registry}/other/bases/jl_base:")
    assert (REPO / "build" / "base-images.json").read_text() == lock_before


def test_a_lock_naming_an_image_this_engine_lacks_is_one_clear_sentence(engine, approved, settings, tmp_path):
    folder = copy(tmp_path, "tiny-desktop")
    gone = {name: replace(base, image_id="sha256:" + "0" * 64) for name, base in approved.items()}
    with pytest.raises(EngineError, match="recorded in build/base-images.json is not in this Docker engine"):
        build(engine, plan(load_datalab(folder, settings.limits), settings, gone), log=lambda line: None)


@pytest.mark.parametrize(
    "requirements, line, name",
    [
        ("six==1.16.0\ndocopt==0.6.2\n", 2, "docopt==0.6.2"),  # published only as a source distribution
        ("# tools\nsix==1.16.0\nDocOpt == 0.6.2  # the CLI parser\n", 3, "DocOpt == 0.6.2"),  # as pip normalises names
    ],
)
def test_a_package_without_a_wheel_is_a_finding_and_its_build_code_never_runs(
    engine, approved, tmp_path, requirements, line, name
):
    from sciapps.cli import cli

    catalog = tmp_path / "catalog"
    folder = copy(catalog, "tiny-lab")
    (folder / "requirements.txt").write_text(requirements)
    (catalog / "sciapps.yaml").write_text((REPO / "sciapps.yaml").read_text())
    (catalog / "build").mkdir()
    shutil.copy(REPO / "build" / "base-images.json", catalog / "build" / "base-images.json")
    result = CliRunner().invoke(cli, ["build", "tiny-lab", "--config", str(catalog / "sciapps.yaml")])
    assert result.exit_code == 1, result.output
    assert f"requirements.txt:{line}: DL-071 source_only_package: {name!r} has no wheel pip could install" in result.output
    assert "setup.py" not in result.output and "Building wheel" not in result.output  # nothing of docopt's ran
    written = yaml.safe_load((catalog / "build" / "results" / "tiny-lab" / "build.json").read_text())
    (finding,) = written["details"]["findings"]
    assert written["status"] == "failed" and finding["rule_id"] == "DL-071" and finding["line"] == line
    assert "ask" not in finding["hint"] or "moderator" in finding["hint"]
