"""`sciapps health`: published releases tested again on their published images, by digest;
one that stopped working shows on the store and gets its maintainers' issue."""

from __future__ import annotations

import shutil

from click.testing import CliRunner

from sciapps.catalog.loader import load_datalab
from sciapps.cli import cli
from sciapps.config import load_config
from sciapps.images.build import build, plan
from sciapps.releases import signing
from sciapps.releases.mirror import store_record, write_check
from sciapps.releases.record import statement
from tests.conftest import CASES, REPO
from tests.releases.records import CHECKS
from tests.review.fake_gitlab import FakeGitLab, Server
from tests.catalogs import write_settings


def _record(signer, datalab: str, repository: str, digest: str) -> bytes:
    return signing.sign(
        statement(
            datalab=datalab,
            version="1.0.0",
            build=1,
            repository=repository,
            tag="1.0.0-health",
            digest=digest,
            bases=[],
            chart=None,
            sbom=None,
            checks=CHECKS,
            source_repository="https://gitlab.example.org/x",
            commit="0" * 40,
            merge_request=None,
            builder="test",
            pipeline="test",
            started=None,
            published="2026-11-20T10:00:00+00:00",
            sciapps_version="test",
        ),
        signer,
    )


def test_a_published_datalab_that_stopped_working_shows_and_gets_one_issue(engine, approved, registry, tmp_path):
    from sciapps.site.catalog import collect

    root = tmp_path / "catalog"
    shutil.copytree(CASES / "images" / "tiny-lab", root / "datalabs" / "tiny-lab")
    shutil.copytree(CASES / "images" / "tiny-lab", root / "datalabs" / "tiny-lab-gone")
    meta = root / "datalabs" / "tiny-lab-gone" / "datalab.yaml"
    meta.write_text(meta.read_text().replace("id: tiny-lab", "id: tiny-lab-gone", 1))
    gitlab = Server(FakeGitLab())
    write_settings(root, {"gitlab.url": gitlab.url, "registry": f"{registry}/health"})
    config = load_config(root / "sciapps.yaml")
    signing.generate(root / "private" / "release.key", root / "keys" / "release.pub")
    signer = signing.signer_from_environment({signing.SIGNING_KEY_VARIABLE: str(root / "private" / "release.key")})
    settings = load_config(REPO / "sciapps.yaml")
    built = build(
        engine, plan(load_datalab(CASES / "images" / "tiny-lab", settings.limits), settings, approved), log=lambda line: None
    )
    published = f"{registry}/health/tiny-lab:1.0.0-health"
    engine.tag(built.image_id or engine.image_id(built.ref), published)
    digest = engine.push(published)
    gone = "sha256:" + "9" * 64  # its image is no longer in the registry
    out = config.path_of(config.releases_dir)
    store_record(out, "tiny-lab", digest, _record(signer, "tiny-lab", f"{registry}/health/tiny-lab", digest))
    store_record(out, "tiny-lab-gone", gone, _record(signer, "tiny-lab-gone", f"{registry}/health/tiny-lab-gone", gone))
    write_check(out, f"{registry}/health", {f"tiny-lab/{digest[7:]}": digest, f"tiny-lab-gone/{gone[7:]}": gone})
    try:
        args = ["health", "--timeout", "60", "--notify", "--config", str(root / "sciapps.yaml")]
        result = CliRunner().invoke(cli, args, env={"SCIAPPS_ISSUES_TOKEN": "glpat-test"})
        assert result.exit_code == 1, result.output
        assert "tiny-lab 1.0.0 build 1: works" in result.output
        assert "tiny-lab-gone 1.0.0 build 1: STOPPED WORKING: could not be tested: cannot pull" in result.output
        assert "tiny-lab-gone: maintainers' issue opened" in result.output and "Traceback" not in result.output
        (issue,) = gitlab.fake.upstream.issues
        assert issue["labels"] == ["sciapps::health", "health::tiny-lab-gone"] and "stopped working" in issue["description"]
        entries = {e["id"]: e for e in collect(config, [root / "datalabs"]).entries}
        assert entries["tiny-lab"]["versions"][0]["health"]["passed"] is True
        assert entries["tiny-lab-gone"]["versions"][0]["health"]["summary"].startswith("could not be tested")
        again = CliRunner().invoke(cli, args, env={"SCIAPPS_ISSUES_TOKEN": "glpat-test"})
        assert "tiny-lab-gone: maintainers' issue unchanged" in again.output and len(gitlab.fake.upstream.issues) == 1
    finally:
        gitlab.close()
        engine.remove_image(published)
