"""Benchmark: build the store from generated catalogs and search it in headless Chromium.

Measured in one run, on this machine:
- `sciapps site build` for 1,000, 10,000 and 20,000 datalabs;
- baseline: a plain mkdocs-material site with one page per datalab, every page in the
  navigation, and its default search, at 1,000 pages;
- at 10,000 datalabs in Chromium: time from navigation to search being usable, and from
  each keystroke of a query typed at 60 ms a key to its results on screen (every
  keystroke, from the moment the key was pressed: a tab busy with the previous one counts),
  for this store.js and, as the baseline, the store.js of BASELINE_REVISION (the one that
  built a lunr.Index and let lunr.js run the prefix queries) on the same built site; and
  mkdocs-material's own search on the baseline site, from typing to first results;
- the search payload a visitor downloads, gzipped;
- at 10,000: the same build with the code of BASELINE_REVISION (a git worktree of it), and
  this build without the IVOA DataLink descriptors (what they cost, issue 34).

Targets (issues 3, 33 and 34): 10,000 built in <= 15 s; 20,000 in <= 2.2x the 10,000 time;
search usable <= 500 ms after navigation start; every keystroke's results <= 100 ms;
payload <= 1.5 MB gzipped at 10,000; the descriptors <= 1.1x the build without them.

Run: .venv/bin/python benchmarks/store_build.py [--sizes 1000,10000,20000] [--baseline-pages 1000]
"""

from __future__ import annotations

import argparse
import functools
import gzip
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import replace
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from catalog import REPO, generate  # noqa: E402

BASELINE_REVISION = "b8c400f"  # store.js before search scored from typed arrays
QUERIES = ["spectrum fit", "gaia light curve", "wavelet", "xmm-newton", "exoplanet transit", "healpix map"]
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def serve(folder: Path):
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def baseline_build(catalog: Path, out: Path) -> float:
    """The same build with the code of BASELINE_REVISION (a worktree of it), on this machine, now."""
    import subprocess

    tree = out.parent / "baseline-tree"
    subprocess.run(
        ["git", "-C", str(REPO), "worktree", "add", "--detach", str(tree), BASELINE_REVISION], check=True, capture_output=True
    )
    try:
        script = (
            "import sys; from dataclasses import replace; from pathlib import Path\n"
            "from sciapps.catalog.validate import default_jobs\nfrom sciapps.config import load_config\n"
            "from sciapps.site.build import build_store\n"
            f"tree = Path({str(tree)!r})\n"
            f"config = replace(load_config(tree / 'sciapps.yaml'), path=Path({str(out.parent / 'sciapps.yaml')!r}))\n"
            f"r = build_store(config, [Path({str(catalog)!r})], Path({str(out)!r}), tree / 'mkdocs.yml', default_jobs())\n"
            "print(r.seconds)\n"
        )
        done = subprocess.run(
            [sys.executable, "-c", script],
            check=True,
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(tree / "tools")},
        )
        return float(done.stdout.split()[-1])
    finally:
        subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(tree)], capture_output=True)


def build_store(catalog: Path, out: Path, datalink: bool = True) -> float:
    from sciapps.catalog.validate import default_jobs
    from sciapps.config import load_config
    from sciapps.site import data
    from sciapps.site.build import build_store as build

    if not datalink:  # the same build, the descriptors left out: what they cost
        original, data.write_datalink = data.write_datalink, lambda *args: []

    config = replace(load_config(REPO / "sciapps.yaml"), path=out.parent / "sciapps.yaml")
    try:
        report = build(config, [catalog], out, REPO / "mkdocs.yml", default_jobs())
    finally:
        if not datalink:
            data.write_datalink = original
    assert not report.skipped, report.skipped[:3]
    return report.seconds


