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

HERE = os.path.dirname(os.path.abspath(__file__))

PARAMS = ["nodes", "tables", "strategy", "alpha", "k", "latency_model", "request_drop",
          "response_drop", "dead_fraction", "timeout_ms", "lookups"]
DISTS = ["queries", "rounds", "time_ms", "first_peer_ms"]
FIGS = [f"{d}_{s}" for d in DISTS for s in ("mean", "p50", "p95", "p99", "max")] + [
    "success_rate", "accuracy", "messages_sent", "messages_dropped", "dead_queries", "timeouts",
    "late_responses", "events", "virtual_time_s"]
COUNTS = {"messages_sent", "messages_dropped", "dead_queries", "timeouts", "late_responses", "events"}
T975 = {1: 12.706205, 2: 4.302653, 3: 3.182446, 4: 2.776445}


def nearest_rank(sorted_vals, q):
    return sorted_vals[max(1, math.ceil(q * len(sorted_vals))) - 1]


def csv_text(s):
    if any(c in s for c in ',"\n\r'):
        return '"' + s.replace('"', '""') + '"'
    return s


def params_fields(p):
    return [str(p["nodes"]), p["tables"], p["strategy"], str(p["alpha"]), str(p["k"]), p["latency_model"],
            f"{p['request_drop']:.6f}", f"{p['response_drop']:.6f}", f"{p['dead_fraction']:.6f}",
            f"{p['timeout_ms']:.3f}", str(p["lookups"])]


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
    f["messages_sent"] = float(2 * q - to)
    f["messages_dropped"] = float(to)
    f["dead_queries"] = 0.0
    f["timeouts"] = float(to)
    f["late_responses"] = 0.0
    f["events"] = float(3 * q)
    f["virtual_time_s"] = (lk[-1]["start_ms"] + lk[-1]["time_ms"]) / 1e3
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
    summary = ["point,label,scenario,seed," + ",".join(PARAMS) + ",replicas," +
               ",".join(f"{f},{f}_ci95" for f in FIGS)]
    runs = ["point,replica,seed,label,scenario," + ",".join(PARAMS) + "," + ",".join(FIGS) +
            ",dead_nodes,slow_nodes"]
    lookups = ["point,replica,nodes,alpha,k,strategy,request_drop,id,start_node,target,start_ms,queries,"
               "rounds,time_ms,first_peer_ms,peers_found,accuracy"]
    jpoints = []
    for pi, assign in enumerate(points):
        p = dict(base)
        label_parts = []
        for key, _ in axes:
            p[key.split(".")[1]] = assign[key]
            label_parts.append(f"{key}={assign[key]}")
        label = " ".join(label_parts)
        figs = []
        for r in range(replicas):
            run_seed = seed if not axes and r == 0 else rng.getrandbits(64)
            lk = simulate_lookups(rng, p, planted)
            f = run_figures(p, lk, planted)
            figs.append(f)
            runs.append(",".join([str(pi), str(r), str(run_seed), csv_text(label), csv_text(scenario)] +
                                 params_fields(p) + [fmt_fig(n, f[n], True) for n in FIGS] + ["0", "0"]))
            for x in lk:
                lookups.append(",".join([
                    str(pi), str(r), str(p["nodes"]), str(p["alpha"]), str(p["k"]), p["strategy"],
                    f"{p['request_drop']:.6f}", str(x["id"]), str(x["start_node"]), x["target"],
                    f"{x['start_ms']:.3f}", str(x["queries"]), str(x["rounds"]), f"{x['time_ms']:.3f}",
                    "" if x["first_peer_ms"] is None else f"{x['first_peer_ms']:.3f}",
                    str(x["peers_found"]), f"{x['accuracy']:.6f}"]))
        row = [str(pi), csv_text(label), csv_text(scenario), str(seed)] + params_fields(p) + [str(replicas)]
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
        jparams = {k: p[k] for k in PARAMS}
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
