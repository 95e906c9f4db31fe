/* infile.h: the one way an input file (topology, lookups file) is opened and
 * watched: regular files only, so every input is finite (/dev/zero, a FIFO or
 * a folder is refused at once, with a message, instead of being read forever
 * or failing mid-read), a stop flag the readers poll, and the SHA-256 that
 * identifies a file's contents. */
#ifndef SIM_INFILE_H
#define SIM_INFILE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

/* Opens path for reading. 0 and *out; or "PATH: cannot open: reason"
 * (DHT_ENOENT when the path names nothing readable, DHT_EIO otherwise),
 * "PATH: is a directory" or "PATH: not a regular file (a FIFO)" (DHT_EINVAL)
 * in err. Never blocks (a FIFO is opened non-blocking, then refused). */
int sim_infile_open(const char *path, FILE **out, char *err, size_t errlen);

/* The flag the readers poll (every line, and every 64 KiB of a long line):
 * the process's SIGINT/SIGTERM/SIGHUP flag, set once by main before any
 * reader runs. A process-wide pointer because the readers run deep inside
 * runs and validation, where no caller could pass it along. NULL: never. */
void sim_infile_set_stop(volatile sig_atomic_t *flag);
/* Whether the flag is set: the reader then fails with DHT_ECANCELED and
 * "PATH: stopped while reading" (sim_infile_stopped_fail). */
bool sim_infile_stopped(void);
int sim_infile_stopped_fail(const char *path, char *err, size_t errlen);

/* What a file of mode m is, for messages: "a FIFO", "a symbolic link", ... */
const char *sim_file_kind(mode_t m);

/* SHA-256 of the file's contents as 64 lower-case hex digits (+ NUL) in hex.
 * 0, or a negative code with the message in err (sim_infile_open's, or
 * "PATH: cannot read: reason"). */
#define SIM_SHA256_HEX 65
int sim_infile_sha256(const char *path, char hex[SIM_SHA256_HEX], char *err, size_t errlen);

#endif
