# dhtcsv.awk: reads one CSV file of `dhtsim run --out DIR` (docs/output-format.md)
# for the gnuplot scripts of plots/. Columns are found by their header name, so
# the scripts do not depend on column order. POSIX awk (mawk, gawk, busybox).
#
#   awk -f dhtcsv.awk -v mode=MODE [-v VAR=VALUE ...] FILE
#
# Variables: cols (comma-separated column names), where (a group key, below),
# sort (a column name), params (comma-separated parameter names), allparams=1
# (every parameter column of the file: the dotted scenario keys, such as
# lookup.alpha), exclude (comma-separated names), key (a group key), value, at.
# Sorted values are in numeric order; non-numeric ones keep their file order.
#
# mode=select    cols=...   [where=KEY] [sort=COL]
#                the named columns of the matching rows, comma-separated, in
#                file order or sorted numerically by COL; an empty *_ci95
#                field (one replica) prints as 0, other empty fields stay empty
# mode=first     cols=C     the field C of the first data row
# mode=distinct  cols=C     [where=KEY]  the distinct values of C, sorted, on one line
# mode=count     [where=KEY] the number of matching data rows
# mode=range     cols=C     [where=KEY]  "min max" of the non-empty numeric values of C
# mode=index     cols=C     value=V      0-based position of V among the distinct values of C
# mode=tics      cols=C     [at=value]  a gnuplot tic list '"v0" 0, "v1" 1, ...' of the
#                distinct values of C, numbers shortened (0.100000 as 0.1); at=value:
#                each tic at the value itself
# mode=cells     cols=X,Y,V,... [where=KEY]  for heat maps: the 0-based positions of X
#                and Y among their distinct values over the whole file, then the
#                other columns (empty *_ci95 as 0), for the matching rows
# mode=groups    params=... | allparams=1 [exclude=...]
#                the distinct combinations, sorted, of those params that take
#                more than one value in the file (minus the excluded ones), as
#                space-separated keys "lookup.alpha=1;lookup.k=4"; "all" when
#                none varies. A param that is not a column of the file does not
#                vary (lookups.csv has only the swept keys); one whose value
#                follows from the other varying ones (workload.plant_at, which
#                defaults to lookup.k) adds nothing and is left out.
# mode=label     key=KEY    a legend text for a group key: "α = 1, K = 4"
# mode=varying   params=... | allparams=1 [exclude=...]  the names of the
#                params that vary (as for groups), space-separated
#
# A group key "name=value;name=value" (values exactly as in the file) selects
# the rows whose fields equal those values; the key "all" or "" selects all rows.
# Errors (no such column) go to stderr with exit status 2.

function csvsplit(line, f,    n, i, c, inq, cur, len) {
  if (index(line, "\"") == 0)
    return split(line, f, ",")
  n = 0; cur = ""; inq = 0; len = length(line)
  for (i = 1; i <= len; i++) {
    c = substr(line, i, 1)
    if (inq) {
      if (c == "\"") {
        if (substr(line, i + 1, 1) == "\"") { cur = cur "\""; i++ }
        else inq = 0
      } else cur = cur c
    } else if (c == "\"") inq = 1
    else if (c == ",") { f[++n] = cur; cur = "" }
    else cur = cur c
  }
  f[++n] = cur
  return n
}

