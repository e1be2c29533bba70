"""`sciapps base-images build --security-updates`: Debian's security updates reach the
root filesystem every approved base starts from, and through it the bases (real apt
against Debian's archive, on a copy of the root filesystem under a test tag, so the
session's bases are untouched)."""

from __future__ import annotations

import shutil

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
