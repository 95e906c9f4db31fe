/* budget.c: the memory budget (DHTSIM_MEMORY_LIMIT or physical memory) and byte formatting. */
#include "budget.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "text.h"

int sim_memory_budget(uint64_t *bytes, bool *from_env, const char **bad_env) {
  const char *env = getenv("DHTSIM_MEMORY_LIMIT");
  long pages, psize;
  *from_env = false;
  *bad_env = NULL;
  if (env != NULL && env[0] != '\0') {
    uint64_t v = 0;
    if (!sim_parse_u64(env, &v) || v == 0) {
      *bad_env = env;
      return DHT_EINVAL;
    }
    *bytes = v;
    *from_env = true;
    return DHT_OK;
  }
  pages = sysconf(_SC_PHYS_PAGES);
  psize = sysconf(_SC_PAGESIZE);
  if (pages <= 0 || psize <= 0 || (uint64_t)pages > UINT64_MAX / (uint64_t)psize)
    *bytes = UINT64_MAX;
  else
    *bytes = (uint64_t)pages * (uint64_t)psize;
  return DHT_OK;
}

void sim_format_bytes(char *out, size_t outlen, uint64_t bytes) {
  const double kib = 1024.0, mib = kib * 1024.0, gib = mib * 1024.0, tib = gib * 1024.0;
  double v = (double)bytes;
  if (v >= tib)
    snprintf(out, outlen, "%.1f TiB", v / tib);
  else if (v >= gib)
    snprintf(out, outlen, "%.1f GiB", v / gib);
  else if (v >= mib)
    snprintf(out, outlen, "%.1f MiB", v / mib);
  else if (v >= kib)
    snprintf(out, outlen, "%.1f KiB", v / kib);
  else
    snprintf(out, outlen, "%" PRIu64 " bytes", bytes);
}

int sim_memory_limit(uint64_t *bytes, bool *from_env, char *msg, size_t msglen) {
  const char *bad = NULL;
  if (sim_memory_budget(bytes, from_env, &bad) == DHT_OK)
    return DHT_OK;
  char shown[SIM_SHOW_SIZE];
  sim_show(shown, sizeof shown, bad, strlen(bad));
  snprintf(msg, msglen, "DHTSIM_MEMORY_LIMIT: expected a positive integer number of bytes, got '%s'", shown);
  return DHT_EINVAL;
}

void sim_memory_over(char *msg, size_t msglen, uint64_t need, bool estimated, uint64_t limit, bool from_env) {
  char need_s[32], limit_s[32];
  sim_format_bytes(need_s, sizeof need_s, need);
  sim_format_bytes(limit_s, sizeof limit_s, limit);
  snprintf(msg, msglen, "need %s%s, more than %s%s", estimated ? "an estimated " : "", need_s,
           from_env ? "the DHTSIM_MEMORY_LIMIT of " : "this machine's ", limit_s);
}
