#!/usr/bin/env python3
"""same-but-new-columns.py OLD_DIR NEW_DIR: every file of OLD_DIR equals NEW_DIR's
once NEW's added CSV columns / JSON params keys are removed. Exit 1 on a difference.
For a regeneration of tests/expected/NAME that only adds a parameter or figure
column (see tests/test_regression.c): copy the old folder aside first."""
import csv, json, os, sys, io
old, new = sys.argv[1], sys.argv[2]
bad = 0
for f in sorted(os.listdir(old)):
    a = open(os.path.join(old, f)).read(); b = open(os.path.join(new, f)).read()
    if f.endswith('.csv'):
        ra = list(csv.reader(io.StringIO(a))); rb = list(csv.reader(io.StringIO(b)))
        added = [c for c in rb[0] if c not in ra[0]]
        idx = [rb[0].index(c) for c in ra[0]]
        rb2 = [[r[i] for i in idx] for r in rb]
        ok = ra == rb2
        print(f, "added", added, "OK" if ok else "DIFF"); bad += not ok
    elif f.endswith('.json'):
        ja = json.loads(a); jb = json.loads(b)
        added = set()
        for pa, pb in zip(ja["points"], jb["points"]):
            for k in list(pb["params"]):
                if k not in pa["params"]:
                    added.add(k); del pb["params"][k]
        ok = ja == jb and len(ja["points"]) == len(jb["points"])
        print(f, "added", sorted(added), "OK" if ok else "DIFF"); bad += not ok
    else:
        ok = a == b; print(f, "OK" if ok else "DIFF"); bad += not ok
sys.exit(1 if bad else 0)
