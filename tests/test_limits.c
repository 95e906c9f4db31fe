/* test_limits.c: reliability. Every count read from input is bounded before it
 * allocates (a scenario's N = 10^12, a topology header of 10^10 nodes, a
 * contacts line of 10^7 entries, a lookups file over DHTSIM_MEMORY_LIMIT),
 * output faults are clear errors, never half-written files (a full disk, an
 * unwritable --out, /dev/full as stdout, SIGTERM), untrusted bytes are shown
 * escaped in messages, and every input the fuzzers ever crashed on
 * (tests/fuzz-regressions/) loads cleanly. See docs/reliability.md.
 *
 * The dhtsim binary is spawned with resource limits set in the child:
 * RLIMIT_AS proves that nothing large was allocated (not under AddressSanitizer,
 * whose shadow memory needs terabytes of address space), RLIMIT_FSIZE with
 * SIGXFSZ ignored makes writes fail with EFBIG like a full disk. Every child
 * also gets alarm(120): a hang ends as a failure instead of a stuck test. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli_helpers.h"

#include "addr.h"
#include "error.h"
#include "id.h"
#include "network.h"
#include "scenario.h"
#include "workload.h"

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

#define MiB (1024ull * 1024ull)

/* ---- spawning dhtsim with limits ---- */

typedef struct limits {
  unsigned long long as_bytes;    /* RLIMIT_AS; 0: unchanged (always unchanged under ASan) */
  unsigned long long fsize_bytes; /* RLIMIT_FSIZE (+ SIGXFSZ ignored); 0: unchanged */
  bool stdout_dev_full;           /* stdout is /dev/full */
  const char *memory_limit;       /* DHTSIM_MEMORY_LIMIT; NULL: unset */
} limits;

static void child_setup(gpointer data) {
  const limits *l = data;
  alarm(120);
  if (l->fsize_bytes > 0) {
    struct rlimit r = {l->fsize_bytes, l->fsize_bytes};
    signal(SIGXFSZ, SIG_IGN);
    setrlimit(RLIMIT_FSIZE, &r);
  }
  if (l->stdout_dev_full) {
    int fd = open("/dev/full", O_WRONLY);
    if (fd >= 0) {
      dup2(fd, STDOUT_FILENO);
      close(fd);
    }
  }
  if (l->as_bytes > 0 && !UNDER_ASAN) {
    struct rlimit r = {l->as_bytes, l->as_bytes};
    setrlimit(RLIMIT_AS, &r);
  }
}

static cli run_limited(const limits *l, const char *const *args) {
  const char *argv[40] = {DHTSIM_BINARY};
  char **envp = g_get_environ();
  limits none = {0};
  cli r = {0};
  int ws = 0;
  size_t i = 0;
  GError *e = NULL;
  if (l == NULL)
    l = &none;
  while (args[i] != NULL && i < 38) {
    argv[i + 1] = args[i];
    i++;
  }
  argv[i + 1] = NULL;
  envp = l->memory_limit ? g_environ_setenv(envp, "DHTSIM_MEMORY_LIMIT", l->memory_limit, TRUE)
                         : g_environ_unsetenv(envp, "DHTSIM_MEMORY_LIMIT");
  cr_assert(g_spawn_sync(DHTSIM_SOURCE_DIR, (char **)argv, envp, G_SPAWN_DEFAULT, child_setup, (gpointer)l,
                         l->stdout_dev_full ? NULL : &r.out, &r.err, &ws, &e),
            "spawn: %s", e ? e->message : "?");
  g_strfreev(envp);
  if (r.out == NULL)
    r.out = g_strdup("");
  r.status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
  return r;
}

/* ---- temporary folder ---- */

static char *tmp;

static void setup(void) {
  tmp = g_dir_make_tmp("dhtsim-limits-XXXXXX", NULL);
  cr_assert(tmp != NULL);
}

