#!/usr/bin/env python3
"""Writes the hand-made `dhtsim run --out DIR` fixtures of tests/test_plot.c.

The files follow docs/output-format.md column for column (summary.csv,
runs.csv, lookups.csv, summary.json); the numbers are synthetic but
self-consistent: every run's figures are computed from its lookups, every
point's means and 95 % Student-t half-widths from its runs. Deterministic:
running it again rewrites the same bytes.

    python3 tests/data/plot/gen-fixtures.py   # from the repository root
"""
import json
import math
import os
import random
import re

HERE = os.path.dirname(os.path.abspath(__file__))
SIM = os.path.join(HERE, "..", "..", "..", "sim")


def read_def(name):
    """The text of sim/NAME with its line continuations joined."""
    with open(os.path.join(SIM, name)) as fh:
        return fh.read().replace("\\\n", " ")


# The columns come from the tables themselves: every parameter key of
# sim/param.def, every figure of sim/figure.def (and which are counts).
KEYS = re.findall(r'(?<![\w#])X\(\w+, "([^"]+)"', read_def("param.def"))
FIGS, COUNTS = [], set()
for m in re.finditer(r'SIM_FIGURE_DIST_\(X, \w+, "(\w+)"|(?<![\w#])X\(\w+, "(\w+)", "[^"]*", \w+, [\w.]+, [^,]+, [^,]+, (\w+),',
                     read_def("figure.def")):
    if m.group(1):
        FIGS += [f"{m.group(1)}_{s}" for s in ("mean", "p50", "p95", "p99", "max")]
    else:
        FIGS.append(m.group(2))
        if m.group(3) == "COUNT":
            COUNTS.add(m.group(2))
DISTS = ["queries", "rounds", "time_ms", "first_peer_ms"]
TEXT = {"name", "network.tables", "network.topology", "latency.model", "lookup.strategy", "workload.arrival",
        "workload.lookups_file"}
# The fixture's point parameters (short names) behind the keys; the others hold their defaults.
SHORT = {"network.nodes": "nodes", "network.tables": "tables", "latency.model": "latency_model",
         "loss.request_drop": "request_drop", "loss.response_drop": "response_drop",
         "loss.dead_fraction": "dead_fraction", "lookup.strategy": "strategy", "lookup.alpha": "alpha",
         "lookup.k": "k", "lookup.timeout_ms": "timeout_ms", "workload.lookups": "lookups"}
DEFAULTS = {"network.topology": None, "latency.delay_ms": 50, "latency.min_ms": 10, "latency.max_ms": 100,
            "latency.median_ms": 50, "latency.sigma": 0.5, "latency.slow_fraction": 0,
            "latency.slow_multiplier": 10, "workload.arrival": "sequential", "workload.rate_per_s": 10,
            "workload.lookups_file": None}
T975 = {1: 12.706205, 2: 4.302653, 3: 3.182446, 4: 2.776445}


def nearest_rank(sorted_vals, q):
    return sorted_vals[max(1, math.ceil(q * len(sorted_vals))) - 1]


def csv_text(s):
    if any(c in s for c in ',"\n\r'):
        return '"' + s.replace('"', '""') + '"'
    return s


def param_values(p, scenario, seed, replicas, planted):
    """Every parameter key's value (None: unset), in table order."""
    v = {}
    for key in KEYS:
        if key in SHORT:
            v[key] = p[SHORT[key]]
        elif key in DEFAULTS:
            v[key] = DEFAULTS[key]
    v.update({"name": scenario, "seed": seed, "replicas": replicas, "workload.planted_peers": 5 if planted else 0,
              "workload.plant_at": p["k"]})
    missing = [k for k in KEYS if k not in v]
    assert not missing, f"no fixture value for {missing}: add them to DEFAULTS"
    return [(k, v[k]) for k in KEYS]


