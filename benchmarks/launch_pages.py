"""Benchmark: the store's launch/ and open/ pages in Chromium at 10,000 datalabs, against
the browse page in the same run.

A generated catalog (benchmarks/catalog.py: datalabs whose collection has a kind of id take
it as a launch parameter) gets one signed, verified release per datalab and is built into
a store, served on 127.0.0.1. Measured from navigation start, in a fresh tab each time:
- browse/: until the search is usable (the baseline: the store's main page of results);
- launch/ with a good link: until the summary of what starts is on screen;
- launch/ with a crafted bad value: until its refusal is on screen;
- open/?mission=xmm-newton&obsid=…: until the list of datalabs is on screen.
Each is the median of --repeats runs.

Run: .venv/bin/python benchmarks/launch_pages.py [--datalabs 10000] [--repeats 7]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from catalog import generate  # noqa: E402
from release_records import build, write_records  # noqa: E402
from store_build import FLAGS, serve  # noqa: E402


def measure(browser, url: str, ready: str, value: str, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        page = browser.new_page()
        page.goto(url)
        page.wait_for_function(ready, timeout=60_000)
        times.append(page.evaluate(value))
        page.close()
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datalabs", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="sciapps-launch-bench-"))
    try:
        generate(work, args.datalabs)
        signed = write_records(work, args.datalabs, 1, own_version=True)
        seconds, shown = build(work, work / "public")
        print(f"store with {shown:,} datalabs, one verified release each: signed in {signed:.1f} s, built in {seconds:.1f} s")
        xmm = json.loads((work / "public" / "api" / "open" / "xmm-newton.json").read_text())
        lab = xmm["datalabs"][len(xmm["datalabs"]) // 2]
        print(f"{len(xmm['datalabs']):,} datalabs take an XMM-Newton obsid; the launch link opens {lab['id']}")
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=shutil.which("chromium") or "/usr/bin/chromium", args=FLAGS)
            server, url = serve(work / "public")
            launch_ready = "() => window.__sciapps && window.__sciapps.launchReady"
            since_start = "() => window.__sciapps.launchReady"
            rows = [
                (
                    "browse/ (baseline): search usable",
                    measure(
                        browser,
                        url + "browse/",
                        "() => document.body.dataset.searchReady === 'true'",
                        "() => window.__sciapps.readyMs",
                        args.repeats,
                    ),
                ),
                (
                    "launch/ good link: summary shown",
                    measure(
                        browser,
                        f"{url}launch/?datalab={lab['id']}&version={lab['version']}&obsid=0765432109&cpu=4",
                        launch_ready,
                        since_start,
                        args.repeats,
                    ),
                ),
                (
                    "launch/ bad value: refusal shown",
                    measure(
                        browser, f"{url}launch/?datalab={lab['id']}&obsid=0765%0A432109", launch_ready, since_start, args.repeats
                    ),
                ),
                (
                    "open/ xmm-newton obsid: list shown",
                    measure(browser, f"{url}open/?mission=xmm-newton&obsid=0765432109", launch_ready, since_start, args.repeats),
                ),
            ]
            server.shutdown()
            browser.close()
        base = rows[0][1]
        for name, ms in rows:
            print(f"{name:40} {ms:7.0f} ms after navigation start ({ms / base:.2f}x browse)")
        payload = (work / "public" / "api" / "open" / "xmm-newton.json").stat().st_size
        print(f"open/ reads api/open/xmm-newton.json: {payload / 1024:.0f} KiB; launch/ reads one api/datalabs/<id>.json")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