function isnum(s) {
  return s ~ /^[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$/
}

# -1, 0, 1: numerically when both are numbers; other values compare equal, so
# that the (stable) sorts keep them in file order, the sweep's order.
function cmp(a, b) {
  if (isnum(a) && isnum(b)) {
    if (a + 0 < b + 0) return -1
    if (a + 0 > b + 0) return 1
  }
  return 0
}

# Insertion sort of v[1..n] (small n: distinct values, groups).
function sortvals(v, n,    i, j, t) {
  for (i = 2; i <= n; i++) {
    t = v[i]
    for (j = i - 1; j >= 1; j--) {
      if (cmp(v[j], t) <= 0) break
      v[j + 1] = v[j]
    }
    v[j + 1] = t
  }
}

# Compares combinations a and b of the varying parameters: numbers in numeric
# order, other values in the order of their first appearance in the file.
function combocmp(a, b,    i, p, va, vb, c) {
  for (i = 1; i <= nvar; i++) {
    p = vary[i]; va = comboval[a, p]; vb = comboval[b, p]
    c = cmp(va, vb)
    if (c == 0 && !(isnum(va) && isnum(vb))) c = prank[p, va] - prank[p, vb]
    if (c != 0) return c < 0 ? -1 : 1
  }
  return 0
}

function col(name) {
  if (!(name in idx)) {
    printf "dhtcsv.awk: %s: no column \"%s\"\n", FILENAME, name > "/dev/stderr"
    failed = 1
    exit 2
  }
  return idx[name]
}

function matches(f,    i) {
  for (i = 1; i <= nwhere; i++)
    if (f[wcol[i]] != wval[i]) return 0
  return 1
}

# Legend text of a parameter (a dotted scenario key) and its value.
function pretty(name, value) {
  if (name == "lookup.alpha") return "α = " value
  if (name == "lookup.k") return "K = " value
  if (name == "network.nodes") return "N = " value
  if (name == "lookup.strategy") return value
  if (name == "network.tables") return value " tables"
  if (name == "latency.model") return value " latency"
  if (name == "latency.sigma") return "σ = " value
  if (name == "latency.slow_fraction") return "slow " (value + 0)
  if (name == "loss.request_drop") return "request drop " (value + 0)
  if (name == "loss.response_drop") return "response drop " (value + 0)
  if (name == "loss.dead_fraction") return "dead " (value + 0)
  if (name == "lookup.timeout_ms") return "timeout " (value + 0) " ms"
  if (name == "workload.lookups") return value " lookups"
  if (name ~ /_ms$/) return name " = " value " ms"
  return name " = " value
}

# vary[1..nvar]: the params that are not excluded and take more than one
# value; minus those whose value follows from the other params (excluded or
# not, minus the ones already left out) over the combinations seen, the last
# ones first (the table's derived keys come after the keys they follow from).
function find_varying(    i, j, c, k, v, det, seenv, gone) {
  nvar = 0
  for (i = 1; i <= np; i++) if (!pexcl[i] && pdistinct[i] > 1) vary[++nvar] = i
  for (i = nvar; i >= 1; i--) {
    v = vary[i]; det = 1
    split("", seenv)
    for (c = 1; c <= nc && det; c++) {
      k = ""
      for (j = 1; j <= np; j++) if (j != v && !gone[j]) k = k SUBSEP comboval[c, j]
      if (k in seenv) { if (seenv[k] != comboval[c, v]) det = 0 }
      else seenv[k] = comboval[c, v]
    }
    if (det) {
      gone[v] = 1
      for (j = i; j < nvar; j++) vary[j] = vary[j + 1]
      nvar--
    }
  }
}

function is_excluded(name,    i) {
  for (i = 1; i <= nexcl; i++)
    if (excl[i] == name) return 1
  return 0
}

BEGIN {
  FS = ","
  ncols = cols == "" ? 0 : split(cols, cname, ",")
  nparams = params == "" ? 0 : split(params, pname, ",")
  nexcl = exclude == "" ? 0 : split(exclude, excl, ",")
  if (mode == "label") {
    if (key == "" || key == "all") { print "all lookups"; exit 0 }
    n = split(key, kv, ";"); out = ""
    for (i = 1; i <= n; i++) {
      e = index(kv[i], "=")
      out = out (i > 1 ? ", " : "") pretty(substr(kv[i], 1, e - 1), substr(kv[i], e + 1))
    }
    print out
    exit 0
  }
  nrows = 0; nd = 0; ng = 0
}

{ sub(/\r$/, "") }

NR == 1 {
  nh = csvsplit($0, h)
  for (i = 1; i <= nh; i++) idx[h[i]] = i
  for (i = 1; i <= ncols; i++) ci[i] = col(cname[i])
  nwhere = 0
  if (where != "" && where != "all") {
    n = split(where, kv, ";")
    for (i = 1; i <= n; i++) {
      e = index(kv[i], "=")
      wcol[++nwhere] = col(substr(kv[i], 1, e - 1))
      wval[nwhere] = substr(kv[i], e + 1)
    }
  }
  if (sort != "") sortcol = col(sort)
  if (allparams) {
    nparams = 0
    for (i = 1; i <= nh; i++) if (index(h[i], ".") > 0) pname[++nparams] = h[i]
  }
  # The excluded params are kept (pexcl) for drop_determined: a param that
  # follows from them adds nothing either.
  np = 0
  for (i = 1; i <= nparams; i++)
    if (pname[i] in idx) { pp[++np] = pname[i]; pc[np] = idx[pname[i]]; pexcl[np] = is_excluded(pname[i]) }
  next
}

$0 == "" { next }

{
  nf = csvsplit($0, f)
  if (mode == "cells") {
    # Positions come from every row; output only from the matching ones.
    for (i = 1; i <= 2; i++) {
      v = f[ci[i]]
      if (!((i, v) in cseen2)) { cseen2[i, v] = 1; cd[i, ++cn[i]] = v }
    }
    if (!matches(f)) next
    nrows++
    cx[nrows] = f[ci[1]]; cy[nrows] = f[ci[2]]
    line = ""
    for (i = 3; i <= ncols; i++) {
      v = f[ci[i]]
      if (v == "" && cname[i] ~ /_ci95$/) v = "0"
      line = line "," v
    }
    rows[nrows] = line
    next
  }
  if (!matches(f)) next
  nrows++
  if (mode == "select") {
    line = ""
    for (i = 1; i <= ncols; i++) {
      v = f[ci[i]]
      if (v == "" && cname[i] ~ /_ci95$/) v = "0"
      line = line (i > 1 ? "," : "") v
    }
    if (sort == "") print line
    else { rows[nrows] = line; rkey[nrows] = f[sortcol] }
  } else if (mode == "first") {
    print f[ci[1]]
    exit 0
  } else if (mode == "distinct" || mode == "index" || mode == "tics") {
    v = f[ci[1]]
    if (!(v in seen)) { seen[v] = 1; dv[++nd] = v }
  } else if (mode == "range") {
    v = f[ci[1]]
    if (v != "" && isnum(v)) {
      if (!have || v + 0 < lo) lo = v + 0
      if (!have || v + 0 > hi) hi = v + 0
      have = 1
    }
  } else if (mode == "groups" || mode == "varying") {
    full = ""
    for (i = 1; i <= np; i++) {
      v = f[pc[i]]
      if (!((i, v) in pseen)) { pseen[i, v] = 1; prank[i, v] = ++pdistinct[i] }
      full = full SUBSEP v
    }
    if (!(full in cseen)) {
      cseen[full] = 1; nc++
      for (i = 1; i <= np; i++) comboval[nc, i] = f[pc[i]]
    }
  }
}

END {
  if (failed) exit 2
  if (mode == "select" && sort != "") {
    # Stable insertion sort of the row numbers by the sort column.
    for (i = 1; i <= nrows; i++) ord[i] = i
    for (i = 2; i <= nrows; i++) {
      t = ord[i]
      for (j = i - 1; j >= 1 && cmp(rkey[ord[j]], rkey[t]) > 0; j--) ord[j + 1] = ord[j]
      ord[j + 1] = t
    }
    for (i = 1; i <= nrows; i++) print rows[ord[i]]
  } else if (mode == "cells") {
    for (a = 1; a <= 2; a++) {
      n = cn[a]
      for (i = 1; i <= n; i++) tmp[i] = cd[a, i]
      sortvals(tmp, n)
      for (i = 1; i <= n; i++) pos[a, tmp[i]] = i - 1
    }
    for (r = 1; r <= nrows; r++) print pos[1, cx[r]] "," pos[2, cy[r]] rows[r]
  } else if (mode == "count") {
    print nrows
  } else if (mode == "distinct" || mode == "tics" || mode == "index") {
    sortvals(dv, nd)
    out = ""
    for (i = 1; i <= nd; i++) {
      if (mode == "distinct") out = out (i > 1 ? " " : "") dv[i]
      else if (mode == "tics") out = out (i > 1 ? ", " : "") "\"" (isnum(dv[i]) ? dv[i] + 0 : dv[i]) "\" " (at == "value" ? dv[i] : i - 1)
      else if (dv[i] == value) out = i - 1
    }
    print out
  } else if (mode == "range") {
    if (have) printf "%.10g %.10g\n", lo, hi
    else print ""
  } else if (mode == "varying") {
    find_varying()
    out = ""
    for (i = 1; i <= nvar; i++) out = out (i > 1 ? " " : "") pp[vary[i]]
    print out
  } else if (mode == "groups") {
    find_varying()
    if (nvar == 0) { print "all"; exit 0 }
    for (r = 1; r <= nc; r++) {
      k = ""
      for (i = 1; i <= nvar; i++) k = k (i > 1 ? ";" : "") pp[vary[i]] "=" comboval[r, vary[i]]
      if (!(k in gseen)) { gseen[k] = 1; gr[++ng] = r; g[r] = k }
    }
    # Stable insertion sort of the combinations, parameter by parameter.
    for (i = 2; i <= ng; i++) {
      t = gr[i]
      for (j = i - 1; j >= 1 && combocmp(gr[j], t) > 0; j--) gr[j + 1] = gr[j]
      gr[j + 1] = t
    }
    out = ""
    for (i = 1; i <= ng; i++) out = out (i > 1 ? " " : "") g[gr[i]]
    print out
  }
}
