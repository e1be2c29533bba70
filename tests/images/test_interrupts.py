"""Faults a developer meets: Ctrl-C during a build, an unreachable registry, `sciapps run`."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from sciapps.catalog.loader import load_datalab
from sciapps.config import load_config
from sciapps.images.build import build, plan
from sciapps.engine import EngineError
from sciapps.testing.runner import LABEL
from tests.conftest import CASES, REPO


def catalog_with(tmp_path: Path, case: str) -> Path:
    """A catalog repository holding one test datalab, using this machine's base images."""
    root = tmp_path / "catalog"
    shutil.copytree(CASES / "images" / case, root / "datalabs" / case)
    shutil.copy(REPO / "sciapps.yaml", root / "sciapps.yaml")
    (root / "build").mkdir()
    shutil.copy(REPO / "build" / "base-images.json", root / "build" / "base-images.json")
    return root


def _interruptible() -> None:
    """In the child: Ctrl-C as in a terminal. A test run started in the background by a shell
    without job control inherits SIGINT ignored, and so would every `sciapps` it starts."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _sciapps(*args: str, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "sciapps", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        preexec_fn=_interruptible,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def test_ctrl_c_during_a_build_leaves_nothing(engine, approved, tmp_path):
    root = catalog_with(tmp_path, "tiny-lab")
    # a content of its own: never an image some earlier run happened to finish
    (root / "datalabs" / "tiny-lab" / "postBuild").write_text(
        f"#!/bin/sh\necho slow step {os.getpid()}-{time.time_ns()}; sleep 120\n"
    )
    ref = plan(
        load_datalab(root / "datalabs" / "tiny-lab", load_config(root / "sciapps.yaml").limits),
        load_config(root / "sciapps.yaml"),
        approved,
    ).ref
    before = {c.id for c in engine.client.containers.list(all=True)}
    proc = _sciapps("build", "tiny-lab", cwd=root)
    output = []
    deadline = time.monotonic() + 300
    for line in proc.stdout:
        output.append(line)
        if "slow step" in line or time.monotonic() > deadline:
            break
    proc.send_signal(signal.SIGINT)
    rest, _ = proc.communicate(timeout=60)
    text = "".join(output) + rest
    assert proc.returncode == 130, text
    assert "Interrupted." in text and "Traceback" not in text
    assert engine.image_id(ref) is None  # nothing tagged
    time.sleep(2)  # the engine removes the build's container once it notices the disconnect
    assert {c.id for c in engine.client.containers.list(all=True)} - before == set()


def test_unreachable_registry_is_one_clear_sentence(engine, approved, tmp_path):
    from dataclasses import replace

    settings = replace(load_config(REPO / "sciapps.yaml"), registry="127.0.0.1:9/sciapps")  # nothing listens on port 9
    lab = load_datalab(CASES / "images" / "tiny-desktop", settings.limits)
    with pytest.raises(EngineError) as info:
        build(engine, plan(lab, settings, approved), push=True, log=lambda line: None)
    assert "pushing 127.0.0.1:9/sciapps/tiny-desktop" in info.value.message
    assert "registry" in info.value.hint


def test_run_prints_a_url_that_works_and_ctrl_c_cleans_up(engine, approved, tmp_path):
    root = catalog_with(tmp_path, "tiny-lab")
    proc = _sciapps("run", "tiny-lab", cwd=root)
    url = None
    lines = []
    deadline = time.monotonic() + 300
    for line in proc.stdout:
        lines.append(line)
        found = re.search(r"(http://127\.0\.0\.1:\d+/lab/tree/\S+)", line)
        if found or time.monotonic() > deadline:
            url = found and found.group(1)
            break
    try:
        assert url, "".join(lines)
        with urllib.request.urlopen(url, timeout=10) as response:
            assert response.status == 200
        assert engine.containers_labelled(LABEL) != []
    finally:
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, "".join(lines) + rest
    assert engine.containers_labelled(LABEL) == []
