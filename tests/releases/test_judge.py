"""One verdict per record, whatever a registry (or whoever wrote to it) hands over."""

from __future__ import annotations

import base64
import json

import pytest

from sciapps.releases import signing
from sciapps.releases.judge import UNCHECKED, judge
from tests.releases import records


@pytest.fixture(scope="module")
def signer(tmp_path_factory):
    return records.keys(tmp_path_factory.mktemp("catalog"))


def _key(signer):
    return signer.public_key


def test_a_good_record_verifies(signer):
    digest, envelope = records.record(signer, "gaia-dr3-hrd", "1.2.0")
    j = judge(envelope, _key(signer), digest[7:], digest, "gaia-dr3-hrd")
    assert j.verified and j.why == "" and j.release.image.endswith(f"gaia-dr3-hrd@{digest}")


def _resigned(signer, envelope: bytes, change) -> bytes:
    statement = json.loads(base64.b64decode(json.loads(envelope)["payload"]))
    change(statement)
    return signing.sign(statement, signer)


@pytest.mark.parametrize(
    "make, why",
    [
        (lambda s, e, d: b"x" * (signing.MAX_ENVELOPE_BYTES + 1), "larger than"),
        (lambda s, e, d: b"not json", "not a DSSE envelope"),
        (lambda s, e, d: b"[1, 2]", "not a DSSE envelope"),
        (lambda s, e, d: json.dumps({**json.loads(e), "payloadType": "text/plain"}).encode(), "payload type is 'text/plain'"),
        (
            lambda s, e, d: json.dumps({**json.loads(e), "payload": base64.b64encode(b'{"x": 1}').decode()}).encode(),
            "not signed with the catalog's key",
        ),
        (
            lambda s, e, d: json.dumps({**json.loads(e), "signatures": [{"keyid": "k", "sig": "!!"}]}).encode(),
            "not a DSSE envelope",
        ),
        (lambda s, e, d: _resigned(s, e, lambda st: st.update(predicateType="https://example.org/x")), "malformed"),
        (lambda s, e, d: _resigned(s, e, lambda st: st["subject"][0].update(name="evil.example.org/x y")), "malformed"),
        (
            lambda s, e, d: _resigned(s, e, lambda st: st["predicate"]["buildDefinition"]["externalParameters"].update(build=0)),
            "malformed",
        ),
        (
            lambda s, e, d: _resigned(
                s, e, lambda st: st["predicate"]["runDetails"]["byproducts"].append({"name": "check:x" * 50})
            ),
            "malformed",
        ),
        (lambda s, e, d: _resigned(s, e, lambda st: st["subject"][0]["digest"].update(sha256="f" * 64)), "but is attached to"),
        (
            lambda s, e, d: _resigned(
                s, e, lambda st: st["predicate"]["buildDefinition"]["externalParameters"].update(datalab="other")
            ),
            "is of other",
        ),
    ],
)
def test_a_bad_record_is_one_sentence_never_an_error(signer, make, why):
    digest, envelope = records.record(signer, "gaia-dr3-hrd", "1.2.0")
    j = judge(make(signer, envelope, digest), _key(signer), digest[7:], digest, "gaia-dr3-hrd")
    assert not j.verified and why in j.why and "\n" not in j.why


def test_the_registry_and_the_scan_decide_too(signer):
    digest, envelope = records.record(signer, "gaia-dr3-hrd", "1.2.0")
    assert "has not been checked" in judge(envelope, _key(signer), digest[7:], UNCHECKED).why
    assert "no longer has" in judge(envelope, _key(signer), digest[7:], None).why
    assert "not the signed" in judge(envelope, _key(signer), digest[7:], "sha256:" + "0" * 64).why
    failed = {**records.CHECKS, "scan": {"status": "failed", "summary": "2 blocking", "finished": "2026-11-20T10:00:00Z"}}
    digest, envelope = records.record(signer, "gaia-dr3-hrd", "1.2.0", checks=failed)
    assert judge(envelope, _key(signer), digest[7:], digest).why == "signed, but its scan failed: 2 blocking"
    assert "no public key" in judge(envelope, None, digest[7:], digest).why


@pytest.mark.parametrize(
    "checks, why",
    [
        (
            {"test": {"status": "failed", "summary": "1 of 1 notebooks failed", "finished": "2026-11-20T10:00:00Z"}},
            "signed, but its test failed: 1 of 1 notebooks failed",
        ),
        (
            {"chart": {"status": "skipped", "summary": "", "finished": "2026-11-20T10:00:00Z"}},
            "signed, but its chart did not pass (skipped)",
        ),
    ],
)
def test_verified_means_every_check_the_record_cites_passed(signer, checks, why):
    """A signed record of a release whose test failed is not a working release: the store
    and `verify` both read this verdict."""
    digest, envelope = records.record(signer, "gaia-dr3-hrd", "1.2.0", checks={**records.CHECKS, **checks})
    j = judge(envelope, _key(signer), digest[7:], digest)
    assert (j.verified, j.why) == (False, why)


def test_a_record_without_a_scan_is_not_verified(signer):
    checks = {k: v for k, v in records.CHECKS.items() if k != "scan"}
    digest, envelope = records.record(signer, "gaia-dr3-hrd", "1.2.0", checks=checks)
    assert judge(envelope, _key(signer), digest[7:], digest).why == "signed, but its scan did not run"


def test_the_record_schema_is_a_valid_2020_12_schema_and_published_with_the_store():
    import jsonschema

    from sciapps.resources import schemas_dir

    schema = json.loads((schemas_dir() / "release-record.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$id"].endswith("/release-record/v1/release-record.schema.json")
