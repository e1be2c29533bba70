"""Release records against a real registry: published, verified, tampered with, mirrored."""

from __future__ import annotations

import json
import urllib.request

from click.testing import CliRunner

from sciapps.cli import cli
from sciapps.releases import signing
from sciapps.releases.commands import judge_in_registry
from sciapps.releases.registry import Registry, attachment_tag
from tests.catalogs import write_settings


def run(catalog, *args: str, env: dict | None = None):
    return CliRunner().invoke(cli, [*args, "--config", str(catalog.root / "sciapps.yaml")], env=env)


def tags(catalog) -> list[str]:
    with urllib.request.urlopen(f"http://{catalog.registry}/v2/sciapps/{catalog.datalab}/tags/list", timeout=10) as response:
        return json.load(response)["tags"]


def test_a_published_version_verifies_and_its_record_says_what_was_checked(catalog):
    digest = catalog.release("first")
    assert attachment_tag(digest) in tags(catalog)  # attached to the image digest, cosign's way
    result = run(catalog, "verify", f"{catalog.datalab}@1.2.0")
    assert result.exit_code == 0, result.output
    assert f"build 1 is {catalog.registry}/sciapps/{catalog.datalab}@{digest}" in result.output
    r = judge_in_registry(catalog.config, catalog.datalab).release
    assert (r.version, r.build, r.digest, r.tag) == ("1.2.0", 1, digest, "1.2.0-first")
    assert r.bases == (("jl_base", "sha256:" + "b" * 64),)
    assert r.chart.uri == f"oci://{catalog.registry}/charts/{catalog.datalab}" and r.chart.version == "1.2.0"
    assert r.chart.digest == Registry(catalog.config.registry).digest(f"{catalog.registry}/charts/{catalog.datalab}:1.2.0")
    assert set(r.checks) == {"build", "scan", "test", "chart"} and r.checks["scan"]["status"] == "passed"
    assert r.merge_request == "datalabs/sciapps!42" and r.commit == "0123456789abcdef0123456789abcdef01234567"
    assert r.sbom and r.sbom.startswith("sha256:")
    sbom = Registry(catalog.config.registry).fetch_sbom(r.repository, digest)
    assert json.loads(sbom)["bomFormat"] == "CycloneDX"


def test_publishing_the_same_image_again_is_no_new_build_and_a_rebuild_is(catalog):
    first = catalog.release("first")
    lines: list[str] = []
    assert catalog.publish(lines.append) == 0
    assert "already released" in lines[-1]
    second = catalog.release("patched-base")  # same version, a new image: its next build
    assert second != first
    r = judge_in_registry(catalog.config, f"{catalog.datalab}@1.2.0").release
    assert (r.build, r.digest) == (2, second)
    catalog.release("next", version="1.3.0")
    assert judge_in_registry(catalog.config, catalog.datalab).release.version == "1.3.0"
    assert judge_in_registry(catalog.config, f"{catalog.datalab}@1.2.0").release.digest == second


def test_a_different_image_under_the_published_tag_is_not_verified_and_not_launched(catalog, tmp_path):
    catalog.release("first")
    catalog.image("first-but-not", version="1.2.0")  # another image...
    catalog.engine.tag(
        catalog.engine.image_id(f"{catalog.registry}/sciapps/{catalog.datalab}:1.2.0-first-but-not"),
        f"{catalog.registry}/sciapps/{catalog.datalab}:1.2.0-first",
    )
    catalog.engine.push(f"{catalog.registry}/sciapps/{catalog.datalab}:1.2.0-first")  # ...pushed over the published tag
    result = run(catalog, "verify", catalog.datalab)
    assert result.exit_code == 1
    assert "not verified: the registry's image under 1.2.0-first is sha256:" in result.output
    launched = run(catalog, "launch", catalog.datalab, "--kubeconfig", str(tmp_path / "none"))
    assert launched.exit_code == 1 and "refusing to launch" in launched.output and "not the signed" in launched.output


def test_a_record_signed_with_another_key_is_not_verified_and_not_launched(catalog, tmp_path):
    from sciapps.releases.record import release_of

    digest = catalog.release("first")
    config = catalog.config
    registry = Registry(config.registry)
    repository = registry.repository(catalog.datalab)
    genuine = registry.fetch_record(repository, attachment_tag(digest))
    statement = signing.unverified_statement(genuine)
    release_of(statement)  # a well-formed record...
    signing.generate(tmp_path / "other.key", tmp_path / "other.pub")
    forged = signing.sign(statement, signing.signer_from_environment({signing.SIGNING_KEY_VARIABLE: str(tmp_path / "other.key")}))
    registry.push_record(repository, digest, forged, None, {})  # ...signed by someone else, in its place
    result = run(catalog, "verify", f"{catalog.datalab}@1.2.0")
    assert result.exit_code == 1 and "is not signed with the catalog's key" in result.output
    launched = run(catalog, "launch", catalog.datalab, "--kubeconfig", str(tmp_path / "none"))
    assert launched.exit_code == 1 and "refusing to launch" in launched.output


