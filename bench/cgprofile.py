"""Self cost per function from a callgrind dump, names demangled — `make bench-check PROFILE=1`.

callgrind_annotate 3.19 attributes everything to `clone` in dumps taken with callgrind_control,
so the file is read here: a cost line belongs to the current `fn=` unless it follows `calls=`
(then it is the inclusive cost of that call, charged to the callee's own entry instead).
"""
from __future__ import annotations

import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path


def self_costs(path: Path) -> tuple[dict[str, int], dict[str, int], int]:
    selfc, objc, _, total = costs(path)
    return selfc, objc, total


def costs(path: Path):
    """(self, per object, inclusive, total). Inclusive = self + the calls made from the function
    (recursive functions are counted more than once)."""
    names: dict[str, str] = {}   # compressed ids, if any
    selfc: dict[str, int] = defaultdict(int)
    incl: dict[str, int] = defaultdict(int)
    objc: dict[str, int] = defaultdict(int)
    fn, ob, after_call, total = "?", "?", False, 0

    def name(value: str) -> str:
        m = re.match(r"\((\d+)\)(?: (.*))?", value)
        if not m:
            return value
        if m.group(2):
            names[m.group(1)] = m.group(2)
            return m.group(2)
        return names.get(m.group(1), value)

    obnames: dict[str, str] = {}
    for line in path.read_text(errors="replace").splitlines():
        if not line:
            continue
        c = line[0]
        if c.isdigit() or c in "+-*":
            parts = line.split()
            if len(parts) >= 2:
                ir = int(parts[1])
                incl[fn] += ir
                if not after_call:
                    selfc[fn] += ir
                    objc[ob] += ir
                    total += ir
            after_call = False
        elif line.startswith("fn="):
            fn = name(line[3:])
        elif line.startswith("ob="):
            v = line[3:]
            m = re.match(r"\((\d+)\)(?: (.*))?", v)
            if m:
                if m.group(2):
                    obnames[m.group(1)] = m.group(2)
                ob = obnames.get(m.group(1), v)
            else:
                ob = v
        elif line.startswith("calls="):
            after_call = True
    return selfc, objc, incl, total


def demangle(symbols: list[str]) -> list[str]:
    try:
        out = subprocess.run(["swift", "demangle", "--simplified", "--compact"], input="\n".join(symbols),
                             capture_output=True, text=True, timeout=60).stdout.splitlines()
        if len(out) == len(symbols):
            return out
    except (OSError, subprocess.SubprocessError):
        pass
    return symbols


def inclusive_report(path: Path, per: int, top: int = 60, match: str = "") -> str:
    _, _, incl, total = costs(path)
    syms = sorted(incl, key=lambda k: -incl[k])
    names = demangle(syms[:3000])
    lines = [f"{'per request':>12} {'share':>6}  function (inclusive)"]
    n = 0
    for sym, nm in zip(syms, names):
        if match and not re.search(match, nm):
            continue
        lines.append(f"{incl[sym] / per:>12,.0f} {incl[sym] / total:>6.1%}  {nm[:160]}")
        n += 1
        if n >= top:
            break
    return "\n".join(lines)


def report(path: Path, per: int, top: int = 25) -> str:
    selfc, objc, total = self_costs(path)
    rows = sorted(selfc.items(), key=lambda kv: -kv[1])[:top]
    names = demangle([r[0] for r in rows])
    lines = [f"{'per request':>12} {'share':>6}  function (self cost)"]
    for (sym, ir), nm in zip(rows, names):
        nm = nm if len(nm) <= 150 else nm[:147] + "..."
        lines.append(f"{ir / per:>12,.0f} {ir / total:>6.1%}  {nm}")
    lines.append("")
    lines.append(f"{'per request':>12} {'share':>6}  object")
    for ob, ir in sorted(objc.items(), key=lambda kv: -kv[1])[:12]:
        lines.append(f"{ir / per:>12,.0f} {ir / total:>6.1%}  {ob}")
    return "\n".join(lines)


if __name__ == "__main__":
    if len(sys.argv) > 4:
        print(inclusive_report(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]))
        sys.exit(0)
    print(report(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 1,
                 int(sys.argv[3]) if len(sys.argv) > 3 else 25))