def text(v):
    """A parameter value as dhtsim writes it: the shortest text that reads back."""
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def simulate_lookups(rng, p, planted):
    """Synthetic lookups with the rough shape of the real thing."""
    out = []
    t = 0.0
    log2n = math.log2(p["nodes"])
    drop = p["request_drop"]
    for i in range(p["lookups"]):
        base_rounds = max(1, round(rng.gauss(log2n / (1.0 + 0.35 * p["alpha"]) + p["k"] / 8.0, 0.9)))
        rounds = base_rounds + (1 if rng.random() < drop * 2 else 0)
        if p["strategy"] == "pipelined":
            rounds = max(1, rounds - 1)
        queries = max(rounds, round(rounds * min(p["alpha"], p["k"]) * rng.uniform(0.8, 1.1) + p["k"] / 2))
        timeouts = sum(1 for _ in range(queries) if rng.random() < drop)
        time_ms = rounds * 100.0 + timeouts * (2000.0 if p["strategy"] == "rounds" else 600.0) / max(1, p["alpha"])
        time_ms = round(time_ms + rng.uniform(0, 40), 3)
        found = planted and rng.random() > drop * 1.5
        first = round(time_ms * rng.uniform(0.3, 0.9), 3) if found else None
        acc = max(0.0, min(1.0, 1.0 - drop * rng.uniform(0.5, 1.5) - rng.uniform(0, 0.15)))
        acc = round(acc * p["k"]) / p["k"]
        out.append({"id": i, "start_node": rng.randrange(p["nodes"]),
                    "target": "%040x" % rng.getrandbits(160), "start_ms": round(t, 3), "queries": queries,
                    "rounds": rounds, "time_ms": time_ms, "first_peer_ms": first,
                    "peers_found": 5 if found else 0, "accuracy": acc, "timeouts": timeouts})
        t += time_ms
    return out


def run_figures(p, lk, planted):
    f = {}
    for d in DISTS:
        vals = sorted(x[d] for x in lk if x[d] is not None)
        if not vals:
            for s in ("mean", "p50", "p95", "p99", "max"):
                f[f"{d}_{s}"] = 0.0
            continue
        f[f"{d}_mean"] = sum(vals) / len(vals)
        f[f"{d}_p50"] = float(nearest_rank(vals, 0.50))
        f[f"{d}_p95"] = float(nearest_rank(vals, 0.95))
        f[f"{d}_p99"] = float(nearest_rank(vals, 0.99))
        f[f"{d}_max"] = float(vals[-1])
    f["success_rate"] = (sum(1 for x in lk if x["peers_found"] > 0) / len(lk)) if planted else None
    f["accuracy"] = sum(x["accuracy"] for x in lk) / len(lk)
    q = sum(x["queries"] for x in lk)
    to = sum(x["timeouts"] for x in lk)
    f["messages_sent_total"] = float(2 * q - to)
    f["messages_dropped_total"] = float(to)
    f["dead_queries_total"] = 0.0
    f["timeouts_total"] = float(to)
    f["late_responses_total"] = 0.0
    f["events_total"] = float(3 * q)
    f["virtual_time_s"] = (lk[-1]["start_ms"] + lk[-1]["time_ms"]) / 1e3
    f["dead_nodes"] = 0.0
    f["slow_nodes"] = 0.0
    return f


def fmt_fig(name, v, counts_as_int):
    if v is None:
        return ""
    if counts_as_int and name in COUNTS:
        return "%.0f" % v
    return "%.6f" % v


