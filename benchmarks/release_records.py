"""Benchmark: the store build with release records, against the same build without them.

A generated catalog of N datalabs (10,000 by default) is built twice: once with no
release records, once with 3 signed records per datalab (3 versions, 30,000 records),
each judged (DSSE signature with the catalog's key, record schema, registry check) and
shown in the datalab's Versions section and API file. Each build goes into a fresh folder,
as the pages job's does, and runs three times, in turns with the other; the fastest of the
three is kept, because this machine's disk is noisy.

Target (issue 14): the build with records takes at most 1.3x the build without.

Run: .venv/bin/python benchmarks/release_records.py [--datalabs 10000] [--versions 3]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from catalog import REPO, generate  # noqa: E402


def build(root: Path, out: Path) -> tuple[float, int]:
    from sciapps.catalog.validate import default_jobs
    from sciapps.config import load_config
    from sciapps.site.build import build_store

    config = replace(load_config(REPO / "sciapps.yaml"), path=root / "sciapps.yaml")
    report = build_store(config, [root / "datalabs"], out, REPO / "mkdocs.yml", default_jobs())
    assert not report.skipped, report.skipped[:3]
    return report.seconds, report.datalabs


def write_records(root: Path, count: int, versions: int, own_version: bool = False) -> float:
    """Sign `versions` records per datalab, as `sciapps publish` would, into the mirror
    `sciapps releases sync` keeps; returns the seconds it took (not part of the build).
    With `own_version`, one record per datalab, of the version its datalab.yaml names
    (catalog.generate's), so that every datalab has a current, verified release."""
    import hashlib

    from sciapps.releases import signing
    from sciapps.releases.mirror import store_record, write_check
    from sciapps.releases.record import Chart, statement

    start = time.perf_counter()
    signing.generate(root / "private" / "release.key", root / "keys" / "release.pub")
    signer = signing.signer_from_environment({signing.SIGNING_KEY_VARIABLE: str(root / "private" / "release.key")})
    out, tags = root / "build" / "releases", {}
    checks = {
        s: {"status": "passed", "summary": f"{s} passed", "finished": "2026-11-20T10:00:00+00:00"}
        for s in ("build", "scan", "test", "chart")
    }
    for i in range(count):
        lab = f"datalab-{i:05d}"
        for v in range(1 if own_version else versions):
            version = f"1.{i % 7}.{i % 3}" if own_version else f"1.{v}.0"
            digest = "sha256:" + hashlib.sha256(f"{lab} {version}".encode()).hexdigest()
            body = statement(
                datalab=lab,
                version=version,
                build=1,
                repository=f"127.0.0.1:5000/sciapps/{lab}",
                tag=f"{version}-{digest[7:19]}",
                digest=digest,
                bases=[("jl_base", "127.0.0.1:5000/sciapps/jl_base:1", "sha256:" + "b" * 64)],
                chart=Chart(f"oci://127.0.0.1:5000/charts/{lab}", version, "sha256:" + "c" * 64, "d" * 64),
                sbom="sha256:" + "e" * 64,
                checks=checks,
                source_repository="https://gitlab.example.org/datalabs/sciapps",
                commit="0" * 40,
                merge_request=f"datalabs/sciapps!{i}",
                builder="https://gitlab.example.org/runners/1",
                pipeline=f"https://gitlab.example.org/datalabs/sciapps/-/pipelines/{i}",
                started=None,
                published=f"2026-{1 + v:02d}-01T10:00:00+00:00",
                sciapps_version="bench",
            )
            store_record(out, lab, digest, signing.sign(body, signer))
            tags[f"{lab}/{digest[7:]}"] = digest
    write_check(out, "127.0.0.1:5000/sciapps", tags)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datalabs", type=int, default=10_000)
    parser.add_argument("--versions", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="sciapps-records-bench-"))
    try:
        plain, signed = work / "plain", work / "signed"
        generate(plain, args.datalabs)
        shutil.copytree(plain / "datalabs", signed / "datalabs")
        made = write_records(signed, args.datalabs, args.versions)
        print(
            f"{args.datalabs * args.versions:,} signed records written in {made:.1f} s (publishing's work, not the build's)",
            flush=True,
        )
        without, with_records = [], []
        for round_ in range(3):
            seconds, n = build(plain, plain / f"public-{round_}")
            without.append(seconds)
            print(f"  store build, {n:,} datalabs, no records:  {seconds:6.1f} s", flush=True)
            seconds, n = build(signed, signed / f"public-{round_}")
            with_records.append(seconds)
            print(f"  store build, {n:,} datalabs, {args.datalabs * args.versions:,} records: {seconds:6.1f} s", flush=True)
        base, measured = min(without), min(with_records)
        ratio = measured / base
        print(
            f"baseline (no records): {base:.1f} s; with records: {measured:.1f} s; {ratio:.2f}x; "
            f"target <= 1.3x: {'met' if ratio <= 1.3 else 'NOT met'}"
        )
        sample = (signed / "public-0" / "api" / "datalabs" / "datalab-00000.json").read_text()
        assert '"verified":true' in sample, "the records were not shown as verified"
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
