/* outfile.c: FILE.tmp + fsync + rename, for every output file; never over
 * anything but a regular file or nothing. */
#include "outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "infile.h"
#include "message.h"

static void release(sim_outfile *o) {
  g_free(o->path);
  g_free(o->tmp);
  memset(o, 0, sizeof *o);
}

/* A FIFO or a character device (a terminal, /dev/null, /dev/full) is a
 * stream the user chose to write to: renaming a file over it would silently
 * destroy it, so it is written in place instead (nothing to fsync or rename;
 * an error stays an error). */
static bool is_stream(mode_t m) { return S_ISFIFO(m) || S_ISCHR(m); }

/* Opens o->tmp (== o->path) for writing in place, checking that what was
 * opened is still a stream: the path may have changed since the lstat. */
static int open_in_place(sim_outfile *o, char *err, size_t errlen) {
  struct stat st;
  int fd = open(o->path, O_WRONLY | O_NOCTTY | O_CLOEXEC);
  if (fd < 0)
    return sim_fail(err, errlen, DHT_EIO, "cannot write %s: %s", o->path, g_strerror(errno));
  if (fstat(fd, &st) != 0 || !is_stream(st.st_mode)) {
    close(fd);
    return sim_fail(err, errlen, DHT_EINVAL, "cannot write %s: it changed while it was opened", o->path);
  }
  o->in_place = true;
  o->f = fdopen(fd, "wb");
  if (o->f == NULL) {
    int e = errno;
    close(fd);
    return sim_fail(err, errlen, DHT_ENOMEM, "cannot write %s: %s", o->path, g_strerror(e));
  }
  return 0;
}

/* Creates o->tmp. O_NOFOLLOW and O_NONBLOCK: a stale PATH.tmp that is a
 * symbolic link is not written through, and one that is a FIFO does not
 * block; either is refused after the fstat, as is anything not regular. */
static int open_tmp(sim_outfile *o, char *err, size_t errlen) {
  struct stat st;
  int fd = open(o->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0666);
  if (fd < 0) {
    int e = errno;
    if (e == ELOOP || e == ENXIO || e == EISDIR)
      return sim_fail(err, errlen, DHT_EINVAL, "cannot write %s: it exists and is not a regular file", o->tmp);
    return sim_fail(err, errlen, DHT_EIO, "cannot write %s: %s", o->tmp, g_strerror(e));
  }
  if (fstat(fd, &st) != 0) {
    int e = errno;
    close(fd);
    return sim_fail(err, errlen, DHT_EIO, "cannot write %s: %s", o->tmp, g_strerror(e));
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    return sim_fail(err, errlen, DHT_EINVAL, "cannot write %s: it exists and is %s", o->tmp, sim_file_kind(st.st_mode));
  }
  o->f = fdopen(fd, "wb");
  if (o->f == NULL) {
    int e = errno;
    close(fd);
    g_remove(o->tmp);
    return sim_fail(err, errlen, DHT_ENOMEM, "cannot write %s: %s", o->tmp, g_strerror(e));
  }
  return 0;
}

int sim_outfile_open(sim_outfile *o, const char *path, char *err, size_t errlen) {
  struct stat st, target;
  bool exists = lstat(path, &st) == 0;
  int rc;
  memset(o, 0, sizeof *o);
  if (!exists) {
    if (errno != ENOENT)
      return sim_fail(err, errlen, DHT_EIO, "cannot write %s: %s", path, g_strerror(errno));
  } else if (S_ISLNK(st.st_mode) && stat(path, &target) == 0 && is_stream(target.st_mode)) {
    st = target; /* /dev/stdout and the like: the stream it names */
  } else if (!S_ISREG(st.st_mode) && !is_stream(st.st_mode)) {
    return sim_fail(err, errlen, DHT_EINVAL, "cannot write %s: it is %s, which dhtsim does not replace%s", path,
                    sim_file_kind(st.st_mode), S_ISLNK(st.st_mode) ? " (name its target instead)" : "");
  }
  o->path = g_try_malloc(strlen(path) + 1);
  o->tmp = g_try_malloc(strlen(path) + 5);
  if (o->path == NULL || o->tmp == NULL) {
    release(o);
    return sim_fail(err, errlen, DHT_ENOMEM, "out of memory opening %s", path);
  }
  strcpy(o->path, path);
  strcpy(o->tmp, path);
  if (exists && is_stream(st.st_mode)) {
    rc = open_in_place(o, err, errlen);
  } else {
    strcat(o->tmp, ".tmp");
    rc = open_tmp(o, err, errlen);
  }
  if (rc < 0)
    release(o);
  return rc;
}

