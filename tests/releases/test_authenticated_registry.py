"""Images, charts and release records pushed to a registry that wants credentials (htpasswd),
with the job's credentials given per request: nothing stays logged in afterwards, and
missing or wrong credentials are one clear sentence."""

from __future__ import annotations

import io
import tarfile

import pytest
from click.testing import CliRunner

from sciapps.cli import cli
from sciapps.config import RegistryLogin, registry_login
from sciapps.engine import Engine, EngineError
from sciapps.errors import SciAppsError
from tests.conftest import REGISTRY_PASSWORD, REGISTRY_USER


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A HOME of its own: whatever would be left logged in would be written here."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("DOCKER_CONFIG", raising=False)
    (tmp_path / "home").mkdir()
    return tmp_path / "home"


def _left_logged_in(home) -> list[str]:
    return sorted(str(p.relative_to(home)) for p in home.rglob("*") if p.is_file())


def _tiny_image(engine, tmp_path, ref: str) -> None:
    payload = io.BytesIO()
    with tarfile.open(fileobj=payload, mode="w") as tar:
        info = tarfile.TarInfo("marker")
        tar.addfile(info, io.BytesIO(b""))
    (tmp_path / "image.tar").write_bytes(payload.getvalue())
    engine.import_rootfs(tmp_path / "image.tar", ref.rpartition(":")[0], ref.rpartition(":")[2], ["USER 1000"])


def test_credentials_come_from_the_jobs_variables_and_go_only_to_the_catalogs_registry():
    from sciapps.config import Config

    config = Config(registry="registry.example.org/datalabs/sciapps")
    assert registry_login(config, {}) is None
    login = registry_login(
        config, {"CI_REGISTRY": "registry.example.org", "CI_REGISTRY_USER": "gitlab-ci-token", "CI_REGISTRY_PASSWORD": "job"}
    )
    assert login == RegistryLogin("registry.example.org", "gitlab-ci-token", "job") and "job" not in repr(login)
    assert (
        registry_login(config, {"CI_REGISTRY": "elsewhere.example.org", "CI_REGISTRY_USER": "u", "CI_REGISTRY_PASSWORD": "p"})
        is None
    )
    deploy = registry_login(
        config,
        {
            "SCIAPPS_REGISTRY_USER": "deploy",
            "SCIAPPS_REGISTRY_PASSWORD": "t",
            "CI_REGISTRY_USER": "u",
            "CI_REGISTRY_PASSWORD": "p",
        },
    )
    assert deploy.username == "deploy"  # a deploy token from protected variables wins
    assert login.applies_to("registry.example.org/datalabs/sciapps/x:1") and not login.applies_to("evil.example.org/x:1")


def test_images_are_pushed_with_the_credentials_and_refused_without(locked_registry, engine, tmp_path, home):
    ref = f"{locked_registry}/sciapps/auth-probe:1"
    _tiny_image(engine, tmp_path, ref)
    try:
        with pytest.raises(EngineError, match=r"refused to let us push .*: no credentials were given"):
            Engine(login=None).push(ref)
        wrong = RegistryLogin(locked_registry, REGISTRY_USER, "not-the-password")
        with pytest.raises(EngineError, match="the credentials given were refused"):
            Engine(login=wrong).push(ref)
        good = Engine(login=RegistryLogin(locked_registry, REGISTRY_USER, REGISTRY_PASSWORD))
        digest = good.push(ref)
        assert digest.startswith("sha256:") and good.registry_digest(ref) == digest
        assert _left_logged_in(home) == []  # no ~/.docker/config.json: never `docker login`
    finally:
        engine.remove_image(ref)