static void teardown(void) {
  rm_rf(tmp);
  g_free(tmp);
}

static char *sub(const char *name) { return g_build_filename(tmp, name, NULL); }

static char *write_tmp(const char *name, const char *text) {
  char *p = sub(name);
  cr_assert(g_file_set_contents(p, text, -1, NULL), "cannot write %s", p);
  return p;
}

/* Not inlined: GCC 12 then sees a pointer to `d` (its -Wdangling-pointer false positive). */
G_GNUC_NO_INLINE static char *slurp_opt(const char *dir, const char *name, gsize *len) {
  char *p = g_build_filename(dir, name, NULL), *d = NULL;
  if (!g_file_get_contents(p, &d, len, NULL))
    d = NULL;
  g_free(p);
  return d;
}

/* ---- 5. limits: counts from input are bounded before they allocate ---- */

/* A scenario's counts: each refused as out of range at parse time, with the
 * value's position, in-process and through `dhtsim run` (exit 2) under a 64 MiB
 * address-space limit. */
Test(limits, scenario_counts_out_of_range_are_refused, .init = setup, .fini = teardown) {
  static const struct {
    const char *yaml, *msg;
  } cases[] = {
      {"network:\n  nodes: 1000000000000\n",
       "s.yaml:2:10: network.nodes: expected an integer from 2 to 268435456, got '1000000000000'"},
      {"workload:\n  lookups: 1000000000000\n",
       "s.yaml:2:12: workload.lookups: expected an integer from 1 to 1000000000, got '1000000000000'"},
      {"replicas: 1000000000000\n", "s.yaml:1:11: replicas: expected an integer from 1 to 10000, got '1000000000000'"},
      {"network:\n  nodes: 99999999999999999999999\n",
       "s.yaml:2:10: network.nodes: expected an integer from 2 to 268435456, got '99999999999999999999999'"},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
    sim_scenario sc;
    char err[1024];
    int rc = sim_scenario_parse(&sc, "s.yaml", cases[i].yaml, strlen(cases[i].yaml), err, sizeof err);
    cr_assert(eq(int, rc, DHT_EINVAL), "case %zu", i);
    cr_assert(eq(str, err, (char *)cases[i].msg), "case %zu", i);
  }

  for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
    char *path = write_tmp("s.yaml", cases[i].yaml);
    limits l = {.as_bytes = 64 * MiB};
    cli r = run_limited(&l, (const char *[]){"run", path, NULL});
    cr_assert(eq(int, r.status, 2), "case %zu: exit %d: %s", i, r.status, r.err);
    cr_assert(strstr(r.err, strchr(cases[i].msg, ' ') + 1) != NULL, "case %zu: %s", i, r.err);
    cr_assert(g_str_has_prefix(r.err, path), "case %zu: %s", i, r.err);
    cr_assert(eq(str, r.out, ""));
    cli_free(&r);
    g_free(path);
  }
}

/* "nodes 10000000000": refused on its line before any allocation. With
 * RLIMIT_AS at 64 MiB, a loader that allocated first would fail with "out of
 * memory" (exit 1) instead. */
Test(limits, topology_header_of_1e10_nodes_is_refused_before_allocating, .init = setup, .fini = teardown) {
  char *topo = write_tmp("t.txt", "dhtsim-topology v1\n# 10^10 nodes, no node lines\nnodes 10000000000\n");
  char *yaml = write_tmp("s.yaml", "network:\n  topology: t.txt\n");
  char err[512];
  char *expected = g_strdup_printf("%s:3: nodes 10000000000 exceeds the maximum 268435456", topo);
  sim_network net;
  limits l = {.as_bytes = 64 * MiB};
  cli r;

  cr_assert(eq(int, sim_network_load_topology(&net, topo, 8, err, sizeof err), DHT_ERANGE));
  cr_assert(eq(str, err, expected));
  cr_assert(eq(ptr, net.ids, NULL));

  r = run_limited(&l, (const char *[]){"run", yaml, NULL});
  cr_assert(eq(int, r.status, 2), "exit %d: %s", r.status, r.err);
  cr_assert(strstr(r.err, expected) != NULL, "%s", r.err);
  cli_free(&r);
  g_free(expected);
  g_free(topo);
  g_free(yaml);
}

