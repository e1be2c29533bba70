"""Benchmark: building a JupyterLab datalab's image, and finding what to build.

Measured in one run on a real Docker engine (the base images must be built:
`sciapps base-images build`):
- cold build (no layer cache) of a copy of the example gaia-dr3-hrd;
- rebuild after changing only its notebook (target: at most 10% of the cold build);
- build with nothing changed: the decision not to build (target: under 1 s);
- `--changed` over a generated Git catalog of 1,000 datalabs with one changed
  (target: exactly that one, in under 2 s).

Run: .venv/bin/python benchmarks/image_build.py
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from catalog import REPO, generate  # noqa: E402


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def main() -> None:
    import git

    from sciapps.catalog.loader import load_datalab
    from sciapps.config import load_config
    from sciapps.images import bases
    from sciapps.catalog.changes import changed_datalabs
    from sciapps.images.build import build, plan
    from sciapps.engine import Engine

    config = load_config(REPO / "sciapps.yaml")
    engine = Engine()
    approved = bases.read_lock(config)
    if "jl_base" not in approved or engine.image_id(approved["jl_base"].image_id) is None:
        sys.exit("the base images are not built here: run `sciapps base-images build` first")
    work = Path(tempfile.mkdtemp(prefix="sciapps-image-bench-"))
    quiet = lambda line: None  # noqa: E731
    try:
        folder = work / "datalabs" / "gaia-dr3-hrd"
        shutil.copytree(REPO / "datalabs" / "gaia-dr3-hrd", folder)
        lab = load_datalab(folder, config.limits)
        cold = build(engine, plan(lab, config, approved), nocache=True, log=quiet)
        print(f"cold build (no cache) of gaia-dr3-hrd:          {cold.seconds:6.1f} s")

        notebook = folder / "notebooks" / "hr_diagram.ipynb"
        notebook.write_text(notebook.read_text().replace("# Gaia DR3", "# Gaia DR3 (edited)", 1))
        start = time.perf_counter()
        rebuilt = build(engine, plan(load_datalab(folder, config.limits), config, approved), log=quiet)
        notebook_only = time.perf_counter() - start
        assert rebuilt.status == "built"
        share = notebook_only / cold.seconds
        print(
            f"rebuild after changing only the notebook:       {notebook_only:6.1f} s = {share:.0%} of cold "
            f"(target <= 10%: {verdict(share <= 0.10)})"
        )

        start = time.perf_counter()
        same = build(engine, plan(load_datalab(folder, config.limits), config, approved), log=quiet)
        unchanged = time.perf_counter() - start
        assert same.status == "unchanged"
        print(
            f"nothing changed: decided not to build in        {unchanged * 1000:6.0f} ms (target < 1 s: {verdict(unchanged < 1)})"
        )

        repo_root = work / "catalog"
        generate(repo_root, 1000)
        repo = git.Repo.init(repo_root)
        repo.git.add("datalabs")
        actor = git.Actor("bench", "bench@example.org")
        repo.index.commit("generated catalog", author=actor, committer=actor)
        target = repo_root / "datalabs" / "datalab-00421" / "notebooks" / "main.ipynb"
        target.write_text(target.read_text().replace('"print(1 + 1)"', '"print(2 + 2)"'))
        start = time.perf_counter()
        picked = changed_datalabs(repo_root, "HEAD")
        seconds = time.perf_counter() - start
        print(
            f"--changed over 1,000 datalabs, one changed:      {seconds * 1000:6.0f} ms, picked {picked} "
            f"(target: exactly one in < 2 s: {verdict(picked == ['datalab-00421'] and seconds < 2)})"
        )
        for ref in {cold.ref, rebuilt.ref}:
            engine.untag(ref)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
