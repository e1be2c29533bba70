"""The approved-base lock as a plan pins it for its child pipeline (`SCIAPPS_BASES`), and
as a job writes it back: every field checked, so a variable that is not a lock of known
bases by digest is one sentence, never a lock."""

from __future__ import annotations

import json

import pytest

from sciapps.baselock import BaseImage, pinned_lock, read_lock, unpin, write_lock
from sciapps.config import load_config
from sciapps.errors import SciAppsError
from sciapps.pipeline.gitlab import child_pipeline
from sciapps.plan import Plan, Planned
from tests.catalogs import write_settings


def _lock(tmp_path, digests: bool = True):
    write_settings(tmp_path, {"registry": "127.0.0.1:5000/sciapps"})
    config = load_config(tmp_path / "sciapps.yaml")
    bases = {
        name: BaseImage(
            name,
            f"sha256:{n:064x}",
            f"127.0.0.1:5000/sciapps/{name}:{n:016x}",
            "2026-12-05T00:00:00+00:00",
            f"sha256:{n + 10:064x}" if digests else None,
        )
        for n, name in enumerate(("datalabs_ubuntu_base", "jl_base", "x_base"), 1)
    }
    write_lock(config, bases)
    return config, bases


def test_a_pinned_lock_comes_back_as_it_was(tmp_path):
    config, bases = _lock(tmp_path)
    text = pinned_lock(config)
    assert "\n" not in text and len(text) < 2000
    (tmp_path / "build" / "base-images.json").unlink()
    assert unpin(config, text) == bases == read_lock(config)
    child = child_pipeline(Plan("HEAD", [Planned("lab", "build", ("x",))]), "publish", pinned_bases=text)
    build = next(job for name, job in child.items() if name.startswith("build "))
    assert build["script"][0] == 'sciapps base-images pull --pinned "$SCIAPPS_BASES" | tail -3'
    assert child["variables"]["SCIAPPS_BASES"] == text
    unpinned = child_pipeline(Plan("HEAD", [Planned("lab", "build", ("x",))]), "publish")
    assert "SCIAPPS_BASES" not in unpinned["variables"]  # nothing pushed: each chain builds them, as before


def test_a_lock_without_digests_pins_nothing(tmp_path):
    config, _ = _lock(tmp_path, digests=False)
    assert pinned_lock(config) == ""


@pytest.mark.parametrize(
    "change",
    [
        lambda d: "not json",
        lambda d: json.dumps([]),
        lambda d: json.dumps({}),
        lambda d: json.dumps({**d, "evil_base": d["jl_base"]}),
        lambda d: json.dumps({**d, "jl_base": {**d["jl_base"], "digest": "sha256:xyz"}}),
        lambda d: json.dumps({**d, "jl_base": {**d["jl_base"], "image_id": "jl_base"}}),
        lambda d: json.dumps({**d, "jl_base": {**d["jl_base"], "name": "x_base"}}),
        lambda d: json.dumps({**d, "jl_base": {**d["jl_base"], "ref": "x; rm -rf /"}}),
        lambda d: json.dumps({**d, "jl_base": {**d["jl_base"], "extra": 1}}),
        lambda d: json.dumps({**d, "jl_base": {**d["jl_base"], "digest": None}}),
        lambda d: "[" * 100_000,
        lambda d: json.dumps({**d, "jl_base": {**d["jl_base"], "built": "x" * 100_000}}),
    ],
)
def test_a_pinned_lock_that_is_not_one_is_refused_and_nothing_is_written(tmp_path, change):
    config, bases = _lock(tmp_path)
    before = (tmp_path / "build" / "base-images.json").read_text()
    with pytest.raises(SciAppsError):
        unpin(config, change(json.loads(pinned_lock(config))))
    assert (tmp_path / "build" / "base-images.json").read_text() == before