/* Regression (commit "network: topology loader checks the header's node count
 * against the memory budget before allocating"): "nodes 16777216" is in range
 * but its arrays alone need 1.7 GiB; under DHTSIM_MEMORY_LIMIT (64 MiB) it is
 * refused before allocating: exit 2, not an ENOMEM under RLIMIT_AS. */
Test(limits, topology_header_over_the_memory_budget, .init = setup, .fini = teardown) {
  char *topo = write_tmp("t.txt", "dhtsim-topology v1\nnodes 16777216\n0 0123456789abcdef0123456789abcdef01234567 "
                                  "10.0.0.1 1\n");
  char *yaml = write_tmp("s.yaml", "network:\n  topology: t.txt\n");
  char err[512];
  char *expected = g_strdup_printf("%s:2: nodes 16777216 need an estimated 1.7 GiB, more than the "
                                   "DHTSIM_MEMORY_LIMIT of 64.0 MiB",
                                   topo);
  sim_network net;
  limits l = {.as_bytes = 96 * MiB, .memory_limit = "67108864"};
  cli r;

  setenv("DHTSIM_MEMORY_LIMIT", "67108864", 1);
  cr_assert(eq(int, sim_network_load_topology(&net, topo, 8, err, sizeof err), DHT_ETOOBIG));
  unsetenv("DHTSIM_MEMORY_LIMIT");
  cr_assert(eq(str, err, expected));
  cr_assert(eq(ptr, net.ids, NULL));

  r = run_limited(&l, (const char *[]){"run", yaml, "-j", "1", NULL});
  cr_assert(eq(int, r.status, 2), "exit %d: %s", r.status, r.err);
  cr_assert(strstr(r.err, expected) != NULL, "%s", r.err);
  cli_free(&r);
  g_free(expected);
  g_free(topo);
  g_free(yaml);
}

/* A network of 200 nodes with K = 1 (at most 160 contacts per node) whose
 * first contacts line lists 10^7 entries: refused with file:line at entry 161.
 * The loader keeps no per-line array: the line's text (20 MB, in a 32 MiB
 * getline buffer) is all it holds, and the run needs about 48 MiB of address
 * space. Under RLIMIT_AS = 64 MiB, reading the 10^7 entries into an array
 * first (38 MiB more) would end in "out of memory" (exit 1) instead. */
Test(limits, contacts_line_of_1e7_entries_is_refused_without_an_array, .init = setup, .fini = teardown,
     .timeout = 120) {
  enum { NODES = 200, ENTRIES = 10000000 };
  char *topo = sub("t.txt"), *yaml = write_tmp("s.yaml", "network:\n  topology: t.txt\nlookup:\n  k: 1\n");
  FILE *f = fopen(topo, "w");
  char err[512], *expected;
  sim_network net;
  limits l = {.as_bytes = 64 * MiB};
  cli r;

  cr_assert(f != NULL);
  fprintf(f, "dhtsim-topology v1\nnodes %d\n", NODES);
  for (int i = 0; i < NODES; i++)
    fprintf(f, "%d %08x00000000000000000000000000000000 10.0.%d.%d 6881\n", i, (unsigned)i * 2654435761u, i >> 8,
            i & 255);
  fputs("contacts\n0:", f);
  for (int i = 1; i <= 161; i++)
    fprintf(f, " %d", i);
  for (int i = 161; i < ENTRIES; i++)
    fputs(" 1", f);
  fputc('\n', f);
  for (int i = 1; i < NODES; i++)
    fprintf(f, "%d: 0\n", i);
  cr_assert(eq(int, fclose(f), 0));
  expected = g_strdup_printf("%s:%d: more than 160 contacts (160 * K, K = 1)", topo, NODES + 4);

  cr_assert(eq(int, sim_network_load_topology(&net, topo, 1, err, sizeof err), DHT_EINVAL));
  cr_assert(eq(str, err, expected));

  r = run_limited(&l, (const char *[]){"run", yaml, "-j", "1", NULL});
  cr_assert(eq(int, r.status, 2), "exit %d: %s", r.status, r.err);
  cr_assert(strstr(r.err, expected) != NULL, "%s", r.err);
  cli_free(&r);
  g_free(expected);
  g_free(topo);
  g_free(yaml);
}

