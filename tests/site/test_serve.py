"""`sciapps serve`: the store on a local port, rebuilt when a datalab changes."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request

from tests.conftest import REPO


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.read().decode()
    except OSError:
        return None


def _wait_for(predicate, seconds: float) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.3)
    return False


def _serve(tmp_path, *more, draft: bool = False, **streams):
    """(catalog, port, page URL, process) of `sciapps serve` on a copy of one datalab."""
    catalog = tmp_path / "datalabs"
    shutil.copytree(REPO / "datalabs" / "gaia-dr3-hrd", catalog / "gaia-dr3-hrd")
    if draft:
        metadata = catalog / "gaia-dr3-hrd" / "datalab.yaml"
        metadata.write_text(metadata.read_text().replace("status: published", "status: draft"))
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sciapps",
            "serve",
            "--dev-addr",
            f"127.0.0.1:{port}",
            "--catalog",
            str(catalog),
            "--config",
            str(REPO / "sciapps.yaml"),
            "--mkdocs-config",
            str(REPO / "mkdocs.yml"),
            *more,
        ],
        text=True,
        **streams,
    )
    return catalog, port, f"http://127.0.0.1:{port}/datalabs/gaia-dr3-hrd/", proc


def test_serve_rebuilds_when_a_datalab_changes(tmp_path):
    catalog, port, url, proc = _serve(tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        assert _wait_for(lambda: "Hertzsprung" in (_get(url) or ""), 60), "the store was not served"
        metadata = catalog / "gaia-dr3-hrd" / "datalab.yaml"
        metadata.write_text(
            metadata.read_text().replace("name: Gaia DR3 Hertzsprung-Russell diagram", "name: Gaia DR3 HR diagram, live")
        )
        assert _wait_for(lambda: "Gaia DR3 HR diagram, live" in (_get(url) or ""), 60), "no rebuild after the change"
    finally:
        proc.terminate()
        output = proc.communicate(timeout=30)[0]
    assert f"Serving the store at http://127.0.0.1:{port}/" in output
    assert "Traceback" not in output and "not included in the" not in output and "_template" not in output  # quiet


def test_an_open_page_reloads_itself_under_the_store_csp(tmp_path, browser):
    """mkdocs' live-reload script is inline; `sciapps serve` allows exactly that script."""
    catalog, _, url, proc = _serve(tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    page = browser.new_page()
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    try:
        assert _wait_for(lambda: "Hertzsprung" in (_get(url) or ""), 60), "the store was not served"
        page.goto(url)
        page.wait_for_function("() => document.readyState === 'complete'")
        assert _wait_for(lambda: "Enabled live reload" in console, 10), console
        metadata = catalog / "gaia-dr3-hrd" / "datalab.yaml"
        text = metadata.read_text()
        old_summary = next(line for line in text.splitlines() if line.startswith("summary:"))
        metadata.write_text(text.replace(old_summary, "summary: A summary edited while the page was open"))
        page.get_by_text("A summary edited while the page was open").first.wait_for(timeout=60_000)
    finally:
        page.close()
        proc.terminate()
        proc.wait(timeout=30)
    assert not [line for line in console if "Content Security Policy" in line], console


def test_serve_drafts_shows_ones_own_drafts_marked_as_a_preview(tmp_path):
    catalog, port, url, proc = _serve(tmp_path, "--drafts", draft=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert _wait_for(lambda: "Unreviewed preview of your drafts." in (_get(url) or ""), 60), "the draft is not shown"
        page = _get(url)
        # what a launch of the draft will ask, before any release or review image: the form, that starts nothing
        assert "Launch on your data (preview)" in page and 'id="sa-p-source_id"' in page
        assert "has no review image yet, so nothing can start" in page
        assert 'type="submit" disabled>Review and launch' in page
    finally:
        proc.terminate()
        proc.wait(timeout=30)
