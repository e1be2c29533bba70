"""Images travel between a pipeline's jobs through the registry, by digest
(`images.build.stage`, `images.build.staged_image`, `stages.base.image_of`): a build on one
runner stages its image; a later job on another runner, which never had it, pulls exactly
that digest, and refuses, naming the digest, what the registry gives in its place. Against
a real registry and two real Docker engines."""

from __future__ import annotations

import json
import shutil
import uuid

import pytest

from sciapps import ledger, stages
from sciapps.catalog.loader import load_datalab
from sciapps.config import load_config
from sciapps.images import bases
from sciapps.images.build import StagedImageRefused
from sciapps.stages.base import image_of
from tests.catalogs import write_settings
from tests.conftest import CASES, REGISTRY_STORAGE, REPO


@pytest.fixture
def staged(engine, approved, registry, tmp_path, monkeypatch):
    """A catalog whose build ran on the first engine with `--stage-to staging`."""
    root = tmp_path / "catalog"
    shutil.copytree(REPO / "base-images", root / "base-images")
    shutil.copytree(CASES / "images" / "tiny-lab", root / "datalabs" / "tiny-lab")
    write_settings(root, {"registry": f"{registry}/handoff{uuid.uuid4().hex[:8]}"})
    config = load_config(root / "sciapps.yaml")
    bases.build_all(engine, config, log=lambda line: None)  # found by content: nothing is built again
    lines: list[str] = []
    monkeypatch.delenv("DOCKER_HOST", raising=False)  # the build: the first runner
    report = stages.run_one(config, "build", ("tiny-lab",), stages.Options(stage_to="staging"), lines.append)
    assert report.ok, lines
    built = ledger.read(config.path_of(config.results_dir), "tiny-lab").built
    yield config, built, lines
    for image in engine.client.images.list(name=f"{config.registry}/*"):
        engine.client.images.remove(image.id, force=True)


def test_the_build_stages_its_image_and_records_the_digest(staged):
    config, built, lines = staged
    assert built is not None and built.staged is not None
    assert built.staged.repository == f"{config.registry}/staging/tiny-lab"
    assert built.staged.image_id == built.image_id and ledger.DIGEST.fullmatch(built.staged.digest)
    assert f"tiny-lab: staged {built.staged.pinned}" in lines
    result = json.loads((config.path_of(config.results_dir) / "tiny-lab" / "build.json").read_text())
    assert result["details"]["staged"] == built.staged.as_dict()  # in the schema-checked result


def test_another_runner_pulls_the_staged_digest(staged, second_engine):
    config, built, _ = staged
    lab = load_datalab(config.root / "datalabs" / "tiny-lab", config.limits)
    lines: list[str] = []
    image = image_of(second_engine, config, lab, lines.append)  # what scan and test work on, over there
    assert image == built.staged.pinned and second_engine.image_id(image) == built.image_id
    assert lines == [f"pulling {built.staged.pinned}"]  # pulled by digest: nothing built, no base needed
    assert second_engine.image_id(built.ref) is None
    lines.clear()
    assert image_of(second_engine, config, lab, lines.append) == image and lines == []  # there now: not pulled again


def test_a_staged_image_swapped_in_the_registry_is_refused_by_the_job_on_another_runner(staged, second_engine, monkeypatch):
    """Between the build and the test, the registry's copy is replaced (another manifest's
    bytes under the staged digest). The runner of the test job never had the image (Docker
    keeps the manifests it verified, so a runner that pulled it before holds the true
    bytes): it refuses, naming the digest, and builds nothing."""
    import hashlib
    import urllib.request

    config, built, _ = staged
    lab = load_datalab(config.root / "datalabs" / "tiny-lab", config.limits)
    storage = REGISTRY_STORAGE[config.registry.split("/")[0]]
    hexdigest = built.staged.digest.removeprefix("sha256:")
    blob = storage / "docker" / "registry" / "v2" / "blobs" / "sha256" / hexdigest[:2] / hexdigest / "data"
    manifest = json.loads(blob.read_bytes())
    manifest["annotations"] = {"swapped": "yes"}
    blob.write_bytes(json.dumps(manifest).encode())
    host, _, path = built.staged.repository.partition("/")
    request = urllib.request.Request(
        f"http://{host}/v2/{path}/manifests/{built.staged.digest}",
        headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert "sha256:" + hashlib.sha256(response.read()).hexdigest() != built.staged.digest  # the swapped bytes
    lines: list[str] = []
    with pytest.raises(StagedImageRefused, match=f"the staged image {built.staged.pinned} cannot be pulled by its digest"):
        image_of(second_engine, config, lab, lines.append)

    # the test stage, run as its job runs (its engine from DOCKER_HOST): a finding, not a rebuild
    monkeypatch.setenv("DOCKER_HOST", second_engine.host)
    report = stages.run_one(config, "test", ("tiny-lab",), stages.Options(), lines.append)
    result = json.loads((config.path_of(config.results_dir) / "tiny-lab" / "test.json").read_text())
    assert report.failed == ["tiny-lab"] and result["status"] == "failed"
    assert result["summary"].startswith(f"not tested: the staged image {built.staged.pinned} cannot be pulled")
    assert second_engine.image_id(built.ref) is None and second_engine.image_id(built.staged.pinned) is None