def test_a_signed_record_of_a_failed_test_is_not_verified_and_not_launched(catalog, tmp_path):
    """ "Verified" means it works: `verify`, `launch` and the store (tests/site) read the same verdict."""
    digest = catalog.release("first")
    registry = Registry(catalog.config.registry)
    repository = registry.repository(catalog.datalab)
    statement = signing.unverified_statement(registry.fetch_record(repository, attachment_tag(digest)))
    for item in statement["predicate"]["runDetails"]["byproducts"]:
        if item["name"] == "check:test":
            item["annotations"].update(status="failed", summary="1 of 1 notebooks failed")
    signed = signing.sign(statement, signing.signer_from_environment(catalog.environ))  # the catalog's own key
    registry.push_record(repository, digest, signed, None, {})
    result = run(catalog, "verify", f"{catalog.datalab}@1.2.0")
    assert result.exit_code == 1 and "signed, but its test failed: 1 of 1 notebooks failed" in result.output
    launched = run(catalog, "launch", catalog.datalab, "--kubeconfig", str(tmp_path / "none"))
    assert launched.exit_code == 1 and "refusing to launch" in launched.output


def test_every_build_stays_launchable_by_digest(catalog, tmp_path):
    """A rebuild of 1.2.0 moves the chart's 1.2.0 tag on; the first build is still launched
    with its own chart (pulled by digest and checked against its record). No cluster here:
    the record verifies and the chart checks out, then the cluster is the missing part (exit 2)."""
    first = catalog.release("first")
    second = catalog.release("rebuilt")
    registry = Registry(catalog.config.registry)
    charts = f"{catalog.registry}/charts/{catalog.datalab}"
    assert registry.digest(f"{charts}:1.2.0-first") != registry.digest(f"{charts}:1.2.0")  # the first chart kept its own tag
    for spec, digest in ((f"{catalog.datalab}@{first}", first), (f"{catalog.datalab}@1.2.0", second)):
        result = run(catalog, "launch", spec, "--kubeconfig", str(tmp_path / "no-such-kubeconfig"))
        assert result.exit_code == 2, result.output
        assert f"verified: {catalog.datalab} 1.2.0 build" in result.output and digest in result.output
        assert "no Kubernetes cluster configured" in result.output
    assert run(catalog, "verify", f"{catalog.datalab}@sha256:{'0' * 64}").exit_code == 1


def test_a_failed_scan_is_never_published(catalog):
    ref, digest = catalog.image("first")
    catalog.chart()
    catalog.results(ref, digest, scan="failed")
    lines: list[str] = []
    assert catalog.publish(lines.append) == 1
    assert "not published: its scan did not pass" in lines[0]
    assert not [t for t in tags(catalog) if t.endswith(".att")]
    result = run(catalog, "verify", catalog.datalab)
    assert result.exit_code == 1 and f"{catalog.datalab} has no release record in" in result.output


def test_verify_says_when_it_cannot_check(catalog):
    write_settings(catalog.root, {"registry": "127.0.0.1:9/sciapps"}, source=catalog.root / "sciapps.yaml")
    result = run(catalog, "verify", catalog.datalab)
    assert result.exit_code == 2 and "does not answer" in result.output
    (catalog.root / "keys" / "release.pub").unlink()
    result = run(catalog, "verify", catalog.datalab)
    assert result.exit_code == 2 and "no public key" in result.output
    assert run(catalog, "verify", "Not An Id").exit_code == 2


def test_publish_needs_the_signing_key(catalog):
    ref, digest = catalog.image("first")
    catalog.chart()
    catalog.results(ref, digest)
    result = run(catalog, "publish", catalog.datalab, env={signing.SIGNING_KEY_VARIABLE: ""})
    assert result.exit_code == 2 and "no signing key: $SCIAPPS_SIGNING_KEY is not set" in result.output
    result = run(catalog, "publish", catalog.datalab, env={signing.SIGNING_KEY_VARIABLE: "-----BEGIN PRIVATE KEY-----\nnope\n"})
    assert result.exit_code == 2 and "not an unencrypted PEM private key" in result.output


