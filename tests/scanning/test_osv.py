"""OSV matching: each ecosystem's own version ordering, and bad mirrors."""

from __future__ import annotations

import json
import shutil

import pytest

from sciapps.scanning.base import ScannerError
from sciapps.scanning.osv import Mirror, is_affected, severity_of
from tests.conftest import REPO

MIRROR = REPO / "tests" / "scanning" / "osv"


@pytest.fixture(scope="module")
def mirror():
    return Mirror.load(MIRROR)


@pytest.mark.parametrize(
    "ecosystem,name,version,hit",
    [
        ("PyPI", "requests", "2.19.1", "GHSA-x84v-xcm2-53pg"),
        ("PyPI", "requests", "2.20.0", None),
        ("PyPI", "requests", "2.20.0rc1", "GHSA-x84v-xcm2-53pg"),  # a pre-release comes before 2.20.0 (PEP 440)
        ("PyPI", "Requests", "2.3", "GHSA-x84v-xcm2-53pg"),
        ("PyPI", "pyyaml", "5.3.1", "GHSA-8q59-q68h-6hv4"),  # the record says PyYAML (PEP 503 names)
        ("PyPI", "PyYAML", "5.4", None),
        ("PyPI", "PyYAML", "6.0.4", None),
        ("Debian:12", "glibc", "2.36-9+deb12u2", "DSA-5514-1"),
        ("Debian:12", "glibc", "2.36-9+deb12u3", None),
        ("Debian:12", "glibc", "2.36-9+deb12u14", None),  # u14 > u3 in Debian order, not as text
        ("Debian:12", "glibc", "2.36-9~bpo1", "DSA-5514-1"),  # ~ sorts before everything
        ("Debian:11", "glibc", "2.31-13+deb11u6", "DSA-5514-1"),
        ("Debian:11", "glibc", "2.36-9+deb12u2", None),  # the fix of Debian 11 is not Debian 12's
    ],
)
def test_matching(mirror, ecosystem, name, version, hit):
    found = [record["id"] for record, _ in mirror.matches(ecosystem, name, version)]
    assert found == ([hit] if hit else [])


def test_last_affected_limit_and_explicit_versions():
    affected = {
        "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "1.0"}, {"last_affected": "1.4"}]}],
        "versions": ["0.9"],
    }
    assert [is_affected(affected, v, "PyPI") for v in ("0.8", "0.9", "1.0", "1.4", "1.4.1")] == [False, True, True, True, False]
    epoch = {"ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1:1.0-1"}]}]}
    assert is_affected(epoch, "9.9-1", "Debian:12") and not is_affected(epoch, "1:1.0-1", "Debian:12")


def test_severity_from_the_record(mirror):
    ((record, affected),) = mirror.matches("PyPI", "pyyaml", "5.3.1")
    assert severity_of(record, affected) == "critical"
    ((record, affected),) = mirror.matches("Debian:12", "glibc", "2.36-9+deb12u2")
    assert severity_of(record, affected) == "medium"  # no severity given: not ignored, not blocking by itself


def test_corrupt_record_is_named(tmp_path):
    shutil.copytree(MIRROR, tmp_path / "osv")
    (tmp_path / "osv" / "PyPI" / "BROKEN-1.json").write_text('{"id": "BROKEN-1", "affected": [{"package": ')
    with pytest.raises(ScannerError, match="BROKEN-1.json: unreadable OSV record"):
        Mirror.load(tmp_path / "osv")


def test_missing_or_empty_mirror(tmp_path):
    with pytest.raises(ScannerError, match="run `sciapps osv-sync`"):
        Mirror.load(tmp_path / "nothing")
    (tmp_path / "empty" / "PyPI").mkdir(parents=True)
    with pytest.raises(ScannerError, match="is empty"):
        Mirror.load(tmp_path / "empty")


def test_withdrawn_records_are_ignored(tmp_path):
    shutil.copytree(MIRROR, tmp_path / "osv")
    record = json.loads((MIRROR / "PyPI" / "GHSA-x84v-xcm2-53pg.json").read_text())
    (tmp_path / "osv" / "PyPI" / "GHSA-x84v-xcm2-53pg.json").write_text(
        json.dumps({**record, "withdrawn": "2024-01-01T00:00:00Z"})
    )
    assert Mirror.load(tmp_path / "osv").matches("PyPI", "requests", "2.19.1") == []


