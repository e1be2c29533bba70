"""Benchmark: `sciapps audit` of N published releases' SBOMs (about 150 packages each)
against a generated OSV mirror of M advisories, and its peak memory at two sizes.

Generated: a catalog of N datalabs, one signed release record each with its CycloneDX SBOM
beside it (as `sciapps releases sync` keeps them), and an OSV mirror of M PyPI advisories
over ten times as many package names as the SBOMs draw from; one advisory in a hundred
covers the versions the SBOMs hold. Measured in one run: the audit at N/4 and at N datalabs, each in a fresh
process (time and peak RSS), and the baseline of loading the OSV mirror alone.

Targets (issue 15): 10,000 SBOMs against 100,000 advisories in under 60 s on this 2-core
machine; memory flat in the number of SBOMs (peak RSS at N about that at N/4).

Run: .venv/bin/python benchmarks/audit.py [--datalabs 10000] [--advisories 100000]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from catalog import REPO, generate  # noqa: E402

PACKAGES = 20_000  # the pool of PyPI names SBOMs and advisories draw from


def make(root: Path, datalabs: int, advisories: int, seed: int = 7) -> None:
    from sciapps.releases import signing
    from sciapps.releases.mirror import store_record, write_check
    from sciapps.releases.record import statement

    rng = random.Random(seed)
    generate(root, datalabs)
    shutil.copy(REPO / "scan-policy.yaml", root / "scan-policy.yaml")
    (root / "sciapps.yaml").write_text((REPO / "sciapps.yaml").read_text() + "osv_mirror: osv\n")
    names = [f"pkg{i:05d}" for i in range(PACKAGES)]
    osv = root / "osv" / "PyPI"
    osv.mkdir(parents=True)
    names_advised = names + [f"other{i:06d}" for i in range(PACKAGES * 9)]
    for i in range(advisories):
        name = rng.choice(names_advised)
        (osv / f"GHSA-{i:06d}.json").write_text(
            json.dumps(
                {
                    "id": f"GHSA-{i:06d}",
                    "summary": f"flaw {i}",
                    "modified": "2026-11-24T00:00:00Z",
                    "database_specific": {"severity": rng.choice(["LOW", "MODERATE", "HIGH", "CRITICAL"])},
                    "affected": [
                        {
                            "package": {"ecosystem": "PyPI", "name": name},
                            "ranges": [
                                {
                                    "type": "ECOSYSTEM",
                                    "events": [{"introduced": "0"}, {"fixed": "9.0.0" if rng.random() < 0.01 else "0.5.0"}],
                                }
                            ],
                        }
                    ],
                }
            )
        )
    signing.generate(root / "private" / "release.key", root / "keys" / "release.pub")
    signer = signing.signer_from_environment({signing.SIGNING_KEY_VARIABLE: str(root / "private" / "release.key")})
    out, tags = root / "build" / "releases", {}
    checks = {
        s: {"status": "passed", "summary": "ok", "finished": "2026-11-20T10:00:00+00:00"}
        for s in ("build", "scan", "test", "chart")
    }
    for n, folder in enumerate(sorted((root / "datalabs").iterdir())):
        packages = rng.sample(names, 150)
        sbom = json.dumps(
            {
                "bomFormat": "CycloneDX",
                "specVersion": "1.5",
                "components": [
                    {
                        "name": p,
                        "version": f"{rng.randint(1, 4)}.{rng.randint(0, 9)}.0",
                        "type": "library",
                        "purl": f"pkg:pypi/{p}@{rng.randint(1, 4)}.{rng.randint(0, 9)}.0",
                    }
                    for p in packages
                ],
            }
        ).encode()
        digest = "sha256:" + hashlib.sha256(folder.name.encode()).hexdigest()
        body = statement(
            datalab=folder.name,
            version="1.0.0",
            build=1,
            repository=f"127.0.0.1:5000/sciapps/{folder.name}",
            tag="1.0.0-abc",
            digest=digest,
            bases=[],
            chart=None,
            sbom="sha256:" + hashlib.sha256(sbom).hexdigest(),
            checks=checks,
            source_repository="https://gitlab.example.org/x",
            commit="0" * 40,
            merge_request=None,
            builder="bench",
            pipeline=f"bench {n}",
            started=None,
            published="2026-11-01T00:00:00+00:00",
            sciapps_version="bench",
        )
        store_record(out, folder.name, digest, signing.sign(body, signer))
        (out / folder.name / f"{digest[7:]}.sbom.json").write_bytes(sbom)
        tags[f"{folder.name}/{digest[7:]}"] = digest
    write_check(out, "127.0.0.1:5000/sciapps", tags)


MEASURE = """
import resource, sys, time
from pathlib import Path
from sciapps.config import load_config
root = Path(sys.argv[1])
config = load_config(root / "sciapps.yaml")
start = time.perf_counter()
if sys.argv[2] == "mirror":
    from sciapps.scanning.osv import Mirror
    Mirror.load(root / "osv")
else:
    import shutil
    from sciapps.revisits.audit import run as audit
    keep = int(sys.argv[2])
    for folder in sorted((root / "datalabs").iterdir())[keep:]:
        shutil.move(str(folder), str(root / "aside" / folder.name)) if keep else None
    report = audit(config, lambda line: None)
    print(len(report.releases), sum(len(v) for v in report.blocking().values()), file=sys.stderr)
print(time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def measure(root: Path, what: str) -> tuple[float, float, str]:
    proc = subprocess.run([sys.executable, "-c", MEASURE, str(root), what], capture_output=True, text=True, check=True)
    seconds, rss = proc.stdout.split()
    return float(seconds), float(rss), proc.stderr.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datalabs", type=int, default=10_000)
    parser.add_argument("--advisories", type=int, default=100_000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="sciapps-audit-bench-"))
    try:
        start = time.perf_counter()
        make(work, args.datalabs, args.advisories)
        print(
            f"generated {args.datalabs:,} releases with SBOMs and "
            f"{args.advisories:,} advisories in {time.perf_counter() - start:.0f} s",
            flush=True,
        )
        seconds, rss, _ = measure(work, "mirror")
        print(f"baseline: loading the OSV mirror alone: {seconds:.1f} s, peak {rss:.0f} MiB", flush=True)
        full, full_rss, counts = measure(work, "0")
        audited, blocked = counts.split()
        print(
            f"sciapps audit, {int(audited):,} SBOMs x {args.advisories:,} advisories: {full:.1f} s, peak {full_rss:.0f} MiB "
            f"({blocked} releases with blocking advisories)",
            flush=True,
        )
        (work / "aside").mkdir()
        quarter, quarter_rss, counts = measure(work, str(args.datalabs // 4))
        print(f"sciapps audit, {int(counts.split()[0]):,} SBOMs: {quarter:.1f} s, peak {quarter_rss:.0f} MiB")
        print(
            f"target {args.datalabs:,} SBOMs under 60 s: {'met' if full < 60 else 'NOT met'} ({full:.1f} s); "
            f"memory flat: peak {full_rss:.0f} MiB at {args.datalabs:,} vs {quarter_rss:.0f} MiB at {args.datalabs // 4:,} "
            f"({full_rss / quarter_rss:.2f}x)"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
