"""`sciapps new` writes datalabs that validate at once, and refuses bad requests cleanly."""

from __future__ import annotations

import json
import shutil

import nbformat
import pytest
from click.testing import CliRunner

from sciapps.catalog.validate import validate
from sciapps.cli import cli
from sciapps.schema import datalab_schema
from tests.conftest import CASES, REPO

ME = ["--maintainer", "Ada Example <ada@example.org>", "--username", "ada"]


def new(tmp_path, *args):
    catalog = tmp_path / "datalabs"
    result = CliRunner().invoke(cli, ["new", *args, *ME, "--catalog", str(catalog)], catch_exceptions=False)
    return result, catalog


@pytest.mark.parametrize(
    "args",
    [
        ["my-notebook", "--type", "jupyterlab"],
        ["my-desktop", "--type", "vnc", "--app", "topcat"],
        ["my-advanced", "--type", "jupyterlab", "--advanced"],
        ["my-advanced-desktop", "--type", "vnc", "--advanced"],
    ],
)
def test_new_datalab_validates_at_once(tmp_path, config, args):
    result, catalog = new(tmp_path, *args)
    assert result.exit_code == 0, result.output
    folder = catalog / args[0]
    assert list(validate([folder], config)) == []
    text = (folder / "datalab.yaml").read_text()
    assert text.startswith("# yaml-language-server: $schema=")
    schema_ref = text.splitlines()[0].split("=", 1)[1]
    assert schema_ref == datalab_schema()["$id"]  # no schemas/ beside this catalog: the published one
    assert not [p for p in catalog.iterdir() if p.name.startswith(".")], "staging folder left behind"


def test_schema_comment_points_at_the_catalogs_schema(tmp_path):
    (tmp_path / "schemas").mkdir()
    shutil.copy(REPO / "schemas" / "datalab.schema.json", tmp_path / "schemas")
    result, catalog = new(tmp_path, "local-schema", "--type", "vnc")
    first = (catalog / "local-schema" / "datalab.yaml").read_text().splitlines()[0]
    assert first == "# yaml-language-server: $schema=../../schemas/datalab.schema.json"


def test_all_you_need_to_bring_is_a_notebook(tmp_path, config):
    source = CASES / "valid" / "full" / "notebooks" / "main.ipynb"
    result, catalog = new(tmp_path, "from-notebook", "--type", "jupyterlab", "--from", str(source))
    assert result.exit_code == 0, result.output
    folder = catalog / "from-notebook"
    assert (folder / "notebooks" / "main.ipynb").read_bytes() == source.read_bytes()
    assert 'entry: "notebooks/main.ipynb"' in (folder / "datalab.yaml").read_text()
    assert list(validate([folder], config)) == []


@pytest.mark.parametrize(
    "name", ["Analysis #2.ipynb", "a: b.ipynb", "[draft] {x}, & *y.ipynb", 'it\'s "quoted".ipynb', "- dash.ipynb"]
)
def test_a_notebook_name_that_means_something_in_yaml_stays_a_name(tmp_path, config, name):
    source = tmp_path / name
    shutil.copy(CASES / "valid" / "full" / "notebooks" / "main.ipynb", source)
    result, catalog = new(tmp_path, "named", "--type", "jupyterlab", "--from", str(source))
    assert result.exit_code == 0, result.output
    folder = catalog / "named"
    assert list(validate([folder], config)) == []
    import yaml

    metadata = yaml.safe_load((folder / "datalab.yaml").read_text())
    assert metadata["entry"] == f"notebooks/{name}" and metadata["tests"] == [f"notebooks/{name}"]


def test_refuses_an_invalid_notebook_and_leaves_nothing(tmp_path):
    bad = tmp_path / "broken.ipynb"
    bad.write_text('{"cells": [\n')
    result, catalog = new(tmp_path, "broken", "--type", "jupyterlab", "--from", str(bad))
    assert result.exit_code == 2
    assert f"{bad}:2: is not valid JSON" in result.output
    assert not (catalog / "broken").exists()
    assert not any(catalog.glob(".new-*")) if catalog.exists() else True


def test_refuses_existing_and_bad_ids(tmp_path):
    assert new(tmp_path, "taken", "--type", "vnc")[0].exit_code == 0
    again, catalog = new(tmp_path, "taken", "--type", "vnc")
    assert again.exit_code == 2 and "already exists" in again.output
    bad, _ = new(tmp_path, "Bad_ID", "--type", "vnc")
    assert bad.exit_code == 2 and "not a valid datalab id" in bad.output


def test_maintainer_from_git_config(tmp_path, config, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    (home / ".gitconfig").write_text("[user]\n\tname = Grace Hopper\n\temail = grace.hopper@example.org\n")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["new", "from-git", "--type", "vnc", "--catalog", str(tmp_path / "datalabs")])
    assert result.exit_code == 0, result.output
    text = (tmp_path / "datalabs" / "from-git" / "datalab.yaml").read_text()
    assert '"Grace Hopper"' in text and '"grace.hopper"' in text


def test_starter_notebook_is_valid(tmp_path):
    result, catalog = new(tmp_path, "starter", "--type", "jupyterlab")
    nb = nbformat.read(catalog / "starter" / "notebooks" / "starter.ipynb", as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    assert json.loads((catalog / "starter" / "notebooks" / "starter.ipynb").read_text())["nbformat"] == 4
