#!/usr/bin/env python3
"""Every field a bundled signal set reads (dimensions, dates, conditions) is
in the bundled catalogue signalen-jeugd.json, which decides what the
minimiser hands the signals format: a field left out there would make its
dimension read "onbekend" for every record (as client.sex once did for the
CBS set's age band x sex).  Derived dimensions need their inputs."""
import json, pathlib, sys

root = pathlib.Path(sys.argv[1])
cat = json.load(open(root / "conf/catalogue/signalen-jeugd.json"))
listed = {f["field"] for f in cat["fields"]}
DERIVED = {"client.age_band": ["client.birth_date"],
           "delivery.waiting_band": ["entitlement.start", "delivery.start"]}

def cond_fields(c):
    if isinstance(c, dict):
        if "field" in c:
            yield c["field"]
        for k in ("all", "any"):
            for sub in c.get(k, []):
                yield from cond_fields(sub)
        if "not" in c:
            yield from cond_fields(c["not"])

bad = 0
for name in ("gemeente-jeugd.json", "cbs-beleidsinformatie-jeugd.json"):
    s = json.load(open(root / "conf/signals" / name))
    for m in s["measures"]:
        need = set(cond_fields(m.get("where")))
        need.add(m.get("date", "delivery.start"))
        for d in m.get("by", []):
            need.update(DERIVED.get(d, [d]))
        for f in sorted(need - listed):
            print(f"{name}: measure {m['id']} reads {f}, which signalen-jeugd.json does not list",
                  file=sys.stderr)
            bad += 1
sys.exit(1 if bad else 0)