def baseline_site(root: Path, pages: int) -> float:
    """A plain mkdocs-material site: a page per datalab, all in the nav, default search."""
    import yaml

    docs = root / "docs"
    (docs / "datalabs").mkdir(parents=True)
    (docs / "index.md").write_text("# Catalog\n")
    nav = [{"Home": "index.md"}]
    for folder in sorted((root / "datalabs").iterdir())[:pages]:
        meta = yaml.load((folder / "datalab.yaml").read_text(), Loader=yaml.CSafeLoader)
        (docs / "datalabs" / f"{meta['id']}.md").write_text(
            f"# {meta['name']}\n\n{meta['summary']}\n\n{meta['description']}\n\n"
            f"Missions: {', '.join(meta['missions'])}. Keywords: {', '.join(meta['keywords'])}.\n"
        )
        nav.append({meta["name"]: f"datalabs/{meta['id']}.md"})
    config = {
        "site_name": "Baseline",
        "docs_dir": "docs",
        "site_dir": "site",
        "theme": {"name": "material", "font": False},
        "nav": nav,
    }
    (root / "mkdocs.yml").write_text(yaml.safe_dump(config))
    start = time.perf_counter()
    import subprocess

    subprocess.run([sys.executable, "-m", "mkdocs", "build", "-q", "-f", str(root / "mkdocs.yml")], check=True)
    return time.perf_counter() - start


def measure_store_search(browser, url: str) -> dict:
    loads = []
    for _ in range(5):  # the median of five loads of browse/, each in a new tab
        page = browser.new_page()
        page.goto(url + "browse/")
        page.wait_for_selector("body[data-search-ready='true']", timeout=120_000)
        loads.append(page.evaluate("() => window.__sciapps.readyMs"))
        page.close()
    ready = statistics.median(loads)
    page = browser.new_page()
    page.goto(url + "browse/")
    page.wait_for_selector("body[data-search-ready='true']", timeout=120_000)
    last, every = [], []
    for query in QUERIES:
        page.fill("#sa-q", "")
        page.wait_for_timeout(200)
        page.evaluate("() => { window.__sciapps.searches = []; }")
        page.click("#sa-q")
        page.keyboard.type(query, delay=60)
        page.wait_for_function(
            "q => document.querySelector('.sa-results__status').textContent.includes(q)", arg=query, timeout=300_000
        )
        page.wait_for_function("n => window.__sciapps.searches.length >= n", arg=len(query), timeout=300_000)
        times = page.evaluate("() => window.__sciapps.searches")
        last.append(times[-1])
        every.extend(times)
    page.close()
    return {"ready": ready, "loads": loads, "last": last, "every": every}


def worst_per_query(store: dict) -> dict[str, float]:
    found, at = {}, 0
    for query in QUERIES:
        found[query] = max(store["every"][at : at + len(query)])
        at += len(query)
    return found


