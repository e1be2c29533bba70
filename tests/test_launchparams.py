"""The one checker of launch values, the notebook injection and the container's start-up
(`sciapps.launchparams`), tried with hostile values; the store's JavaScript copy is held to
the same verdicts in tests/site/test_params_js.py, on the cases listed here."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys

import nbformat
import pytest

from sciapps import launchparams as lp

OBSID = {"name": "obsid", "label": "Observation id", "type": "string", "pattern": "^[0-9]{10}$", "default": "0123456789"}
ENERGY = {"name": "max_energy_kev", "label": "Upper energy", "type": "number", "min": 2, "max": 12, "default": 10}
COUNT = {"name": "count", "label": "Count", "type": "integer", "min": 1, "max": 100}
FLAG = {"name": "flag", "label": "Flag", "type": "boolean", "default": False}
BAND = {"name": "band", "label": "Band", "type": "choice", "choices": ["soft", "hard"], "default": "soft"}
DAY = {"name": "day", "label": "Day", "type": "date", "min": "2000-01-01", "max": "2030-12-31"}
TARGET = {"name": "target", "label": "Target", "type": "string", "pattern": "^[A-Za-z0-9 .+-]{1,40}$"}
# a parameter that selects mission data: the catalog's pattern, and the datalab's own narrower one too
TILE = {"name": "tile", "label": "Tile", "type": "string", "pattern": "^[0-9]{9}$", "own_pattern": "^1[0-9]{8}$"}
UNSAFE = {"name": "unsafe", "label": "Unsafe", "type": "string", "pattern": "[^])|.*|(?:]"}  # closes a ^(?:...)$ wrapper
SPECS = [OBSID, ENERGY, COUNT, FLAG, BAND, DAY, TARGET]

# (spec, text, accepted): the cases both checkers (Python here, JavaScript in the store) judge alike
CASES = [
    (OBSID, "0123456789", True),
    (OBSID, "012345678", False),
    (OBSID, "0123456789\n", False),  # a newline after an otherwise good id
    (OBSID, "0123456789'; import os", False),
    (OBSID, "０１２３４５６７８９", False),  # fullwidth digits
    (OBSID, "0123456789\u200b", False),  # zero-width space
    (OBSID, "\u202e9876543210", False),  # right-to-left override
    (OBSID, "../../etc/x", False),
    (OBSID, "1" * 100_000, False),
    (ENERGY, "8", True),
    (ENERGY, "8.5", True),
    (ENERGY, "1e1", True),
    (ENERGY, "12.000001", False),
    (ENERGY, "1.9", False),
    (ENERGY, "nan", False),
    (ENERGY, "inf", False),
    (ENERGY, "1e999", False),
    (ENERGY, "0x10", False),
    (ENERGY, " 8", False),
    (ENERGY, "8_0", False),
    (ENERGY, "٨", False),  # an Arabic-Indic eight
    (COUNT, "7", True),
    (COUNT, "+7", True),
    (COUNT, "7.0", False),
    (COUNT, "0", False),
    (COUNT, "101", False),
    (COUNT, "9" * 40, False),
    (FLAG, "true", True),
    (FLAG, "false", True),
    (FLAG, "True", False),
    (FLAG, "1", False),
    (BAND, "hard", True),
    (BAND, "HARD", False),
    (BAND, "hard ", False),
    (DAY, "2026-12-02", True),
    (DAY, "2026-02-30", False),
    (DAY, "1999-12-31", False),
    (DAY, "2026-1-2", False),
    (TARGET, "NGC 1275", True),
    (TARGET, 'NGC"1275', False),
    (TARGET, "NGC\t1275", False),
    (TARGET, "M\u0301", False),  # not NFC
    (TARGET, "..", False),
    (TARGET, "a/../b", False),
    (TARGET, "Ｍ31", False),  # fullwidth letter
    (TILE, "102018211", True),
    (TILE, "202018211", False),  # the catalog's form, not the datalab's own
    (TILE, "-o /tmp/x; $(id)", False),  # the datalab's own pattern never replaces the catalog's
    (UNSAFE, "anything", False),
    (UNSAFE, "]", False),
]


@pytest.mark.parametrize("spec,text,accepted", CASES, ids=lambda v: repr(v)[:40] if isinstance(v, str) else None)
def test_each_value_is_judged_against_its_type(spec, text, accepted):
    value, why = lp.read_value(spec, text)
    assert (why is None) == accepted, why
    if not accepted:
        assert value is None and why and "\n" not in why


def test_typed_values_and_defaults():
    values, problems = lp.read_values(
        SPECS, [("count", "7"), ("day", "2026-12-02"), ("target", "M 31"), ("flag", "true"), ("max_energy_kev", "8")]
    )
    assert problems == []
    assert values == {
        "obsid": "0123456789",
        "max_energy_kev": 8.0,
        "count": 7,
        "flag": True,
        "band": "soft",
        "day": "2026-12-02",
        "target": "M 31",
    }


def test_unknown_repeated_and_missing_names_are_each_one_sentence():
    _, problems = lp.read_values([OBSID, COUNT], [("obsid", "0123456789"), ("obsid", "1111111111"), ("evil\n", "x")])
    assert problems == [
        "obsid is given more than once.",
        "'evil\\n' is not a parameter of this datalab (its parameters: count, obsid).",
        "Count needs a value.",
    ]


def test_values_go_into_the_notebook_as_literals_never_as_code():
    hostile = "x'\"\\\n__import__('os').system('id')  # \u2028"
    source = lp.injected_source({"target": hostile, "n": 3, "e": 0.1, "flag": True})
    tree = ast.parse(source)
    assigned = {}
    for node in tree.body:
        assert isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
        assigned[node.targets[0].id] = node.value.value
    assert assigned == {"target": hostile, "n": 3, "e": 0.1, "flag": True}


def _notebook(tagged=True, minor=5):
    nb = nbformat.v4.new_notebook()
    nb.nbformat_minor = minor
    nb.cells = [nbformat.v4.new_code_cell("import os"), nbformat.v4.new_code_cell("obsid = 'default'")]
    if tagged:
        nb.cells[1].metadata["tags"] = ["parameters"]
    nb.cells.append(nbformat.v4.new_code_cell("print(obsid)"))
    for number, cell in enumerate(nb.cells):
        if minor >= 5:
            cell["id"] = f"cell-{number}"
        else:
            cell.pop("id", None)
    return nbformat.writes(nb).encode()


def test_injection_follows_the_parameters_cell_and_replaces_an_earlier_injection():
    once = lp.inject(_notebook(), {"obsid": "0123456789"})
    twice = lp.inject(once, {"obsid": "1111111111"})
    nb = nbformat.reads(twice.decode(), as_version=4)
    nbformat.validate(nb)
    sources = [c.source for c in nb.cells]
    assert sources[1] == "obsid = 'default'"
    assert "obsid = '1111111111'" in sources[2] and nb.cells[2].metadata["tags"] == [lp.INJECTED_TAG]
    assert len(nb.cells) == 4


def test_injection_without_a_parameters_cell_goes_first():
    nb = nbformat.reads(lp.inject(_notebook(tagged=False, minor=4), {"obsid": "0123456789"}).decode(), as_version=4)
    nbformat.validate(nb)
    assert nb.cells[0].metadata["tags"] == [lp.INJECTED_TAG] and "id" not in nb.cells[0]


@pytest.mark.parametrize("bad", [b"{", b'{"cells": 3}', b"[" * 100_000 + b"]" * 100_000, b"\xff"])
def test_a_broken_notebook_is_a_refusal_not_a_traceback(bad):
    with pytest.raises(ValueError):
        lp.inject(bad, {"obsid": "0123456789"})


@pytest.mark.parametrize(
    "pattern,portable",
    [
        ("^[0-9]{10}$", True),
        ("^(?:a|b)+$", True),
        ("^(a+)+$", False),
        ("^(?P<x>a)$", False),
        ("^(?i)abc$", False),
        ("^\\p{L}+$", False),
        ("\\Aabc\\Z", False),
        ("^(a)\\1$", False),
        ("[", False),
        ("a" * 201, False),
    ],
)
def test_patterns_must_read_the_same_in_javascript_and_python(pattern, portable):
    assert (lp.pattern_problem(pattern) is None) == portable


def exponential_family() -> list[str]:
    """Patterns a backtracking matcher can take exponential (or high polynomial) time on,
    built here, every way round: a repetition of a repetition at any depth, overlapping
    branches under a repetition, optional or repeated runs that can take one character in
    two ways."""
    atoms = ["a", "[a-z]", "\\d", "."]
    family = []
    for a in atoms:
        for inner, outer in (("+", "+"), ("*", "*"), ("+", "*"), ("{1,3}", "+"), ("{2}", "*"), ("+", "{2,}")):
            body = f"{a}{inner}"
            family += [f"^({body}){outer}$", f"^(?:{body}){outer}$", f"^(({body})){outer}$", f"^(?:x(?:{body})){outer}$"]
        family += [
            f"^({a}|{a})+$",
            f"^(?:{a}|{a}{a})+$",
            f"^(?:{a}{{1,2}})+$",
            f"^{a}*" * 6 + "$",
            f"^{f'{a}?' * 20}{a * 20}$",
            f"^(?:{a}|{a}?)+$",
            f"^(?:{a}?)+$",
            f"^(?:{a}?{a}?)*$",
            f"^{a}+{a}+x$",
            f"^(?:{a}b|{a})+$",
        ]
    return family


@pytest.mark.parametrize("pattern", exponential_family())
def test_every_pattern_that_can_backtrack_without_end_is_refused(pattern):
    assert lp.pattern_problem(pattern) is not None


SAFE = [
    "^[0-9]{10}$",
    "^[0-9]{1,19}$",
    "^\\d{4}-\\d{2}-\\d{2}$",
    "^(?:SKY|CAL)_[0-9]+$",
    "^[0-9]+(?:\\.[0-9]+)?$",
    "^J[0-9]{4}[+-][0-9]{4}$",
    "^[A-Za-z0-9_-]+\\.fits$",
    "^[^/]+$",
    "^(?:ab?)+$",
    "^[A-Z]{2}[0-9]{2,4}$",
    "^[^\\x00-\\x1f]{0,40}$",
    "^\\w+@\\w+\\.\\w+$",
    "^(?:[ab]c|d)*e$",
]


@pytest.mark.parametrize("pattern", SAFE)
def test_common_patterns_are_accepted(pattern):
    assert lp.pattern_problem(pattern) is None


@pytest.mark.parametrize(
    "pattern",
    [
        "[^])|.*|(?:]",  # closes the page's ^(?:...)$ wrapper in JavaScript, one class in Python
        "[]a]",
        "[^]",
        "a{,3}",  # a literal in Python 3.11, a repetition in JavaScript
        "\\s+",  # Unicode spaces in JavaScript, ASCII ones in Python
        "a]",
        "a}",
        "a{",
        "[\\d-z]",
        "\\-",
        "[[a]",
        "(?<n>a)",
        "(?=a)",
        "a+?",
        "\\b",
        "\\cJ",
        "\\u{41}",
        "a\u2028",
    ],
)
def test_patterns_the_two_engines_read_differently_are_refused(pattern):
    assert "which launch patterns do not allow" in lp.pattern_problem(pattern)


def test_a_pattern_that_still_runs_long_is_stopped_in_the_container(monkeypatch):
    """The second line of defence: DL-066 refuses the pattern, but a declaration that slipped
    past it (an old image, a hand-written SCIAPPS_PARAMETERS) is stopped by a time bound."""
    import time

    monkeypatch.setattr(lp, "_checked_pattern", lambda pattern: None)  # as if it had passed
    monkeypatch.setattr(lp, "MAX_MATCH_SECONDS", 0.2)
    started = time.monotonic()
    _, why = lp.read_value({"name": "x", "type": "string", "pattern": "^(a+)+$"}, "a" * 40 + "!")
    assert why == "took too long to check against its pattern" and time.monotonic() - started < 5


# -- the start-up, as the container runs it --------------------------------------------------


def _start(tmp_path, env, entry="notebooks/main.ipynb", command=("env",)):
    work = tmp_path / "home" / "work"
    (work / "notebooks").mkdir(parents=True, exist_ok=True)
    (work / "notebooks" / "main.ipynb").write_bytes(_notebook())
    clean = {"PATH": os.environ["PATH"], "HOME": str(tmp_path / "home"), "DATALAB_ENTRY": entry, **env}
    return subprocess.run(
        [sys.executable, "-I", lp.__file__, "start", "--", *command], env=clean, capture_output=True, text=True, timeout=60
    )


def _declared(*specs):
    return {lp.SPEC_VARIABLE: json.dumps(list(specs))}


def test_startup_checks_injects_into_a_copy_and_runs_the_command(tmp_path):
    done = _start(tmp_path, {**_declared(OBSID, ENERGY), "SCIAPPS_PARAM_OBSID": "0123456789"})
    assert done.returncode == 0, done.stderr
    env = dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)
    assert env["DATALAB_ENTRY"] == "notebooks/main.launch.ipynb"
    assert env["SCIAPPS_PARAM_OBSID"] == "0123456789" and env["SCIAPPS_PARAM_MAX_ENERGY_KEV"] == "10.0"
    work = tmp_path / "home" / "work" / "notebooks"
    assert (work / "main.ipynb").read_bytes() == _notebook()  # the original is never changed
    copy = nbformat.read(work / "main.launch.ipynb", as_version=4)
    assert "obsid = '0123456789'\nmax_energy_kev = 10.0" in copy.cells[2].source


@pytest.mark.parametrize(
    "env,said",
    [
        ({"SCIAPPS_PARAM_OBSID": "../../../etc/passwd"}, "Observation id holds a `..` path segment."),
        ({"SCIAPPS_PARAM_OBSID": "0123456789\n"}, "Observation id holds the invisible or control character U+000A."),
        ({"SCIAPPS_PARAM_OBSID": "x" * 5000}, "Observation id is longer than 256 characters."),
        ({"SCIAPPS_PARAM_MAX_ENERGY_KEV": "99"}, "Upper energy is above the maximum 12."),
        ({"SCIAPPS_PARAM_ROOT": "1"}, "root is not a parameter of this datalab (its parameters: max_energy_kev, obsid)."),
        ({"SCIAPPS_PARAM_OBSID": "0123456789", "SCIAPPS_PARAM_obsid": "1111111111"}, "obsid is given more than once."),
    ],
)
def test_startup_refuses_a_bad_value_with_one_sentence_and_starts_nothing(tmp_path, env, said):
    done = _start(tmp_path, {**_declared(OBSID, ENERGY), **env}, command=("touch", str(tmp_path / "started")))
    assert done.returncode == 64
    assert done.stderr == f"sciapps: refusing to start: {said}\n"
    assert not (tmp_path / "started").exists()
    assert not (tmp_path / "home" / "work" / "notebooks" / "main.launch.ipynb").exists()


@pytest.mark.parametrize(
    "env,said",
    [
        ({"SCIAPPS_PARAM_OBSID": "0123456789"}, "obsid is given, but this datalab declares no parameters."),
        ({lp.SPEC_VARIABLE: "{not json"}, "the declaration of parameters (SCIAPPS_PARAMETERS) is not JSON."),
        ({lp.SPEC_VARIABLE: "[" * 50_000 + "]" * 50_000}, "is larger than 64 KiB"),
        ({lp.SPEC_VARIABLE: json.dumps([{"name": "__class__", "type": "string"}])}, "without a valid name and type"),
        ({lp.SPEC_VARIABLE: json.dumps([{**OBSID, "pattern": "^(a+)+$"}])}, "a repetition inside a repetition"),
    ],
)
def test_startup_refuses_a_bad_declaration(tmp_path, env, said):
    done = _start(tmp_path, env, command=("touch", str(tmp_path / "started")))
    assert done.returncode == 64 and said in done.stderr and not (tmp_path / "started").exists()


def test_startup_refuses_an_entry_outside_the_work_folder(tmp_path):
    (tmp_path / "home").mkdir()
    (tmp_path / "elsewhere.ipynb").write_bytes(_notebook())
    done = _start(tmp_path, _declared(OBSID), entry="../../elsewhere.ipynb")
    assert done.returncode == 64 and "is not a file of the datalab" in done.stderr


def test_startup_passes_arguments_as_words_never_to_a_shell(tmp_path):
    table = {"name": "table", "label": "Table", "type": "string", "pattern": "^[a-z0-9 ;$()`'|&]+$", "argument": True}
    hostile = "a; touch pwned $(touch pwned2) `touch pwned3`"
    done = _start(
        tmp_path,
        {**_declared(table), "SCIAPPS_PARAM_TABLE": hostile},
        entry="topcat",
        command=(sys.executable, "-c", "import sys, json; print(json.dumps(sys.argv[1:]))"),
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [hostile]
    assert not list(tmp_path.rglob("pwned*"))


def test_without_a_declaration_the_startup_only_runs_the_command(tmp_path):
    done = _start(tmp_path, {}, command=("sh", "-c", "echo $DATALAB_ENTRY"))
    assert done.returncode == 0 and done.stdout == "notebooks/main.ipynb\n"
