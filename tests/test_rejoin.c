/* test_rejoin.c: churn.rejoin: new (issue #14): returning nodes come back as
 * new identities (spares), the old ones never answer again, and the
 * population's figures stay those of the population. */
#include <criterion/criterion.h>
#include "criterion_assert.h"
#include <glib.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "error.h"
#include "maintain.h"
#include "network.h"
#include "rejoin.h"
#include "scenario.h"
#include "sim.h"

#include "churn_helpers.h"

static void churn_scenario(sim_scenario *sc, uint32_t nodes, double warmup_s, sim_rejoin rejoin) {
  churn_test_scenario(sc, "rejoin.yaml", nodes, warmup_s);
  sc->churn.rejoin = rejoin;
}

static void run_ok(const sim_scenario *sc, sim_results *res) { churn_test_run_ok(sc, res); }

/* Every return claims one spare: as many claims as returns; the nodes of
 * the population stay its size; lookups start from new identities too. */
Test(rejoin, one_spare_per_return) {
  sim_scenario sc;
  sim_results res;
  churn_scenario(&sc, 2000, 3600, SIM_REJOIN_NEW);
  run_ok(&sc, &res);
  cr_assert(eq(u32, res.nodes, 2000));
  cr_assert(eq(u64, res.spares, sim_rejoin_spares(&sc, sc.workload.lookups)));
  cr_assert(gt(u64, res.counters.returns, 500), "%" PRIu64, res.counters.returns);
  cr_assert(eq(u64, res.counters.rejoins, res.counters.returns));
  /* Each claim retired one identity, none twice. */
  cr_assert(eq(u64, res.retired, res.counters.rejoins));
  cr_assert(le(u64, res.counters.rejoins, res.spares));
  cr_assert(eq(u64, res.counters.retired_answers, 0));
  size_t from_new = 0;
  for (size_t i = 0; i < res.n_lookups; i++) {
    cr_assert(lt(u32, res.lookups[i].start_node, 2000 + res.counters.rejoins));
    from_new += res.lookups[i].start_node >= 2000;
  }
  /* About 1/3 of the online nodes have returned once in the hour (a return
   * per node every 5400 s on average, 2/3 of those online). */
  cr_assert(gt(sz, from_new, 20), "%zu", from_new);
  sim_results_clear(&res);
  /* The same seed with rejoin same: the churn draws are the same ones, so
   * the same returns (the same schedule of transitions up to the end). */
  churn_scenario(&sc, 2000, 3600, SIM_REJOIN_SAME);
  run_ok(&sc, &res);
  cr_assert(eq(u64, res.spares, 0));
  cr_assert(eq(u64, res.counters.rejoins, 0));
  cr_assert(gt(u64, res.counters.returns, 500));
  sim_results_clear(&res);
}

/* The online fraction is the population's: S / (S + D) within 2 % after a
 * warm-up, 10^4 nodes, spares not counted. */
Test(rejoin, online_fraction_is_the_populations) {
  sim_scenario sc;
  sim_results res;
  churn_scenario(&sc, 10000, 3600, SIM_REJOIN_NEW);
  sc.workload.lookups = 20;
  run_ok(&sc, &res);
  cr_assert(gt(u64, res.spares, 5000));
  cr_assert(fabs(res.counters.online_fraction - 2.0 / 3.0) < 0.02, "%f", res.counters.online_fraction);
  /* And over time (the timeline's samples, every bin of the run), while
   * thousands of identities have been replaced. */
  cr_assert(gt(u64, res.counters.rejoins, 5000));
  cr_assert(gt(sz, res.n_samples, 10));
  for (size_t i = 0; i < res.n_samples; i++)
    cr_assert(fabs(res.samples[i].online_fraction - 2.0 / 3.0) < 0.02, "bin %zu: %f", i, res.samples[i].online_fraction);
  sim_results_clear(&res);
}

