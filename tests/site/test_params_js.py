"""The store's checker of launch values (site/docs/assets/params.js) and the one the CLI and
every container run (sciapps.launchparams) judge the same values alike, with the same
sentences: every case of tests/test_launchparams.py, and whole links' worth of values."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from sciapps import launchparams as lp
from tests.conftest import REPO
from tests.test_launchparams import CASES, SPECS

PARAMS_JS = REPO / "site" / "docs" / "assets" / "params.js"
NODE = shutil.which("node")

RUNNER = """
const fs = require("fs");
global.window = {};
eval(fs.readFileSync(process.argv[1], "utf8"));
const P = window.SciAppsParams;
const input = JSON.parse(fs.readFileSync(0, "utf8"));
const out = {
  values: input.values.map(([spec, text]) => P.readValue(spec, text)),
  sets: input.sets.map((given) => P.readValues(input.specs, given)),
};
process.stdout.write(JSON.stringify(out));
"""

SETS = [
    [("count", "7"), ("day", "2026-12-02"), ("target", "M 31")],
    [("obsid", "0123456789"), ("obsid", "1111111111"), ("count", "3"), ("day", "2026-01-01"), ("target", "x")],
    [("nope", "1"), ("count", "0"), ("day", "2026-02-30"), ("target", "a\u200bb")],
    [],
]


def _node(payload: dict) -> dict:
    if NODE is None:
        if os.environ.get("CI"):
            pytest.fail("node is missing in CI (.ci/run installs it for gitlab-ci-local)")
        pytest.skip("node is not installed")
    done = subprocess.run(
        [NODE, "-e", RUNNER, str(PARAMS_JS)], input=json.dumps(payload), capture_output=True, text=True, timeout=60, check=True
    )
    return json.loads(done.stdout)


def test_both_checkers_give_the_same_verdicts_and_sentences():
    payload = {"values": [[spec, text] for spec, text, _ in CASES], "sets": [[list(p) for p in s] for s in SETS], "specs": SPECS}
    js = _node(payload)
    for (spec, text, accepted), (js_value, js_why) in zip(CASES, js["values"]):
        value, why = lp.read_value(spec, text)
        assert js_why == why, (spec["name"], text[:40])
        assert (why is None) == accepted
        if why is None:
            assert js_value == value
    for given, js_result in zip(SETS, js["sets"]):
        values, problems = lp.read_values(SPECS, given)
        assert js_result["problems"] == problems, given
        assert js_result["values"] == values