def test_osv_sync_from_an_export(tmp_path):
    import functools
    import threading
    import zipfile
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    from sciapps.scanning.osv import sync

    exports = tmp_path / "exports" / "PyPI"
    exports.mkdir(parents=True)
    with zipfile.ZipFile(exports / "all.zip", "w") as z:
        for path in (MIRROR / "PyPI").glob("*.json"):
            z.write(path, path.name)

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *a):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(tmp_path / "exports")))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        counts = sync(tmp_path / "mirror", ("PyPI",), f"http://127.0.0.1:{server.server_address[1]}", log=lambda line: None)
    finally:
        server.shutdown()
    assert counts == {"PyPI": 2}
    assert Mirror.load(tmp_path / "mirror").records == 2
    from sciapps.errors import SciAppsError

    with pytest.raises(SciAppsError, match="cannot download"):
        sync(tmp_path / "mirror", ("Debian",), "http://127.0.0.1:9", log=lambda line: None)
    assert Mirror.load(tmp_path / "mirror").records == 2  # the failed sync changed nothing


def _serve(folder):
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *a):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _bomb(path, kind: str) -> None:
    """A hostile OSV export of one `kind`, written at run time."""
    import zipfile

    good = sorted((MIRROR / "PyPI").glob("*.json"))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for p in good:
            z.write(p, p.name)
        if kind == "gigabyte":  # one member that inflates to 1 GiB (about 1 MiB on the wire)
            with z.open("GHSA-bomb-0000-0000.json", "w", force_zip64=True) as member:
                block = b"\0" * (16 * 1024 * 1024)
                for _ in range(64):
                    member.write(block)
        elif kind == "many":
            for n in range(12):
                z.writestr(f"GHSA-many-{n:04d}.json", '{"id": "x"}')
        elif kind == "total":
            for n in range(4):
                z.writestr(f"GHSA-big-{n:04d}.json", "{" + " " * 4000 + "}")
        elif kind == "names":  # nothing outside the mirror's folder, nothing that is not an advisory
            z.writestr("../outside.json", "{}")
            z.writestr("sub/inside.json", "{}")
            z.writestr(".hidden.json", "{}")
            z.writestr("notes.txt", "hello")


@pytest.mark.parametrize(
    "kind,limits,says",
    [
        ("gigabyte", {}, "inflates to 1,073,741,824 bytes"),
        ("many", {"MAX_EXPORT_RECORDS": 10}, "more than 10 records"),
        ("total", {"MAX_EXPORT_TOTAL_BYTES": 8000}, "inflate to more than"),
        ("download", {"MAX_EXPORT_BYTES": 1000}, "more than the 1,000 bytes an export may be"),
        ("garbage", {}, "not a readable zip file"),
    ],
)
def test_osv_sync_refuses_a_hostile_export_and_keeps_the_mirror(tmp_path, monkeypatch, kind, limits, says):
    from click.testing import CliRunner

    from sciapps.cli import cli
    from sciapps.scanning import osv

    for name, value in limits.items():
        monkeypatch.setattr(osv, name, value)
    mirror = tmp_path / "mirror" / "PyPI"
    mirror.mkdir(parents=True)
    (mirror / "GHSA-kept.json").write_text('{"id": "GHSA-kept", "affected": []}')
    exports = tmp_path / "exports" / "PyPI"
    exports.mkdir(parents=True)
    if kind == "garbage":
        (exports / "all.zip").write_bytes(b"PK\x03\x04 not really a zip" * 100)
    else:
        _bomb(exports / "all.zip", "many" if kind == "download" else kind)
    server = _serve(tmp_path / "exports")
    try:
        result = CliRunner().invoke(
            cli,
            [
                "osv-sync",
                "--ecosystem",
                "PyPI",
                "--osv-mirror",
                str(tmp_path / "mirror"),
                "--source",
                f"http://127.0.0.1:{server.server_address[1]}",
            ],
        )
    finally:
        server.shutdown()
    assert result.exit_code == 2 and "refusing OSV's PyPI export" in result.output and says in result.output, result.output
    assert "internal error" not in result.output and "MemoryError" not in result.output
    assert sorted(p.name for p in mirror.iterdir()) == ["GHSA-kept.json"]  # the mirror as it was
    assert [p.name for p in (tmp_path / "mirror").iterdir()] == ["PyPI"]  # nothing half-written beside it


def test_osv_sync_writes_only_advisories(tmp_path):
    from sciapps.scanning.osv import sync

    exports = tmp_path / "exports" / "PyPI"
    exports.mkdir(parents=True)
    _bomb(exports / "all.zip", "names")
    server = _serve(tmp_path / "exports")
    try:
        assert sync(tmp_path / "mirror", ("PyPI",), f"http://127.0.0.1:{server.server_address[1]}", log=lambda line: None) == {
            "PyPI": 2
        }
    finally:
        server.shutdown()
    assert sorted(p.name for p in (tmp_path / "mirror" / "PyPI").iterdir()) == sorted(
        p.name for p in (MIRROR / "PyPI").glob("*.json")
    )
    assert not (tmp_path / "outside.json").exists() and not (tmp_path / "mirror" / "outside.json").exists()