/* Under passive maintenance the tables keep the identities that left: with
 * same they come back and answer again, with new never, so more of the
 * contacts are stale on the same seed. */
Test(rejoin, stale_fraction_higher_with_new_identities) {
  sim_scenario sc;
  sim_results res[2];
  for (int m = 0; m < 2; m++) {
    churn_scenario(&sc, 1000, 3600, m ? SIM_REJOIN_NEW : SIM_REJOIN_SAME);
    sc.network.maintenance = SIM_MAINTENANCE_PASSIVE;
    sc.workload.lookups = 100;
    run_ok(&sc, &res[m]);
  }
  /* Measured (seed 1): same 0.340, new 0.543. */
  cr_assert(gt(dbl, res[1].counters.stale_fraction, res[0].counters.stale_fraction + 0.1), "same %f, new %f",
            res[0].counters.stale_fraction, res[1].counters.stale_fraction);
  /* Every new identity bootstraps once (nothing is dead): 1087 of them. */
  cr_assert(gt(u64, res[1].counters.rejoins, 500));
  cr_assert(eq(u64, res[1].counters.maint_lookups, res[1].counters.rejoins));
  /* The new identities' tables are what their bootstraps found, not tables
   * of t = 0: far fresher than under none (measured: new 0.543 passive,
   * 0.671 none; 0.640 passive when a new node kept a generated table). */
  sim_results none;
  churn_scenario(&sc, 1000, 3600, SIM_REJOIN_NEW);
  sc.workload.lookups = 100;
  run_ok(&sc, &none);
  cr_assert(lt(dbl, res[1].counters.stale_fraction, none.counters.stale_fraction - 0.08), "passive %f, none %f",
            res[1].counters.stale_fraction, none.counters.stale_fraction);
  sim_results_clear(&none);
  sim_results_clear(&res[0]);
  sim_results_clear(&res[1]);
}

/* Too few spares for the run's returns: a clear error naming the key. */
Test(rejoin, spares_exhausted_is_an_error) {
  sim_scenario sc;
  sim_results res;
  char err[512] = "";
  churn_scenario(&sc, 1000, 3600, SIM_REJOIN_NEW);
  sc.churn.spares = 10;
  cr_assert(eq(int, sim_run(&sc, NULL, &res, err, sizeof err), DHT_ETOOBIG));
  cr_assert(eq(str, err,
               "rejoin.yaml: churn.rejoin: new: the 10 spare identities (churn.spares) ran out at virtual 80.740 s, "
               "after 10 returns; give churn.spares a larger value (docs/churn.md)"));
  /* Exactly as many spares as a run's returns: it ends; one fewer: it fails. */
  churn_scenario(&sc, 1000, 3600, SIM_REJOIN_NEW);
  sc.workload.lookups = 50;
  run_ok(&sc, &res);
  uint64_t need = res.counters.rejoins;
  cr_assert(gt(u64, need, 100));
  sim_results_clear(&res);
  sc.churn.spares = need;
  run_ok(&sc, &res);
  cr_assert(eq(u64, res.counters.rejoins, need));
  cr_assert(eq(u32, res.spares, (uint32_t)need));
  sim_results_clear(&res);
  sc.churn.spares = need - 1;
  cr_assert(eq(int, sim_run(&sc, NULL, &res, err, sizeof err), DHT_ETOOBIG));
  cr_assert(ne(ptr, strstr(err, "churn.spares"), NULL), "%s", err);
}

/* The spares' sizing: E = n (H / (E[S] + E[D]) + E[D] / (E[S] + E[D])),
 * 1.25 E + 6 sqrt(E) + 64; none without churn or with rejoin same;
 * churn.spares when given. */
