"""Release records in the OCI registry, beside the images they describe.

A record is an OCI artifact in the image's own repository, under the tag
`sha256-<image digest>.att` (cosign's convention for an attestation attached to a digest),
with the OCI 1.1 `subject` naming the image manifest too, for registries that answer the
referrers API. Its layers are the DSSE envelope and, when there is one, the CycloneDX SBOM.
Everything here goes through the `oras` SDK's registry client, whose authentication
(basic, and the bearer tokens GitLab's registry hands out) it reuses; each request has a
timeout and no hidden retries, and every read is bounded.
"""

from __future__ import annotations

import functools
import hashlib
import re
import tempfile
from pathlib import Path

from sciapps.config import REGISTRY_LOGIN_HINT, RegistryLogin, is_loopback
from sciapps.errors import SciAppsError
from sciapps.releases.signing import MAX_ENVELOPE_BYTES

HEX = "[0-9a-f]{64}"  # a sha256, as every digest here is written
DIGEST = re.compile(f"sha256:{HEX}")
ATTACHMENT = re.compile(f"^sha256-({HEX})\\.att$")
ENVELOPE_MEDIA_TYPE = "application/vnd.dsse.envelope.v1+json"
SBOM_MEDIA_TYPE = "application/vnd.cyclonedx+json"
CONFIG_MEDIA_TYPE = "application/vnd.sciapps.release.config.v1+json"
MANIFEST_TYPES = (
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
)
MAX_MANIFEST_BYTES = 256 * 1024
MAX_SBOM_BYTES = 64 * 1024 * 1024
MAX_BLOB_BYTES = 32 * 2**30  # one layer an image copy streams through a job, at most
MAX_TAGS = 100_000
MAX_TAG_PAGES = 500  # pages of a tag list; a registry that pages on without new tags is stopped sooner
TIMEOUT_S = 30  # per connection attempt and per read
REQUEST_DEADLINE_S = 90  # one request, answer and body: a registry that answers a byte at a time is cut off
LIST_DEADLINE_S = 300  # one repository's whole tag list


class ImageNotCopied(SciAppsError):
    """The registry would not copy a staged image as it is: a finding of the datalab (exit 1)."""

    exit_code = 1


class RegistryUnreachable(SciAppsError):
    """The registry did not answer, or refused us: an environment error (exit 2)."""


def is_digest(value: object) -> bool:
    """`sha256:` and 64 lower-case hex digits: an image, manifest or blob digest."""
    return isinstance(value, str) and DIGEST.fullmatch(value) is not None


def attachment_tag(digest: str) -> str:
    return f"sha256-{digest.removeprefix('sha256:')}.att"


def _challenge(host: str) -> str:
    """The scheme a registry asks for (`Basic` for htpasswd, `Bearer` for GitLab's token
    service), from its answer to `GET /v2/`; "" when it asks for nothing or does not answer."""
    import requests

    scheme = "http" if is_loopback(host) else "https"
    try:
        response = requests.get(f"{scheme}://{host}/v2/", timeout=TIMEOUT_S)
    except requests.RequestException:
        return ""
    return response.headers.get("WWW-Authenticate", "").split(" ")[0].lower() if response.status_code == 401 else ""


def _client(host: str, credentials: tuple[str, str] | None):
    import oras.provider

    class Client(oras.provider.Registry):
        # oras retries a failed request five times with growing sleeps (about two minutes
        # when the registry is down); one attempt with a timeout says so at once.
        def do_request(self, url, method="GET", data=None, headers=None, json=None, stream=False):
            return oras.provider.Registry.do_request.__wrapped__(self, url, method, data, headers, json, stream)

    challenge = _challenge(host)
    if challenge == "basic" and not credentials:
        return None  # it wants a password and there is none: say so before any request
    client = Client(
        host, insecure=is_loopback(host), auth_backend="basic" if challenge == "basic" else "token"
    )  # token: GitLab's, also anonymous
    client.session.request = functools.partial(client.session.request, timeout=TIMEOUT_S)
    if credentials:
        client.auth.set_basic_auth(*credentials)
    return client


