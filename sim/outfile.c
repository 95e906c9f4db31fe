/* outfile.c: FILE.tmp + fsync + rename, for every output file. */
#include "outfile.h"

#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "message.h"

static void release(sim_outfile *o) {
  g_free(o->path);
  g_free(o->tmp);
  memset(o, 0, sizeof *o);
}

int sim_outfile_open(sim_outfile *o, const char *path, char *err, size_t errlen) {
  memset(o, 0, sizeof *o);
  o->path = g_try_malloc(strlen(path) + 1);
  o->tmp = g_try_malloc(strlen(path) + 5);
  if (o->path == NULL || o->tmp == NULL) {
    release(o);
    return sim_fail(err, errlen, DHT_ENOMEM, "out of memory opening %s", path);
  }
  strcpy(o->path, path);
  strcpy(o->tmp, path);
  strcat(o->tmp, ".tmp");
  o->f = fopen(o->tmp, "wb");
  if (o->f == NULL) {
    int rc = sim_fail(err, errlen, DHT_EIO, "cannot write %s: %s", o->tmp, g_strerror(errno));
    release(o);
    return rc;
  }
  return 0;
}

int sim_outfile_commit(sim_outfile *o, char *err, size_t errlen) {
  int rc = 0;
  if (o->f == NULL) {
    release(o);
    return sim_fail(err, errlen, DHT_EIO, "output file not open");
  }
  if (fflush(o->f) != 0 || ferror(o->f) || fsync(fileno(o->f)) != 0) {
    int e = errno ? errno : EIO;
    rc = sim_fail(err, errlen, DHT_EIO, "cannot write %s: %s", o->tmp, g_strerror(e));
    fclose(o->f);
  } else if (fclose(o->f) != 0) {
    rc = sim_fail(err, errlen, DHT_EIO, "cannot write %s: %s", o->tmp, g_strerror(errno));
  } else if (g_rename(o->tmp, o->path) != 0) {
    rc = sim_fail(err, errlen, DHT_EIO, "cannot rename %s to %s: %s", o->tmp, o->path, g_strerror(errno));
  }
  o->f = NULL;
  if (rc < 0)
    g_remove(o->tmp);
  release(o);
  return rc;
}

void sim_outfile_abort(sim_outfile *o) {
  if (o->f != NULL) {
    fclose(o->f);
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
