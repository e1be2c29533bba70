"""The package's floors: imports go down only (even inside functions), and nothing imports
in a circle. Read from the source with `ast`, so a lazy import cannot hide an arrow."""

from __future__ import annotations

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "tools" / "sciapps"

# top-level unit of sciapps -> floor; README.md's layout table describes the same floors
FLOORS = {
    **dict.fromkeys(
        [
            "sciapps",
            "errors",
            "text",
            "safefiles",
            "yamlio",
            "resources",
            "schema",
            "config",
            "results",
            "ledger",
            "datalab_types",
            "buildfiles",
            "baselock",
            "errorlog",
            "roles",
            "author",
            "semver",
            "gitcmd",
            "runtime",
            "launchparams",
            "citing",
        ],
        0,
    ),
    **dict.fromkeys(["engine", "catalog"], 1),
    **dict.fromkeys(["images", "scanning", "testing", "charts", "reporting", "feedback", "releases", "trust"], 2),
    **dict.fromkeys(["stages", "plan", "revisits"], 3),
    **dict.fromkeys(["review", "local"], 4),
    "site": 5,
    **dict.fromkeys(["pipeline", "reference"], 6),
    **dict.fromkeys(["cli", "__main__"], 7),
}  # on the ground floor and the top one (`python -m sciapps` runs the CLI), modules may use each other


def _module(path: Path) -> str:
    parts = ("sciapps", *path.relative_to(PACKAGE).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports() -> dict[str, set[str]]:
    modules = {_module(p): p for p in PACKAGE.rglob("*.py")}
    edges: dict[str, set[str]] = {m: set() for m in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
                targets = [f"{base}.{a.name}" for a in node.names] + [base]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            for target in targets:
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target.startswith("sciapps") and target != name:
                    edges[name].add(target)
    return edges


def _unit(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "sciapps"


def test_every_unit_has_a_floor():
    assert {_unit(m) for m in _imports()} <= set(FLOORS), "place the new module in FLOORS and README.md's layout table"


def test_imports_go_down_only():
    upward = []
    for source, targets in _imports().items():
        for target in targets:
            a, b = _unit(source), _unit(target)
            if a != b and not FLOORS[b] < FLOORS[a] and not FLOORS[a] == FLOORS[b] in (0, 7):
                upward.append(f"{source} imports {target} (floor {FLOORS[a]} -> {FLOORS[b]})")
    assert upward == []


def test_no_circles():
    edges = _imports()
    state: dict[str, int] = {}
    circles = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges[node]):
            if state.get(nxt) == 1:
                circles.append(" -> ".join(path[path.index(nxt) :] + [nxt]))
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = 2

    for module in sorted(edges):
        if module not in state:
            visit(module, [module])
    assert circles == []


def test_readmes_floor_table_is_this_one():
    """README.md's layout table names every unit on the floor FLOORS gives it."""
    text = (PACKAGE.parents[1] / "README.md").read_text(encoding="utf-8")
    table = text.split("| floor | modules | what |", 1)[1].split("\n\n", 1)[0]
    found: dict[str, int] = {}
    for row in table.splitlines()[2:]:
        cells = row.split("|")
        for name in re.findall(r"`([a-z_]+)(?:\.py|/)`", cells[2]):
            found[name] = int(cells[1])
    expected = {unit: floor for unit, floor in FLOORS.items() if unit not in ("sciapps", "__main__")}
    assert found == expected
