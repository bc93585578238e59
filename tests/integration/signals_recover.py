#!/usr/bin/env python3
"""Attack on published signal tables: for every suppressed number, find every
value consistent with what a reader sees (shown cells, margins and total;
absent cells are 0; "<k" is 1..k-1; "x" is at least k, since only shown
counts get secondary suppression).  A number with exactly one consistent
value is recovered.  Usage: signals_recover.py payload.json... (exit 1 if
anything is recovered); --self-test runs the attack on hand-made weak tables
and must recover them."""
import json
import sys


def model(m, k):
    """(domains, equations) of one measure; equations are (vars, const):
    sum(vars) + const == 0 over unknown indexes; known entries fold into const."""
    nd = len(m["dimensions"])
    entries = [("cell", tuple(c["values"]), c["count"]) for c in m["cells"]]
    entries += [("margin", tuple(c["values"]), c["count"]) for c in m["margins"]]
    entries.append(("total", (None,) * nd, m["total"]))
    shown = sum(c for _, _, c in entries if isinstance(c, int))
    ub = shown + 50 * k
    doms, ref = [], []
    for _, _, c in entries:
        if isinstance(c, int):
            ref.append(("k", c))
        elif c == "x":
            ref.append(("u", len(doms))); doms.append((k, ub))
        else:
            ref.append(("u", len(doms))); doms.append((1, int(c[1:]) - 1))

    def eq(total_idx, member_idx):
        vs, const = [], 0
        kind, v = ref[total_idx]
        if kind == "u": vs.append((v, -1))
        else: const -= v
        for i in member_idx:
            kind, v = ref[i]
            if kind == "u": vs.append((v, 1))
            else: const += v
        return (vs, const)

    cells = [i for i, e in enumerate(entries) if e[0] == "cell"]
    margins = [i for i, e in enumerate(entries) if e[0] == "margin"]
    tot = len(entries) - 1
    eqs = []
    if nd == 1:
        eqs.append(eq(tot, cells))
    elif nd == 2:
        for mi in margins:
            d = 0 if entries[mi][1][0] is not None else 1
            eqs.append(eq(mi, [c for c in cells if entries[c][1][d] == entries[mi][1][d]]))
        for d in (0, 1):
            eqs.append(eq(tot, [mi for mi in margins if entries[mi][1][d] is not None]))
    return doms, eqs, entries, ref


def propagate(lo, hi, eqs):
    changed = True
    while changed:
        changed = False
        for vs, const in eqs:
            # sum(coef*x) = -const
            rhs = -const
            smin = sum(lo[v] if c > 0 else -hi[v] for v, c in vs)
            smax = sum(hi[v] if c > 0 else -lo[v] for v, c in vs)
            if smin > rhs or smax < rhs: return False
            for v, c in vs:
                tmin = smin - (lo[v] if c > 0 else -hi[v])
                tmax = smax - (hi[v] if c > 0 else -lo[v])
                # c*x in [rhs - tmax, rhs - tmin]
                a, b = rhs - tmax, rhs - tmin
                nlo, nhi = (a, b) if c > 0 else (-b, -a)
                if nlo > lo[v]: lo[v] = nlo; changed = True
                if nhi < hi[v]: hi[v] = nhi; changed = True
                if lo[v] > hi[v]: return False
    return True


def feasible(lo, hi, eqs):
    lo, hi = lo[:], hi[:]
    if not propagate(lo, hi, eqs): return False
    open_ = [v for v in range(len(lo)) if lo[v] < hi[v]]
    if not open_: return True
    v = min(open_, key=lambda x: hi[x] - lo[x])
    for val in range(lo[v], hi[v] + 1):
        l2, h2 = lo[:], hi[:]
        l2[v] = h2[v] = val
        if feasible(l2, h2, eqs): return True
    return False


def recovered(m, k):
    doms, eqs, entries, ref = model(m, k)
    lo = [d[0] for d in doms]; hi = [d[1] for d in doms]
    out = []
    for i, (kind, v) in enumerate(ref):
        if kind != "u": continue
        vals = []
        for val in range(doms[v][0], doms[v][1] + 1):
            l2, h2 = lo[:], hi[:]
            l2[v] = h2[v] = val
            if feasible(l2, h2, eqs):
                vals.append(val)
                if len(vals) > 1: break
        if len(vals) == 1:
            out.append((entries[i][0], entries[i][1], vals[0]))
    return out


def self_test():
    k = 5
    weak = [
        # primary suppression only: 25 - 10 - 12 gives the hidden 3
        {"dimensions": ["a"], "cells": [{"values": ["p"], "count": "<5"},
                                        {"values": ["q"], "count": 10},
                                        {"values": ["r"], "count": 12}],
         "margins": [], "total": 25},
        # two "<5" cells summing to 8: both must be 4
        {"dimensions": ["a"], "cells": [{"values": ["p"], "count": "<5"},
                                        {"values": ["q"], "count": "<5"},
                                        {"values": ["r"], "count": 12}],
         "margins": [], "total": 20},
    ]
    for m in weak:
        if not recovered(m, k):
            print("self-test: the attack failed on a weak table", file=sys.stderr)
            return 1
    return 0


def main(files):
    if files == ["--self-test"]: return self_test()
    bad, nsup = 0, 0
    for f in files:
        d = json.load(open(f))
        for m in d["measures"]:
            for e in m["cells"] + m["margins"] + [{"count": m["total"]}]:
                nsup += not isinstance(e["count"], int)
            for kind, values, val in recovered(m, d["k"]):
                print(f"{f}: {m['id']}: {kind} {list(values)} recovered as {val}", file=sys.stderr)
                bad += 1
    print(f"{nsup} suppressed numbers in {len(files)} payloads, {bad} recovered")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