/* A lookups file of 200000 lookups under DHTSIM_MEMORY_LIMIT = 4 MiB (room for
 * 174762 of 24 bytes): refused at the first line that does not fit, exit 2. */
Test(limits, lookups_file_over_the_memory_limit, .init = setup, .fini = teardown) {
  char *lk = sub("l.txt"), *yaml = write_tmp("s.yaml", "workload:\n  lookups_file: l.txt\n");
  FILE *f = fopen(lk, "w");
  char err[512], *expected;
  sim_lookup_spec *specs = NULL;
  size_t count = 0;
  limits l = {.as_bytes = 64 * MiB, .memory_limit = "4194304"};
  cli r;

  cr_assert(f != NULL);
  for (int i = 0; i < 200000; i++)
    fprintf(f, "%d %08x00000000000000000000000000000000\n", i % 100, (unsigned)i);
  cr_assert(eq(int, fclose(f), 0));
  expected = g_strdup_printf("%s:174763: 174763 lookups need 4.0 MiB, more than the DHTSIM_MEMORY_LIMIT of 4.0 MiB", lk);

  setenv("DHTSIM_MEMORY_LIMIT", "4194304", 1);
  cr_assert(eq(int, sim_lookups_load(lk, 100, &specs, &count, err, sizeof err), DHT_ETOOBIG));
  unsetenv("DHTSIM_MEMORY_LIMIT");
  cr_assert(eq(str, err, expected));
  cr_assert(eq(ptr, specs, NULL));
  cr_assert(eq(u64, count, 0));

  r = run_limited(&l, (const char *[]){"run", yaml, "-j", "1", NULL});
  cr_assert(eq(int, r.status, 2), "exit %d: %s", r.status, r.err);
  cr_assert(strstr(r.err, expected) != NULL, "%s", r.err);
  cli_free(&r);
  g_free(expected);
  g_free(lk);
  g_free(yaml);
}

/* Regression (commit "sweep: fail cleanly instead of hanging when no worker
 * thread can be created"): with 8 MiB of address space no thread (8 MiB of
 * stack) can start; dhtsim used to wait forever for one. */
Test(limits, no_worker_thread_is_an_error_not_a_hang, .timeout = 150) {
  limits l = {.as_bytes = 8 * MiB};
  cli r;
  if (UNDER_ASAN)
    cr_skip_test("RLIMIT_AS cannot be used under AddressSanitizer");
  r = run_limited(&l, (const char *[]){"run", "scenarios/baseline.yaml", NULL});
  cr_assert(eq(int, r.status, 1), "exit %d (142: hung until alarm): %s", r.status, r.err);
  cr_assert(strstr(r.err, "cannot start worker threads") != NULL, "%s", r.err);
  cli_free(&r);
}

/* ---- 6. faults: outputs are complete or absent ---- */

static const char *const finals[] = {"summary.csv", "summary.json", "runs.csv", "lookups.csv"};

/* The complete file `name` of a run in which no point finished, from the
 * complete file of the same run with every point: the CSV header alone, or
 * the JSON object with an empty "points" list. */
