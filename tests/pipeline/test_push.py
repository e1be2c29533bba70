"""The publication's push step (`sciapps push`, sciapps.pipeline.publication): it gives the
image the chain checked its release tag (a registry-side copy of what the build staged, or
a push from the engine that built it) and pushes the chart package, records what it
pushed, and never rebuilds. An image or a package that is not the checked one is refused
and named; against a real registry and Docker engine."""

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
        and f"was not staged, and is not on this engine under {ref}" in lines[-1]
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


def _stage(made, ref: str) -> tuple[str, str]:
    """The build's staging, as `sciapps build --stage-to staging` does: the image pushed to
    <registry>/staging/<id> and its digest recorded in build.json; then the image leaves this
    engine, as if the build had run on another runner."""
    from sciapps.ledger import staging_repository

    repository = staging_repository(made.config.registry, "staging", made.datalab)
    image_id = made.engine.image_id(ref)
    made.engine.tag(image_id, f"{repository}:staged-1.2.0-checked")
    digest = made.engine.push(f"{repository}:staged-1.2.0-checked")
    build = made.root / "build" / "results" / made.datalab / "build.json"
    data = json.loads(build.read_text())
    data["details"]["staged"] = {"repository": repository, "digest": digest, "image_id": image_id}
    build.write_text(json.dumps(data))
    made.engine.client.images.remove(image_id, force=True)
    assert made.engine.image_id(ref) is None
    return repository, digest


def test_a_staged_image_is_copied_to_its_release_tag_in_the_registry_from_any_runner(catalog):
    """This runner never had the image: the release tag is a registry-side copy of the staged
    manifest, the very digest the stages checked, and the release does not depend on the
    staging tag (its blobs are the release repository's own)."""
    from sciapps.releases.registry import Registry

    made, ref = catalog
    repository, digest = _stage(made, ref)
    lines: list[str] = []
    assert push_ids(made.config, (made.datalab,), lines.append) == 0, lines
    record = pushed(made)
    assert record["image"]["digest"] == digest and record["image"]["staged"] == f"{repository}@{digest}"
    assert any(f"copying {repository}@{digest} to {ref}" in line for line in lines)
    assert made.engine.image_id(ref) is None  # nothing was pulled here
    registry = Registry(made.config.registry)
    assert registry.digest(ref) == digest
    # the staging tag expires (the registry's cleanup policy): the release keeps every blob
    import urllib.request

    host, _, path = repository.partition("/")
    request = urllib.request.Request(f"http://{host}/v2/{path}/manifests/{digest}", method="DELETE")
    assert urllib.request.urlopen(request, timeout=10).status == 202
    assert registry.digest(f"{repository}@{digest}") is None and registry.digest(ref) == digest
    made.engine.pull(ref)  # every blob of the release is still served
    assert made.engine.image_id(ref)


def test_a_staged_digest_the_registry_no_longer_serves_is_refused_and_named(catalog):
    import urllib.request

    made, ref = catalog
    repository, digest = _stage(made, ref)
    host, _, path = repository.partition("/")
    request = urllib.request.Request(f"http://{host}/v2/{path}/manifests/{digest}", method="DELETE")
    urllib.request.urlopen(request, timeout=10)
    lines: list[str] = []
    assert push_ids(made.config, (made.datalab,), lines.append) == 1
    assert f"{made.datalab}: not pushed: {repository}@{digest} is not in the registry" in lines[-1]
    assert pushed(made) == {}
