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


def _node(payload, script: str = RUNNER):
    """`script` run by Node with params.js loaded as the page loads it, `payload` on its standard input."""
    if NODE is None:
        if os.environ.get("CI"):
            pytest.fail("node is missing in CI (.ci/run installs it for gitlab-ci-local)")
        pytest.skip("node is not installed")
    done = subprocess.run(
        [NODE, "-e", script, str(PARAMS_JS)], input=json.dumps(payload), capture_output=True, text=True, timeout=120, check=True
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


MATCHER = """
const fs = require("fs");
global.window = {};
eval(fs.readFileSync(process.argv[1], "utf8"));
const P = window.SciAppsParams;
const input = JSON.parse(fs.readFileSync(0, "utf8"));
const started = process.hrtime.bigint();
const verdicts = input.map(([pattern, texts]) =>
  texts.map((text) => P.readValue({ name: "x", type: "string", pattern }, text)[1] === null));
const ms = Number(process.hrtime.bigint() - started) / 1e6;
process.stdout.write(JSON.stringify({ verdicts, ms }));
"""


def _match_in_node(cases: list[tuple[str, list[str]]]) -> dict:
    return _node(cases, MATCHER)


def _random_pattern(rng) -> str:
    """A pattern of the launch dialect, drawn at random (many are then refused as ambiguous)."""
    atoms = ["a", "b", "0", "[ab]", "[^a]", "[0-9]", "\\d", "\\w", "\\W", ".", "\\.", "[a-c]", "\\x41", "-", " "]

    def piece(depth: int) -> str:
        if depth < 2 and rng.random() < 0.25:
            branches = [seq(depth + 1) for _ in range(rng.randint(1, 3))]
            atom = f"(?:{'|'.join(branches)})"
        else:
            atom = rng.choice(atoms)
        return atom + rng.choice(["", "", "", "?", "*", "+", "{2}", "{1,3}", "{2,}"])

    def seq(depth: int) -> str:
        return "".join(piece(depth) for _ in range(rng.randint(1, 3)))

    return "^" + seq(0) + "$"


def test_the_page_and_the_container_read_every_launch_pattern_alike():
    """One dialect: random patterns that DL-066 accepts give the same verdict on the same
    values in JavaScript (the page, `u` flag) and Python (the container), values drawn so
    that about half match."""
    import random

    rng = random.Random(20261205)
    alphabet = ["a", "b", "c", "0", "5", "A", ".", "-", " ", "_", "é", "\u00a0", "\U0001f600", "ab", "00"]
    cases = []
    while len(cases) < 300:
        pattern = _random_pattern(rng)
        if lp.pattern_problem(pattern):
            continue
        texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 8))) for _ in range(30)]
        cases.append((pattern, texts))
    js = _match_in_node(cases)["verdicts"]
    for (pattern, texts), verdicts in zip(cases, js):
        python = [lp.read_value({"name": "x", "type": "string", "pattern": pattern}, t)[1] is None for t in texts]
        assert verdicts == python, pattern
    assert 0 < sum(map(sum, js)) < sum(len(t) for _, t in cases)  # both verdicts occur


def test_hostile_values_on_accepted_patterns_take_no_time_in_either_engine():
    """The longest values a link may carry, built to make a backtracking matcher try every
    split, on every accepted pattern of the test suite: all of them, in Node and in Python,
    within a bound a visitor never notices."""
    import time

    from tests.test_launchparams import SAFE

    values = []
    for head in ("a", "0", "ab", "a.", "0-", "x"):
        for tail in ("", "!", "\u0000", "/"):
            values.append((head * 256)[: 256 - len(tail)] + tail)
    cases = [(pattern, values) for pattern in SAFE]
    node = _match_in_node(cases)
    started = time.monotonic()
    for pattern, texts in cases:
        for text in texts:
            lp.read_value({"name": "x", "type": "string", "pattern": pattern}, text)
    assert node["ms"] < 1000 and time.monotonic() - started < 1.0, (node["ms"], time.monotonic() - started)
