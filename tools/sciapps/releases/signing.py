"""The catalog's signing key pair, and DSSE envelopes made and opened with securesystemslib.

The private key is an Ed25519 key in PEM (PKCS#8), given to the publishing job in the
protected CI variable `SCIAPPS_SIGNING_KEY` (its text, or the path of a GitLab "file"
variable holding it). The public key is a file in the catalog repository (`release_key` in
sciapps.yaml), changed only through a moderated merge request, and published with the store.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from pathlib import Path
from typing import Mapping

from sciapps.errors import SciAppsError

SIGNING_KEY_VARIABLE = "SCIAPPS_SIGNING_KEY"
PAYLOAD_TYPE = "application/vnd.in-toto+json"
MAX_KEY_BYTES = 64 * 1024
MAX_ENVELOPE_BYTES = 1024 * 1024


class NotVerified(Exception):
    """A record that does not verify; the message is one sentence saying why."""


def generate(private: Path, public: Path) -> None:
    """Write a new Ed25519 key pair; refuses to replace either file."""
    from cryptography.hazmat.primitives import serialization
    from securesystemslib.signer import CryptoSigner

    for path in (private, public):
        if os.path.lexists(path):
            raise SciAppsError(
                f"{path} exists; nothing was written", "remove it first if you really mean to replace the catalog's key"
            )
    signer = CryptoSigner.generate_ed25519()
    public.parent.mkdir(parents=True, exist_ok=True)
    private.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(private, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(signer.private_bytes)
    pem = signer._private_key.public_key().public_bytes(  # noqa: SLF001 (the key object securesystemslib holds)
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    public.write_bytes(pem)


def _read_bounded(path: Path, what: str) -> bytes:
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_KEY_BYTES + 1)
    except OSError as exc:
        raise SciAppsError(f"cannot read {what} {path} ({exc.strerror})", "check the path and its permissions") from None
    if len(data) > MAX_KEY_BYTES:
        raise SciAppsError(f"{what} {path} is larger than {MAX_KEY_BYTES // 1024} KiB: not a key", "give the PEM file of the key")
    return data


def signer_from_environment(environ: Mapping[str, str] = os.environ):
    """The catalog's signer, from the protected variable; one sentence when it is missing or wrong."""
    from cryptography.hazmat.primitives.serialization import load_pem_private_key
    from securesystemslib.signer import CryptoSigner

    value = environ.get(SIGNING_KEY_VARIABLE, "")
    if not value.strip():
        raise SciAppsError(
            f"no signing key: ${SIGNING_KEY_VARIABLE} is not set",
            "set it as a protected, masked CI variable holding the catalog's private key (see OPERATIONS.md)",
        )
    data = value.encode() if "-----BEGIN" in value else _read_bounded(Path(value), f"${SIGNING_KEY_VARIABLE}")
    try:
        key = load_pem_private_key(data, password=None)
        return CryptoSigner(key)
    except (ValueError, TypeError) as exc:
        raise SciAppsError(
            f"${SIGNING_KEY_VARIABLE} is not an unencrypted PEM private key ({str(exc)[:120]})",
            "give the release.key written by `sciapps keys generate`",
        ) from None


def public_key(path: Path):
    """The catalog's public key (a PEM file) as a securesystemslib key."""
    from cryptography.hazmat.primitives.serialization import load_pem_public_key
    from securesystemslib.signer import SSlibKey

    if not path.is_file():
        raise SciAppsError(
            f"no public key at {path}: records cannot be checked",
            "commit the catalog's public key there (`sciapps keys generate`), or set release_key in sciapps.yaml",
        )
    try:
        return SSlibKey.from_crypto(load_pem_public_key(_read_bounded(path, "the public key")))
    except Exception as exc:  # noqa: BLE001 (an unsupported key type raises the library's own errors)
        raise SciAppsError(
            f"{path} is not a PEM public key ({str(exc)[:120]})", "give the release.pub written by `sciapps keys generate`"
        ) from None


def public_pem(path: Path) -> bytes:
    """The public key's PEM text, as published with the store."""
    public_key(path)  # only a key that loads is published
    return _read_bounded(path, "the public key")


def sign(statement: dict, signer) -> bytes:
    """The statement in a DSSE envelope signed by `signer`, as JSON bytes."""
    from securesystemslib.dsse import Envelope

    payload = json.dumps(statement, sort_keys=True, separators=(",", ":")).encode()
    envelope = Envelope(payload=payload, payload_type=PAYLOAD_TYPE, signatures={})
    envelope.sign(signer)
    return json.dumps(envelope.to_dict(), sort_keys=True).encode()


def open_envelope(data: bytes, key) -> dict:
    """The statement inside a DSSE envelope, once its signature verifies with `key`."""
    from securesystemslib.dsse import Envelope
    from securesystemslib.exceptions import VerificationError

    if len(data) > MAX_ENVELOPE_BYTES:
        raise NotVerified(f"the record is larger than {MAX_ENVELOPE_BYTES // 1024} KiB")
    try:
        envelope = Envelope.from_dict(json.loads(data))
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error) as exc:
        raise NotVerified(f"the record is not a DSSE envelope ({type(exc).__name__})") from None
    if envelope.payload_type != PAYLOAD_TYPE:
        raise NotVerified(f"the record's payload type is {envelope.payload_type[:80]!r}, not an in-toto statement")
    try:
        envelope.verify([key], 1)
    except VerificationError:
        raise NotVerified("the record is not signed with the catalog's key") from None
    except Exception as exc:  # a malformed signature value
        raise NotVerified(f"the record's signature is malformed ({type(exc).__name__})") from None
    try:
        statement = json.loads(envelope.payload)
    except (ValueError, UnicodeDecodeError):
        raise NotVerified("the signed payload is not JSON") from None
    if not isinstance(statement, dict):
        raise NotVerified("the signed payload is not a statement")
    return statement


def unverified_statement(data: bytes) -> dict | None:
    """The statement of an envelope without checking it: only to learn which tag a record
    names before it is judged. None when it cannot be read."""
    try:
        envelope = json.loads(data[:MAX_ENVELOPE_BYTES])
        statement = json.loads(base64.b64decode(envelope["payload"], validate=True))
        return statement if isinstance(statement, dict) else None
    except (ValueError, KeyError, TypeError, binascii.Error):
        return None