class Registry:
    """The catalog's registry (`registry` in sciapps.yaml: `<host>[/<path>]`)."""

    def __init__(self, registry: str, login: RegistryLogin | None = None):
        self.registry = registry.rstrip("/")
        self.host = self.registry.split("/")[0]
        self.login = login if login is not None and login.applies_to(self.registry) else None
        self.client = _client(self.host, (self.login.username, self.login.password) if self.login else None)
        if self.client is None:
            raise RegistryUnreachable(f"the registry {self.host} asks for credentials and none were given", REGISTRY_LOGIN_HINT)
        self.scheme = "http" if is_loopback(self.host) else "https"

    def copy(self) -> "Registry":
        """Another client of the same registry (one per thread)."""
        return Registry(self.registry, self.login)

    def repository(self, datalab_id: str) -> str:
        return f"{self.registry}/{datalab_id}"

    def _path(self, repository: str) -> str:
        return repository.split("/", 1)[1]

    def _request(self, method: str, url: str, headers: dict | None = None, stream: bool = False):
        import requests

        try:
            return self.client.do_request(url, method, headers=headers or {}, stream=stream)
        except requests.RequestException as exc:
            raise RegistryUnreachable(
                f"the registry {self.host} does not answer ({type(exc).__name__})",
                "check that it is running and reachable from here",
            ) from None
        except ValueError:  # oras: "Cannot respond to request for authentication."
            raise RegistryUnreachable(
                f"the registry {self.host} asks for credentials and none were given", REGISTRY_LOGIN_HINT
            ) from None

    def _refused(self, response, what: str):
        if response.status_code in (401, 403):
            given = "the credentials given were refused" if self.login else "no credentials were given"
            return RegistryUnreachable(
                f"the registry {self.host} refused to show {what}: {given} (HTTP {response.status_code})", REGISTRY_LOGIN_HINT
            )
        return RegistryUnreachable(
            f"the registry {self.host} answered HTTP {response.status_code} for {what}", "see the registry's log"
        )

    def tags(self, repository: str) -> list[str]:
        """Every tag of a repository; [] when it does not exist. Bounded by items
        (MAX_TAGS), pages (MAX_TAG_PAGES), time (LIST_DEADLINE_S) and progress: a page that
        brings no new tag, or a next link already followed, ends a list that would never end."""
        import json
        import time

        url = f"{self.scheme}://{self.host}/v2/{self._path(repository)}/tags/list?n=1000"
        found: dict[str, None] = {}
        followed: set[str] = set()
        started = time.monotonic()
        while url and len(found) < MAX_TAGS:
            if len(followed) >= MAX_TAG_PAGES or time.monotonic() - started > LIST_DEADLINE_S:
                raise RegistryUnreachable(
                    f"the registry {self.host} did not end the tag list of {repository} "
                    f"within {MAX_TAG_PAGES} pages or {LIST_DEADLINE_S} s",
                    "see the registry's log",
                )
            followed.add(url)
            response, body = self._get(url, MAX_MANIFEST_BYTES * 16, f"the tags of {repository}")
            if response.status_code == 404:
                return []
            if response.status_code != 200:
                raise self._refused(response, f"the tags of {repository}")
            try:
                page = json.loads(body).get("tags") or []
            except (ValueError, AttributeError):
                raise RegistryUnreachable(
                    f"the registry {self.host} sent tags of {repository} that are not a JSON tag list", "see the registry's log"
                ) from None
            before = len(found)
            found.update(dict.fromkeys(t for t in page if isinstance(t, str)) if isinstance(page, list) else {})
            link = response.links.get("next", {}).get("url")
            url = f"{self.scheme}://{self.host}{link}" if link and link.startswith("/v2/") else None
            if url in followed or (url and len(found) == before):
                raise RegistryUnreachable(
                    f"the registry {self.host} sent a tag list of {repository} that never ends "
                    "(a next page already read, or one without new tags)",
                    "see the registry's log",
                )
        return list(found)[:MAX_TAGS]

    def _get(self, url: str, limit: int, what: str, headers: dict | None = None):
        """(response, body up to `limit` bytes) of one GET, within REQUEST_DEADLINE_S;
        the body is b"" unless the answer is 200."""

        def fetch():
            response = self._request("GET", url, headers=headers, stream=True)
            return response, (_bounded(response, limit, what) if response.status_code == 200 else b"")

        return _within(
            fetch, REQUEST_DEADLINE_S, f"the registry {self.host} took more than {REQUEST_DEADLINE_S} s to send {what}"
        )

    def manifest(self, reference: str) -> tuple[str, str, int] | None:
        """(digest, media type, size) of the manifest `reference` (`<repository>:<tag>` or
        `@sha256:...`) names, or None when there is none."""
        repository, sep, tag = reference.rpartition("@") if "@" in reference else reference.rpartition(":")
        url = f"{self.scheme}://{self.host}/v2/{self._path(repository)}/manifests/{tag}"
        response = _within(
            lambda: self._request("HEAD", url, headers={"Accept": ", ".join(MANIFEST_TYPES)}),
            REQUEST_DEADLINE_S,
            f"the registry {self.host} took more than {REQUEST_DEADLINE_S} s to answer for {reference}",
        )
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise self._refused(response, reference)
        digest = response.headers.get("Docker-Content-Digest", "")
        if not is_digest(digest):
            raise RegistryUnreachable(
                f"the registry {self.host} gave no digest for {reference}", "use a registry that follows the distribution spec"
            )
        media_type = response.headers.get("Content-Type", MANIFEST_TYPES[0]).split(";")[0].strip()
        size = response.headers.get("Content-Length") or "0"
        if media_type not in MANIFEST_TYPES or not size.isdigit() or int(size) > MAX_MANIFEST_BYTES:
            raise RegistryUnreachable(
                f"the registry {self.host} describes {reference} as {media_type[:60]!r} of {size[:20]} bytes, "
                "not an image manifest",
                "see the registry's log",
            )
        return digest, media_type, int(size)

    def digest(self, reference: str) -> str | None:
        found = self.manifest(reference)
        return found[0] if found else None

    def push_record(
        self, repository: str, image_digest: str, envelope: bytes, sbom: bytes | None, annotations: dict[str, str]
    ) -> str:
        """Attach a record (and the SBOM) to the image `image_digest`; the artifact's digest."""
        import oras.oci
        import requests

        subject = self.manifest(f"{repository}@{image_digest}")
        if subject is None:
            raise SciAppsError(
                f"{repository}@{image_digest} is not in the registry", "push the image first (`sciapps build --push`)"
            )
        target = f"{repository}:{attachment_tag(image_digest)}"
        with tempfile.TemporaryDirectory(prefix="sciapps-record-") as tmp:
            files = [f"{Path(tmp, 'record.dsse.json')}:{ENVELOPE_MEDIA_TYPE}"]
            Path(tmp, "record.dsse.json").write_bytes(envelope)
            if sbom is not None:
                Path(tmp, "sbom.cdx.json").write_bytes(sbom)
                files.append(f"{Path(tmp, 'sbom.cdx.json')}:{SBOM_MEDIA_TYPE}")
            Path(tmp, "config.json").write_bytes(b"{}")
            try:
                response = self.client.push(
                    target=target,
                    files=files,
                    disable_path_validation=True,
                    manifest_annotations=annotations,
                    manifest_config=f"{Path(tmp, 'config.json')}:{CONFIG_MEDIA_TYPE}",
                    subject=oras.oci.Subject(mediaType=subject[1], digest=subject[0], size=subject[2]),
                    quiet=True,
                )
            except requests.RequestException as exc:
                raise RegistryUnreachable(
                    f"the registry {self.host} does not answer ({type(exc).__name__})", "check that it is running"
                ) from None
            except ValueError as exc:
                given = "the credentials given were refused" if self.login else "no credentials were given"
                raise RegistryUnreachable(
                    f"the registry {self.host} refused to let us push the release record ({given}: {str(exc)[:120]})",
                    REGISTRY_LOGIN_HINT,
                ) from None
        digest = response.headers.get("Docker-Content-Digest", "")
        return digest

    def keep(self, repository: str, digest: str, tag: str) -> None:
        """Tag the manifest `digest` also as `tag`, so that it is never an untagged manifest a
        registry's garbage collection may delete (a chart version whose tag a rebuild moved on)."""
        self.copy_image(repository, digest, repository, tag)

    def _send(self, method: str, url: str, what: str, data=None, headers: dict | None = None, deadline: float = 0):
        deadline = deadline or REQUEST_DEADLINE_S
        try:
            return _within(
                lambda: self.client.do_request(url, method, data=data, headers=headers or {}),
                deadline,
                f"the registry {self.host} took more than {deadline:.0f} s to answer for {what}",
            )
        except SciAppsError:  # ours, as they were raised (a refused blob, a registry that took too long)
            raise
        except Exception as exc:  # noqa: BLE001 (requests' and oras' errors alike)
            raise RegistryUnreachable(
                f"the registry {self.host} does not answer ({type(exc).__name__})", "check that it is running"
            ) from None

    def copy_image(self, source: str, digest: str, target: str, tag: str) -> str:
        """Registry-side: the manifest `source@digest` also served as `target:tag`, the same
        bytes and so the same digest; its blobs are mounted from `source` into `target`, never
        pulled to a runner or pushed again. A manifest whose bytes are not `digest`, a blob the
        registry will not mount, or a tag that ends up naming another digest is refused,
        named (`ImageNotCopied`)."""
        import json

        pinned = f"{source}@{digest}"
        if not is_digest(digest):
            raise ImageNotCopied(f"{digest[:80]!r} is not a sha256 digest", "copy an image by its digest")
        response, body = self._get(
            f"{self.scheme}://{self.host}/v2/{self._path(source)}/manifests/{digest}",
            MAX_MANIFEST_BYTES,
            pinned,
            {"Accept": ", ".join(MANIFEST_TYPES)},
        )
        if response.status_code == 404:
            raise ImageNotCopied(f"{pinned} is not in the registry", "run the pipeline again: its build stages it")
        if response.status_code != 200:
            raise self._refused(response, pinned)
        if "sha256:" + hashlib.sha256(body).hexdigest() != digest:
            raise ImageNotCopied(
                f"the registry served other bytes than {pinned} under that digest: refused", "see the registry's log"
            )
        media_type = response.headers.get("Content-Type", "").split(";")[0].strip()
        try:
            manifest = json.loads(body)
        except ValueError:
            manifest = None
        if not isinstance(manifest, dict):
            raise ImageNotCopied(f"{pinned} is not a JSON manifest", "see the registry's log")
        media_type = manifest.get("mediaType") if manifest.get("mediaType") in MANIFEST_TYPES else media_type
        if media_type not in MANIFEST_TYPES[:2]:
            raise ImageNotCopied(
                f"{pinned} is {str(media_type)[:60]!r}, not one image's manifest", "stage a single-platform image"
            )
        blobs = [manifest.get("config"), *(manifest.get("layers") or [])]
        if not all(isinstance(b, dict) and is_digest(b.get("digest", "")) for b in blobs) or len(blobs) > 1000:
            raise ImageNotCopied(f"{pinned} names blobs without sha256 digests", "see the registry's log")
        if target != source:
            base = f"{self.scheme}://{self.host}/v2/{self._path(target)}/blobs/"
            for blob in blobs:
                if self._send("HEAD", base + blob["digest"], f"{target}@{blob['digest']}").status_code == 200:
                    continue
                mount = self._send(
                    "POST",
                    f"{base}uploads/?mount={blob['digest']}&from={self._path(source)}",
                    f"mounting {blob['digest'][:19]} into {target}",
                )
                if mount.status_code == 201:
                    continue
                if mount.status_code in (401, 403):
                    raise self._refused(mount, f"{target}'s blobs")
                location = mount.headers.get("Location", "")
                if mount.status_code != 202 or not location:
                    raise ImageNotCopied(
                        f"the registry {self.host} did not mount {blob['digest'][:19]} of {pinned} into {target} "
                        f"(HTTP {mount.status_code})",
                        f"give this job's credentials read access to {source} and write access to {target}",
                    )
                # it opened an upload instead (a token scoped to the target only, as GitLab's are): the
                # blob goes through this job, streamed, never whole in memory, checked against its digest
                self.stream_blob(source, blob, location)
        put = self._send(
            "PUT",
            f"{self.scheme}://{self.host}/v2/{self._path(target)}/manifests/{tag}",
            f"{target}:{tag}",
            data=body,
            headers={"Content-Type": media_type},
        )
        if put.status_code not in (200, 201):
            raise self._refused(put, f"the tag {tag} of {target}")
        served = put.headers.get("Docker-Content-Digest", "") or self.digest(f"{target}:{tag}")
        if served != digest:
            raise ImageNotCopied(
                f"{target}:{tag} names {served or 'nothing'} after the copy, not {digest}: refused", "see the registry's log"
            )
        return digest

    def _credentials(self) -> dict:
        """The Authorization header the client would answer a challenge with, sent at once
        (basic credentials; a token it already holds goes with every request anyway)."""
        auth = getattr(self.client, "auth", None)
        return auth.get_auth_header() if self.login and getattr(auth, "_basic_auth", None) else {}

    def stream_blob(self, source: str, descriptor: dict, location: str) -> None:
        """Finish the upload the registry opened at `location` with the blob `descriptor`
        names, read from `source` as it arrives: at most its size, and refused unless its
        bytes are its digest (the registry checks that too)."""
        size, digest = descriptor.get("size"), descriptor.get("digest", "")
        what = f"{source}@{str(digest)[:19]}"
        if type(size) is not int or not 0 <= size <= MAX_BLOB_BYTES or not is_digest(digest):
            raise ImageNotCopied(f"{what}: a blob without a size of at most {MAX_BLOB_BYTES // 2**30} GiB", "see the registry")
        source_url = f"{self.scheme}://{self.host}/v2/{self._path(source)}/blobs/{digest}"
        hashed, sent = [hashlib.sha256()], [0]
        registry = self

        class Body:
            """The blob, read afresh from `source` each time it is sent (an upload that the
            registry answers with a request for credentials is sent again, whole)."""

            def __iter__(self):
                hashed[0], sent[0] = hashlib.sha256(), 0
                response = registry._request("GET", source_url, stream=True)
                if response.status_code != 200:
                    raise ImageNotCopied(
                        f"the registry {registry.host} does not serve {what} (HTTP {response.status_code})", "see its log"
                    )
                for chunk in response.iter_content(1 << 20):
                    sent[0] += len(chunk)
                    if sent[0] > size:
                        raise ImageNotCopied(
                            f"the registry {registry.host} sent more of {what} than its {size} bytes", "see its log"
                        )
                    hashed[0].update(chunk)
                    yield chunk

        url = location if location.startswith(("http://", "https://")) else f"{self.scheme}://{self.host}{location}"
        if not url.startswith(f"{self.scheme}://{self.host}/v2/"):
            raise ImageNotCopied(f"the registry {self.host} opened an upload elsewhere ({url[:80]})", "see its log")
        put = self._send(
            "PUT",
            url + ("&" if "?" in url else "?") + f"digest={digest}",
            f"the upload of {what}",
            data=Body(),
            headers={"Content-Type": "application/octet-stream", **self._credentials()},
            deadline=max(REQUEST_DEADLINE_S, size / 2**20),  # at least 1 MiB/s
        )
        if put.status_code != 201 or sent[0] != size or "sha256:" + hashed[0].hexdigest() != digest:
            raise ImageNotCopied(
                f"the registry {self.host} did not take {what} ({sent[0]} of {size} bytes, HTTP {put.status_code})",
                "see the registry's log",
            )

    def _blob(self, repository: str, descriptor: dict, limit: int, what: str) -> bytes:
        size, digest = descriptor.get("size"), descriptor.get("digest", "")
        if type(size) is not int or not 0 <= size <= limit or not is_digest(digest):
            raise RecordUnreadable(f"{what} is larger than {limit // 1024} KiB or has no sha256 digest")
        response, data = self._get(f"{self.scheme}://{self.host}/v2/{self._path(repository)}/blobs/{digest}", size, what)
        if response.status_code == 404:
            raise RecordUnreadable(f"{what} is not in the registry")
        if response.status_code != 200:
            raise self._refused(response, what)
        if len(data) != size or "sha256:" + hashlib.sha256(data).hexdigest() != digest:
            raise RecordUnreadable(f"{what} does not match its digest")
        return data

    def _attachment(self, repository: str, tag: str) -> dict | None:
        import json

        url = f"{self.scheme}://{self.host}/v2/{self._path(repository)}/manifests/{tag}"
        try:
            response, body = self._get(url, MAX_MANIFEST_BYTES, f"{repository}:{tag}", {"Accept": MANIFEST_TYPES[0]})
        except RecordUnreadable as exc:
            raise RecordUnreadable(f"{repository}:{tag} is not a readable manifest ({exc})") from None
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise self._refused(response, f"{repository}:{tag}")
        try:
            manifest = json.loads(body)
        except ValueError as exc:
            raise RecordUnreadable(f"{repository}:{tag} is not a readable manifest ({str(exc)[:80]})") from None
        if not isinstance(manifest, dict) or not isinstance(manifest.get("layers", []), list):
            raise RecordUnreadable(f"{repository}:{tag} is not an OCI manifest with a list of layers")
        return manifest

    def fetch_record(self, repository: str, tag: str) -> bytes | None:
        """The DSSE envelope attached under `tag`; None when there is none."""
        manifest = self._attachment(repository, tag)
        if manifest is None:
            return None
        layers = [
            layer
            for layer in manifest.get("layers") or []
            if isinstance(layer, dict) and layer.get("mediaType") == ENVELOPE_MEDIA_TYPE
        ]
        if len(layers) != 1:
            raise RecordUnreadable(f"{repository}:{tag} holds no single release record")
        return self._blob(repository, layers[0], MAX_ENVELOPE_BYTES, f"the record {repository}:{tag}")

    def records(self, repository: str):
        """(image digest hex, envelope bytes or the RecordUnreadable that says why not) of
        every record attached in `repository`: one unreadable record is a verdict on that
        record, never the end of the others."""
        for tag in self.tags(repository):
            match = ATTACHMENT.match(tag)
            if not match:
                continue
            try:
                data = self.fetch_record(repository, tag)
            except RecordUnreadable as exc:
                yield match[1], exc
                continue
            if data is not None:
                yield match[1], data

    def fetch_sbom(self, repository: str, image_digest: str) -> bytes | None:
        manifest = self._attachment(repository, attachment_tag(image_digest))
        for layer in (manifest or {}).get("layers") or []:
            if isinstance(layer, dict) and layer.get("mediaType") == SBOM_MEDIA_TYPE:
                return self._blob(repository, layer, MAX_SBOM_BYTES, f"the SBOM of {repository}@{image_digest}")
        return None


