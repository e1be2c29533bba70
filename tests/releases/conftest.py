"""A catalog of one datalab whose image and chart are really pushed to the test registry,
with the stage results a default-branch pipeline would leave, and the catalog's key pair."""

from __future__ import annotations

import hashlib
import io
import itertools
import shutil
import tarfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from sciapps.config import load_config, registry_login
from sciapps.releases import signing
from sciapps.results import write_pushed, write_result
from tests.conftest import REPO
from tests.catalogs import write_settings

_serial = itertools.count()


@dataclass
class Catalog:
    root: Path
    datalab: str
    registry: str
    engine: object  # an Engine that pushes with `credentials`, if any
    credentials: dict[str, str] = field(default_factory=dict)  # the job's registry variables

    @property
    def config(self):
        return load_config(self.root / "sciapps.yaml")

    @property
    def environ(self) -> dict[str, str]:
        return {
            signing.SIGNING_KEY_VARIABLE: (self.root / "private" / "release.key").read_text(),
            "CI_PROJECT_URL": "https://gitlab.example.org/datalabs/sciapps",
            "CI_SERVER_URL": "https://gitlab.example.org",
            "CI_RUNNER_ID": "12",
            "CI_PIPELINE_URL": f"https://gitlab.example.org/datalabs/sciapps/-/pipelines/{next(_serial)}",
            "CI_COMMIT_SHA": "0123456789abcdef0123456789abcdef01234567",
            "CI_COMMIT_MESSAGE": "Merge branch 'x' into 'main'\n\nSee merge request datalabs/sciapps!42",
            **self.credentials,
        }

    def image(self, marker: str, version: str = "1.2.0") -> tuple[str, str]:
        """A tiny real image, pushed under `<version>-<marker>`: (ref, digest)."""
        payload = io.BytesIO()
        with tarfile.open(fileobj=payload, mode="w") as tar:
            data = marker.encode()
            info = tarfile.TarInfo("marker")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        tar_path = self.root / f"{marker}.tar"
        tar_path.write_bytes(payload.getvalue())
        ref = f"{self.config.registry}/{self.datalab}:{version}-{marker}"
        self.engine.import_rootfs(tar_path, ref.rpartition(":")[0], ref.rpartition(":")[2], ["USER 1000"])
        return ref, self.engine.push(ref)

    def results(self, ref: str, digest: str, version: str = "1.2.0", scan: str = "passed") -> None:
        """This pipeline's results of the datalab, and what its push step pushed: the image
        (`image`) and the chart package (`chart`, which comes first)."""
        folder = self.root / "build" / "results"
        package = self.root / "build" / "charts" / f"{self.datalab}-{version}.tgz"
        sha = hashlib.sha256(package.read_bytes()).hexdigest() if package.is_file() else None
        image_id = self.engine.image_id(ref)
        for stage, status in (("build", "passed"), ("scan", scan), ("test", "passed"), ("chart", "passed")):
            details = (
                {
                    "ref": ref,
                    "image_id": image_id,
                    "bases": [
                        {"name": "jl_base", "image_id": "sha256:" + "b" * 64, "ref": f"{self.config.registry}/jl_base:abc"}
                    ],
                }
                if stage == "build"
                else {}
            )
            if stage == "chart":
                details = {"package": package.name, "sha256": sha}
            write_result(
                folder,
                self.datalab,
                {
                    "stage": stage,
                    "status": status,
                    "finished": "2026-11-25T10:00:00+00:00",
                    "summary": f"{stage} {status}",
                    "datalab_version": version,
                    "details": details,
                },
            )
        write_pushed(
            folder,
            self.datalab,
            {"image": {"ref": ref, "image_id": image_id, "digest": digest}, "chart": {"package": package.name, "sha256": sha}},
        )
        (folder / self.datalab / "sbom.cdx.json").write_text('{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": []}')

    def publish(self, log) -> int:
        """`sciapps publish` of the datalab, after its push step."""
        from sciapps.pipeline.publication import publish_checked

        return publish_checked(self.config, (self.datalab,), log, push=False, environ=self.environ)

    def chart(self, version: str = "1.2.0", image_digest: str = "") -> None:
        """The chart packaged and pushed, as `sciapps chart --push` does."""
        import yaml

        from sciapps.catalog.loader import resolve
        from sciapps.charts.chart import build_chart, push_chart

        config = self.config
        (lab,) = resolve(config, [self.datalab])
        values = yaml.safe_load((REPO / "tests" / "charts" / "all-options.values.yaml").read_text())
        values["datalab"]["id"] = self.datalab
        values["datalab"]["version"] = version
        values["image"]["digest"] = image_digest  # as `sciapps chart` writes it after a push: each build's chart differs
        report = build_chart(config, lab, self.root / "build" / "charts", values=values)
        assert report.passed, report.problems
        push_chart(report.package, config.charts_oci, registry_login(config, self.credentials))

    def set_version(self, version: str) -> None:
        path = self.root / "datalabs" / self.datalab / "datalab.yaml"
        text = path.read_text()
        old = next(line for line in text.splitlines() if line.startswith("version: "))
        path.write_text(text.replace(old, f"version: {version}", 1))

    def release(self, marker: str, version: str = "1.2.0") -> str:
        """A whole default-branch publication of `version`: image, chart, results, record."""
        self.set_version(version)
        ref, digest = self.image(marker, version)
        self.chart(version, digest)
        self.results(ref, digest, version)
        lines: list[str] = []
        assert self.publish(lines.append) == 0, lines
        return digest


def make_catalog(tmp_path: Path, registry: str, engine, credentials: dict[str, str] | None = None) -> Catalog:
    """A fresh datalab id per catalog, so the session's registries never mix two tests."""
    from sciapps.engine import Engine

    datalab = f"gaia-hrd-{uuid.uuid4().hex[:10]}"
    root = tmp_path / "catalog"
    (root / "datalabs").mkdir(parents=True)
    shutil.copytree(REPO / "datalabs" / "gaia-dr3-hrd", root / "datalabs" / datalab)
    meta = root / "datalabs" / datalab / "datalab.yaml"
    meta.write_text(meta.read_text().replace("id: gaia-dr3-hrd", f"id: {datalab}", 1))
    shutil.copytree(REPO / "charts", root / "charts")
    write_settings(root, {"registry": f"{registry}/sciapps"})
    signing.generate(root / "private" / "release.key", root / "keys" / "release.pub")
    credentials = credentials or {}
    pushing = (
        Engine(engine.client, login=registry_login(load_config(root / "sciapps.yaml"), credentials)) if credentials else engine
    )
    made = Catalog(root, datalab, registry, pushing, credentials)
    made.set_version("1.2.0")  # these tests publish 1.2.0, whatever version the example is at today
    return made


def remove_images(catalog: Catalog) -> None:
    """Leave the engine as it was."""
    for image in catalog.engine.client.images.list(name=f"{catalog.config.registry}/{catalog.datalab}*"):
        catalog.engine.client.images.remove(image.id, force=True)


@pytest.fixture
def catalog(tmp_path, registry, engine):
    made = make_catalog(tmp_path, registry, engine)
    yield made
    remove_images(made)