Test(rejoin, spares_sized_from_the_expected_returns) {
  sim_scenario sc;
  churn_scenario(&sc, 2000, 3600, SIM_REJOIN_NEW);
  /* Sequential: H = 3600 + 60 * 200 + 600 = 16200 s; E = 2000 (3 + 1/3). */
  cr_assert(eq(dbl, sim_rejoin_horizon_s(&sc, 200), 16200.0));
  double e = 2000.0 * (16200.0 / 5400.0 + 1800.0 / 5400.0);
  cr_assert(eq(u64, sim_rejoin_spares(&sc, 200), (uint64_t)(ceil(1.25 * e + 6.0 * sqrt(e)) + 64.0)));
  cr_assert(eq(u64, sim_rejoin_spares(&sc, 200), 8888));
  /* Poisson at 10/s: 20 s of arrivals; an event later than that sets the horizon. */
  sc.workload.arrival = SIM_ARRIVAL_POISSON;
  cr_assert(eq(dbl, sim_rejoin_horizon_s(&sc, 200), 3600.0 + 20.0 + 600.0));
  sim_timed_event ev = {.at_us = 10000000000u, .action = SIM_EVENT_HEAL};
  sc.events = &ev;
  sc.n_events = 1;
  cr_assert(eq(dbl, sim_rejoin_horizon_s(&sc, 200), 10000.0 + 600.0));
  sc.events = NULL;
  sc.n_events = 0;
  sc.churn.spares = 77;
  cr_assert(eq(u64, sim_rejoin_spares(&sc, 200), 77));
  sc.churn.rejoin = SIM_REJOIN_SAME;
  cr_assert(eq(u64, sim_rejoin_spares(&sc, 200), 0));
  sc.churn.rejoin = SIM_REJOIN_NEW;
  sc.churn.session.model = SIM_CHURN_NONE;
  cr_assert(eq(u64, sim_rejoin_spares(&sc, 200), 0));
  /* Never beyond SIM_NODES_MAX nodes in all. */
  churn_scenario(&sc, SIM_NODES_MAX - 10, 3600, SIM_REJOIN_NEW);
  cr_assert(eq(u64, sim_rejoin_spares(&sc, 200), 10));
}

/* The memory estimate counts the spares before anything is allocated. */
Test(rejoin, memory_estimate_counts_the_spares) {
  sim_scenario sc;
  churn_scenario(&sc, 100000, 3600, SIM_REJOIN_SAME);
  sc.network.maintenance = SIM_MAINTENANCE_PASSIVE;
  uint64_t same = sim_scenario_estimate_bytes(&sc, 0);
  sc.churn.rejoin = SIM_REJOIN_NEW;
  uint64_t spares = sim_rejoin_spares(&sc, sc.workload.lookups), with = sim_scenario_estimate_bytes(&sc, 0);
  cr_assert(gt(u64, spares, 100000));
  /* At least the spares' network bytes (54 a node on demand) and restriction. */
  cr_assert(gt(u64, with, same + spares * (SIM_NETWORK_ONDEMAND_NODE_BYTES + 72)), "%" PRIu64 " vs %" PRIu64, with, same);
  /* Without maintenance, exactly: the network of nodes and spares, the
   * churn bytes of each (72 a node with full tables) and pop (4 a member). */
  sc.network.maintenance = SIM_MAINTENANCE_NONE;
  with = sim_scenario_estimate_bytes(&sc, 0);
  sc.churn.rejoin = SIM_REJOIN_SAME;
  same = sim_scenario_estimate_bytes(&sc, 0);
  uint64_t net = sim_network_estimate_bytes(100000 + spares, sc.lookup.k, SIM_TABLES_FULL) -
                 sim_network_estimate_bytes(100000, sc.lookup.k, SIM_TABLES_FULL);
  cr_assert(eq(u64, with - same, net + spares * 72 + 100000 * 4));
}

/* A new identity's table is empty (not the generated table of a node
 * present at t = 0), the copy not counted as added; then it learns. */
