"""Benchmark: launch to ready with parameters against launch without, in one run.

The XMM-Newton example's image (built first if needed) is started locally the way
`sciapps run` does, alternately:
- without parameters: no declaration in the environment, so the start-up only checks
  there is nothing to check, and JupyterLab opens the entry notebook as it is;
- with `--param obsid=0765432109`: the start-up checks the value against the declaration,
  writes the injected copy, and JupyterLab opens that.
Ready means: JupyterLab answers, and its contents API serves the notebook it opens (with
the injected cell, in the second case). Median of --runs each.

Target (issue 23): with parameters at most 1.2x without.

Run: .venv/bin/python benchmarks/launch_ready.py [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LAB = "xmm-epic-spectrum-fit"


def ready_seconds(engine, lab, image, parameters, values) -> float:
    from sciapps.testing.runner import opened_entry, start, wait_ready

    begin = time.perf_counter()
    container, service = start(engine, lab, image, "bench", parameters=parameters, values=values)
    try:
        check = wait_ready(engine, container, service)
        assert check.passed, check.output
        base, _, query = service.url.partition("/lab/tree/")
        token = query.partition("?")[2]
        entry = opened_entry(lab, parameters)
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/contents/{entry}?{token}", timeout=5) as response:
                    cells = json.load(response)["content"]["cells"]
                break
            except OSError:
                time.sleep(0.05)
        seconds = time.perf_counter() - begin
        injected = any("injected-parameters" in c["metadata"].get("tags", []) for c in cells)
        assert injected == bool(parameters), "the notebook opened is not the one expected"
        return seconds
    finally:
        engine.remove(container)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    from sciapps import launchparams
    from sciapps.catalog.launching import declared
    from sciapps.catalog.loader import resolve
    from sciapps.config import load_config, registry_login
    from sciapps.engine import Engine
    from sciapps.images.build import ensure_image

    config = load_config(REPO / "sciapps.yaml")
    (lab,) = resolve(config, [LAB])
    engine = Engine(login=registry_login(config))
    image = ensure_image(engine, config, lab, lambda line: None)
    parameters = declared(lab.metadata, config)
    values, problems = launchparams.read_values(parameters, [("obsid", "0765432109")])
    assert not problems, problems
    ready_seconds(engine, lab, image, (), None)  # warm: the image's layers in the page cache
    without, with_ = [], []
    for _ in range(args.runs):
        without.append(ready_seconds(engine, lab, image, (), None))
        with_.append(ready_seconds(engine, lab, image, parameters, values))
    a, b = statistics.median(without), statistics.median(with_)
    print(f"{LAB}: launch to ready, median of {args.runs} (runs alternate)")
    print(f"  without parameters:             {a:6.2f} s  ({', '.join(f'{x:.2f}' for x in without)})")
    print(f"  with --param obsid=0765432109:  {b:6.2f} s  ({', '.join(f'{x:.2f}' for x in with_)})")
    print(f"target with <= 1.2x without: {b / a:.2f}x, {'met' if b / a <= 1.2 else 'NOT met'}")


if __name__ == "__main__":
    sys.exit(main())
