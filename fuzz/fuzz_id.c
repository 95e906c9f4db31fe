/* fuzz_id: dht_id_from_hex on arbitrary bytes (read only within [0, size):
 * the input is copied to a buffer of exactly that size, so that AddressSanitizer
 * catches any over-read), and the hex round trip: parse -> format -> parse gives
 * the same ID, and the formatted text is the input in lower case. The XOR
 * helpers are checked against each other on the parsed ID and its complement. */
#include <ctype.h>
#include <stdbool.h>
#include <string.h>

#include "error.h"
#include "fuzz_common.h"
#include "id.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *copy = malloc(size ? size : 1);
  dht_id id, again, other, x;
  char hex[DHT_ID_HEXLEN + 1];
  int rc;

  if (copy == NULL) /* no memory for this input: nothing to test */
    return 0;
  memcpy(copy, data, size);
  memset(&id, 0xA5, sizeof id);
  rc = dht_id_from_hex(&id, copy, size);
  if (rc != 0) {
    FUZZ_CHECK(rc == DHT_EINVAL);
    for (size_t i = 0; i < sizeof id.b; i++)
      FUZZ_CHECK(id.b[i] == 0xA5); /* untouched on error */
    if (size == DHT_ID_HEXLEN) { /* then some byte is not a hex digit */
      bool all_hex = true;
      for (size_t i = 0; i < size; i++)
        all_hex = all_hex && isxdigit((unsigned char)copy[i]);
      FUZZ_CHECK(!all_hex);
    }
    free(copy);
    return 0;
  }
  FUZZ_CHECK(size == DHT_ID_HEXLEN);
  dht_id_to_hex(&id, hex);
  FUZZ_CHECK(strlen(hex) == DHT_ID_HEXLEN);
  for (size_t i = 0; i < DHT_ID_HEXLEN; i++)
    FUZZ_CHECK(hex[i] == tolower((unsigned char)copy[i]));
  FUZZ_CHECK(dht_id_from_hex(&again, hex, DHT_ID_HEXLEN) == 0 && dht_id_eq(&again, &id));

  for (size_t i = 0; i < DHT_ID_LEN; i++)
    other.b[i] = (uint8_t)~id.b[i];
  dht_id_xor(&x, &id, &other);
  for (size_t i = 0; i < DHT_ID_LEN; i++)
    FUZZ_CHECK(x.b[i] == 0xff);
  FUZZ_CHECK(dht_id_common_prefix(&id, &id) == DHT_ID_BITS);
  FUZZ_CHECK(dht_id_common_prefix(&id, &other) == 0);
  FUZZ_CHECK(dht_id_distance_cmp(&id, &id, &other) < 0 && dht_id_distance_cmp(&other, &id, &other) > 0);
  FUZZ_CHECK(dht_id_distance_cmp(&id, &other, &other) == 0);
  FUZZ_CHECK(dht_id_bit(&id, 0) == (id.b[0] >> 7) && dht_id_bit(&id, 159) == (id.b[19] & 1));
  free(copy);
  return 0;
}