static char *without_points(const char *name, const char *all) {
  const char *key = "\"points\": [\n", *p = strstr(all, key), *nl = strchr(all, '\n');
  if (g_str_has_suffix(name, ".json"))
    return p ? g_strdup_printf("%.*s  ]\n}\n", (int)(p + strlen(key) - all), all) : g_strdup("(no points list)");
  return nl ? g_strndup(all, (gsize)(nl - all + 1)) : g_strdup("(no header)");
}

/* A full disk: RLIMIT_FSIZE at several sizes (writes beyond fail with EFBIG,
 * SIGXFSZ ignored), from "nothing fits" to "all but the final lookups.csv
 * fits". Each run exits 1 naming a file under DIR; every final file is either
 * absent or complete: byte-identical to an unlimited run's, or (when the only
 * point could not be written: failed runs keep the finished points) the file
 * of zero points; no temporary file is left. */
Test(faults, full_disk_is_a_clear_error_and_never_a_truncated_file, .init = setup, .fini = teardown,
     .timeout = 300) {
  char *ref = sub("ref");
  cli r = run_limited(NULL, (const char *[]){"run", "scenarios/baseline.yaml", "-j", "1", "--out", ref, NULL});
  gsize lookups_len = 0, part_len = 0;
  char *lookups, *part;
  unsigned long long sizes[6];

  cr_assert(eq(int, r.status, 0), "%s", r.err);
  cli_free(&r);
  lookups = slurp_opt(ref, "lookups.csv", &lookups_len);
  part = slurp_opt(ref, "parts/point-00000000.lookups.csv", &part_len);
  cr_assert(lookups != NULL && part != NULL);
  cr_assert(gt(u64, lookups_len, part_len));
  sizes[0] = 1;
  sizes[1] = 64;
  sizes[2] = 512;
  sizes[3] = part_len - 1;  /* the lookups part does not fit */
  sizes[4] = part_len;      /* the parts fit, the final lookups.csv does not */
  sizes[5] = lookups_len - 1;
  g_free(lookups);
  g_free(part);

  for (size_t i = 0; i < G_N_ELEMENTS(sizes); i++) {
    char name[32];
    snprintf(name, sizeof name, "fsize-%llu", sizes[i]);
    char *dir = sub(name);
    limits l = {.fsize_bytes = sizes[i]};
    r = run_limited(&l, (const char *[]){"run", "scenarios/baseline.yaml", "-j", "1", "--out", dir, NULL});
    cr_assert(eq(int, r.status, 1), "RLIMIT_FSIZE %llu: exit %d: %s", sizes[i], r.status, r.err);
    cr_assert(strstr(r.err, dir) != NULL, "RLIMIT_FSIZE %llu: the message names no file under %s: %s", sizes[i],
              dir, r.err);
    cr_assert(strstr(r.err, "File too large") != NULL, "RLIMIT_FSIZE %llu: %s", sizes[i], r.err);
    cr_assert(strchr(r.err, '\n') == r.err + strlen(r.err) - 1, "not one line: %s", r.err);
    for (size_t j = 0; j < G_N_ELEMENTS(finals); j++) {
      char *got = slurp_opt(dir, finals[j], NULL), *want = slurp_opt(ref, finals[j], NULL);
      char *none = without_points(finals[j], want);
      if (got != NULL)
        cr_assert(strcmp(got, want) == 0 || strcmp(got, none) == 0,
                  "RLIMIT_FSIZE %llu: %s is neither complete nor the file of no finished point:\n%s", sizes[i],
                  finals[j], got);
      g_free(got);
      g_free(want);
      g_free(none);
    }
    assert_no_tmp_files(dir);
    cli_free(&r);
    g_free(dir);
  }
  g_free(ref);
}

/* --out under a regular file (root ignores permissions, a file as a parent
 * stops everyone): exit 1, the message names the path. */
