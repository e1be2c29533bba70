"""Signed release records made here, for tests of their readers (the store) without a registry."""

from __future__ import annotations

import hashlib
from pathlib import Path

from sciapps.releases import signing
from sciapps.releases.mirror import store_record, write_check
from sciapps.releases.record import Chart, statement

CHECKS = {
    stage: {"status": "passed", "summary": f"{stage} passed", "finished": "2026-11-20T10:00:00Z"}
    for stage in ("build", "scan", "test", "chart")
}


def keys(root: Path):
    """A key pair for the catalog at `root` (keys/release.pub), and its signer."""
    signing.generate(root / "private" / "release.key", root / "keys" / "release.pub")
    return signing.signer_from_environment({signing.SIGNING_KEY_VARIABLE: str(root / "private" / "release.key")})


def record(
    signer,
    datalab: str,
    version: str,
    build: int = 1,
    published: str = "2026-11-20T10:00:00+00:00",
    checks: dict | None = None,
    registry: str = "127.0.0.1:5000/sciapps",
    sbom: bytes | None = None,
    bases: tuple[tuple[str, str], ...] = (("jl_base", "sha256:" + "b" * 64),),
) -> tuple[str, bytes]:
    """(image digest, envelope) of one release of `datalab` `version`; `sbom`: the SBOM it
    names; `bases`: (name, image id) of the approved bases it was built on."""
    digest = "sha256:" + hashlib.sha256(f"{datalab} {version} {build}".encode()).hexdigest()
    body = statement(
        datalab=datalab,
        version=version,
        build=build,
        repository=f"{registry}/{datalab}",
        tag=f"{version}-{digest[7:19]}",
        digest=digest,
        bases=[(name, f"{registry}/{name}:1", image_id) for name, image_id in bases],
        chart=Chart(f"oci://{registry.split('/')[0]}/charts/{datalab}", version, "sha256:" + "c" * 64, "d" * 64),
        sbom="sha256:" + (hashlib.sha256(sbom).hexdigest() if sbom is not None else "e" * 64),
        checks=checks or CHECKS,
        source_repository="https://gitlab.example.org/datalabs/sciapps",
        commit="0" * 40,
        merge_request="datalabs/sciapps!1",
        builder="https://gitlab.example.org/runners/1",
        pipeline="https://gitlab.example.org/datalabs/sciapps/-/pipelines/1",
        started=None,
        published=published,
        sciapps_version="test",
    )
    return digest, signing.sign(body, signer)


def mirror(out: Path, records: dict[str, list[tuple[str, bytes]]], served: dict[str, str | None] | None = None) -> None:
    """Write records as `sciapps releases sync` does; the registry serves each record's own
    digest unless `served` says otherwise (`<id>/<digest hex>`: digest, or None)."""
    tags = {}
    for datalab, found in records.items():
        for digest, envelope in found:
            store_record(out, datalab, digest, envelope)
            tags[f"{datalab}/{digest[7:]}"] = digest
    write_check(out, "127.0.0.1:5000/sciapps", {**tags, **(served or {})})
