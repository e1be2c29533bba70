from __future__ import annotations

import time

import pytest

from sciapps import yamlio


def test_dates_stay_text_and_values_keep_their_types():
    data = yamlio.load("date: 2026-01-01\nn: 3\nf: 1.5\nok: true\nlist: [a, b]\n")
    assert data == {"date": "2026-01-01", "n": 3, "f": 1.5, "ok": True, "list": ["a", "b"]}


def test_duplicate_key_names_both_lines():
    with pytest.raises(yamlio.YamlProblem) as info:
        yamlio.load("a: 1\nb:\n  c: 1\n  c: 2\n")
    assert info.value.kind == "duplicate-key"
    assert info.value.line == 4
    assert "lines 3 and 4" in info.value.message


def test_merge_keys_may_override():
    assert yamlio.load("base: &b {x: 1, y: 2}\nthing:\n  <<: *b\n  y: 3\n")["thing"] == {"x": 1, "y": 3}


def test_non_text_key_is_refused():
    with pytest.raises(yamlio.YamlProblem) as info:
        yamlio.load("on: 1\n")
    assert info.value.kind == "syntax" and info.value.line == 1


def test_alias_bomb_is_refused_quickly():
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]']
    for prev, name in zip("abcdefghi", "bcdefghij"):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 10) + "]")
    start = time.perf_counter()
    with pytest.raises(yamlio.YamlProblem) as info:
        yamlio.load("\n".join(lines))
    assert info.value.kind == "unsafe"
    assert time.perf_counter() - start < 5  # 10^10 values if expanded


@pytest.mark.parametrize(
    "text", ["[" * 100_000, "a:\n" + "".join("  " * i + f"k{i}:\n" for i in range(1, 1100)) + "  " * 1100 + "x: 1\n"]
)
def test_deep_nesting_is_refused(text):
    with pytest.raises(yamlio.YamlProblem) as info:
        yamlio.load(text)
    assert info.value.kind in ("unsafe", "syntax")


def test_syntax_error_has_line():
    with pytest.raises(yamlio.YamlProblem) as info:
        yamlio.load("a: 1\nb: [1, 2\nc: 3\n")
    assert info.value.kind == "syntax" and info.value.line in (2, 3)


def test_line_index_maps_paths():
    index = yamlio.LineIndex.build("a: 1\nlist:\n  - x: 1\n    y: 2\n  - z\n")
    assert index.line(("a",)) == 1
    assert index.line(("list", 0, "y")) == 4
    assert index.line(("list", 1)) == 5
    assert index.line(("list", 7, "nothing")) == 2  # deepest existing part


@pytest.mark.parametrize(
    "text,line,said",
    [
        (
            'id: x\nsummary: "A summary\nversion: 1.0.0\nname: y\nlicense: MIT\nkeywords: [a]\n',
            2,
            "a text opened with a quote on line 2",
        ),
        ("id: x\nname: [A name\nsummary: s\n", 2, "a list opened with [ on line 2 is not closed with ]"),
        ("id: x\nlicense: GPL: 3\n", 2, "has a ': ' inside a value: put that value in quotes"),
        ("id: x\n  name: y\nsummary: s\n", 2, "is indented more than the line above it"),
        ("id: x\nresources:\n\tcpu: 2\n", 3, "is indented with a tab"),
    ],
)
def test_syntax_errors_name_the_line_of_the_mistake_in_plain_words(text, line, said):
    with pytest.raises(yamlio.YamlProblem) as problem:
        yamlio.load(text)
    assert problem.value.line == line and said in problem.value.message, (problem.value.line, problem.value.message)


@pytest.mark.parametrize(
    "text, written, read_as",
    [
        ("obsid: 0123456701", "0123456701", 21913025),  # YAML 1.1 octal
        ("version: 1.10", "1.10", 1.1),
        ("tests: [{obsid: 0777}]", "0777", 511),
        ("size: 1_000", "1_000", 1000),
        ("mask: 0x1F", "0x1F", 31),
        ("at: 1:20", "1:20", 80),  # sexagesimal
        ("ratio: .5", ".5", 0.5),
        ("flag: no", "no", False),
        ("- On", "On", True),
    ],
)
def test_a_value_read_as_another_is_named_with_its_line(text, written, read_as):
    found = yamlio.rereads("# a comment\n" + text + "\n")
    assert [(r.line, r.written, r.read_as) for r in found] == [(2, written, read_as)]
    assert found[0].sentence().startswith(f"`{written}` is read by YAML as ")


@pytest.mark.parametrize(
    "text",
    [
        "cpu: 2\nmemory_gb: 1.5\nneg: -1\nplus: +5\nzero: 0\nhalf: 0.5\none: 1.0",
        "ok: true\nalso: True\nnothing:\ntilde: ~",
        "quoted: '0777'\ndouble: \"1.10\"\nblock: |\n  0777\n",
        "date: 2026-01-01\norcid: 0000-0002-1825-0097\nversion: 1.0.0\nword: nothing\nwords: [yes please, 0.10.2]",
    ],
)
def test_values_that_read_as_written_are_not_named(text):
    assert yamlio.rereads(text + "\n") == []


def test_an_invalid_document_is_left_to_the_loader():
    assert yamlio.rereads("a: [0777\n") == []
