"""Test catalogs: a folder with this repository's sciapps.yaml, edited as YAML (never by
replacing text, which silently does nothing when the file changes), and the datalabs asked for."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from sciapps.config import load_config
from tests.conftest import REPO


def write_settings(root: Path, settings: dict | None = None, source: Path = REPO / "sciapps.yaml") -> Path:
    """`root/sciapps.yaml`: `source`'s settings with `settings` set; a dotted key sets a
    nested one ({"gitlab.url": ...}). The result is loaded once, so a setting SciApps does not
    know fails here, not in the test that meant another."""
    data = yaml.safe_load(source.read_text(encoding="utf-8"))
    for key, value in (settings or {}).items():
        *parents, last = key.split(".")
        node = data
        for part in parents:
            node = node[part]
        node[last] = value
    root.mkdir(parents=True, exist_ok=True)
    path = root / "sciapps.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    load_config(path)
    return path


def make_catalog(root: Path, datalabs: tuple[str, ...] = (), settings: dict | None = None) -> Path:
    """A catalog at `root`: sciapps.yaml (with `settings`) and copies of the example datalabs named."""
    for lab in datalabs:
        shutil.copytree(REPO / "datalabs" / lab, root / "datalabs" / lab)
    write_settings(root, settings)
    return root