def with_baseline_script(site: Path) -> Path:
    """A copy of the built site whose store.js is BASELINE_REVISION's, timed the same way
    (its input handler started the clock when the handler ran, so it is given the key's time)."""
    import subprocess

    copy = site.parent / "public-baseline"
    if not copy.exists():
        shutil.copytree(site, copy)
    old = subprocess.run(
        ["git", "-C", str(REPO), "show", f"{BASELINE_REVISION}:site/docs/assets/store.js"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    old = old.replace(
        'input.addEventListener("input", () => {\n          timing.inputAt = performance.now();',
        'input.addEventListener("input", (event) => {\n          timing.inputAt = event.timeStamp;',
    )
    (copy / "assets" / "store.js").write_text(old)
    return copy


def measure_material_search(browser, url: str) -> list[float]:
    """mkdocs-material's search: from the last keystroke to the first result shown."""
    page = browser.new_page()
    out = []
    for query in QUERIES[:3]:
        page.goto(url)
        page.wait_for_load_state("load")
        page.click("label.md-search__icon, .md-search__input") if page.query_selector(".md-search__input") else None
        page.focus(".md-search__input")
        page.keyboard.type(query[:-1], delay=60)
        start = time.perf_counter()
        page.keyboard.type(query[-1])
        page.wait_for_selector(".md-search-result__item", timeout=60_000)
        out.append((time.perf_counter() - start) * 1000)
    page.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,20000")
    parser.add_argument("--baseline-pages", type=int, default=1000)
    parser.add_argument("--no-browser", action="store_true", help="skip the Chromium measurements")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    work = Path(tempfile.mkdtemp(prefix="sciapps-store-bench-"))
    try:
        built: dict[int, float] = {}
        for n in sizes:
            root = work / str(n)
            generate(root, n)
            build_store(root / "datalabs", root / "public-warm-up")  # untimed: the catalog's files into the page cache
            shutil.rmtree(root / "public-warm-up")
            built[n] = build_store(root / "datalabs", root / "public")
            print(f"sciapps site build, {n:>6,} datalabs: {built[n]:6.1f} s", flush=True)
            if n == 10_000:
                before = baseline_build(root / "datalabs", work / "public-baseline-build")
                print(f"baseline: the store build of {BASELINE_REVISION}, {n:,} datalabs: {before:6.1f} s", flush=True)
                without = build_store(root / "datalabs", root / "public-without-datalink", datalink=False)
                print(
                    f"this build without the DataLink descriptors: {without:6.1f} s; with them "
                    f"{built[n] / without:.2f}x (target <= 1.1x)",
                    flush=True,
                )
        pages = min(args.baseline_pages, max(sizes))
        base_root = work / f"{max(sizes)}"
        base = baseline_site(base_root, pages)
        print(f"baseline: plain mkdocs-material, {pages:,} pages all in the nav: {base:6.1f} s", flush=True)
        if 10_000 in built:
            print(f"target 10,000 in <= 15 s: {built[10_000]:.1f} s, {verdict(built[10_000] <= 15)}")
        if 10_000 in built and 20_000 in built:
            ratio = built[20_000] / built[10_000]
            print(f"target 20,000 in <= 2.2x the 10,000 time: {ratio:.2f}x, {verdict(ratio <= 2.2)}")
        probe = 10_000 if 10_000 in built else max(sizes)
        index = work / str(probe) / "public" / "search" / "index.json"
        payload = {
            p: len(gzip.compress(p.read_bytes(), 6))
            for p in (index, REPO / "site/docs/assets/store.js", REPO / "site/docs/assets/vendor/lunr-2.3.9.min.js")
        }
        total = sum(payload.values())
        print(
            f"search payload at {probe:,} datalabs, gzipped: {total / 1e6:.2f} "
            f"MB (index {payload[index] / 1e6:.2f} MB + scripts); "
            f"target <= 1.5 MB: {verdict(total <= 1.5e6)}"
        )
        if args.no_browser:
            return
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=shutil.which("chromium") or "/usr/bin/chromium", args=FLAGS)
            measured = {}
            for label, folder in (
                ("this store.js", work / str(probe) / "public"),
                (f"baseline store.js ({BASELINE_REVISION})", with_baseline_script(work / str(probe) / "public")),
            ):
                server, url = serve(folder)
                measured[label] = store = measure_store_search(browser, url)
                server.shutdown()
                print(
                    f"{label} at {probe:,}: search usable {store['ready']:.0f} ms after navigation start "
                    f"(median of {len(store['loads'])} loads, max {max(store['loads']):.0f} ms); "
                    f"every keystroke -> results: max {max(store['every']):.0f} ms, "
                    f"median {statistics.median(store['every']):.0f} ms over {len(store['every'])} keystrokes; "
                    f"last keystroke: max {max(store['last']):.0f} ms",
                    flush=True,
                )
                for query, worst in worst_per_query(store).items():
                    print(f"    {query!r}: slowest keystroke {worst:.0f} ms")
            store = measured["this store.js"]
            print(f"target: usable <= 500 ms: {store['ready']:.0f} ms, {verdict(store['ready'] <= 500)}")
            print(f"target: every keystroke <= 100 ms: {max(store['every']):.0f} ms, {verdict(max(store['every']) <= 100)}")
            server, url = serve(base_root / "site")
            material = measure_material_search(browser, url)
            server.shutdown()
            print(
                f"baseline mkdocs-material search, {pages:,} pages: typing -> first results: "
                f"median {statistics.median(material):.0f} ms, max {max(material):.0f} ms"
            )
            browser.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
