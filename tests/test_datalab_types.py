"""One table per datalab type: every type-specific behaviour reads it, so a new type is one entry."""

from __future__ import annotations

from types import SimpleNamespace

import jsonschema
import yaml

from sciapps import yamlio
from sciapps.charts.chart import types_template, values_schema
from sciapps.datalab_types import TYPES, DatalabType
from sciapps.images.dockerfile import basic_dockerfile
from sciapps.schema import build_schema
from sciapps.site.pages import Renderer
from sciapps.site.search import _docs_table
from sciapps.testing.runner import service_for
from tests.conftest import REPO

RSTUDIO = DatalabType(
    name="rstudio",
    title="RStudio in the browser",
    label="RStudio",
    pitch="R scripts in RStudio, in the browser.",
    service="RStudio Server",
    opens="the R script to open, a path ending in `.R`",
    base="jl_base",
    port=8787,
    port_variable="DATALAB_PORT",
    entry_variable="DATALAB_ENTRY",
    entry_pattern=r"\.R$",
    entry_is_file=True,
    probe_path="/",
    local_path="",
    launch_path="",
    token_variable="DATALAB_TOKEN",
)


def test_a_new_type_is_one_entry_in_the_table(monkeypatch):
    monkeypatch.setitem(TYPES, "rstudio", RSTUDIO)
    # the datalab schema `sciapps schema generate` writes: the enum and the entry pattern
    validator = jsonschema.Draft202012Validator(build_schema())
    meta = yamlio.load((REPO / "datalabs" / "gaia-dr3-hrd" / "datalab.yaml").read_text())
    assert list(validator.iter_errors({**meta, "type": "rstudio", "entry": "analysis.R"})) == []
    assert [e.message for e in validator.iter_errors({**meta, "type": "rstudio", "entry": "hr.ipynb"})]
    # the basic-mode Dockerfile
    dockerfile = basic_dockerfile({"id": "r-lab", "type": "rstudio", "entry": "analysis.R"}, set(), [])
    assert "FROM jl_base" in dockerfile and 'ENV DATALAB_ENTRY="analysis.R"' in dockerfile
    # the chart's type map and values schema
    assert yaml.safe_load(types_template().split("\n", 2)[2].rsplit("{{- end -}}", 2)[0])["rstudio"]["port"] == 8787
    assert (
        values_schema({"properties": {"datalab": {"properties": {"id": {}}}, "resources": {"properties": {}}}})["properties"][
            "datalab"
        ]["properties"]["type"]["enum"][-1]
        == "rstudio"
    )
    # a local run: its port, token and probe
    service = service_for(SimpleNamespace(get={"type": "rstudio", "entry": "analysis.R"}.get))
    assert set(service.environment) == {"DATALAB_PORT", "DATALAB_TOKEN"} and service.probes[0][0] == "RStudio Server answers on /"
    # the store: its label on pages and in the search index's type column
    assert Renderer(REPO / "site" / "templates").env.globals["type_labels"]["rstudio"] == "RStudio"
    assert _docs_table([])["types"][-1] == ["rstudio", "RStudio"]
