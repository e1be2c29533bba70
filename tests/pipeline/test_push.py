"""The publication's push step (`sciapps push`, sciapps.pipeline.publication): it pushes the
image and the chart package the chain checked, records what it pushed, and never rebuilds.
An image or a package that is not the checked one is refused and named; against a real
registry and Docker engine."""

from __future__ import annotations

import json

import pytest

from sciapps.pipeline.publication import push_ids
from sciapps.results import PUSHED
from tests.releases.conftest import make_catalog, remove_images


@pytest.fixture
def catalog(tmp_path, registry, engine):
    made = make_catalog(tmp_path, registry, engine)
    ref, digest = made.image("checked")
    made.chart()
    made.results(ref, digest)
    (made.root / "build" / "results" / made.datalab / PUSHED).unlink()  # what the push step writes: not yet
    yield made, ref
    remove_images(made)


def pushed(catalog) -> dict:
    path = catalog.root / "build" / "results" / catalog.datalab / PUSHED
    return json.loads(path.read_text()) if path.is_file() else {}


def test_the_checked_image_and_package_are_pushed_and_recorded(catalog):
    made, ref = catalog
    lines: list[str] = []
    assert push_ids(made.config, (made.datalab,), lines.append) == 0, lines
    record = pushed(made)
    assert record["image"]["ref"] == ref and record["image"]["image_id"] == made.engine.image_id(ref)
    assert record["image"]["digest"] == made.engine.registry_digest(ref)
    assert record["chart"]["package"] == f"{made.datalab}-1.2.0.tgz" and len(record["chart"]["sha256"]) == 64


def test_another_image_under_the_checked_ref_is_refused_not_rebuilt(catalog):
    made, ref = catalog
    other_ref, _ = made.image("swapped")
    made.engine.tag(made.engine.image_id(other_ref), ref)  # the ref now names an image no check saw
    lines: list[str] = []
    assert push_ids(made.config, (made.datalab,), lines.append) == 1
    assert (
        f"{made.datalab}: not pushed: the image the build checked" in lines[-1]
        and f"is not on this runner under {ref}" in lines[-1]
    )
    assert pushed(made) == {}


def test_a_chart_package_changed_after_its_check_is_refused(catalog):
    made, _ = catalog
    package = made.root / "build" / "charts" / f"{made.datalab}-1.2.0.tgz"
    package.write_bytes(package.read_bytes() + b"\0")
    lines: list[str] = []
    assert push_ids(made.config, (made.datalab,), lines.append) == 1
    assert "is not the package the chart stage checked (its sha256 differs)" in lines[-1]
    assert pushed(made) == {} and not any("pushing" in line for line in lines)  # nothing pushed, the image neither