Test(rejoin, new_identity_starts_from_an_empty_table) {
  sim_network net;
  uint32_t tab[SIM_CONTACTS_MAX(8) + 1];
  cr_assert(eq(int, sim_network_generate_ondemand(&net, 500, 8, SIM_TABLES_FULL, 42), 0));
  memset(net.flags, 0, net.n);
  cr_assert(eq(int, sim_maint_init(&net), 0));
  cr_assert(gt(sz, sim_network_table(&net, 7, tab), 8));
  cr_assert(eq(int, sim_rejoin_empty_table(&net, 7, 3), 0));
  cr_assert(eq(sz, sim_network_table(&net, 7, tab), 0));
  cr_assert(eq(u64, net.madded, 0));
  cr_assert(eq(int, sim_maint_seen(&net, 7, 9), 0));
  cr_assert(eq(sz, sim_network_table(&net, 7, tab), 1));
  cr_assert(eq(u32, tab[0], 9));
  cr_assert(eq(u64, net.madded, 1));
  /* Others' tables are untouched. */
  cr_assert(gt(sz, sim_network_table(&net, 8, tab), 8));
  sim_network_clear(&net);
}

/* The keys parse; rejoin takes same or new; a wrong value names the line. */
Test(rejoin, keys_parse) {
  sim_scenario sc;
  char err[512];
  const char *y = "network: {nodes: 300}\nchurn:\n  session: {model: exponential, mean_s: 100}\n"
                  "  downtime: {model: exponential, mean_s: 100}\n  rejoin: new\n  spares: 1234\n";
  cr_assert(eq(int, sim_scenario_parse(&sc, "r.yaml", y, strlen(y), err, sizeof err), 0), "%s", err);
  cr_assert(eq(int, sc.churn.rejoin, SIM_REJOIN_NEW));
  cr_assert(eq(u64, sc.churn.spares, 1234));
  sim_scenario_clear(&sc);
  const char *bad = "network: {nodes: 300}\nchurn:\n  session: {model: exponential, mean_s: 100}\n"
                    "  downtime: {model: exponential, mean_s: 100}\n  rejoin: fresh\n";
  cr_assert(eq(int, sim_scenario_parse(&sc, "r.yaml", bad, strlen(bad), err, sizeof err), DHT_EINVAL));
  cr_assert(eq(str, err, "r.yaml:5:11: churn.rejoin: expected same or new, got 'fresh'"));
}

/* A member killed by a timed fail_fraction stays dead when it comes back as
 * a new identity (until revived): the live online share stays about half of
 * 2/3 long after every dead member has returned at least once on average;
 * a revive brings them back. */
Test(rejoin, dead_members_stay_dead_through_their_returns) {
  sim_scenario sc;
  sim_results res;
  char err[512];
  const char *y = "network: {nodes: 3000, tables: full}\n"
                  "churn:\n  session: {model: exponential, mean_s: 1200}\n"
                  "  downtime: {model: exponential, mean_s: 600}\n  rejoin: new\n"
                  "workload: {lookups: 720, arrival: poisson, rate_per_s: 0.1}\n"
                  "events:\n  - {at_s: 60, fail_fraction: 0.5}\n  - {at_s: 6000, revive_fraction: 1}\n";
  cr_assert(eq(int, sim_scenario_parse(&sc, "d.yaml", y, strlen(y), err, sizeof err), 0), "%s", err);
  sim_options opt = {.bin_us = 600000000u};
  cr_assert(eq(int, sim_run(&sc, &opt, &res, err, sizeof err), 0), "%s", err);
  cr_assert(gt(sz, res.n_samples, 11));
  cr_assert(gt(u64, res.counters.rejoins, 6000));
  /* Bins 5 to 9 (3000 s to 5400 s: 1.7 to 3 cycles of 1800 s after the failure). */
  for (size_t i = 5; i < 10; i++)
    cr_assert(fabs(res.samples[i].online_fraction - 1.0 / 3.0) < 0.03, "bin %zu: %f", i, res.samples[i].online_fraction);
  /* After the revive (6000 s): 2/3 again. */
  cr_assert(fabs(res.samples[11].online_fraction - 2.0 / 3.0) < 0.03, "%f", res.samples[11].online_fraction);
  sim_results_clear(&res);
  sim_scenario_clear(&sc);
}

