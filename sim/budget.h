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

/* "1.5 GiB", "12.0 MiB", "512 bytes" into out. */
void sim_format_bytes(char *out, size_t outlen, uint64_t bytes);

#endif
