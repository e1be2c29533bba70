"""One verdict on one release record, the same for `sciapps verify`, `sciapps launch` and the store.

A record is verified when its DSSE signature verifies with the catalog's public key, its
statement has the record's shape, it is attached to the image it names, the registry
still serves that image under the tag the record names, and every check it cites passed
(a scan among them). A signed record of a release whose test failed is not verified: a
scientist reads "verified" as "it works", so the store offers no launch of it and
`verify` exits 1 on it, with the same sentence.
"""

from __future__ import annotations

from dataclasses import dataclass

from sciapps.releases.record import MalformedRecord, Release, release_of
from sciapps.releases.signing import NotVerified, open_envelope
from sciapps.semver import semver_key

UNCHECKED = object()  # the registry was not asked (the store build before any sync)


@dataclass(frozen=True)
class Judged:
    release: Release | None  # None when the record could not be read at all
    verified: bool
    why: str  # one sentence when not verified, "" when it is
    name: str  # the digest the record is attached to (its file and tag name)

    @property
    def state(self) -> str:
        return "verified" if self.verified else "not verified"


def judge(envelope: bytes, key, attached_to: str, registry_digest=UNCHECKED, datalab_id: str | None = None) -> Judged:
    """`attached_to`: the image digest (hex) the record is attached to; `registry_digest`:
    what the registry serves under the record's tag now (None: nothing), or UNCHECKED."""
    if key is None:
        return Judged(None, False, "the catalog has no public key to check records with", attached_to)
    try:
        release = release_of(open_envelope(envelope, key))
    except NotVerified as exc:
        return Judged(None, False, str(exc), attached_to)
    except MalformedRecord as exc:
        return Judged(None, False, f"the signed record is malformed ({exc})", attached_to)
    if release.key != attached_to:
        return Judged(
            release,
            False,
            f"the record describes {release.digest[:19]}… but is attached to sha256:{attached_to[:12]}…",
            attached_to,
        )
    if datalab_id is not None and release.datalab != datalab_id:
        return Judged(release, False, f"the record is of {release.datalab}, not {datalab_id}", attached_to)
    if registry_digest is UNCHECKED:
        return Judged(release, False, "the registry has not been checked yet (run `sciapps releases sync`)", attached_to)
    if registry_digest is None:
        return Judged(release, False, f"the registry no longer has {release.repository}:{release.tag}", attached_to)
    if registry_digest != release.digest:
        return Judged(
            release,
            False,
            f"the registry's image under {release.tag} is {registry_digest[:19]}…, not the signed {release.digest[:19]}…",
            attached_to,
        )
    why = why_failed(release.checks)
    if why:
        return Judged(release, False, why, attached_to)
    return Judged(release, True, "", attached_to)


def why_failed(checks: dict) -> str:
    """Why the checks a signed record cites do not make it a working release ("" when they do):
    the scan must have run, and every check cited must have passed."""
    if "scan" not in checks:
        return "signed, but its scan did not run"
    for stage, check in checks.items():
        status = check.get("status") if isinstance(check, dict) else None
        if status != "passed":
            said = "failed" if status == "failed" else f"did not pass ({str(status)[:20]})"
            summary = str(check.get("summary") or "")[:200] if isinstance(check, dict) else ""
            return f"signed, but its {stage} {said}" + (f": {summary}" if summary else "")
    return ""


def newest_first(judged: list[Judged]) -> list[Judged]:
    """Readable records by version (SemVer), then build, newest first; unreadable ones last."""
    readable = sorted(
        (j for j in judged if j.release),
        key=lambda j: (semver_key(j.release.version), j.release.build, j.release.published, j.name),
        reverse=True,
    )
    return readable + sorted((j for j in judged if not j.release), key=lambda j: j.name)


def pick(judged: list[Judged], version: str | None) -> Judged | None:
    """The record `ID[@VERSION]` names: that version's newest build, else the newest
    release; `version` may also be an image digest (`sha256:…`), naming one build."""
    for j in newest_first(judged):
        if j.release and (version is None or version in (j.release.version, j.release.digest)):
            return j
    return None
