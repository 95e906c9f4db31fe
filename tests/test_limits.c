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
#include "criterion_assert.h"
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
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
  bool sigxfsz_default;           /* with fsize_bytes: leave SIGXFSZ at its default action (kill) */
  unsigned alarm_s;               /* the child's alarm; 0: 120 s */
  const char *memory_limit;       /* DHTSIM_MEMORY_LIMIT; NULL: unset */
} limits;

static void child_setup(gpointer data) {
  const limits *l = data;
  alarm(l->alarm_s ? l->alarm_s : 120);
  if (l->fsize_bytes > 0) {
    struct rlimit r = {l->fsize_bytes, l->fsize_bytes};
    signal(SIGXFSZ, l->sigxfsz_default ? SIG_DFL : SIG_IGN);
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
    cr_assert(g_str_has_prefix(r.err, "dhtsim: ") && g_str_has_prefix(r.err + 8, path), "case %zu: %s", i, r.err);
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
 * first contacts line lists 10^7 entries (20 MB): refused at the line-length
 * bound (1 MiB, more than the longest valid line: 160 * 256 contacts of 8
 * digits), which the reader checks before it stores more, so the line is
 * never held whole. Under RLIMIT_AS = 64 MiB, holding the 20 MB line or an
 * array of its 10^7 entries would end in "out of memory" (exit 1) instead.
 * (The 160 * K bound itself: test_network.) */
Test(limits, contacts_line_of_1e7_entries_is_refused_at_the_line_bound, .init = setup, .fini = teardown,
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
  expected = g_strdup_printf("%s:%d: line too long (more than 1048576 bytes)", topo, NODES + 4);

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
  msg = g_strdup_printf("dhtsim: cannot write %s.tmp: File too large\n", topo);
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

/* ---- output files that are not regular files (issue #11, item 4) ---- */

/* Exports scenario yaml into path through dhtsim; returns the result. */
static cli export_to(const char *yaml, const char *path) {
  return run_limited(NULL, (const char *[]){"export-topology", yaml, path, NULL});
}

/* A character device (a private /dev/full made with mknod: the real one must
 * survive a failing test) is written in place, never replaced: the write
 * fails with ENOSPC (exit 1, the device named) and the device stays. */
Test(special_outputs, a_character_device_is_written_in_place, .init = setup, .fini = teardown) {
  char *yaml = write_tmp("s.yaml", "network:\n  nodes: 200\n"), *dev = sub("full");
  struct stat st;
  if (mknod(dev, S_IFCHR | 0666, makedev(1, 7)) != 0)
    cr_skip_test("mknod: %s (needs root)", g_strerror(errno));
  cli r = export_to(yaml, dev);
  cr_assert(eq(int, r.status, 1), "exit %d: %s", r.status, r.err);
  char *want = g_strdup_printf("dhtsim: cannot write %s: No space left on device\n", dev);
  cr_assert(eq(str, r.err, want));
  cr_assert(eq(int, lstat(dev, &st), 0));
  bool is_chr = S_ISCHR(st.st_mode);
  cr_assert(is_chr, "the device was replaced");
  assert_no_tmp_files(tmp);
  cli_free(&r);
  g_free(want);
  g_free(dev);
  g_free(yaml);
}

/* A symbolic link is refused (exit 2, "symbolic link"): neither the link nor
 * its target changes. */
Test(special_outputs, a_symlink_is_refused_not_replaced, .init = setup, .fini = teardown) {
  char *yaml = write_tmp("s.yaml", "network:\n  nodes: 200\n"), *target = write_tmp("target", "keep me\n");
  char *link = sub("link"), *got, *pointed;
  struct stat st;
  cr_assert(eq(int, symlink(target, link), 0));
  cli r = export_to(yaml, link);
  cr_assert(eq(int, r.status, 2), "exit %d: %s", r.status, r.err);
  cr_assert(strstr(r.err, link) != NULL && strstr(r.err, "symbolic link") != NULL, "%s", r.err);
  cr_assert(eq(int, lstat(link, &st), 0));
  bool is_lnk = S_ISLNK(st.st_mode);
  cr_assert(is_lnk, "the link was replaced");
  pointed = g_file_read_link(link, NULL);
  cr_assert(eq(str, pointed, target));
  got = slurp_opt(tmp, "target", NULL);
  cr_assert(eq(str, got, "keep me\n"));
  assert_no_tmp_files(tmp);
  cli_free(&r);
  g_free(got);
  g_free(pointed);
  g_free(link);
  g_free(target);
  g_free(yaml);
}

/* A folder (exit 2, "is a directory") and a stale PATH.tmp that is a symbolic
 * link (exit 2; the link's target is never written through it). */
Test(special_outputs, a_folder_or_a_linked_tmp_is_refused, .init = setup, .fini = teardown) {
  char *yaml = write_tmp("s.yaml", "network:\n  nodes: 200\n"), *dir = sub("d"), *out = sub("t.topo");
  char *tmplink = sub("t.topo.tmp"), *victim = write_tmp("victim", "keep me\n"), *got;
  cr_assert(eq(int, g_mkdir(dir, 0777), 0));
  cli r = export_to(yaml, dir);
  cr_assert(eq(int, r.status, 2), "exit %d: %s", r.status, r.err);
  cr_assert(strstr(r.err, "is a directory") != NULL, "%s", r.err);
  cli_free(&r);
  cr_assert(eq(int, symlink(victim, tmplink), 0));
  r = export_to(yaml, out);
  cr_assert(eq(int, r.status, 2), "exit %d: %s", r.status, r.err);
  cr_assert(strstr(r.err, tmplink) != NULL, "%s", r.err);
  got = slurp_opt(tmp, "victim", NULL);
  cr_assert(eq(str, got, "keep me\n"), "written through the link");
  cli_free(&r);
  g_free(got);
  g_free(victim);
  g_free(tmplink);
  g_free(out);
  g_free(dir);
  g_free(yaml);
}

/* A FIFO is written in place: a reader gets the same bytes as a regular
 * export, and the FIFO is still a FIFO afterwards. */
Test(special_outputs, a_fifo_is_written_in_place, .init = setup, .fini = teardown, .timeout = 60) {
  char *yaml = write_tmp("s.yaml", "network:\n  nodes: 200\n"), *fifo = sub("fifo"), *file = sub("t.topo");
  const char *argv[] = {DHTSIM_BINARY, "export-topology", yaml, fifo, NULL};
  GString *got = g_string_new(NULL);
  char buf[4096], *want;
  ssize_t n;
  int fd, ws = 0;
  GPid pid;
  struct stat st;
  cli r = export_to(yaml, file);
  cr_assert(eq(int, r.status, 0), "%s", r.err);
  cli_free(&r);
  want = slurp_opt(tmp, "t.topo", NULL);
  cr_assert(eq(int, mkfifo(fifo, 0666), 0));
  cr_assert(g_spawn_async(DHTSIM_SOURCE_DIR, (char **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &pid, NULL));
  /* Non-blocking: if the FIFO were replaced, nobody would ever write it. */
  fd = open(fifo, O_RDONLY | O_NONBLOCK);
  cr_assert(fd >= 0);
  for (bool exited = false;;) {
    n = read(fd, buf, sizeof buf);
    if (n > 0) {
      g_string_append_len(got, buf, (gsize)n);
      continue;
    }
    if (exited)
      break;
    exited = waitpid(pid, &ws, WNOHANG) == pid;
    if (!exited)
      g_usleep(2000);
  }
  close(fd);
  g_spawn_close_pid(pid);
  bool ok = WIFEXITED(ws) && WEXITSTATUS(ws) == 0;
  cr_assert(ok, "status %d", ws);
  cr_assert(eq(str, got->str, want));
  cr_assert(eq(int, lstat(fifo, &st), 0));
  bool is_fifo = S_ISFIFO(st.st_mode);
  cr_assert(is_fifo, "the FIFO was replaced");
  assert_no_tmp_files(tmp);
  g_string_free(got, TRUE);
  g_free(want);
  g_free(file);
  g_free(fifo);
  g_free(yaml);
}

/* ---- signals (issue #11, items 5 and 11) ---- */

/* RLIMIT_FSIZE with SIGXFSZ at its default action (which kills): dhtsim
 * ignores the signal itself, so the write fails with EFBIG like a full disk:
 * exit 1, the file named, nothing temporary left. */
Test(signals, file_size_limit_is_an_error_not_a_kill, .init = setup, .fini = teardown) {
  char *dir = sub("uf");
  limits l = {.fsize_bytes = 100, .sigxfsz_default = true};
  cli r = run_limited(&l, (const char *[]){"run", "scenarios/baseline.yaml", "-j", "1", "--out", dir, NULL});
  cr_assert(eq(int, r.status, 1), "exit %d: %s", r.status, r.err);
  cr_assert(strstr(r.err, dir) != NULL && strstr(r.err, "File too large") != NULL, "%s", r.err);
  assert_no_tmp_files(dir);
  cli_free(&r);
  g_free(dir);
}

/* ---- input files: regular files only, bounded lines (issue #11, items 10 and 11) ---- */

/* /dev/zero as the topology or the lookups file: refused at once as not a
 * regular file (exit 2), not read forever (the lookups reader hung, the
 * topology reader grew its line buffer to the address-space limit). */
Test(inputs, endless_inputs_are_refused, .init = setup, .fini = teardown, .timeout = 60) {
  static const char *const yamls[] = {"network:\n  topology: /dev/zero\n", "workload:\n  lookups_file: /dev/zero\n"};
  for (size_t i = 0; i < G_N_ELEMENTS(yamls); i++) {
    char *yaml = write_tmp("s.yaml", yamls[i]);
    limits l = {.as_bytes = 64 * MiB, .alarm_s = 10};
    cli r = run_limited(&l, (const char *[]){"run", yaml, NULL});
    cr_assert(eq(int, r.status, 2), "%s: exit %d: %s", yamls[i], r.status, r.err);
    cr_assert(eq(str, r.err, "dhtsim: /dev/zero: not a regular file (a character device)\n"));
    cli_free(&r);
    g_free(yaml);
  }
}

/* A folder named as an input file: exit 2, "is a directory" (was a read error, exit 1). */
Test(inputs, a_folder_as_input_is_a_usage_error, .init = setup, .fini = teardown) {
  static const char *const yamls[] = {"network:\n  topology: d\n", "workload:\n  lookups_file: d\n"};
  char *dir = sub("d"), *want = g_strdup_printf("dhtsim: %s: is a directory\n", dir);
  cr_assert(eq(int, g_mkdir(dir, 0777), 0));
  for (size_t i = 0; i < G_N_ELEMENTS(yamls); i++) {
    char *yaml = write_tmp("s.yaml", yamls[i]);
    cli r = run_limited(NULL, (const char *[]){"run", yaml, NULL});
    cr_assert(eq(int, r.status, 2), "%s: exit %d: %s", yamls[i], r.status, r.err);
    cr_assert(eq(str, r.err, want));
    cli_free(&r);
    g_free(yaml);
  }
  g_free(want);
  g_free(dir);
}

/* SIGINT while a lookups file is read (a 16 GiB sparse file: one comment
 * line, which the reader skips without storing, for tens of seconds) stops
 * the run within a second or two: exit 130 and a message, not a wait for
 * the whole file. */
Test(signals, sigint_while_loading_stops_at_once, .init = setup, .fini = teardown, .timeout = 60) {
  char *lk = write_tmp("l.txt", "#"), *yaml = write_tmp("s.yaml", "workload:\n  lookups_file: l.txt\n");
  char *out = sub("out");
  const char *argv[] = {DHTSIM_BINARY, "run", yaml, "--out", out, NULL};
  GPid pid;
  int ws = 0;
  gint64 t0;
  cr_assert(eq(int, truncate(lk, 16ll << 30), 0));
  cr_assert(g_spawn_async(DHTSIM_SOURCE_DIR, (char **)argv, NULL,
                          G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL, NULL,
                          NULL, &pid, NULL));
  g_usleep(500000);
  kill(pid, SIGINT);
  t0 = g_get_monotonic_time();
  for (;;) {
    pid_t w = waitpid(pid, &ws, WNOHANG);
    if (w == pid)
      break;
    if (g_get_monotonic_time() - t0 > 5000000) {
      kill(pid, SIGKILL);
      waitpid(pid, &ws, 0);
      cr_assert(false, "still reading 5 s after SIGINT");
    }
    g_usleep(10000);
  }
  g_spawn_close_pid(pid);
  bool exited = WIFEXITED(ws);
  cr_assert(exited, "killed by signal %d", WTERMSIG(ws));
  cr_assert(eq(int, WEXITSTATUS(ws), 128 + SIGINT));
  bool untouched = !g_file_test(out, G_FILE_TEST_EXISTS);
  cr_assert(untouched, "--out was touched by a run that never started");
  g_free(out);
  g_free(yaml);
  g_free(lk);
}

/* ---- everything checked before a run starts (issue #11, items 1, 2, 3) ---- */

typedef struct bad_input {
  const char *yaml;  /* the scenario, in tmp as s.yaml */
  const char *file;  /* written to tmp as f.txt first, or NULL */
} bad_input;

/* Scenarios that parse but cannot run: a missing topology, a malformed
 * topology, a malformed lookups file, a lookups file naming a node the
 * network does not have, every node dead (2 nodes at dead_fraction 0.99:
 * the seed's draw kills both). */
static const bad_input bad_inputs[] = {
    {"network:\n  topology: /nonexistent/t.txt\n", NULL},
    {"network:\n  topology: f.txt\n", "dhtsim-topology v2\n"},
    {"workload:\n  lookups_file: f.txt\n", "0 " TID " extra\n"},
    {"workload:\n  lookups_file: f.txt\n", "100 " TID "\n"},
    {"network:\n  nodes: 2\nloss:\n  dead_fraction: 0.99\n", NULL},
};

static char *write_bad_input(const bad_input *b) {
  if (b->file != NULL)
    g_free(write_tmp("f.txt", b->file));
  return write_tmp("s.yaml", b->yaml);
}

/* validate reads the files a run reads and checks what the run checks: the
 * same exit status (2) and the same message as run. */
Test(inputs, validate_reports_what_run_reports, .init = setup, .fini = teardown) {
  for (size_t i = 0; i < G_N_ELEMENTS(bad_inputs); i++) {
    char *yaml = write_bad_input(&bad_inputs[i]);
    cli r = run_limited(NULL, (const char *[]){"run", yaml, NULL});
    cli v = run_limited(NULL, (const char *[]){"validate", yaml, NULL});
    cli d = run_limited(NULL, (const char *[]){"run", yaml, "--dry-run", NULL});
    cr_assert(eq(int, r.status, 2), "case %zu: run exit %d: %s", i, r.status, r.err);
    cr_assert(eq(int, v.status, 2), "case %zu: validate exit %d: %s%s", i, v.status, v.out, v.err);
    cr_assert(eq(str, v.err, r.err), "case %zu", i);
    cr_assert(eq(int, d.status, 2), "case %zu: --dry-run exit %d: %s", i, d.status, d.out);
    cr_assert(eq(str, d.err, r.err), "case %zu", i);
    cli_free(&r);
    cli_free(&v);
    cli_free(&d);
    g_free(yaml);
  }
}

/* --dry-run of a scenario on a 100-node topology reports its 100 nodes and a
 * memory estimate that counts them (it reported 0 nodes and 0.0 MiB). */
Test(inputs, dry_run_counts_the_topology, .init = setup, .fini = teardown) {
  char *gen = write_tmp("g.yaml", "network:\n  nodes: 100\n"), *topo = sub("t.txt");
  char *yaml = write_tmp("s.yaml", "network:\n  topology: t.txt\n"), **lines, **tok;
  cli r = run_limited(NULL, (const char *[]){"export-topology", gen, topo, NULL});
  cr_assert(eq(int, r.status, 0), "%s", r.err);
  cli_free(&r);
  r = run_limited(NULL, (const char *[]){"run", yaml, "--dry-run", NULL});
  cr_assert(eq(int, r.status, 0), "%s", r.err);
  lines = g_strsplit(r.out, "\n", -1);
  cr_assert(g_strv_length(lines) > 3);
  tok = g_strsplit_set(g_strstrip(lines[2]), " ", -1); /* "0 (scenario) ... 100 ... 2.0 MiB" */
  GPtrArray *words = g_ptr_array_new();
  for (char **t = tok; *t != NULL; t++)
    if (**t != '\0')
      g_ptr_array_add(words, *t);
  cr_assert(eq(u32, words->len, 5), "%s", lines[2]);
  cr_assert(eq(str, g_ptr_array_index(words, 2), "100"), "%s", lines[2]);
  cr_assert(strtod(g_ptr_array_index(words, 3), NULL) > 0.0, "%s", lines[2]);
  g_ptr_array_free(words, TRUE);
  g_strfreev(tok);
  g_strfreev(lines);
  cli_free(&r);
  g_free(yaml);
  g_free(topo);
  g_free(gen);
}

static gint cmp_names(gconstpointer a, gconstpointer b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Names of every file below dir, with their contents, sorted: a folder's state. */
static char *folder_state(const char *dir, const char *rel) {
  GString *s = g_string_new(NULL);
  char *path = rel ? g_build_filename(dir, rel, NULL) : g_strdup(dir);
  GDir *d = g_dir_open(path, 0, NULL);
  GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
  const char *n;
  while (d != NULL && (n = g_dir_read_name(d)) != NULL)
    g_ptr_array_add(names, g_strdup(n));
  if (d != NULL)
    g_dir_close(d);
  g_ptr_array_sort(names, cmp_names);
  for (guint i = 0; i < names->len; i++) {
    char *r = rel ? g_build_filename(rel, g_ptr_array_index(names, i), NULL) : g_strdup(g_ptr_array_index(names, i));
    char *full = g_build_filename(dir, r, NULL), *data = NULL;
    if (g_file_test(full, G_FILE_TEST_IS_DIR)) {
      char *sub_state = folder_state(dir, r);
      g_string_append(s, sub_state);
      g_free(sub_state);
    } else {
      cr_assert(g_file_get_contents(full, &data, NULL, NULL));
      g_string_append_printf(s, "== %s\n%s", r, data);
    }
    g_free(data);
    g_free(full);
    g_free(r);
  }
  g_ptr_array_free(names, TRUE);
  g_free(path);
  return g_string_free(s, FALSE);
}

/* A run that cannot start (every bad input above, and a --lookups over the
 * memory budget) exits 2 before --out is touched: the earlier results stay,
 * byte for byte, with no file added or removed. */
Test(inputs, bad_input_leaves_earlier_results_alone, .init = setup, .fini = teardown) {
  char *victim = sub("victim"), *before, *after;
  cli r = run_limited(NULL, (const char *[]){"run", "scenarios/baseline.yaml", "--out", victim, NULL});
  cr_assert(eq(int, r.status, 0), "%s", r.err);
  cli_free(&r);
  before = folder_state(victim, NULL);
  for (size_t i = 0; i <= G_N_ELEMENTS(bad_inputs); i++) {
    limits l = {.memory_limit = "50000000"};
    char *yaml = i < G_N_ELEMENTS(bad_inputs) ? write_bad_input(&bad_inputs[i]) : g_strdup("scenarios/baseline.yaml");
    r = run_limited(i < G_N_ELEMENTS(bad_inputs) ? NULL : &l,
                    (const char *[]){"run", yaml, "--out", victim, "--lookups", i < G_N_ELEMENTS(bad_inputs) ? "100" : "1000000", NULL});
    cr_assert(eq(int, r.status, 2), "case %zu: exit %d: %s", i, r.status, r.err);
    after = folder_state(victim, NULL);
    cr_assert(eq(str, after, before), "case %zu changed the earlier results", i);
    g_free(after);
    cli_free(&r);
    g_free(yaml);
  }
  g_free(before);
  g_free(victim);
}

/* --lookups goes through the memory check the same count in the file gets:
 * 10^6 lookups under DHTSIM_MEMORY_LIMIT = 50 MB are refused either way
 * (the override used to run). */
Test(inputs, lookups_override_goes_through_the_memory_check, .init = setup, .fini = teardown) {
  char *yaml = write_tmp("s.yaml", "workload:\n  lookups: 1000000\n");
  limits l = {.memory_limit = "50000000", .alarm_s = 30};
  cli f = run_limited(&l, (const char *[]){"run", yaml, NULL});
  cli o = run_limited(&l, (const char *[]){"run", "scenarios/baseline.yaml", "--lookups", "1000000", NULL});
  cr_assert(eq(int, f.status, 2), "%s", f.err);
  cr_assert(eq(int, o.status, 2), "exit %d: %s", o.status, o.err);
  cr_assert(strstr(o.err, "--lookups") != NULL && strstr(o.err, "1000000 lookups") != NULL, "%s", o.err);
  cr_assert(strstr(o.err, "more than the DHTSIM_MEMORY_LIMIT of 47.7 MiB") != NULL, "%s", o.err);
  cli_free(&f);
  cli_free(&o);
  g_free(yaml);
}

/* The line bound is exact: a line of 1 MiB (a comment here) is read, one of
 * 1 MiB + 1 byte is refused on its line. */
Test(inputs, topology_line_bound_is_exact, .init = setup, .fini = teardown) {
  static const size_t max = (size_t)1 << 20;
  for (size_t extra = 0; extra <= 1; extra++) {
    char *topo = sub("t.txt"), err[512] = "", *want;
    FILE *f = fopen(topo, "w");
    sim_network net;
    cr_assert(f != NULL);
    fputs("dhtsim-topology v1\n#", f);
    for (size_t i = 1; i < max + extra; i++)
      fputc('x', f);
    fputs("\nnodes 1\n0 " TID " 10.0.0.1 6881\ncontacts\n0:\n", f);
    cr_assert(eq(int, fclose(f), 0));
    int rc = sim_network_load_topology(&net, topo, 8, err, sizeof err);
    if (extra == 0) {
      cr_assert(eq(int, rc, 0), "a line of exactly 1 MiB: %s", err);
      sim_network_clear(&net);
    } else {
      want = g_strdup_printf("%s:2: line too long (more than 1048576 bytes)", topo);
      cr_assert(eq(int, rc, DHT_EINVAL));
      cr_assert(eq(str, err, want));
      g_free(want);
    }
    g_free(topo);
  }
}

/* validate predicts "every node is dead" for exactly the runs that hit it:
 * 2 nodes at dead_fraction 0.5, 3 replicas of 2 points, for 30 seeds. The
 * check draws with each run's own seed: validate and run agree on every
 * seed, and both outcomes occur. */
Test(inputs, validate_predicts_the_dead_runs_seed_by_seed, .init = setup, .fini = teardown, .timeout = 120) {
  size_t failed = 0, seeds = 30;
  for (size_t s = 1; s <= seeds; s++) {
    char *text = g_strdup_printf("seed: %zu\nnetwork:\n  nodes: 2\nloss:\n  dead_fraction: 0.5\nworkload:\n"
                                 "  lookups: 2\nreplicas: 3\nsweep:\n  latency.sigma: [0.1, 0.2]\n",
                                 s);
    char *yaml = write_tmp("s.yaml", text);
    cli v = run_limited(NULL, (const char *[]){"validate", yaml, NULL});
    cli r = run_limited(NULL, (const char *[]){"run", yaml, "-j", "1", NULL});
    cr_assert(eq(int, v.status, r.status), "seed %zu: validate %d, run %d: %s", s, v.status, r.status, r.err);
    if (r.status != 0) {
      cr_assert(eq(str, v.err, r.err), "seed %zu", s);
      failed++;
    }
    cli_free(&v);
    cli_free(&r);
    g_free(yaml);
    g_free(text);
  }
  cr_assert(gt(u64, failed, 0));
  cr_assert(lt(u64, failed, seeds));
}
