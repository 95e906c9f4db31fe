/* fuzz_addr: dht_addr_parse on arbitrary bytes (as a NUL-terminated string of
 * exactly size + 1 bytes, so that AddressSanitizer catches any over-read), and
 * the round trip: parse -> format -> parse gives the same address, the
 * formatted text is canonical (formatting it again gives the same bytes),
 * formatting into too small a buffer is DHT_ERANGE, and the padding bytes of
 * the value are zero (equality is memcmp). */
#include <string.h>

#include "addr.h"
#include "error.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *s = malloc(size + 1);
  dht_addr a, b, c;
  char buf[DHT_ADDR_STRLEN], buf2[DHT_ADDR_STRLEN], *exact;
  int rc, len;

  if (s == NULL) /* no memory for this input: nothing to test */
    return 0;
  memcpy(s, data, size);
  s[size] = '\0';
  memset(&a, 0x5A, sizeof a);
  rc = dht_addr_parse(&a, s);
  if (rc != 0) {
    const uint8_t *p = (const uint8_t *)&a;
    FUZZ_CHECK(rc == DHT_EINVAL);
    for (size_t i = 0; i < sizeof a; i++)
      FUZZ_CHECK(p[i] == 0x5A); /* untouched on error */
    free(s);
    return 0;
  }
  FUZZ_CHECK(a.family == DHT_AF_INET4 || a.family == DHT_AF_INET6);
  FUZZ_CHECK(a.pad_ == 0);
  if (a.family == DHT_AF_INET4)
    for (size_t i = 4; i < sizeof a.ip; i++)
      FUZZ_CHECK(a.ip[i] == 0);

  len = dht_addr_format(&a, buf, sizeof buf);
  FUZZ_CHECK(len > 0 && (size_t)len == strlen(buf) && (size_t)len < sizeof buf);
  FUZZ_CHECK(dht_addr_parse(&b, buf) == 0);
  FUZZ_CHECK(dht_addr_eq(&a, &b) && dht_addr_cmp(&a, &b) == 0 && memcmp(&a, &b, sizeof a) == 0);
  FUZZ_CHECK(dht_addr_hash(&a) == dht_addr_hash(&b));
  FUZZ_CHECK(dht_addr_format(&b, buf2, sizeof buf2) == len && strcmp(buf, buf2) == 0);
  /* Exactly enough room works; one byte less is DHT_ERANGE. */
  exact = malloc((size_t)len + 1);
  if (exact == NULL) {
    free(s);
    return 0;
  }
  FUZZ_CHECK(dht_addr_format(&a, exact, (size_t)len + 1) == len && strcmp(exact, buf) == 0);
  FUZZ_CHECK(dht_addr_format(&a, exact, (size_t)len) == DHT_ERANGE);
  free(exact);
  /* Another port: a different value in the order. */
  c = a;
  c.port = (uint16_t)(a.port + 1);
  FUZZ_CHECK(!dht_addr_eq(&a, &c) && dht_addr_cmp(&a, &c) != 0 && dht_addr_cmp(&a, &c) == -dht_addr_cmp(&c, &a));
  free(s);
  return 0;
}
