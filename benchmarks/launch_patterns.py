"""Benchmark: what one hostile launch link costs, before and after DL-066's one dialect.

Measured in one run, on the patterns issue 31 showed passing the earlier check (a repeat
in a repeat behind a group, overlapping branches under a repeat, six `\\d*` in a row):
- the baseline: how long one value takes to refuse with the pattern compiled as it is, in
  Python (`re.fullmatch`, the container) and in Node (`RegExp` with `u`, the page), at
  growing lengths, stopped at a time limit (the growth is exponential, or a high power);
- the earlier check's verdict on each (the regular expressions it used, kept here);
- now: DL-066's verdict and the time it takes to judge each pattern, and the slowest
  accepted pattern of the test suite on the longest hostile values a link may carry.

Run: .venv/bin/python benchmarks/launch_patterns.py [--limit 2.0]
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools"))
sys.path.insert(0, str(REPO))

from sciapps import launchparams as lp  # noqa: E402

# the check before issue 31, as it was
OLD_UNPORTABLE = re.compile(r"\(\?(?!:)|\\[pPAZzGQE]|\[\[|\\[0-9]")
OLD_NESTED = re.compile(r"\((?:[^()\\]|\\.)*[*+}](?:[^()\\]|\\.)*\)\s*[*+{]")
SHOWN = {
    "^((a+))+$": "a",
    "^(a|a)+$": "a",
    "^(?:a|aa)+$": "a",
    "^" + "\\d*" * 6 + "$": "1",
}
NODE_TIMER = """
const [pattern, unit, limitMs] = JSON.parse(require("fs").readFileSync(0, "utf8"));
const re = new RegExp(`^(?:${pattern})$`, "u");
const out = [];
for (let n = 8; n <= 256; n += 2) {
  const text = unit.repeat(n) + "!";
  const t = process.hrtime.bigint();
  re.test(text);
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  out.push([n, ms]);
  if (ms > limitMs) break;
}
process.stdout.write(JSON.stringify(out));
"""


def old_verdict(pattern: str) -> str:
    return "refused" if OLD_UNPORTABLE.search(pattern) or OLD_NESTED.search(pattern) else "accepted"


def python_growth(pattern: str, unit: str, limit: float) -> list[tuple[int, float]]:
    compiled = re.compile(pattern, re.ASCII)
    out = []
    for n in range(8, 257, 2):
        started = time.perf_counter()
        compiled.fullmatch(unit * n + "!")
        seconds = time.perf_counter() - started
        out.append((n, seconds * 1000))
        if seconds > limit:
            break
    return out


def node_growth(pattern: str, unit: str, limit: float) -> list[tuple[int, float]]:
    node = shutil.which("node")
    if node is None:
        return []
    done = subprocess.run(
        [node, "-e", NODE_TIMER], input=json.dumps([pattern, unit, limit * 1000]), capture_output=True, text=True, timeout=600
    )
    return [tuple(x) for x in json.loads(done.stdout or "[]")]


def last(growth: list[tuple[int, float]]) -> str:
    if not growth:
        return "n/a"
    n, ms = growth[-1]
    half = next((m for k, m in growth if k == n - 2), None)
    ratio = f", x{ms / half:.1f} per 2 more characters" if half else ""
    return f"{ms:,.0f} ms at {n} characters{ratio}"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--limit", type=float, default=2.0, help="seconds one value may take before the growth stops")
    args = parser.parse_args()
    print("baseline (the pattern compiled as it is) and now (DL-066), one refused value each:")
    for pattern, unit in SHOWN.items():
        started = time.perf_counter()
        problem = lp.pattern_problem(pattern)
        judged_us = (time.perf_counter() - started) * 1e6
        print(f"  {pattern}")
        print(f"    earlier check: {old_verdict(pattern)}; Python: {last(python_growth(pattern, unit, args.limit))}")
        print(f"    Node (u): {last(node_growth(pattern, unit, args.limit))}")
        print(f"    DL-066: {'refused' if problem else 'accepted'} in {judged_us:,.0f} µs ({(problem or '')[:70]})")
    from tests.test_launchparams import SAFE, exponential_family

    family = exponential_family()
    started = time.perf_counter()
    refused = sum(1 for p in family if lp.pattern_problem(p))
    per = (time.perf_counter() - started) / len(family) * 1e6
    print(
        f"the exponential family of the tests: earlier check accepted {sum(old_verdict(p) == 'accepted' for p in family)}"
        f" of {len(family)}; DL-066 refuses {refused} ({per:,.0f} µs a pattern)"
    )
    values = [(head * 256)[:255] + "!" for head in ("a", "0", "ab", "a.", "0-", "x")]
    for _ in range(2):  # the first pass compiles and caches each pattern; the second is what a visitor waits
        worst = 0.0
        for pattern in SAFE:
            for value in values:
                started = time.perf_counter()
                lp.read_value({"name": "x", "type": "string", "pattern": pattern}, value)
                worst = max(worst, time.perf_counter() - started)
    print(f"accepted patterns ({len(SAFE)}) on 256-character hostile values: slowest value {worst * 1e6:,.0f} µs in Python")
    return 0


if __name__ == "__main__":
    sys.exit(main())
