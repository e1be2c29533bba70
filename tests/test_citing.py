"""How to cite one build: the files are read back by the tools of their standards.

cffconvert 2.0.0 pins jsonschema<4, which SciApps cannot share, so it runs in an
environment of its own (made once per machine under build/); SciApps' own jsonschema
validates the same files against the Citation File Format 1.2.0 schema that cffconvert
ships, and the two must agree, on good files and on broken ones. rocrate reads every
crate back."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from sciapps import citing
from tests.conftest import REPO

STORE = "https://sciapps.datalabs.esa.int"
RELEASE = {
    "version": "2.1.1",
    "build": 1,
    "published": "2026-11-20T10:00:00+00:00",
    "image": "127.0.0.1:5000/sciapps/xmm-epic-spectrum-fit@sha256:" + "ab" * 32,
    "digest": "sha256:" + "ab" * 32,
    "chart": {"uri": "oci://127.0.0.1:5000/charts/xmm-epic-spectrum-fit", "version": "2.1.1", "digest": "sha256:" + "cd" * 32},
    "source": {"commit": "0123456789abcdef0123456789abcdef01234567"},
}


def _meta(**changes) -> dict:
    meta = yaml.safe_load((REPO / "datalabs" / "xmm-epic-spectrum-fit" / "datalab.yaml").read_text())
    meta["authors"] = [
        {"name": "Jorge Ruiz Alonso", "orcid": "0000-0002-1825-0097", "affiliation": "European Space Agency"},
        {"name": "Lindqvist, Marta"},
        {"name": "Zoë Ødegård & Söhne_{x}", "affiliation": "Universität {Wien}"},  # what BibTeX and YAML must escape
    ]
    return {**meta, **changes}


@pytest.fixture(scope="session")
def cffconvert():
    """cffconvert 2.0.0 in an environment of its own, and the CFF 1.2.0 schema it ships."""
    env = REPO / "build" / "cffconvert-venv"
    tool = env / "bin" / "cffconvert"
    if not tool.exists():
        subprocess.run([sys.executable, "-m", "venv", str(env)], check=True)
        subprocess.run(
            [str(env / "bin" / "pip"), "install", "-q", "cffconvert==2.0.0"],
            check=True,
            env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
        )
    [schema] = list(env.glob("lib/python*/site-packages/cffconvert/schemas/1.2.0/schema.json"))
    return tool, json.loads(schema.read_text())


def _both(cffconvert, text: str, tmp_path: Path) -> tuple[bool, bool]:
    """(cffconvert --validate accepts it, SciApps' jsonschema accepts it)."""
    tool, schema = cffconvert
    path = tmp_path / "CITATION.cff"
    path.write_text(text, encoding="utf-8")
    theirs = subprocess.run([str(tool), "--validate", "-i", str(path)], capture_output=True, text=True).returncode == 0
    ours = not list(
        jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker()).iter_errors(yaml.safe_load(text))
    )
    return theirs, ours


def test_citation_cff_validates_with_cffconvert_and_with_the_schema_alike(cffconvert, tmp_path):
    for meta in (_meta(), {k: v for k, v in _meta().items() if k != "authors"}):  # authors, else the maintainers
        text = citing.cff(meta, RELEASE, STORE, doi="10.5281/zenodo.1234567")
        assert _both(cffconvert, text, tmp_path) == (True, True), text
        data = yaml.safe_load(text)
        assert data["version"] == "2.1.1+build.1" and data["date-released"] == "2026-11-20"
        assert {"type": "other", "value": RELEASE["image"], "description": "The container image, by digest"} in data[
            "identifiers"
        ]
    data = yaml.safe_load(citing.cff(_meta(), RELEASE, STORE))
    assert data["authors"][0] == {
        "family-names": "Alonso",
        "given-names": "Jorge Ruiz",
        "orcid": "https://orcid.org/0000-0002-1825-0097",
        "affiliation": "European Space Agency",
    }
    assert data["authors"][1] == {"family-names": "Lindqvist", "given-names": "Marta"}
    # and both refuse the same broken files
    broken = yaml.safe_load(citing.cff(_meta(), RELEASE, STORE))
    for breaking in ({"authors": []}, {"cff-version": "9.9.9"}, {"date-released": "20 Nov 2026"}):
        text = yaml.safe_dump({**broken, **breaking}, sort_keys=False)
        assert _both(cffconvert, text, tmp_path) == (False, False), breaking


def test_every_crate_reads_back_with_rocrate(tmp_path):
    from rocrate.rocrate import ROCrate

    crate = citing.ro_crate(
        _meta(), RELEASE, STORE, {"datalab.yaml": "0" * 64, "notebooks/spectrum_fit.ipynb": "1" * 64}, "2" * 64
    )
    (tmp_path / "ro-crate-metadata.json").write_text(citing.as_json(crate))
    read = ROCrate(tmp_path)
    assert read.root_dataset["name"] == "XMM-Newton EPIC spectrum fit 2.1.1 (build 1)"
    assert read.get("#image-" + RELEASE["digest"])["identifier"] == RELEASE["image"]
    assert read.get("datalab.yaml")["sha256"] == "0" * 64
    assert read.get("#release-record")["sha256"] == "2" * 64
    assert read.get("#data-xmm-newton-xmm_pps")["description"] == "Mounted read-only at /data/xmm/pps"
    assert [a["name"] for a in read.root_dataset["author"]] == ["Jorge Ruiz Alonso", "Marta Lindqvist", "Zoë Ødegård & Söhne_{x}"]


def test_codemeta_and_the_texts():
    data = citing.codemeta(_meta(), RELEASE, STORE, doi="10.5281/zenodo.1234567")
    assert data["@context"] == "https://w3id.org/codemeta/3.0" and data["@type"] == "SoftwareSourceCode"
    assert data["author"][0] == {
        "@type": "Person",
        "givenName": "Jorge Ruiz",
        "familyName": "Alonso",
        "@id": "https://orcid.org/0000-0002-1825-0097",
        "affiliation": {"@type": "Organization", "name": "European Space Agency"},
    }
    assert data["identifier"] == ["https://doi.org/10.5281/zenodo.1234567", RELEASE["image"]]
    assert data["license"] == "https://spdx.org/licenses/Apache-2.0"
    bibtex = citing.bibtex(_meta(), RELEASE, STORE)
    assert bibtex.startswith("@software{xmm_epic_spectrum_fit_2_1_1_b1,\n")
    assert "author = {Alonso, Jorge Ruiz and Lindqvist, Marta and Söhne\\_x, Zoë Ødegård \\&}" in bibtex
    assert bibtex.count("{") == bibtex.count("}")  # no value can open or close a field
    assert citing.apa(_meta(), RELEASE, STORE) == (
        "Alonso, J. R., Lindqvist, M., & Söhne_{x}, Z. Ø. (2026). XMM-Newton EPIC spectrum fit (Version 2.1.1, build 1) "
        "[Computer software]. ESA Datalabs. https://sciapps.datalabs.esa.int/datalabs/xmm-epic-spectrum-fit/"
    )