int sim_outfile_commit(sim_outfile *o, char *err, size_t errlen) {
  int rc = 0;
  if (o->f == NULL) {
    release(o);
    return sim_fail(err, errlen, DHT_EIO, "output file not open");
  }
  /* A stream has nothing to fsync (a FIFO gives EINVAL); its flush is the write. */
  if (fflush(o->f) != 0 || ferror(o->f) || (!o->in_place && fsync(fileno(o->f)) != 0)) {
    int e = errno ? errno : EIO;
    rc = sim_fail(err, errlen, DHT_EIO, "cannot write %s: %s", o->tmp, g_strerror(e));
    fclose(o->f);
  } else if (fclose(o->f) != 0) {
    rc = sim_fail(err, errlen, DHT_EIO, "cannot write %s: %s", o->tmp, g_strerror(errno));
  } else if (!o->in_place && g_rename(o->tmp, o->path) != 0) {
    rc = sim_fail(err, errlen, DHT_EIO, "cannot rename %s to %s: %s", o->tmp, o->path, g_strerror(errno));
  }
  o->f = NULL;
  if (rc < 0 && !o->in_place)
    g_remove(o->tmp);
  release(o);
  return rc;
}

void sim_outfile_abort(sim_outfile *o) {
  if (o->f != NULL) {
    fclose(o->f);
    if (!o->in_place)
      g_remove(o->tmp);
  }
  release(o);
}

int sim_outfile_write(const char *path, const char *data, size_t len, char *err, size_t errlen) {
  sim_outfile o;
  int rc = sim_outfile_open(&o, path, err, errlen);
  if (rc < 0)
    return rc;
  if (len > 0 && fwrite(data, 1, len, o.f) != len) {
    rc = sim_fail(err, errlen, DHT_EIO, "cannot write %s: %s", o.tmp, g_strerror(errno));
    sim_outfile_abort(&o);
    return rc;
  }
  return sim_outfile_commit(&o, err, errlen);
}

int sim_outfile_append(const char *path, const char *text, size_t len, char *err, size_t errlen) {
  struct stat st;
  int fd = open(path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
  int rc = 0;
  if (fd < 0)
    return sim_fail(err, errlen, DHT_EIO, "cannot write %s: %s", path, g_strerror(errno));
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return sim_fail(err, errlen, DHT_EINVAL, "cannot write %s: not a regular file", path);
  }
  while (len > 0 && rc == 0) {
    ssize_t n = write(fd, text, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      rc = sim_fail(err, errlen, DHT_EIO, "cannot write %s: %s", path, g_strerror(n < 0 ? errno : EIO));
    else {
      text += n;
      len -= (size_t)n;
    }
  }
  if (rc == 0 && fsync(fd) != 0)
    rc = sim_fail(err, errlen, DHT_EIO, "cannot write %s: %s", path, g_strerror(errno));
  if (close(fd) != 0 && rc == 0)
    rc = sim_fail(err, errlen, DHT_EIO, "cannot write %s: %s", path, g_strerror(errno));
  return rc;
}

int sim_outdir_lock(const char *dir, int *fd, char *err, size_t errlen) {
  char *path;
  int rc = 0;
  *fd = -1;
  if (g_mkdir_with_parents(dir, 0777) != 0)
    return sim_fail(err, errlen, DHT_EIO, "cannot create output folder %s: %s", dir, g_strerror(errno));
  path = g_build_filename(dir, SIM_OUTDIR_LOCK, NULL);
  *fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC, 0666);
  if (*fd < 0) {
    rc = sim_fail(err, errlen, DHT_EIO, "cannot create %s: %s", path, g_strerror(errno));
  } else if (flock(*fd, LOCK_EX | LOCK_NB) != 0) {
    int e = errno;
    close(*fd);
    *fd = -1;
    if (e == EWOULDBLOCK)
      rc = sim_fail(err, errlen, DHT_EEXIST, "%s is in use by another dhtsim (%s is locked): wait for it to finish",
                    dir, path);
    else
      rc = sim_fail(err, errlen, DHT_EIO, "cannot lock %s: %s", path, g_strerror(e));
  }
  g_free(path);
  return rc;
}

void sim_outdir_unlock(int fd) {
  if (fd >= 0)
    close(fd); /* closing the only descriptor releases the flock */
}