Test(faults, unwritable_out_is_a_clear_error, .init = setup, .fini = teardown) {
  char *file = write_tmp("file", "not a folder\n");
  char *under = g_build_filename(file, "out", NULL);
  const char *const outs[] = {under, file};
  for (size_t i = 0; i < G_N_ELEMENTS(outs); i++) {
    cli r = run_limited(NULL, (const char *[]){"run", "scenarios/baseline.yaml", "--out", outs[i], NULL});
    cr_assert(eq(int, r.status, 1), "--out %s: exit %d: %s", outs[i], r.status, r.err);
    cr_assert(strstr(r.err, outs[i]) != NULL, "--out %s: %s", outs[i], r.err);
    cr_assert(strstr(r.err, "Not a directory") != NULL || strstr(r.err, "File exists") != NULL, "%s", r.err);
    cli_free(&r);
  }
  g_free(under);
  g_free(file);
}

/* export-topology on a full disk (RLIMIT_FSIZE below the file's size): exit 1
 * with the reason, naming FILE.tmp; the earlier complete FILE stays byte for
 * byte and no FILE.tmp is left (the export goes through outfile.h). */
Test(faults, full_disk_export_keeps_the_earlier_topology, .init = setup, .fini = teardown) {
  char *yaml = write_tmp("s.yaml", "network:\n  nodes: 200\n");
  char *topo = sub("t.topo"), *want, *got, *msg;
  limits l = {.fsize_bytes = 4096};
  cli r = run_limited(NULL, (const char *[]){"export-topology", yaml, topo, NULL});
  cr_assert(eq(int, r.status, 0), "%s", r.err);
  cli_free(&r);
  want = slurp_opt(tmp, "t.topo", NULL);
  cr_assert(want != NULL && strlen(want) > l.fsize_bytes, "the export must not fit under the limit");
  r = run_limited(&l, (const char *[]){"export-topology", yaml, topo, NULL});
  msg = g_strdup_printf("cannot write %s.tmp: File too large\n", topo);
  cr_assert(eq(int, r.status, 1), "%s", r.err);
  cr_assert(eq(str, r.err, msg));
  got = slurp_opt(tmp, "t.topo", NULL);
  cr_assert(got != NULL && strcmp(got, want) == 0, "the earlier topology changed");
  assert_no_tmp_files(tmp);
  cli_free(&r);
  g_free(msg);
  g_free(got);
  g_free(want);
  g_free(topo);
  g_free(yaml);
}

/* stdout on /dev/full (ENOSPC on flush), in every format: exit 1 and a message. */
Test(faults, dev_full_stdout_is_a_clear_error) {
  const char *const formats[] = {"table", "csv", "json"};
  for (size_t i = 0; i < G_N_ELEMENTS(formats); i++) {
    limits l = {.stdout_dev_full = true};
    cli r = run_limited(&l, (const char *[]){"run", "scenarios/baseline.yaml", "--format", formats[i], NULL});
    cr_assert(eq(int, r.status, 1), "--format %s: exit %d: %s", formats[i], r.status, r.err);
    cr_assert(strstr(r.err, "cannot write to standard output: No space left on device") != NULL, "--format %s: %s",
              formats[i], r.err);
    cli_free(&r);
  }
}

/* ---- 7. untrusted bytes in messages ---- */

#define TID "0000000000000000000000000000000000000000"

typedef struct shown_case {
  const char *text; /* a lookups file */
  const char *msg;  /* after "<path>:" */
} shown_case;

/* The lookups reader shows input through sim_show: control bytes, DEL and
 * invalid UTF-8 as \xNN, valid UTF-8 kept (cut at a character boundary after
 * 40 bytes, then "..."), so a message never carries raw terminal controls. */
