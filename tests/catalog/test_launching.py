"""What a launch may ask of a datalab (sciapps.catalog.launching): a parameter that selects
mission data is held to the catalog's id pattern, whatever its own says."""

from __future__ import annotations

import jsonschema
import pytest

from sciapps import launchparams as lp
from sciapps.catalog.launching import declared, json_schema
from sciapps.config import load_config
from tests.conftest import REPO

CONFIG = load_config(REPO / "sciapps.yaml")
TILE = {"mission": "euclid", "collection": "euclid_q1_mer_phz", "kind": "tile"}
HOSTILE = ["-o /tmp/x; $(id)", "1020182110", "10201821", "../../102018211", "102018211 ", "$(id)"]


@pytest.mark.parametrize("own", [None, "^[ -~]{1,40}$", "^[^/]{1,40}$", "^1[0-9]{8}$"])
def test_a_selects_parameter_takes_the_catalogs_pattern_and_its_own_never_instead(own):
    parameter = {"name": "tile", "label": "Tile", "type": "string", "selects": TILE, **({"pattern": own} if own else {})}
    (spec,) = declared({"parameters": [parameter]}, CONFIG)
    assert spec["pattern"] == CONFIG.id_kinds["euclid"]["euclid_q1_mer_phz"]["tile"]["pattern"]
    assert lp.patterns_of(spec) == [spec["pattern"], *([own] if own else [])]
    assert lp.read_value(spec, "102018211") == ("102018211", None)
    schema = json_schema([spec])
    for value in HOSTILE:
        assert lp.read_value(spec, value)[1] is not None, value
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate({"tile": value}, schema)
    if own == "^1[0-9]{8}$":  # a narrower one holds too
        assert "is not in the expected form" in lp.read_value(spec, "202018211")[1]


def test_a_selection_the_catalog_does_not_declare_takes_no_value():
    parameter = {"name": "tile", "type": "string", "pattern": "^[ -~]{1,40}$", "selects": {**TILE, "kind": "nothing"}}
    (spec,) = declared({"parameters": [parameter]}, CONFIG)
    for value in ("102018211", "anything", "-o /tmp/x"):
        assert lp.read_value(spec, value)[1] is not None
