/* fuzz_common.h: shared by the libFuzzer harnesses (one translation unit each).
 *
 * - fuzz_setup(): bounds what an input can make the code allocate:
 *   DHTSIM_MEMORY_LIMIT (read by the scenario's memory estimate and the lookups
 *   reader) is set to 256 MiB unless the environment already sets it.
 * - fuzz_file(): the loaders read a path, so each input is written to an
 *   in-memory file (memfd) and handed over as "/proc/self/fd/N": no disk I/O,
 *   nothing left behind, one file per process (libFuzzer is single-threaded).
 * - FUZZ_CHECK(): a property that must hold; abort() makes libFuzzer report it
 *   as a crash, with the input saved. */
#ifndef DHTSIM_FUZZ_COMMON_H
#define DHTSIM_FUZZ_COMMON_H

#ifndef _GNU_SOURCE
#error "compile with -D_GNU_SOURCE (memfd_create)"
#endif
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#define FUZZ_MEMORY_LIMIT "268435456" /* 256 MiB */

#define FUZZ_CHECK(cond)                                                                          \
  do {                                                                                            \
    if (!(cond)) {                                                                                \
      fprintf(stderr, "%s:%d: property violated: %s\n", __FILE__, __LINE__, #cond);              \
      abort();                                                                                    \
    }                                                                                             \
  } while (0)

typedef struct fuzz_memfile {
  int fd;
  char path[64];
} fuzz_memfile;

static inline void fuzz_setup(void) {
  const char *v = getenv("DHTSIM_MEMORY_LIMIT");
  if (v == NULL || v[0] == '\0')
    setenv("DHTSIM_MEMORY_LIMIT", FUZZ_MEMORY_LIMIT, 1);
}

static inline void fuzz_memfile_open(fuzz_memfile *m, const char *name) {
  m->fd = memfd_create(name, MFD_CLOEXEC);
  if (m->fd < 0) {
    perror("memfd_create");
    abort();
  }
  snprintf(m->path, sizeof m->path, "/proc/self/fd/%d", m->fd);
}

/* Replaces the file's content with data[0..size) and returns its path. */
static inline const char *fuzz_memfile_set(fuzz_memfile *m, const uint8_t *data, size_t size) {
  size_t off = 0;
  if (ftruncate(m->fd, 0) != 0) {
    perror("ftruncate");
    abort();
  }
  while (off < size) {
    ssize_t w = pwrite(m->fd, data + off, size - off, (off_t)off);
    if (w <= 0) {
      perror("pwrite");
      abort();
    }
    off += (size_t)w;
  }
  return m->path;
}

#endif
