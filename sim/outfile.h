/* outfile.h: the one way an output file is written: into FILE.tmp, flushed,
 * fsync'ed, then renamed over FILE, so that a reader (or a crash) never sees
 * half a file and an earlier complete file stays until the new one is whole.
 * Only a regular file or a missing path is ever replaced: a FIFO or a
 * character device (also through a symbolic link, like /dev/stdout) is
 * written in place; a symbolic link to anything else, a folder, a socket or
 * a block device is refused (DHT_EINVAL), as is a FILE.tmp that exists and
 * is not a regular file. */
#ifndef SIM_OUTFILE_H
#define SIM_OUTFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef struct sim_outfile {
  FILE *f;    /* write here between open and commit/abort */
  char *path; /* owned: the final name */
  char *tmp;  /* owned: the file being written: path + ".tmp", or path itself in place */
  bool in_place; /* a stream (FIFO, character device): no fsync, no rename */
} sim_outfile;

/* Creates path.tmp for writing (or opens a stream at path). 0, or DHT_EIO /
 * DHT_ENOMEM / DHT_EINVAL (refused) with "cannot write PATH[.tmp]: reason" in
 * err (nothing to abort then). */
int sim_outfile_open(sim_outfile *o, const char *path, char *err, size_t errlen);
/* Flushes, fsyncs, closes and renames into place; on any failure removes
 * path.tmp and returns DHT_EIO with the reason in err. Always releases *o. */
int sim_outfile_commit(sim_outfile *o, char *err, size_t errlen);
/* Closes and removes path.tmp; releases *o. Safe on a zeroed *o. */
void sim_outfile_abort(sim_outfile *o);

/* The whole of data[0..len) as path, through open + commit. */
int sim_outfile_write(const char *path, const char *data, size_t len, char *err, size_t errlen);

/* Appends text[0..len) to the existing regular file path, then fsyncs: for
 * lists that grow (the manifest's part entries), where a crash may leave the
 * last line torn but never an earlier one. 0, DHT_EIO or DHT_EINVAL. */
int sim_outfile_append(const char *path, const char *text, size_t len, char *err, size_t errlen);

/* An output folder is written by one dhtsim at a time: sim_outdir_lock
 * creates dir (and its parents) if missing and takes an exclusive flock on
 * dir/SIM_OUTDIR_LOCK without waiting. 0 and *fd (for sim_outdir_unlock;
 * the lock also ends with the process); DHT_EEXIST "DIR is in use by another
 * dhtsim ..." when another process holds it; DHT_EIO. */
#define SIM_OUTDIR_LOCK ".dhtsim.lock"
int sim_outdir_lock(const char *dir, int *fd, char *err, size_t errlen);
void sim_outdir_unlock(int fd);

#endif
