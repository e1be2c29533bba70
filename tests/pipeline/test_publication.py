"""`sciapps publish --push --notify` (sciapps.pipeline.publish_checked): what a chain's
publish job does with the datalabs of its batch that did not pass. They are named, never
pushed or signed, and their maintainers get one issue each on the GitLab stand-in,
updated rather than opened again, and left alone by the other batches' jobs."""

from __future__ import annotations


import pytest
from click.testing import CliRunner

from sciapps.cli import cli
from sciapps.releases import signing
from tests.review.fake_gitlab import FakeGitLab, Server
from tests.catalogs import make_catalog


@pytest.fixture
def batch(tmp_path):
    gitlab = Server(FakeGitLab())
    root = make_catalog(tmp_path / "catalog", ("gaia-dr3-hrd", "xmm-epic-spectrum-fit"), {"gitlab.url": gitlab.url})
    signing.generate(tmp_path / "private" / "release.key", root / "keys" / "release.pub")
    env = {"SCIAPPS_ISSUES_TOKEN": "glpat-test", signing.SIGNING_KEY_VARIABLE: str(tmp_path / "private" / "release.key")}
    yield root, gitlab, env
    gitlab.close()


def publish(root, env, *ids: str):
    return CliRunner().invoke(cli, ["publish", *ids, "--push", "--notify", "--config", str(root / "sciapps.yaml")], env=env)


def test_a_batch_names_what_did_not_pass_and_its_maintainers_get_one_issue_each(batch):
    root, gitlab, env = batch
    result = publish(root, env, "gaia-dr3-hrd", "xmm-epic-spectrum-fit")
    assert result.exit_code == 1, result.output
    assert (
        "gaia-dr3-hrd: not published: no build result: run `sciapps build gaia-dr3-hrd` in this pipeline first" in result.output
    )
    assert "xmm-epic-spectrum-fit: maintainers' issue opened" in result.output
    issues = gitlab.fake.upstream.issues
    assert sorted(i["labels"][1] for i in issues) == ["publish::gaia-dr3-hrd", "publish::xmm-epic-spectrum-fit"]
    assert all(i["labels"][0] == "sciapps::publish" and "no build result" in i["description"] for i in issues)
    assert not (root / "build" / "results").exists() or not any(
        (root / "build" / "results").rglob("build.json")
    )  # nothing built or pushed
    again = publish(root, env, "gaia-dr3-hrd")  # the next run: updated, never a second issue
    assert "gaia-dr3-hrd: maintainers' issue unchanged" in again.output and len(gitlab.fake.upstream.issues) == 2
    # another batch's job knows nothing of xmm: its issue stays open
    assert [i["state"] for i in gitlab.fake.upstream.issues] == ["opened", "opened"]


def test_no_signing_key_is_an_environment_error_before_anything_is_pushed(batch):
    root, gitlab, env = batch
    result = publish(root, {"SCIAPPS_ISSUES_TOKEN": "glpat-test", signing.SIGNING_KEY_VARIABLE: ""}, "gaia-dr3-hrd")
    assert result.exit_code == 2 and "no signing key" in result.output and gitlab.fake.upstream.issues == []
