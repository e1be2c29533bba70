"""`sciapps base-images build --security-updates`: Debian's security updates reach the
root filesystem every approved base starts from, and through it the bases (real apt
against Debian's archive, on a copy of the root filesystem under a test tag, so the
session's bases are untouched)."""

from __future__ import annotations

import re
import shutil

import pytest

from sciapps.config import load_config
from sciapps.images import bases
from tests.conftest import REPO


def test_security_updates_change_the_bases_only_when_debian_changed_a_package(engine, approved, tmp_path, monkeypatch):
    lines: list[str] = []
    real = engine.image_id(bases.ROOTFS)
    monkeypatch.setattr(bases, "ROOTFS", "sciapps-rootfs-test:bookworm")
    engine.tag(real, bases.ROOTFS)
    shutil.copytree(REPO / "base-images", tmp_path / "base-images")
    shutil.copy(REPO / "sciapps.yaml", tmp_path / "sciapps.yaml")
    config = load_config(tmp_path / "sciapps.yaml")
    made: list[str] = []
    try:
        first = bases.security_updates(engine, lines.append)
        refreshed = engine.image_id(bases.ROOTFS)
        assert (refreshed != real) is bool(first), lines  # a new root filesystem exactly when a package changed
        assert all(" (" in update for update in first)  # "name [old] (new ...)", as apt tells it
        assert bases.security_updates(engine, lines.append) == []  # nothing new since: nothing changes
        assert engine.image_id(bases.ROOTFS) == refreshed and "no Debian update since the last refresh" in lines[-1]
        built = bases.build_all(engine, config, ("datalabs_ubuntu_base",), log=lines.append)["datalabs_ubuntu_base"]
        made.append(built.image_id)
        # the base is built on the refreshed filesystem: a new image exactly when Debian changed something
        assert (built.image_id != approved["datalabs_ubuntu_base"].image_id) is bool(first)
    finally:
        engine.untag(bases.ROOTFS)
        for image_id in made + [refreshed] if "refreshed" in locals() else made:
            if image_id not in (real, approved["datalabs_ubuntu_base"].image_id):
                for tag in engine.image(image_id).get("RepoTags") or []:
                    engine.untag(tag)
                engine.remove_image(image_id)


def test_a_fresh_runner_pulls_the_bases_by_digest_and_builds_without_bootstrapping(
    engine, approved, second_engine, registry, tmp_path
):
    """The bases are built and pushed on one runner; another, with nothing on it, pulls
    them by the lock's digests (no debootstrap, no base build), gets the very image ids the
    lock approves, and builds a datalab on them. A lock whose digest now names another image
    is refused, naming it."""
    import json

    from sciapps.catalog.loader import load_datalab
    from sciapps.errors import SciAppsError
    from sciapps.images.build import build, plan
    from tests.catalogs import write_settings
    from tests.conftest import CASES

    root = tmp_path / "catalog"
    shutil.copytree(REPO / "base-images", root / "base-images")
    write_settings(root, {"registry": f"{registry}/fleet"})
    config = load_config(root / "sciapps.yaml")
    bases.build_all(engine, config, log=lambda line: None)  # found by content: nothing is built again
    pushed = bases.push_all(engine, config, log=lambda line: None)
    assert all(base.digest and base.digest.startswith("sha256:") for base in pushed.values())

    lock = root / "build" / "base-images.json"
    runner = tmp_path / "runner"  # the second runner's checkout: the lock, as an artifact, and nothing built
    shutil.copytree(root, runner)
    other = load_config(runner / "sciapps.yaml")
    lines: list[str] = []
    pulled = bases.pull_all(second_engine, other, lines.append)
    assert {n: b.image_id for n, b in pulled.items()} == {n: b.image_id for n, b in pushed.items()}
    assert second_engine.image_id(bases.ROOTFS) is None  # debootstrap never ran there
    assert [line.split(":")[0] for line in lines] == list(bases.ORDER) and all("pulling" in line for line in lines)
    assert all(second_engine.image_id(b.image_id) for b in pulled.values())

    folder = runner / "datalabs" / "tiny-lab"
    shutil.copytree(CASES / "images" / "tiny-lab", folder)
    outcome = build(second_engine, plan(load_datalab(folder, other.limits), other, pulled), log=lambda line: None)
    assert outcome.status == "built" and engine.image_id(outcome.ref) is None  # built on the second runner only

    # the registry serves another image under the digest than the one the lock approves
    # (the lock approves an image this runner has never had): refused, named, nothing tagged
    data = json.loads(lock.read_text())
    data["bases"]["jl_base"]["image_id"] = "sha256:" + "e" * 64
    (runner / "build" / "base-images.json").write_text(json.dumps(data))
    source = re.escape(f"{registry}/fleet/bases/jl_base@{data['bases']['jl_base']['digest']}")
    with pytest.raises(SciAppsError, match=rf"{source} is image sha256:[0-9a-f]{{12}}, not the approved jl_base sha256:eeee"):
        bases.pull_all(second_engine, other, lambda line: None)
    assert second_engine.image_id(pulled["x_base"].image_id)  # what it held is still there


def test_pull_without_a_lock_is_one_sentence(engine, tmp_path):
    from click.testing import CliRunner

    from sciapps.cli import cli
    from tests.catalogs import write_settings

    write_settings(tmp_path, {"registry": "127.0.0.1:9/none"})
    result = CliRunner().invoke(cli, ["base-images", "pull", "--config", str(tmp_path / "sciapps.yaml")])
    assert result.exit_code == 2 and "no approved base images are recorded in build/base-images.json" in result.output
    assert "Traceback" not in result.output
