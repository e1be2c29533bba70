"""Benchmark: the store build with a face on every card (thumbnails made at build time),
against the same build without faces, in one run.

A generated catalog of N datalabs (10,000 by default) is changed so that no datalab ships
an icon and every one has a screenshot of its own (800x500, distinct bytes): every card's
face is then a thumbnail the build makes and re-encodes. Measured, each into a fresh folder:
- without faces (the build before them: `site.catalog._faces` does nothing);
- with faces, cold: every thumbnail made (an empty build/thumbnails/);
- with faces, warm: the thumbnails of the last build found by content (a pages job with
  its cache; a rebuild after one change).

Target (issue 25): with faces at most 1.2x without (the warm build; the cold one is said too).

Run: .venv/bin/python benchmarks/faces.py [--datalabs 10000]
"""

from __future__ import annotations

import argparse
import io
import re
import shutil
import sys
import tempfile
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from catalog import generate  # noqa: E402
from release_records import build  # noqa: E402


def distinct_screenshots(root: Path) -> None:
    for i, folder in enumerate(sorted((root / "datalabs").iterdir())):
        meta = folder / "datalab.yaml"
        meta.write_text(re.sub(r"^icon: .*\n", "", meta.read_text(), flags=re.M))
        picture = Image.new("RGB", (800, 500), (i % 251, (i * 7) % 253, (i * 13) % 255))
        out = io.BytesIO()
        picture.save(out, "PNG")
        (folder / "screenshots" / "main.png").write_bytes(out.getvalue())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datalabs", type=int, default=10_000)
    args = parser.parse_args()
    import sciapps.site.catalog as site_catalog

    work = Path(tempfile.mkdtemp(prefix="sciapps-faces-bench-"))
    try:
        generate(work, args.datalabs)
        distinct_screenshots(work)
        with_faces = site_catalog._faces
        site_catalog._faces = lambda config, catalog, jobs: None
        without, shown = build(work, work / "out-without")
        site_catalog._faces = with_faces
        cold, _ = build(work, work / "out-cold")
        warm, _ = build(work, work / "out-warm")
        made = len(list((work / "build" / "thumbnails").glob("*.webp")))
        print(f"store build, {shown:,} datalabs, no icons, a screenshot each:")
        print(f"  without faces (baseline):   {without:6.1f} s")
        print(f"  with faces, cold:           {cold:6.1f} s  ({cold / without:.2f}x; {made:,} thumbnails made)")
        print(f"  with faces, warm:           {warm:6.1f} s  ({warm / without:.2f}x)")
        print(f"target with faces <= 1.2x without: warm {warm / without:.2f}x, {'met' if warm / without <= 1.2 else 'NOT met'}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
