"""Benchmark: the pages job's release-record sync at 10,000 datalabs with 30,000 records,
against a real registry (Debian's docker-registry) behind a proxy that adds 20 ms to each
request, as a registry across a network does. In one run:

- baseline: the sync before this change, every datalab's tags listed and every record's
  tag checked, one request after another (`sync(..., jobs=1)`, no earlier sync);
- the scheduled full check (`sciapps releases sync --full`: the same requests, 8 datalabs
  at a time);
- after one new publication (`sciapps releases sync`: only what the plan names since the
  last sync's commit), then the store build, which together are the pages job.

Target (issue 22): the pages job after one publication in at most 5 minutes.

The registry holds, per datalab, 3 images (tagged by version) with a release record
attached to each (the records' own bytes are in the store's copy already, as after earlier
syncs; the new publication's record is fetched from the registry).

Run: .venv/bin/python benchmarks/store_sync.py [--datalabs 10000] [--latency-ms 20] [--skip-baseline]
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from catalog import REPO, generate  # noqa: E402
from fleet import registry as serve_registry  # noqa: E402

CONFIG_BLOB = b"{}"
CONFIG_DIGEST = "sha256:" + hashlib.sha256(CONFIG_BLOB).hexdigest()
OCI = "application/vnd.oci.image.manifest.v1+json"


class Proxy(BaseHTTPRequestHandler):
    """GET and HEAD to the registry, each answered `latency` later."""

    upstream = ""
    latency = 0.02
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        import socket

        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # no 40 ms of Nagle on top of the latency

    def _forward(self, method: str) -> None:
        time.sleep(self.latency)
        conn = http.client.HTTPConnection(self.upstream, timeout=60)
        conn.request(
            method, self.path, headers={k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
        )
        response = conn.getresponse()
        body = response.read()
        self.send_response(response.status)
        for key, value in response.getheaders():
            if key.lower() not in ("connection", "transfer-encoding", "content-length"):
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(body) if method != "HEAD" else int(response.getheader("Content-Length") or 0)))
        self.end_headers()
        if method != "HEAD":
            self.wfile.write(body)
        conn.close()

    def do_GET(self):
        self._forward("GET")

    def do_HEAD(self):
        self._forward("HEAD")

    def log_message(self, *args):
        pass


def _put_manifest(conn: http.client.HTTPConnection, repo: str, tag: str, manifest: dict) -> str:
    body = json.dumps(manifest).encode()
    conn.request("PUT", f"/v2/{repo}/manifests/{tag}", body=body, headers={"Content-Type": OCI})
    response = conn.getresponse()
    response.read()
    if response.status != 201:
        raise SystemExit(f"the registry refused {repo}:{tag}: HTTP {response.status}")
    return response.getheader("Docker-Content-Digest")


def populate(
    address: str, ids: list[str], versions: int, jobs: int = 16, rebuild: bool = False
) -> dict[str, list[tuple[str, str, str]]]:
    """Per datalab, `versions` images with a record tag attached to each (`rebuild`: one
    new image, its record pushed by the caller): {id: [(version, tag, digest)]}."""
    from sciapps.releases.registry import attachment_tag

    local = threading.local()

    def conn() -> http.client.HTTPConnection:
        if not hasattr(local, "conn"):
            local.conn = http.client.HTTPConnection(address, timeout=60)
        return local.conn

    def one(lab: str) -> tuple[str, list[tuple[str, str, str]]]:
        c = conn()
        c.request("POST", f"/v2/sciapps/{lab}/blobs/uploads/", body=b"")
        r = c.getresponse()
        r.read()
        location = r.getheader("Location") or ""
        location = location.split("://", 1)[1].split("/", 1)[1] if "://" in location else location.lstrip("/")
        c.request(
            "PUT",
            f"/{location}{'&' if '?' in location else '?'}digest={CONFIG_DIGEST}",
            body=CONFIG_BLOB,
            headers={"Content-Type": "application/octet-stream"},
        )
        r = c.getresponse()
        r.read()
        if r.status != 201:
            raise SystemExit(f"the registry refused a blob: HTTP {r.status}")
        made = []
        for v in range(versions):
            version = f"1.{v}.0"
            config = {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": CONFIG_DIGEST, "size": len(CONFIG_BLOB)}
            name = f"{lab} {version}" + (" rebuild" if rebuild else "")
            tag = f"{version}-{hashlib.sha256(name.encode()).hexdigest()[:12]}"
            digest = _put_manifest(
                c,
                f"sciapps/{lab}",
                tag,
                {"schemaVersion": 2, "mediaType": OCI, "config": config, "layers": [config], "annotations": {"image": name}},
            )
            made.append((version, tag, digest))
            if rebuild:
                continue
            _put_manifest(
                c,
                f"sciapps/{lab}",
                attachment_tag(digest),
                {"schemaVersion": 2, "mediaType": OCI, "config": config, "layers": [config], "annotations": {"record": digest}},
            )
        return lab, made

    with ThreadPoolExecutor(jobs) as pool:
        return dict(pool.map(one, ids))


def sign_mirror(root: Path, registry: str, images: dict[str, list[tuple[str, str, str]]]) -> object:
    """Each image's signed record in the store's copy, as earlier syncs left it; the signer."""
    from sciapps.releases import signing
    from sciapps.releases.mirror import store_record
    from sciapps.releases.record import statement

    signing.generate(root / "private" / "release.key", root / "keys" / "release.pub")
    signer = signing.signer_from_environment({signing.SIGNING_KEY_VARIABLE: str(root / "private" / "release.key")})
    out = root / "build" / "releases"
    for lab, made in images.items():
        for version, tag, digest in made:
            store_record(out, lab, digest, signing.sign(_statement(statement, registry, lab, version, tag, digest), signer))
    return signer


def _statement(statement, registry: str, lab: str, version: str, tag: str, digest: str) -> dict:
    checks = {
        s: {"status": "passed", "summary": f"{s} passed", "finished": "2026-11-20T10:00:00+00:00"}
        for s in ("build", "scan", "test", "chart")
    }
    return statement(
        datalab=lab,
        version=version,
        build=1,
        repository=f"{registry}/{lab}",
        tag=tag,
        digest=digest,
        bases=[],
        chart=None,
        sbom=None,
        checks=checks,
        source_repository="https://gitlab.example.org/datalabs/sciapps",
        commit="0" * 40,
        merge_request=None,
        builder="https://gitlab.example.org/runners/1",
        pipeline="https://gitlab.example.org/datalabs/sciapps/-/pipelines/1",
        started=None,
        published="2026-11-20T10:00:00+00:00",
        sciapps_version="bench",
    )


def git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.org", *args], cwd=root, check=True, capture_output=True
    )


def timed(what: str, call) -> float:
    start = time.perf_counter()
    call()
    took = time.perf_counter() - start
    print(f"  {what:<72} {took:8.1f} s", flush=True)
    return took


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datalabs", type=int, default=10_000)
    parser.add_argument("--versions", type=int, default=3)
    parser.add_argument("--latency-ms", type=float, default=20)
    parser.add_argument("--skip-baseline", action="store_true", help="leave out the sequential sync (about 40,000 requests)")
    args = parser.parse_args()
    from sciapps.config import load_config
    from sciapps.pipeline.store import sync_store
    from sciapps.releases.commands import registry_of
    from sciapps.releases.mirror import read_check, sync
    from sciapps.releases.registry import Registry
    from sciapps.releases.record import statement
    from sciapps.releases.signing import sign
    from sciapps.site.build import build_store

    with tempfile.TemporaryDirectory(prefix="sciapps-store-sync-") as tmp:
        work = Path(tmp)
        server, address = serve_registry(work)
        Proxy.upstream, Proxy.latency = address, args.latency_ms / 1000
        proxy = ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
        proxy.daemon_threads = True
        threading.Thread(target=proxy.serve_forever, daemon=True).start()
        via = f"127.0.0.1:{proxy.server_address[1]}"
        try:
            root = work / "catalog"
            generate(root, args.datalabs)
            (root / "sciapps.yaml").write_text(
                (REPO / "sciapps.yaml").read_text().replace("registry: 127.0.0.1:5000/sciapps", f"registry: {via}/sciapps")
            )
            ids = sorted(p.name for p in (root / "datalabs").iterdir())
            start = time.perf_counter()
            images = populate(address, ids, args.versions)
            signer = sign_mirror(root, f"{via}/sciapps", images)
            git(root, "init", "-q", "-b", "main")
            git(root, "add", "-A")
            git(root, "commit", "-qm", "the catalog")
            print(
                f"{len(ids):,} datalabs, {len(ids) * args.versions:,} records in the registry and the store's copy "
                f"(made in {time.perf_counter() - start:.0f} s); every request through a proxy adding {args.latency_ms:g} ms",
                flush=True,
            )
            config = replace(load_config(root / "sciapps.yaml"), path=root / "sciapps.yaml")
            out = config.path_of(config.releases_dir)
            quiet = lambda line: None  # noqa: E731
            baseline = None
            if not args.skip_baseline:
                baseline = timed(
                    "baseline: every tag, one request after another (before this change)",
                    lambda: sync(registry_of(config), ids, out, quiet, jobs=1),
                )
            full = timed("scheduled full check (releases sync --full, 8 at a time)", lambda: sync_store(config, quiet, full=True))
            # one new publication: a datalab's change merged, its new image and record pushed
            lab = ids[len(ids) // 2]
            with open(root / "datalabs" / lab / "requirements.txt", "a", encoding="utf-8") as fh:
                fh.write("# a fix\n")
            git(root, "commit", "-qam", f"{lab}: a fix")
            _, tag, digest = populate(address, [lab], 1, rebuild=True)[lab][0]
            envelope = sign(_statement(statement, f"{via}/sciapps", lab, "1.0.0", tag, digest), signer)
            direct = Registry(f"{address}/sciapps")  # the publication's pushes do not go through the proxy
            direct.push_record(
                direct.repository(lab), digest, envelope, None, {"org.opencontainers.image.title": f"{lab} rebuild"}
            )
            lines: list[str] = []
            after = timed("after one publication (releases sync)", lambda: sync_store(config, lines.append))
            assert "1 datalab(s) since the last sync): 1 fetched" in lines[-1], lines
            assert read_check(out)["tags"][f"{lab}/{digest[7:]}"] == digest
            built = []
            build = timed(
                f"store build (site build), {len(ids):,} datalabs",
                lambda: built.append(build_store(config, [root / "datalabs"], work / "public", REPO / "mkdocs.yml")),
            )
            assert built[0].datalabs == len(ids), f"the store shows {built[0].datalabs} datalabs: {built[0].skipped[:2]}"
        finally:
            proxy.shutdown()
            server.kill()
    pages = after + build
    print(
        f"pages job after one publication: {pages:.1f} s (sync {after:.1f} s + store build {build:.1f} s); "
        f"target <= 300 s: {'met' if pages <= 300 else 'NOT met'}"
    )
    if baseline is not None:
        print(
            f"the sync: {baseline:.1f} s before, {after:.1f} s after one publication ({baseline / max(after, 0.001):.0f}x), "
            f"{full:.1f} s for the scheduled full check ({baseline / full:.1f}x)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