Test(messages, lookups_file_shows_untrusted_bytes_escaped, .init = setup, .fini = teardown) {
  static const shown_case cases[] = {
      {"\xc3\xa9 " TID "\n", "1: bad start node index '\xc3\xa9' (expected a decimal integer)"},
      {"1\x01 " TID "\n", "1: bad start node index '1\\x01' (expected a decimal integer)"},
      {"1\x1b[2J " TID "\n", "1: bad start node index '1\\x1b[2J' (expected a decimal integer)"},
      {"1 " TID " \x7f\n", "1: unexpected text '\\x7f' after the target"},
      {"1 000000000000000000000000000000000000000\xff\n",
       "1: bad target '000000000000000000000000000000000000000\\xff' (expected 40 hex digits)"},
      {"1 xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\xc3\xa9y\n",
       "1: bad target 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\xc3\xa9...' (expected 40 hex digits)"},
      {"1 " TID "\n2\v " TID "\n", "2: bad start node index '2\\x0b' (expected a decimal integer)"},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
    char name[32], err[512] = "";
    sim_lookup_spec *specs = NULL;
    size_t count = 0;
    snprintf(name, sizeof name, "l%zu.txt", i);
    char *p = write_tmp(name, cases[i].text), *want = g_strdup_printf("%s:%s", p, cases[i].msg);
    cr_assert(eq(int, sim_lookups_load(p, 100, &specs, &count, err, sizeof err), DHT_EINVAL), "case %zu", i);
    cr_assert(eq(str, err, want), "case %zu", i);
    cr_assert(specs == NULL && count == 0);
    g_free(want);
    g_free(p);
  }
}

/* A malformed DHTSIM_MEMORY_LIMIT is shown the same way ("\t" as that escape). */
Test(messages, bad_memory_limit_is_shown_escaped, .init = setup, .fini = teardown) {
  char *p = write_tmp("l.txt", "1 " TID "\n"), *want = NULL, err[512] = "";
  char *saved = g_strdup(g_getenv("DHTSIM_MEMORY_LIMIT"));
  sim_lookup_spec *specs = NULL;
  size_t count = 0;
  g_setenv("DHTSIM_MEMORY_LIMIT", "4\t2\x01", TRUE);
  int rc = sim_lookups_load(p, 100, &specs, &count, err, sizeof err);
  if (saved != NULL)
    g_setenv("DHTSIM_MEMORY_LIMIT", saved, TRUE);
  else
    g_unsetenv("DHTSIM_MEMORY_LIMIT");
  want = g_strdup_printf("%s: DHTSIM_MEMORY_LIMIT: expected a positive integer number of bytes, got '4\\t2\\x01'", p);
  cr_assert(eq(int, rc, DHT_EINVAL));
  cr_assert(eq(str, err, want));
  g_free(want);
  g_free(saved);
  g_free(p);
}

/* ---- fuzz regressions: every saved input through its loader ---- */

/* Calls fn on every file of tests/fuzz-regressions/<harness>/ and
 * fuzz/corpus/<harness>/ (README files excepted); returns how many. */
static size_t each_input(const char *harness, void (*fn)(const char *path, const char *data, size_t len)) {
  const char *roots[] = {DHTSIM_SOURCE_DIR "/tests/fuzz-regressions", DHTSIM_SOURCE_DIR "/fuzz/corpus"};
  size_t n = 0;
  for (size_t i = 0; i < G_N_ELEMENTS(roots); i++) {
    char *dir = g_build_filename(roots[i], harness, NULL);
    GDir *d = g_dir_open(dir, 0, NULL);
    const char *name;
    cr_assert(d != NULL, "missing %s", dir);
    while ((name = g_dir_read_name(d)) != NULL) {
      char *p = g_build_filename(dir, name, NULL), *data = NULL;
      gsize len = 0;
      if (!g_str_has_prefix(name, "README")) {
        cr_assert(g_file_get_contents(p, &data, &len, NULL), "cannot read %s", p);
        fn(p, data, len);
        n++;
      }
      g_free(data);
      g_free(p);
    }
    g_dir_close(d);
    g_free(dir);
  }
  return n;
}