def test_the_store_mirror_is_rebuilt_from_the_registry_and_sees_tampering(catalog):
    """`sciapps releases sync` on a runner with nothing: the same records, judged the same;
    after an image is pushed over a published tag, the next sync shows it not verified."""
    import shutil

    from sciapps.releases.mirror import Mirror
    from sciapps.releases.signing import public_key

    first = catalog.release("first")
    second = catalog.release("second", version="1.3.0")
    config = catalog.config
    out = config.path_of(config.releases_dir)
    key = public_key(config.path_of(config.release_key))
    assert run(catalog, "releases", "sync").exit_code == 0
    judged = Mirror(out, key).releases(catalog.datalab)
    assert [(j.release.version, j.release.digest, j.verified) for j in judged] == [
        ("1.3.0", second, True),
        ("1.2.0", first, True),
    ]
    shutil.rmtree(out)  # a new runner: no cache, no artifacts
    result = run(catalog, "releases", "sync")
    assert result.exit_code == 0 and "2 fetched, 0 already here" in result.output
    assert Mirror(out, key).releases(catalog.datalab) == judged
    other_ref, _ = catalog.image("other", version="1.2.0")
    catalog.engine.tag(catalog.engine.image_id(other_ref), f"{catalog.registry}/sciapps/{catalog.datalab}:1.2.0-first")
    catalog.engine.push(f"{catalog.registry}/sciapps/{catalog.datalab}:1.2.0-first")
    result = run(catalog, "releases", "sync")
    assert result.exit_code == 0 and "0 fetched, 2 already here" in result.output
    after = {j.release.version: j for j in Mirror(out, key).releases(catalog.datalab)}
    assert after["1.3.0"].verified and not after["1.2.0"].verified
    assert after["1.2.0"].why.startswith("the registry's image under 1.2.0-first is sha256:")
    from sciapps.site.build import build_store
    from tests.conftest import REPO

    build_store(config, [config.catalog], catalog.root / "public", REPO / "mkdocs.yml")  # the next store build
    shown = json.loads((catalog.root / "public" / "api" / "datalabs" / f"{catalog.datalab}.json").read_text())
    assert [(v["version"], v["verified"]) for v in shown["versions"]] == [("1.3.0", True), ("1.2.0", False)]
    assert (
        shown["versions"][1]["why"].startswith("the registry's image under 1.2.0-first is")
        and shown["versions"][1]["launch"] is None
    )


def test_two_publications_at_the_same_moment_lose_nothing(catalog, tmp_path):
    """Records are named by the digest they are attached to: two pipelines publishing at once
    (two datalabs, or two builds) write different tags and never overwrite each other."""
    import shutil
    import threading

    from sciapps.pipeline.publication import publish_checked

    second_id = catalog.datalab + "-b"
    shutil.copytree(catalog.root / "datalabs" / catalog.datalab, catalog.root / "datalabs" / second_id)
    meta = catalog.root / "datalabs" / second_id / "datalab.yaml"
    meta.write_text(meta.read_text().replace(f"id: {catalog.datalab}", f"id: {second_id}", 1))
    ref_a, digest_a = catalog.image("a")
    catalog.chart()
    catalog.results(ref_a, digest_a)
    first = type(catalog)(catalog.root, second_id, catalog.registry, catalog.engine)
    ref_b, digest_b = first.image("b")
    first.chart()
    first.results(ref_b, digest_b)
    outcomes, lines = {}, []
    threads = [
        threading.Thread(
            target=lambda i=i: outcomes.__setitem__(
                i, publish_checked(catalog.config, (i,), lines.append, push=False, environ=catalog.environ)
            )
        )
        for i in (catalog.datalab, second_id)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes == {catalog.datalab: 0, second_id: 0}, lines
    assert run(catalog, "verify", catalog.datalab).exit_code == 0
    assert run(catalog, "verify", second_id).exit_code == 0


def test_a_chart_only_render_uses_the_released_image_by_digest(catalog):
    """`sciapps plan` renders only the chart of a published datalab when the shared chart
    changed: with no image built in this pipeline, the chart takes its verified release's."""
    import tarfile

    import yaml

    digest = catalog.release("first")
    (catalog.root / "build" / "results" / catalog.datalab / "build.json").unlink()  # a new pipeline: nothing built
    result = run(catalog, "chart", catalog.datalab)
    assert result.exit_code == 0, result.output
    assert f"chart only, for the released image {catalog.config.registry}/{catalog.datalab}@{digest}" in result.output
    with tarfile.open(catalog.root / "build" / "charts" / f"{catalog.datalab}-1.2.0.tgz") as tar:
        values = yaml.safe_load(tar.extractfile(f"{catalog.datalab}/values.yaml"))
    assert values["image"]["digest"] == digest
    (catalog.root / "keys" / "release.pub").unlink()  # cannot be checked: skipped, with the reason
    result = run(catalog, "chart", catalog.datalab)
    assert result.exit_code == 0 and "chart skipped: no image built here, and its release cannot be checked" in result.output