def write_fixture(name, scenario, seed, axes, base, replicas, planted):
    d = os.path.join(HERE, name)
    os.makedirs(d, exist_ok=True)
    rng = random.Random(f"{name}/{seed}")
    points = [{}]
    for key, values in axes:  # the first axis varies slowest
        points = [dict(pt, **{key: v}) for pt in points for v in values]
    summary = ["point,label," + ",".join(KEYS) + "," + ",".join(f"{f},{f}_ci95" for f in FIGS)]
    runs = ["point,replica,run_seed,label," + ",".join(KEYS) + "," + ",".join(FIGS)]
    lookups = ["point,replica," + "".join(k + "," for k, _ in axes) +
               "id,start_node,target,start_ms,queries,rounds,time_ms,first_peer_ms,peers_found,accuracy"]
    jpoints = []
    for pi, assign in enumerate(points):
        p = dict(base)
        label_parts = []
        for key, _ in axes:
            p[key.split(".")[1]] = assign[key]
            label_parts.append(f"{key}={assign[key]}")
        label = " ".join(label_parts)
        pv = param_values(p, scenario, seed, replicas, planted)
        pfields = [csv_text(text(v)) for _, v in pv]
        swept = [text(dict(pv)[k]) for k, _ in axes]
        figs = []
        for r in range(replicas):
            run_seed = seed if not axes and r == 0 else rng.getrandbits(64)
            lk = simulate_lookups(rng, p, planted)
            f = run_figures(p, lk, planted)
            figs.append(f)
            runs.append(",".join([str(pi), str(r), str(run_seed), csv_text(label)] + pfields +
                                 [fmt_fig(n, f[n], True) for n in FIGS]))
            for x in lk:
                lookups.append(",".join([str(pi), str(r)] + swept + [
                    str(x["id"]), str(x["start_node"]), x["target"],
                    f"{x['start_ms']:.3f}", str(x["queries"]), str(x["rounds"]), f"{x['time_ms']:.3f}",
                    "" if x["first_peer_ms"] is None else f"{x['first_peer_ms']:.3f}",
                    str(x["peers_found"]), f"{x['accuracy']:.6f}"]))
        row = [str(pi), csv_text(label)] + pfields
        stats = {}
        for n in FIGS:
            vals = [f[n] for f in figs]
            if any(v is None for v in vals):
                row += ["", ""]
                stats[n] = None
                continue
            mean = sum(vals) / len(vals)
            ci = None
            if replicas > 1:
                sd = math.sqrt(sum((v - mean) ** 2 for v in vals) / (replicas - 1))
                ci = T975[replicas - 1] * sd / math.sqrt(replicas)
            row += ["%.6f" % mean, "" if ci is None else "%.6f" % ci]
            stats[n] = {"mean": round(mean, 6), "ci95": None if ci is None else round(ci, 6)}
        summary.append(",".join(row))
        jparams = {k: (v if v is None or k in TEXT else json.loads(text(v))) for k, v in pv}
        jpoints.append({"point": pi, "label": label, "params": jparams, "stats": stats})
    for fname, lines in (("summary.csv", summary), ("runs.csv", runs), ("lookups.csv", lookups)):
        with open(os.path.join(d, fname), "w", newline="\n") as fh:
            fh.write("\n".join(lines) + "\n")
    with open(os.path.join(d, "summary.json"), "w", newline="\n") as fh:
        json.dump({"scenario": scenario, "seed": seed, "replicas": replicas, "sweep": [k for k, _ in axes],
                   "points": jpoints}, fh, indent=2, ensure_ascii=False)
        fh.write("\n")


BASE = {"nodes": 200, "tables": "random", "strategy": "rounds", "alpha": 3, "k": 8, "latency_model": "constant",
        "request_drop": 0.0, "response_drop": 0.0, "dead_fraction": 0.0, "timeout_ms": 2000.0, "lookups": 20}

# α × K × N, 2 replicas: queries-vs-n, heat maps, CDF and histogram per α.
write_fixture("sweep", "alpha-k-sweep", 7,
              [("lookup.alpha", [1, 3]), ("lookup.k", [4, 8]), ("network.nodes", [50, 200, 1000])],
              BASE, 2, True)
# request drop × strategy, 2 replicas: success/accuracy vs drop, per-strategy histogram and CDF.
write_fixture("drop", "loss, strategies", 3,
              [("loss.request_drop", [0.0, 0.1, 0.2, 0.3]), ("lookup.strategy", ["rounds", "pipelined"])],
              BASE, 2, True)
# One point, one replica, no planted peers: empty CIs, empty success rate, single-valued axes.
write_fixture("single", "baseline", 1, [], dict(BASE, lookups=30), 1, False)