def test_charts_are_pushed_with_the_credentials_and_refused_without(locked_registry, tmp_path, home):
    from sciapps.charts.chart import build_chart, push_chart
    from tests.charts.test_chart import ALL_OPTIONS, CONFIG, lab

    package = build_chart(CONFIG, lab(), tmp_path, values=ALL_OPTIONS).package
    remote = f"oci://{locked_registry}/charts"
    with pytest.raises(SciAppsError, match="refused to let us push a chart: no credentials were given"):
        push_chart(package, remote)
    with pytest.raises(SciAppsError, match="refused the credentials given"):
        push_chart(package, remote, RegistryLogin(locked_registry, REGISTRY_USER, "wrong"))
    push_chart(package, remote, RegistryLogin(locked_registry, REGISTRY_USER, REGISTRY_PASSWORD))
    assert _left_logged_in(home) == []  # Helm's registry config lived in a temporary folder


def test_a_release_is_published_and_verified_with_the_jobs_credentials(locked_registry, engine, tmp_path, home):
    """The whole publication against the locked registry, with GitLab's CI_REGISTRY_* variables."""
    from tests.releases.conftest import make_catalog, remove_images

    env = {"CI_REGISTRY": locked_registry, "CI_REGISTRY_USER": REGISTRY_USER, "CI_REGISTRY_PASSWORD": REGISTRY_PASSWORD}
    catalog = make_catalog(tmp_path, locked_registry, engine, env)
    config = ["--config", str(catalog.root / "sciapps.yaml")]
    try:
        catalog.release("first")
        result = CliRunner().invoke(cli, ["verify", catalog.datalab, *config], env=env)
        assert result.exit_code == 0, result.output
        result = CliRunner().invoke(cli, ["verify", catalog.datalab, *config], env=dict.fromkeys(env))
        assert result.exit_code == 2 and "asks for credentials and none were given" in result.output, result.output
        wrong = {**env, "CI_REGISTRY_PASSWORD": "wrong"}
        result = CliRunner().invoke(cli, ["verify", catalog.datalab, *config], env=wrong)
        assert result.exit_code == 2 and "the credentials given were refused" in result.output, result.output
        assert _left_logged_in(home) == []
    finally:
        remove_images(catalog)


def test_a_copy_the_registry_will_not_mount_streams_each_blob_through_the_job(engine, locked_registry, tmp_path):
    """GitLab's registry hands a job a token scoped to the repository it writes, so a mount
    from another repository opens an upload instead: the copy then streams each blob
    through the job, checked against its digest, and ends with the same manifest digest.
    A blob that runs past the size its manifest gives is refused, named."""
    import json

    from sciapps.releases.registry import MAX_MANIFEST_BYTES, ImageNotCopied, Registry

    login = RegistryLogin(locked_registry, REGISTRY_USER, REGISTRY_PASSWORD)
    pusher = Engine(engine.client, login=login)
    source = f"{locked_registry}/sciapps/staging/stream-lab"
    _tiny_image(engine, tmp_path, f"{source}:staged-1.0.0-abc")
    digest = pusher.push(f"{source}:staged-1.0.0-abc")
    engine.untag(f"{source}:staged-1.0.0-abc")
    registry = Registry(f"{locked_registry}/sciapps", login)
    _, body = registry._get(
        f"http://{locked_registry}/v2/sciapps/staging/stream-lab/manifests/{digest}",
        MAX_MANIFEST_BYTES,
        "the manifest",
        {"Accept": "application/vnd.docker.distribution.manifest.v2+json"},
    )
    manifest = json.loads(body)
    target = f"{locked_registry}/sciapps/stream-lab"
    uploads = f"http://{locked_registry}/v2/sciapps/stream-lab/blobs/uploads/"
    layer = manifest["layers"][0]
    opened = registry._send("POST", uploads, "an upload")
    with pytest.raises(ImageNotCopied, match=r"sent more of .*stream-lab@sha256:[0-9a-f]{12} than its 1 bytes"):
        registry.stream_blob(source, {**layer, "size": 1}, opened.headers["Location"])
    for blob in [manifest["config"], *manifest["layers"]]:  # no mount: an upload each, streamed
        opened = registry._send("POST", uploads, "an upload")
        assert opened.status_code == 202
        registry.stream_blob(source, blob, opened.headers["Location"])
    assert registry.copy_image(source, digest, target, "1.0.0-abc") == digest  # every blob there: only the manifest
    assert registry.digest(f"{target}:1.0.0-abc") == digest