class RecordUnreadable(ValueError):
    """An artifact that is not a readable record: the record does not verify."""


def _bounded(response, limit: int, what: str) -> bytes:
    """The body, read as it arrives (never more than `limit` bytes)."""
    chunks, size = [], 0
    while True:
        chunk = response.raw.read1(65536, decode_content=True)
        if not chunk:
            break
        size += len(chunk)
        if size > limit:
            response.close()
            raise RecordUnreadable(f"{what} is larger than {max(limit // 1024, 1)} KiB")
        chunks.append(chunk)
    return b"".join(chunks)


def _within(call, seconds: float, why: str):
    """`call()`, or RegistryUnreachable(why) when it has not returned within `seconds`: a
    registry that answers slowly, a byte at a time, cannot hold a command (the abandoned
    request ends with the process, in a daemon thread)."""
    import threading

    outcome: list = []

    def run():
        try:
            outcome.append((True, call()))
        except BaseException as exc:  # noqa: BLE001 (handed to the caller as it is)
            outcome.append((False, exc))

    worker = threading.Thread(target=run, name="sciapps-registry", daemon=True)
    worker.start()
    worker.join(seconds)
    if not outcome:
        raise RegistryUnreachable(why, "see the registry's log, or retry when it answers")
    ok, value = outcome[0]
    if not ok:
        raise value
    return value
