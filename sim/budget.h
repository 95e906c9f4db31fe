/* budget.h: the memory budget every input is checked against before a large
 * allocation (scenario estimates, topology headers, lookups files). */
#ifndef SIM_BUDGET_H
#define SIM_BUDGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The budget in bytes: DHTSIM_MEMORY_LIMIT if set, else the machine's physical
 * memory (UINT64_MAX if unknown). *from_env says which. A set but malformed
 * variable (not a positive decimal integer) gives DHT_EINVAL with *bad_env
 * pointing at its value (transfer none). */
int sim_memory_budget(uint64_t *bytes, bool *from_env, const char **bad_env);

/* The budget, as sim_memory_budget, with the one message for a malformed
 * DHTSIM_MEMORY_LIMIT written into msg ("DHTSIM_MEMORY_LIMIT: expected a
 * positive integer number of bytes, got '...'"): 0 or DHT_EINVAL. */
int sim_memory_limit(uint64_t *bytes, bool *from_env, char *msg, size_t msglen);

/* The one wording of "too big": "need [an estimated ]1.2 GiB, more than the
 * DHTSIM_MEMORY_LIMIT of 1.0 GiB" (or "this machine's 23.5 GiB") into msg. */
void sim_memory_over(char *msg, size_t msglen, uint64_t need, bool estimated, uint64_t limit, bool from_env);

/* "1.5 GiB", "12.0 MiB", "512 bytes" into out. */
void sim_format_bytes(char *out, size_t outlen, uint64_t bytes);

#endif