static void one_line_error(const char *path, const char *err) {
  cr_assert(err[0] != '\0' && strchr(err, '\n') == NULL, "%s: bad message '%s'", path, err);
}

static void feed_scenario(const char *path, const char *data, size_t len) {
  sim_scenario sc, pt;
  char err[1024], label[1024];
  int rc = sim_scenario_parse(&sc, path, data, len, err, sizeof err);
  if (rc < 0) {
    one_line_error(path, err);
    return;
  }
  uint64_t points = sim_scenario_point_count(&sc);
  const uint64_t picks[] = {0, points / 2, points - 1};
  for (size_t i = 0; i < G_N_ELEMENTS(picks); i++) {
    if (sim_scenario_point(&sc, picks[i], &pt, err, sizeof err) < 0)
      one_line_error(path, err);
    sim_scenario_point_label(&sc, picks[i], label, sizeof label);
    sim_scenario_run_seed(&sc, picks[i], sc.replicas - 1);
  }
  sim_scenario_clear(&sc);
}

/* K and the node count as fuzz_topology / fuzz_lookups pick them (by length). */
static void feed_topology(const char *path, const char *data, size_t len) {
  sim_network net;
  char err[512];
  (void)data;
  setenv("DHTSIM_MEMORY_LIMIT", "268435456", 1);
  if (sim_network_load_topology(&net, path, 1 + (unsigned)(len % 8), err, sizeof err) < 0)
    one_line_error(path, err);
  else
    sim_network_clear(&net);
  unsetenv("DHTSIM_MEMORY_LIMIT");
}

static void feed_lookups(const char *path, const char *data, size_t len) {
  static const uint32_t node_counts[] = {0, 1, 100, 16777216};
  sim_lookup_spec *specs = NULL;
  size_t count = 0;
  char err[512];
  (void)data;
  setenv("DHTSIM_MEMORY_LIMIT", len % 5 == 4 ? "480" : "268435456", 1);
  if (sim_lookups_load(path, node_counts[len % 4], &specs, &count, err, sizeof err) < 0)
    one_line_error(path, err);
  g_free(specs);
  unsetenv("DHTSIM_MEMORY_LIMIT");
}

static void feed_id(const char *path, const char *data, size_t len) {
  dht_id id, again;
  char hex[DHT_ID_HEXLEN + 1];
  if (dht_id_from_hex(&id, data, len) == 0) {
    dht_id_to_hex(&id, hex);
    cr_assert(eq(int, dht_id_from_hex(&again, hex, DHT_ID_HEXLEN), 0), "%s", path);
    cr_assert(dht_id_eq(&id, &again), "%s", path);
  }
}

static void feed_addr(const char *path, const char *data, size_t len) {
  dht_addr a, b;
  char buf[DHT_ADDR_STRLEN];
  (void)len; /* g_file_get_contents NUL-terminates: parsed up to the first NUL */
  if (dht_addr_parse(&a, data) == 0) {
    cr_assert(gt(int, dht_addr_format(&a, buf, sizeof buf), 0), "%s", path);
    cr_assert(eq(int, dht_addr_parse(&b, buf), 0), "%s", path);
    cr_assert(dht_addr_eq(&a, &b), "%s", path);
  }
}

Test(fuzz_regressions, scenario) { cr_assert(gt(u64, each_input("scenario", feed_scenario), 0)); }
Test(fuzz_regressions, topology) { cr_assert(gt(u64, each_input("topology", feed_topology), 0)); }
Test(fuzz_regressions, lookups) { cr_assert(gt(u64, each_input("lookups", feed_lookups), 0)); }
Test(fuzz_regressions, id) { cr_assert(gt(u64, each_input("id", feed_id), 0)); }
Test(fuzz_regressions, addr) { cr_assert(gt(u64, each_input("addr", feed_addr), 0)); }
