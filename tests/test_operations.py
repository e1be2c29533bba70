"""OPERATIONS.md: every command it shows, run as an operator would, in a copy of this
repository whose registry is the test registry and which has one published release."""

from __future__ import annotations

import re
import subprocess
import sys
import uuid

from tests.conftest import REPO, copy_repository
from tests.releases.conftest import Catalog, remove_images
from tests.catalogs import write_settings


def shown_commands() -> list[str]:
    text = (REPO / "OPERATIONS.md").read_text(encoding="utf-8")
    blocks = re.findall(r"^```sh\n(.*?)^```", text, re.MULTILINE | re.DOTALL)
    return [line.strip() for block in blocks for line in block.splitlines() if line.strip() and not line.startswith("#")]


def test_every_command_in_operations_md_works(tmp_path, registry, engine, approved):
    commands = shown_commands()
    assert all(c.startswith("sciapps ") for c in commands), commands  # each is one of ours, and runs here
    root = tmp_path / "catalog"
    copy_repository(root)
    prefix = f"{registry}/ops{uuid.uuid4().hex[:8]}"
    write_settings(root, {"registry": prefix}, source=root / "sciapps.yaml")
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    sciapps = [sys.executable, "-m", "sciapps"]
    catalog = Catalog(root, "gaia-dr3-hrd", registry, engine)
    try:
        for command in commands:
            argv = command.split()[1:]
            proc = subprocess.run(sciapps + argv, cwd=root, capture_output=True, text=True, timeout=1200)
            assert proc.returncode == 0 or argv[0] == "verify", f"{command}: {proc.stdout[-2000:]}{proc.stderr[-2000:]}"
            if argv[:2] == ["keys", "generate"]:  # the operator's new key pair, as the publishing job gets it
                assert (root / "keys" / "release.pub").is_file() and (
                    root / "keys" / "release.key"
                ).stat().st_mode & 0o777 == 0o600
                (root / "private").mkdir()
                (root / "keys" / "release.key").rename(root / "private" / "release.key")
                catalog.release("ops")  # a default-branch pipeline publishes gaia-dr3-hrd 1.2.0
            if argv[0] == "verify":
                assert proc.returncode == 0 and "verified: gaia-dr3-hrd 1.2.0 build 1" in proc.stdout, proc.stdout + proc.stderr
            if argv[:2] == ["site", "build"]:
                assert '"verified":true' in (root / "public" / "api" / "datalabs" / "gaia-dr3-hrd.json").read_text()
    finally:
        remove_images(catalog)
    assert [c.split()[1] for c in commands] == ["base-images", "keys", "codeowners", "releases", "site", "verify"]
