/* error.c: text for the shared error codes. */
#include "error.h"

const char *dht_strerror(int err) {
  switch (err) {
  case DHT_OK: return "success";
  case DHT_ENOMEM: return "out of memory";
  case DHT_EINVAL: return "invalid argument";
  case DHT_ENOENT: return "not found";
  case DHT_ESTATE: return "invalid state";
  case DHT_ERANGE: return "value out of range";
  case DHT_EEXIST: return "already exists";
  case DHT_EIO: return "input/output error";
  case DHT_ETOOBIG: return "too large for available memory";
  case DHT_ECANCELED: return "canceled";
  default: return "unknown error";
  }
}
