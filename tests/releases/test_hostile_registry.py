"""A registry that misbehaves gives a verdict, never a crash or a command that never ends.

A stand-in registry (built here, on loopback) answers as a hostile or broken one would:
attachments that are not records (two envelopes, no envelope, not JSON, layers that are
not a list, a blob larger than its bound, a blob that does not match its digest, a
manifest of several MiB, a wrong media type), tag lists whose pages never end (empty
pages, pages of the same tags, a next link back to itself), and answers that come a byte
at a time or not at all. `verify`, `launch` and `releases sync` end within a bounded time
with exit 1 or 2 and one sentence, and one unreadable record never hides another that
verifies."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from click.testing import CliRunner

from sciapps.cli import cli
from sciapps.releases import registry as registry_module
from sciapps.releases.registry import ENVELOPE_MEDIA_TYPE, MANIFEST_TYPES, attachment_tag
from tests.releases.records import keys, record

OCI = MANIFEST_TYPES[0]


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class Hostile:
    """The stand-in registry: per repository, tags, manifests and blobs, and how to answer."""

    def __init__(self):
        self.tags: dict[str, list[str]] = {}
        self.manifests: dict[tuple[str, str], tuple[str, bytes]] = {}  # (repo, tag or digest) -> (media type, body)
        self.blobs: dict[str, bytes] = {}
        self.pages: dict[str, str] = {}  # repo -> how its tag list pages on: "empty", "same", "self"
        self.slow: set[str] = set()  # repos whose every answer comes a byte at a time
        self.silent: set[str] = set()  # repos that never answer
        self.digests: dict[tuple[str, str], str] = {}  # (repo, tag) -> the digest the registry says it serves
        hostile = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _send(
                self,
                status: int,
                body: bytes = b"",
                media: str = "application/json",
                headers: dict | None = None,
                repo: str = "",
                head: bool = False,
            ):
                if repo in hostile.silent:
                    time.sleep(30)
                    return
                self.send_response(status)
                self.send_header("Content-Type", media)
                self.send_header("Content-Length", str(len(body)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                if head:
                    return
                if repo in hostile.slow:
                    for byte in body:
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                        time.sleep(0.2)
                else:
                    self.wfile.write(body)

            def do_HEAD(self):
                self.do_GET(head=True)

            def do_GET(self, head: bool = False):
                path = self.path.split("?", 1)[0]
                if path == "/v2/":
                    return self._send(200, b"{}", head=head)
                parts = path.removeprefix("/v2/").split("/")
                if len(parts) >= 3 and parts[-2] == "tags":
                    repo = "/".join(parts[:-2])
                    mode = hostile.pages.get(repo)
                    tags = hostile.tags.get(repo)
                    if tags is None and mode is None:
                        return self._send(404, b"{}", repo=repo)
                    page = [] if mode == "empty" else tags or []
                    query = self.path.split("?", 1)[1] if "?" in self.path else ""
                    link = {
                        "empty": f"/v2/{repo}/tags/list?n=1000&last={time.monotonic_ns()}",
                        "same": f"/v2/{repo}/tags/list?n=1000&page={time.monotonic_ns()}",
                        "self": f"/v2/{repo}/tags/list?{query}",
                    }.get(mode)
                    headers = {"Link": f'<{link}>; rel="next"'} if link else {}
                    return self._send(
                        200, json.dumps({"name": repo, "tags": page}).encode(), headers=headers, repo=repo, head=head
                    )
                if len(parts) >= 3 and parts[-2] in ("manifests", "blobs"):
                    repo, kind, ref = "/".join(parts[:-2]), parts[-2], parts[-1]
                    if kind == "blobs":
                        found = hostile.blobs.get(ref)
                        return (
                            self._send(200, found, "application/octet-stream", repo=repo, head=head)
                            if found is not None
                            else self._send(404)
                        )
                    found = hostile.manifests.get((repo, ref))
                    if found is None:
                        return self._send(404, b"{}", repo=repo, head=head)
                    media, body = found
                    digest = hostile.digests.get((repo, ref), _digest(body))
                    return self._send(200, body, media, {"Docker-Content-Digest": digest}, repo=repo, head=head)
                return self._send(404)

        class Server(ThreadingHTTPServer):
            def handle_error(self, request, client_address):
                pass  # a client that gave up on a slow answer

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.host = f"127.0.0.1:{self.server.server_address[1]}"

    def attach(self, repo: str, image_digest: str, layers: list[dict] | object, raw: bytes | None = None) -> None:
        """An artifact under the attachment tag of `image_digest` with these layers (or raw bytes)."""
        body = raw if raw is not None else json.dumps({"schemaVersion": 2, "mediaType": OCI, "layers": layers}).encode()
        tag = attachment_tag(image_digest)
        self.manifests[(repo, tag)] = (OCI, body)
        self.tags.setdefault(repo, []).append(tag)

    def blob(self, data: bytes) -> dict:
        self.blobs[_digest(data)] = data
        return {"mediaType": ENVELOPE_MEDIA_TYPE, "digest": _digest(data), "size": len(data)}


@pytest.fixture
def hostile(tmp_path, monkeypatch):
    server = Hostile()
    root = tmp_path / "catalog"
    root.mkdir()
    (root / "sciapps.yaml").write_text(f"registry: {server.host}/sciapps\nrelease_key: keys/release.pub\n")
    signer = keys(root)
    monkeypatch.chdir(root)
    yield server, root, signer
    server.server.shutdown()


def _run(*args: str, seconds: float = 60) -> tuple[int, str]:
    started = time.monotonic()
    result = CliRunner().invoke(cli, list(args))
    assert time.monotonic() - started < seconds, f"{args} took {time.monotonic() - started:.0f} s"
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "internal error" not in result.output and "Traceback" not in result.output, result.output
    return result.exit_code, result.output


def _good(server: Hostile, signer, datalab: str) -> str:
    """A real signed record, attached to its image, whose tag the registry serves: it verifies."""
    digest, envelope = record(signer, datalab, "1.2.0", registry=f"{server.host}/sciapps")
    repo = f"sciapps/{datalab}"
    server.attach(repo, digest, [server.blob(envelope)])
    image = json.dumps({"schemaVersion": 2, "mediaType": OCI, "layers": []}).encode()
    tag = f"1.2.0-{digest[7:19]}"
    server.manifests[(repo, tag)] = (OCI, image)
    server.digests[(repo, tag)] = digest  # the registry serves the record's digest under its tag
    server.tags[repo].append(tag)
    return digest


def _junk(server: Hostile, repo: str, signer) -> int:
    """Every kind of attachment that is not a record; how many."""
    _, envelope = record(signer, "other", "9.9.9")
    envelope_layer = server.blob(envelope)
    big = b"x" * (registry_module.MAX_ENVELOPE_BYTES + 1)
    kinds = [
        ([envelope_layer, envelope_layer], None),  # two envelopes
        ([{**envelope_layer, "mediaType": "application/octet-stream"}], None),  # no envelope
        (None, b"{not json"),  # not JSON
        (5, None),  # layers not a list
        ({"a": 1}, None),
        ([{"mediaType": ENVELOPE_MEDIA_TYPE, "digest": _digest(big), "size": len(big)}], None),  # larger than its bound
        ([{"mediaType": ENVELOPE_MEDIA_TYPE, "digest": "sha256:" + "0" * 64, "size": 10}], None),  # not in the registry
        ([{"mediaType": ENVELOPE_MEDIA_TYPE, "digest": envelope_layer["digest"], "size": 10}], None),  # truncated: size lies
        ([{"mediaType": ENVELOPE_MEDIA_TYPE, "digest": envelope_layer["digest"], "size": True}], None),
        ([{"mediaType": ENVELOPE_MEDIA_TYPE, "digest": "../../etc/passwd", "size": 10}], None),
        (None, b" " * (registry_module.MAX_MANIFEST_BYTES * 8)),  # a manifest of 2 MiB
        (None, json.dumps([1, 2, 3]).encode()),
    ]
    server.blobs["sha256:" + "1" * 64] = b"tampered"
    kinds.append(
        ([{"mediaType": ENVELOPE_MEDIA_TYPE, "digest": "sha256:" + "1" * 64, "size": 8}], None)
    )  # bytes that do not match
    for n, (layers, raw) in enumerate(kinds):
        server.attach(repo, _digest(f"junk {n}".encode()), layers, raw)
    return len(kinds)


def test_one_unreadable_record_never_hides_one_that_verifies(hostile):
    server, _, signer = hostile
    _junk(server, "sciapps/mixed-lab", signer)
    good = _good(server, signer, "mixed-lab")
    code, output = _run("verify", "mixed-lab@1.2.0")
    assert code == 0 and "verified: mixed-lab 1.2.0 build 1" in output, output
    assert _run("verify", f"mixed-lab@{good}")[0] == 0


def test_only_junk_is_not_verified_with_one_sentence(hostile):
    server, _, signer = hostile
    _junk(server, "sciapps/junk-lab", signer)
    code, output = _run("verify", "junk-lab")
    assert code == 1 and output.startswith("not verified: no release record of junk-lab verifies:"), output
    assert len(output.strip().splitlines()) == 1
    code, output = _run("launch", "junk-lab@1.2.0")
    assert code == 1 and "refusing to launch junk-lab@1.2.0: not verified" in output, output
    code, output = _run("releases", "sync")  # (no catalog folder: nothing to sync) -- and with the datalab:
    assert code == 0, output


def test_releases_sync_keeps_what_it_can_read(hostile):
    server, root, signer = hostile
    (root / "datalabs" / "mixed-lab").mkdir(parents=True)
    junk = _junk(server, "sciapps/mixed-lab", signer)
    good = _good(server, signer, "mixed-lab")
    code, output = _run("releases", "sync")
    assert code == 0 and "release records (all 1 datalabs): 1 fetched" in output, output
    assert output.count("warning: mixed-lab:") >= junk - 2  # (the two that carry no record at all are not records: skipped)
    assert (root / "build" / "releases" / "mixed-lab" / f"{good[7:]}.dsse.json").is_file()


@pytest.mark.parametrize("mode", ["empty", "same", "self"])
def test_a_tag_list_that_never_ends_is_stopped(hostile, mode):
    server, root, signer = hostile
    _good(server, signer, "endless-lab")
    server.pages["sciapps/endless-lab"] = mode
    (root / "datalabs" / "endless-lab").mkdir(parents=True)
    for args in (("verify", "endless-lab"), ("launch", "endless-lab"), ("releases", "sync")):
        code, output = _run(*args, seconds=30)
        assert code == 2 and "never ends" in output, (args, output)


@pytest.mark.parametrize("how", ["slow", "silent"])
def test_a_registry_that_answers_slowly_or_never_is_cut_off(hostile, monkeypatch, how):
    server, root, signer = hostile
    _good(server, signer, "slow-lab")
    getattr(server, how).add("sciapps/slow-lab")
    monkeypatch.setattr(registry_module, "REQUEST_DEADLINE_S", 2)
    (root / "datalabs" / "slow-lab").mkdir(parents=True)
    for args in (("verify", "slow-lab"), ("launch", "slow-lab"), ("releases", "sync")):
        code, output = _run(*args, seconds=10)
        assert code == 2 and "took more than 2 s" in output, (args, output)
