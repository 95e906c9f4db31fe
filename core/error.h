/* error.h: the one list of negative error codes shared by core/ and sim/.
 * Functions return 0 (or a non-negative count) on success, one of these on failure. */
#ifndef DHT_ERROR_H
#define DHT_ERROR_H

enum {
  DHT_OK = 0,
  DHT_ENOMEM = -1,    /* an allocation failed; the object is unchanged */
  DHT_EINVAL = -2,    /* malformed input (bad hex, bad address, bad parameter) */
  DHT_ENOENT = -3,    /* no such node / query / file */
  DHT_ESTATE = -4,    /* call not valid in the object's current state */
  DHT_ERANGE = -5,    /* a value or count is out of its allowed range */
  DHT_EEXIST = -6,    /* already present */
  DHT_EIO = -7,       /* an I/O operation failed (sim/ only) */
  DHT_ETOOBIG = -8,   /* would need more memory than allowed (sim/ only) */
  DHT_ECANCELED = -9, /* stopped on request (a signal) before completion (sim/ only) */
};

/* Returns a static string (transfer none) for any code, "unknown error" otherwise. */
const char *dht_strerror(int err);

#endif
