/* message.c: one-line error messages for the sim_ layer. */
#include "message.h"

#include <stdarg.h>
#include <stdio.h>

int sim_fail(char *err, size_t errlen, int code, const char *fmt, ...) {
  va_list ap;
  if (err == NULL || errlen == 0)
    return code;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
  return code;
}
