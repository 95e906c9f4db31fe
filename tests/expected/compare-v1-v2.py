#!/usr/bin/env python3
"""compare-v1-v2.py OLD NEW: compares a dhtsim-output v1 folder (or the v1
tests/expected/NAME) with the v2 output of the same scenario: every figure
column value for value, byte for byte (columns matched by name, with the
renames of figure.def), parameters by value, the lookups' own columns byte for
byte, summary.json's figure texts byte for byte. Prints the shape of the
column change; exit status 1 on any value difference."""
import csv, json, sys

RENAME = {"messages_sent": "messages_sent_total", "messages_dropped": "messages_dropped_total",
          "dead_queries": "dead_queries_total", "timeouts": "timeouts_total",
          "late_responses": "late_responses_total", "events": "events_total"}
PARAM = {"scenario": "name", "nodes": "network.nodes", "tables": "network.tables", "strategy": "lookup.strategy",
         "alpha": "lookup.alpha", "k": "lookup.k", "latency_model": "latency.model",
         "request_drop": "loss.request_drop", "response_drop": "loss.response_drop",
         "dead_fraction": "loss.dead_fraction", "timeout_ms": "lookup.timeout_ms", "lookups": "workload.lookups",
         "replicas": "replicas"}
bad = 0

def newname(n, runs=False):
    if runs and n == "seed":
        return "run_seed"
    if n.endswith("_ci95") and n[:-5] in RENAME:
        return RENAME[n[:-5]] + "_ci95"
    return RENAME.get(n, PARAM.get(n, n))

def same_value(a, b):
    if a == b:
        return True
    try:
        return float(a) == float(b)
    except ValueError:
        return False

def read(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]

def cmp_csv(old, new, name):
    global bad
    oh, orows = read(f"{old}/{name}")
    nh, nrows = read(f"{new}/{name}")
    runs = name == "runs.csv"
    if len(orows) != len(nrows):
        print(f"{name}: {len(orows)} rows vs {len(nrows)}"); bad = 1; return
    mapped = [newname(c, runs) for c in oh]
    missing = [c for c, m in zip(oh, mapped) if m not in nh]
    added = [c for c in nh if c not in mapped]
    renamed = [f"{c}->{m}" for c, m in zip(oh, mapped) if c != m and m in nh]
    print(f"{name}: {len(orows)} rows; old {len(oh)} columns, new {len(nh)}; renamed {len(renamed)}: {' '.join(renamed)}")
    print(f"  added {len(added)}: {' '.join(added)}")
    print(f"  removed {len(missing)}: {' '.join(missing)}")
    nidx = {c: i for i, c in enumerate(nh)}
    nfig = 0
    for i, (c, m) in enumerate(zip(oh, mapped)):
        if m not in nidx:
            continue
        is_param = c in PARAM or (c == "seed" and not runs)
        for r, (o, n) in enumerate(zip(orows, nrows)):
            ov, nv = o[i], n[nidx[m]]
            if is_param and m != "name":
                ok = same_value(ov, nv)
            else:
                ok = ov == nv
            if not ok:
                print(f"  DIFF {name} row {r + 1} {c}->{m}: {ov!r} vs {nv!r}"); bad = 1
        nfig += not is_param
    print(f"  {nfig} non-parameter columns byte-identical in every row" if not bad else "")

def cmp_json(old, new):
    global bad
    o = json.load(open(f"{old}/summary.json")); n = json.load(open(f"{new}/summary.json"))
    ot = open(f"{old}/summary.json").read(); nt = open(f"{new}/summary.json").read()
    for k in ("scenario", "seed", "replicas", "sweep"):
        if o[k] != n[k]:
            print(f"summary.json {k}: {o[k]} vs {n[k]}"); bad = 1
    for op, np_ in zip(o["points"], n["points"]):
        for k, v in op["stats"].items():
            if np_["stats"][newname(k)] != v:
                print(f"summary.json point {op['point']} {k}: {v} vs {np_['stats'][newname(k)]}"); bad = 1
        for k, v in op["params"].items():
            if not same_value(str(v), str(np_["params"][PARAM[k]])):
                print(f"summary.json point {op['point']} param {k}: {v} vs {np_['params'][PARAM[k]]}"); bad = 1
    # Byte-level: every "name": {"mean": X, "ci95": Y} text is the same.
    import re
    pat = re.compile(r'"([a-z0-9_]+)": \{"mean": ([^,]+), "ci95": ([^}]+)\}')
    of = [(newname(a), b, c) for a, b, c in pat.findall(ot)]
    nf = pat.findall(nt)
    nset = set(nf)
    lost = [x for x in of if x not in nset]
    if lost:
        print(f"summary.json: {len(lost)} figure texts differ, e.g. {lost[:3]}"); bad = 1
    print(f"summary.json: {len(o['points'])} points; {len(of)} figure texts of old all present byte-identical in new "
          f"({len(nf)} in new: added {sorted(set(x[0] for x in nf) - set(x[0] for x in of))})")

old, new = sys.argv[1], sys.argv[2]
for f in ("summary.csv", "runs.csv", "lookups.csv"):
    cmp_csv(old, new, f)
cmp_json(old, new)
sys.exit(bad)
