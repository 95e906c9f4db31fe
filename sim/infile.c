/* infile.c: regular input files only, the readers' stop flag, content digests. */
#include "infile.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "message.h"

static volatile sig_atomic_t *stop_flag;

void sim_infile_set_stop(volatile sig_atomic_t *flag) { stop_flag = flag; }

bool sim_infile_stopped(void) { return stop_flag != NULL && *stop_flag != 0; }

int sim_infile_stopped_fail(const char *path, char *err, size_t errlen) {
  return sim_fail(err, errlen, DHT_ECANCELED, "%s: stopped while reading", path);
}

const char *sim_file_kind(mode_t m) {
  if (S_ISREG(m))
    return "a regular file";
  if (S_ISDIR(m))
    return "a directory";
  if (S_ISLNK(m))
    return "a symbolic link";
  if (S_ISCHR(m))
    return "a character device";
  if (S_ISBLK(m))
    return "a block device";
  if (S_ISFIFO(m))
    return "a FIFO";
  if (S_ISSOCK(m))
    return "a socket";
  return "an unknown kind of file";
}

int sim_infile_open(const char *path, FILE **out, char *err, size_t errlen) {
  struct stat st;
  int fd, e;
  *out = NULL;
  /* O_NONBLOCK: opening a FIFO for reading would wait for a writer. */
  fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) {
    e = errno;
    sim_fail(err, errlen, 0, "%s: cannot open: %s", path, g_strerror(e));
    return e == ENOENT || e == ENOTDIR || e == EACCES || e == ELOOP || e == ENAMETOOLONG ? DHT_ENOENT : DHT_EIO;
  }
  if (fstat(fd, &st) != 0) {
    e = errno;
    close(fd);
    return sim_fail(err, errlen, DHT_EIO, "%s: cannot read: %s", path, g_strerror(e));
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    if (S_ISDIR(st.st_mode))
      return sim_fail(err, errlen, DHT_EINVAL, "%s: is a directory", path);
    return sim_fail(err, errlen, DHT_EINVAL, "%s: not a regular file (%s)", path, sim_file_kind(st.st_mode));
  }
  /* Back to blocking reads (O_NONBLOCK means nothing for a regular file on
   * Linux, but a later reader should not depend on that). */
  if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) != 0 || (*out = fdopen(fd, "rb")) == NULL) {
    e = errno;
    close(fd);
    return sim_fail(err, errlen, DHT_EIO, "%s: cannot read: %s", path, g_strerror(e));
  }
  return 0;
}

int sim_infile_sha256(const char *path, char hex[SIM_SHA256_HEX], char *err, size_t errlen) {
  FILE *f;
  GChecksum *ck;
  unsigned char buf[1 << 16];
  size_t n;
  int rc = sim_infile_open(path, &f, err, errlen);
  hex[0] = '\0';
  if (rc < 0)
    return rc;
  ck = g_checksum_new(G_CHECKSUM_SHA256);
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
    if (sim_infile_stopped()) {
      rc = sim_infile_stopped_fail(path, err, errlen);
      break;
    }
    g_checksum_update(ck, buf, (gssize)n);
  }
  if (rc == 0 && ferror(f))
    rc = sim_fail(err, errlen, DHT_EIO, "%s: cannot read: %s", path, g_strerror(errno));
  if (rc == 0)
    g_strlcpy(hex, g_checksum_get_string(ck), SIM_SHA256_HEX);
  g_checksum_free(ck);
  fclose(f);
  return rc;
}
