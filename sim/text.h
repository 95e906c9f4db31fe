/* text.h: small text helpers shared by every input reader and output writer:
 * the one escaper that shows untrusted bytes in a message, the one strict
 * decimal parser and character classes, and the one FNV-1a hash (run seeds and
 * output fingerprints). */
#ifndef SIM_TEXT_H
#define SIM_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bytes of input shown in a message before it is cut with "...". */
#define SIM_SHOW_MAX 40
/* Room for any sim_show result (each byte of SIM_SHOW_MAX may become 4, "..." and NUL). */
#define SIM_SHOW_SIZE (SIM_SHOW_MAX * 4 + 8)

/* Writes a one-line, bounded rendering of s[0..n) into out (outlen bytes,
 * always NUL-terminated): '\n', '\t', '\r' as those escapes, other control
 * bytes, DEL and bytes that are not part of a valid UTF-8 sequence as \xNN,
 * valid UTF-8 kept; cut after SIM_SHOW_MAX bytes, at a character boundary,
 * with "...". O(n) with n <= SIM_SHOW_MAX + 4 bytes read. */
void sim_show(char *out, size_t outlen, const char *s, size_t n);

/* Strict unsigned decimal: digits only (no sign, no blanks), the whole
 * NUL-terminated string, no overflow. false leaves *out untouched. */
bool sim_parse_u64(const char *s, uint64_t *out);
/* True iff s[0..n) is one or more decimal digits (what sim_parse_u64 takes,
 * overflow aside): tells "not a number" from "too large". */
bool sim_is_digits(const char *s, size_t n);

/* ' ' or '\t': what separates the fields of the line-based input files. */
bool sim_is_blank(char c);
/* ' ', '\t', '\n', '\v', '\f', '\r': isspace() of the C locale, without the
 * locale (what a whole line is trimmed of). */
bool sim_is_space(char c);

/* FNV-1a, 64 bits, continuing from h (start with SIM_FNV1A64_INIT). */
#define SIM_FNV1A64_INIT 0xcbf29ce484222325ULL
uint64_t sim_fnv1a64(uint64_t h, const void *data, size_t n);

#endif
