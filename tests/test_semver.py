"""One SemVer ordering, for the review and for the release records alike."""

from __future__ import annotations

from sciapps.releases import judge
from sciapps.review import moderation
from sciapps.semver import semver_key


def test_semver_precedence():
    assert semver_key("1.0.0-rc.1") < semver_key("1.0.0") < semver_key("1.0.1") < semver_key("1.10.0")
    assert semver_key("1.0.0-alpha") < semver_key("1.0.0-alpha.1") < semver_key("1.0.0-beta")
    assert semver_key("1.0.0-1") < semver_key("1.0.0-alpha")  # numeric identifiers before alphanumeric ones
    assert semver_key("1.2.0+build.7") == semver_key("1.2.0")


def test_versions_order_by_semantic_versioning():
    versions = ["1.10.0", "1.9.0", "1.10.0-rc.1", "1.10.0-rc.2", "2.0.0-alpha", "0.1.0", "not-a-version"]
    assert sorted(versions, key=semver_key) == [
        "not-a-version",
        "0.1.0",
        "1.9.0",
        "1.10.0-rc.1",
        "1.10.0-rc.2",
        "1.10.0",
        "2.0.0-alpha",
    ]


def test_the_review_and_the_records_order_alike():
    assert moderation.semver_key is judge.semver_key is semver_key