/* The spares change no table of the population: built after its nodes
 * (the same IDs, the same seed) and offline at t = 0, they are outside the
 * restriction, so every member's table is the one of the network without
 * spares, whatever the kind of tables. */
Test(rejoin, spares_change_no_table_of_the_population) {
  const sim_tables_kind kinds[2] = {SIM_TABLES_FULL, SIM_TABLES_RANDOM};
  uint32_t a[SIM_CONTACTS_MAX(8) + 1], b[SIM_CONTACTS_MAX(8) + 1];
  for (int k = 0; k < 2; k++) {
    sim_network plain, with;
    cr_assert(eq(int, sim_network_generate_ondemand(&plain, 800, 8, kinds[k], 9), 0));
    cr_assert(eq(int, sim_network_generate_ondemand(&with, 800 + 1500, 8, kinds[k], 9), 0));
    dht_rng rng;
    dht_rng_init(&rng, 5);
    for (uint32_t i = 0; i < with.n; i++) {
      with.flags[i] = i >= 800 || dht_rng_chance(&rng, 0.3) ? SIM_NODE_OFFLINE : 0;
      if (i < 800) {
        plain.flags[i] = with.flags[i];
        cr_assert(dht_id_eq(&plain.ids[i], &with.ids[i]));
      }
    }
    cr_assert(eq(int, sim_network_restrict_tables(&plain, SIM_NODE_OFFLINE), 0));
    cr_assert(eq(int, sim_network_restrict_tables(&with, SIM_NODE_OFFLINE), 0));
    for (uint32_t i = 0; i < 800; i++) {
      size_t na = sim_network_table(&plain, i, a), nb = sim_network_table(&with, i, b);
      cr_assert(eq(sz, na, nb), "node %u", i);
      cr_assert(gt(sz, na, 0));
      for (size_t j = 0; j < na; j++)
        cr_assert(eq(u32, a[j], b[j]), "node %u contact %zu", i, j);
      dht_id t;
      dht_id_random(&t, &rng);
      na = sim_network_closest(&plain, i, &t, a, 8);
      nb = sim_network_closest(&with, i, &t, b, 8);
      cr_assert(eq(sz, na, nb));
      for (size_t j = 0; j < na; j++)
        cr_assert(eq(u32, a[j], b[j]));
    }
    sim_network_clear(&plain);
    sim_network_clear(&with);
  }
}

/* The members' schedule is the churn stream's, whoever the identity: with
 * the same seed, rejoin same and new have the same members online at every
 * bin's start, so the same online_fraction, to the last bit. */
Test(rejoin, same_schedule_as_rejoin_same) {
  sim_scenario sc;
  sim_results res[2];
  sim_options opt = {.bin_us = 300000000u};
  char err[512];
  for (int m = 0; m < 2; m++) {
    churn_scenario(&sc, 2000, 1800, m ? SIM_REJOIN_NEW : SIM_REJOIN_SAME);
    sc.workload.arrival = SIM_ARRIVAL_POISSON;
    sc.workload.rate_per_s = 0.1;
    sc.workload.lookups = 300;
    cr_assert(eq(int, sim_run(&sc, &opt, &res[m], err, sizeof err), 0), "%s", err);
  }
  size_t n = res[0].n_samples < res[1].n_samples ? res[0].n_samples : res[1].n_samples;
  cr_assert(gt(sz, n, 12));
  cr_assert(gt(u64, res[1].counters.rejoins, 1000));
  for (size_t i = 0; i < n; i++)
    cr_assert(eq(dbl, res[0].samples[i].online_fraction, res[1].samples[i].online_fraction), "bin %zu", i);
  sim_results_clear(&res[0]);
  sim_results_clear(&res[1]);
}
