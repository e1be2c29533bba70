"""The store's copy of the records: read bounded, judged the same in one process or many."""

from __future__ import annotations

import os

from sciapps.releases.mirror import CHECK_FILE, Mirror
from tests.releases import records


def test_many_datalabs_are_judged_the_same_in_parallel(tmp_path):
    signer = records.keys(tmp_path)
    out = tmp_path / "build" / "releases"
    ids = [f"lab-{i:03d}" for i in range(210)]
    records.mirror(out, {i: [records.record(signer, i, "1.0.0"), records.record(signer, i, "1.1.0")] for i in ids})
    mirror = Mirror(out, signer.public_key)
    alone = {i: mirror.releases(i) for i in ids}
    assert mirror.all_releases(ids, jobs=2) == alone
    assert all([j.release.version for j in alone[i]] == ["1.1.0", "1.0.0"] and all(j.verified for j in alone[i]) for i in ids)


def test_what_is_not_a_record_is_passed_over(tmp_path):
    signer = records.keys(tmp_path)
    out = tmp_path / "releases"
    digest, envelope = records.record(signer, "gaia-dr3-hrd", "1.2.0")
    records.mirror(out, {"gaia-dr3-hrd": [(digest, envelope)]})
    folder = out / "gaia-dr3-hrd"
    (folder / "notes.txt").write_text("not a record")
    (folder / ("0" * 64 + ".dsse.json")).write_bytes(b"x" * (2 * 1024 * 1024))  # too large to read
    os.symlink("/etc/passwd", folder / ("1" * 64 + ".dsse.json"))  # never followed
    (out / "../escape").mkdir()
    judged = Mirror(out, signer.public_key).releases("gaia-dr3-hrd")
    assert [(j.release.version, j.verified) for j in judged] == [("1.2.0", True)]
    assert Mirror(out, signer.public_key).releases("../escape") == []


def test_an_unreadable_registry_check_is_a_warning_and_nothing_counts_as_checked(tmp_path):
    signer = records.keys(tmp_path)
    out = tmp_path / "releases"
    records.mirror(out, {"gaia-dr3-hrd": [records.record(signer, "gaia-dr3-hrd", "1.2.0")]})
    (out / CHECK_FILE).write_text("{not json")
    mirror = Mirror(out, signer.public_key)
    assert mirror.problems and "not readable" in mirror.problems[0]
    (j,) = mirror.releases("gaia-dr3-hrd")
    assert not j.verified and "has not been checked" in j.why
