"""What a launch may ask of a datalab (sciapps.catalog.launching): a parameter that selects
mission data is held to the catalog's id pattern, whatever its own says."""

from __future__ import annotations

import jsonschema
import pytest

from sciapps import launchparams as lp
from sciapps.catalog.launching import NO_ID_KIND, declared, json_schema, takes
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


@pytest.mark.parametrize(
    "spec, words",
    [
        ({"label": "Observation", "type": "string", "pattern": "^[0-9]{10}$", "form": "XMM obsid, for example 1"},
         "Observation: XMM obsid (10 digits)"),
        ({"name": "n", "label": "Count", "type": "integer", "min": 1, "max": 100}, "Count: a whole number from 1 to 100"),
        ({"name": "x", "type": "number"}, "x: a number"),
        ({"name": "d", "label": "Day", "type": "date"}, "Day: a date (YYYY-MM-DD)"),
        ({"name": "f", "label": "Flag", "type": "boolean"}, "Flag: yes or no"),
        ({"name": "c", "label": "Band", "type": "choice", "choices": ["g", "r"]}, "Band: one of g, r"),
        ({"name": "s", "label": "Name", "type": "string"}, "Name: text"),
        ({"label": "Id", "type": "string", "pattern": NO_ID_KIND, "form": "an id of a kind this catalog does not declare"},
         "Id: an id of a kind this catalog does not declare"),
    ],
)  # fmt: skip
def test_what_a_parameter_takes_in_words(spec, words):
    assert takes(spec) == words
