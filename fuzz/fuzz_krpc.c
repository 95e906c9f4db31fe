/* fuzz_krpc: dht_krpc_decode on arbitrary bytes (an exact-size heap copy, so
 * that AddressSanitizer catches any over-read), and for every message it
 * accepts: the encoding decodes again, and encoding is a fixed point after
 * one pass (decode -> encode -> decode -> encode gives the same bytes), the
 * caps hold, and a reason is given for every rejection. */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "fuzz_common.h"
#include "krpc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static dht_krpc_msg m, m2;
  static uint8_t out[2 * DHT_KRPC_LEN_MAX], out2[2 * DHT_KRPC_LEN_MAX];
  uint8_t *copy = malloc(size ? size : 1);
  const char *why = NULL;
  int rc, len, len2;

  if (copy == NULL)
    return 0;
  memcpy(copy, data, size);
  rc = dht_krpc_decode(&m, copy, size, &why);
  free(copy);
  if (rc != 0) {
    FUZZ_CHECK(rc == DHT_EINVAL && why != NULL && why[0] != '\0');
    return 0;
  }
  FUZZ_CHECK(why == NULL);
  FUZZ_CHECK(size <= DHT_KRPC_LEN_MAX);
  FUZZ_CHECK(m.tid_len <= DHT_KRPC_TID_MAX && m.n_nodes <= DHT_KRPC_NODES_MAX && m.n_values <= DHT_KRPC_VALUES_MAX);
  FUZZ_CHECK(m.token_len <= DHT_TOKEN_MAX && m.error_len <= DHT_KRPC_ERRMSG_MAX);
  FUZZ_CHECK(m.type == DHT_KRPC_QUERY || m.type == DHT_KRPC_RESPONSE || m.type == DHT_KRPC_ERROR);
  len = dht_krpc_encode(&m, out, sizeof out);
  FUZZ_CHECK(len > 0);
  /* One byte too few is DHT_ERANGE, never a short write. */
  FUZZ_CHECK(dht_krpc_encode(&m, out2, (size_t)len - 1) == DHT_ERANGE);
  if ((size_t)len > DHT_KRPC_LEN_MAX)
    return 0; /* a message near the cap can grow (a query's omitted keys are small; "-0"-free ints are not) */
  rc = dht_krpc_decode(&m2, out, (size_t)len, &why);
  FUZZ_CHECK(rc == 0);
  FUZZ_CHECK(m2.type == m.type && m2.tid_len == m.tid_len && memcmp(m2.tid, m.tid, m.tid_len) == 0);
  FUZZ_CHECK(m2.has_id == m.has_id || m.type == DHT_KRPC_ERROR);
  len2 = dht_krpc_encode(&m2, out2, sizeof out2);
  FUZZ_CHECK(len2 == len && memcmp(out, out2, (size_t)len) == 0);
  return 0;
}
