/* message.h: one-line error messages for the sim_ layer's (char *err, size_t errlen) outputs. */
#ifndef SIM_MESSAGE_H
#define SIM_MESSAGE_H

#include <glib.h>
#include <stddef.h>

/* Formats the message into err (nothing if err is NULL or errlen 0) and returns code. */
int sim_fail(char *err, size_t errlen, int code, const char *fmt, ...) G_GNUC_PRINTF(4, 5);

#endif
