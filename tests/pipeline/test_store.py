"""The pages job's sync of the release records (sciapps.pipeline.store): after a publication
only what changed since the last sync, every tag again on a schedule; against a real
registry, with records really published."""

from __future__ import annotations

import json

import pytest

from sciapps.errors import SciAppsError
from sciapps.pipeline.store import sync_store
from sciapps.releases.mirror import CHECK_FILE, read_check
from tests.releases.conftest import make_catalog, remove_images
from tests.gitrepo import git
from tests.catalogs import write_settings


@pytest.fixture
def catalog(tmp_path, registry, engine):
    made = make_catalog(tmp_path, registry, engine)
    git(made.root, "init", "-q", "-b", "main")
    commit(made.root, "the catalog")
    yield made
    remove_images(made)


def commit(root, message: str) -> str:
    git(root, "add", "-A")
    git(root, "commit", "-qm", message)
    return git(root, "rev-parse", "HEAD")


def synced(catalog, **options) -> list[str]:
    lines: list[str] = []
    assert sync_store(catalog.config, lines.append, **options) == 0
    return lines


def test_after_a_publication_only_what_changed_since_the_last_sync_is_synced(catalog):
    out = catalog.config.path_of(catalog.config.releases_dir)
    first = catalog.release("first")
    head = commit(catalog.root, "publish 1.2.0")
    lines = synced(catalog)
    assert lines[0] == "a full sync: there is no earlier sync here"
    assert "release records (all 1 datalabs): 1 fetched, 0 already here, 1 tags checked" in lines[-1]
    check = read_check(out)
    assert check["commit"] == head and check["tags"] == {f"{catalog.datalab}/{first[7:]}": first}

    second = catalog.release("second", version="1.3.0")  # its metadata changes in the merge that publishes it
    head = commit(catalog.root, "publish 1.3.0")
    lines = synced(catalog)
    assert "release records (1 datalab(s) since the last sync): 1 fetched, 1 already here, 2 tags checked" in lines[-1]
    assert read_check(out)["tags"] == {f"{catalog.datalab}/{first[7:]}": first, f"{catalog.datalab}/{second[7:]}": second}
    assert read_check(out)["full_check"] == check["full_check"] and read_check(out)["commit"] == head

    # the first release's tag is moved in the registry: a sync after an unrelated commit keeps the
    # last check; the scheduled full check sees it
    ref = f"{catalog.config.registry}/{catalog.datalab}:1.2.0-first"
    moved_ref, moved = catalog.image("moved")
    catalog.engine.tag(catalog.engine.image_id(moved_ref), ref)
    assert catalog.engine.push(ref) == moved
    (catalog.root / "NOTES.md").write_text("not a datalab\n")
    commit(catalog.root, "notes")
    lines = synced(catalog)
    assert "release records (0 datalab(s) since the last sync): 0 fetched" in lines[-1]
    assert read_check(out)["tags"][f"{catalog.datalab}/{first[7:]}"] == first
    lines = synced(catalog, full=True)
    assert "release records (all 1 datalabs)" in lines[-1]
    assert read_check(out)["tags"][f"{catalog.datalab}/{first[7:]}"] == moved


def test_a_full_sync_when_the_last_one_cannot_be_compared_with(catalog):
    out = catalog.config.path_of(catalog.config.releases_dir)
    catalog.release("first")
    commit(catalog.root, "publish")
    synced(catalog)
    text = (out / CHECK_FILE).read_text().replace(read_check(out)["commit"], "f" * 40)  # a commit this clone does not have
    (out / CHECK_FILE).write_text(text)
    lines = synced(catalog)
    assert lines[0] == f"a full sync: the last sync's commit {'f' * 12} is not in this checkout's history"
    (out / CHECK_FILE).write_text("{not json")
    assert synced(catalog)[0] == "a full sync: there is no earlier sync here"


def test_a_registry_that_does_not_answer_leaves_the_last_copy_whole(catalog):
    out = catalog.config.path_of(catalog.config.releases_dir)
    catalog.release("first")
    commit(catalog.root, "publish")
    synced(catalog)
    before = sorted((p.relative_to(out), p.read_bytes()) for p in out.rglob("*") if p.is_file())
    write_settings(catalog.root, {"registry": "127.0.0.1:9/sciapps"}, source=catalog.root / "sciapps.yaml")
    for full in (False, True):
        with pytest.raises(SciAppsError, match="does not answer"):
            sync_store(catalog.config, lambda line: None, full=full)
    assert sorted((p.relative_to(out), p.read_bytes()) for p in out.rglob("*") if p.is_file()) == before


def test_a_slower_pipelines_pages_job_syncs_what_it_published(catalog, tmp_path):
    """Two merges, two pipelines: the second's pages job syncs first (at its commit), then
    the first's, slower, runs at the earlier commit. The last sync's commit is not in that
    checkout's history, so what changed between is unknown: a full sync, never a skipped
    publication. And a pages job always syncs what its own plan published."""
    from sciapps.pipeline.store import published_by

    out = catalog.config.path_of(catalog.config.releases_dir)
    synced(catalog)  # at the catalog's first commit
    first = catalog.release("first")
    slow = commit(catalog.root, "merge: publish 1.2.0 (the slow pipeline)")
    (catalog.root / "NOTES.md").write_text("a later merge\n")
    commit(catalog.root, "merge: notes (the fast pipeline)")
    synced(catalog)  # the fast pipeline's pages job: nothing it changed is a datalab
    git(catalog.root, "checkout", "-q", "--detach", slow)  # the slow pipeline's pages job, at its own commit
    lines = synced(catalog)
    assert lines[0].endswith("is not in this checkout's history") and "(all 1 datalabs)" in lines[-1]
    assert read_check(out)["tags"] == {f"{catalog.datalab}/{first[7:]}": first}
    # with the ancestry intact, the plan's own publications are synced even where the diff says nothing
    git(catalog.root, "checkout", "-q", "main")
    synced(catalog, full=True)
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(json.dumps({"build": [catalog.datalab, "../../etc", 7], "chart": ["no-such-lab"]}))
    assert published_by(plan_file) == [catalog.datalab, "no-such-lab"]
    assert published_by(tmp_path / "missing.json") == [] and published_by(None) == []
    (tmp_path / "bad.json").write_text("[" * 100000)
    assert published_by(tmp_path / "bad.json") == []
    lines = synced(catalog, also=published_by(plan_file))
    assert "release records (1 datalab(s) since the last sync)" in lines[-1]  # the unknown id is left out
