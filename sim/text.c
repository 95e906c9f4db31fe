/* text.c: the message escaper, the strict decimal parser, character classes and FNV-1a. */
#include "text.h"

#include <stdio.h>
#include <string.h>

/* Length of the valid UTF-8 sequence starting at s[0..n), or 0 if none
 * (overlong forms, surrogates and code points above U+10FFFF are invalid). */
static size_t utf8_len(const unsigned char *s, size_t n) {
  unsigned char c = s[0];
  size_t len;
  uint32_t cp;
  if (c < 0x80)
    return 1;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
    cp = c & 0x1Fu;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    cp = c & 0x0Fu;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    cp = c & 0x07u;
  } else {
    return 0;
  }
  if (len > n)
    return 0;
  for (size_t i = 1; i < len; i++) {
    if ((s[i] & 0xC0) != 0x80)
      return 0;
    cp = (cp << 6) | (s[i] & 0x3Fu);
  }
  if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
    return 0;
  return len;
}

void sim_show(char *out, size_t outlen, const char *s, size_t n) {
  const unsigned char *u = (const unsigned char *)s;
  size_t o = 0;
  if (out == NULL || outlen == 0)
    return;
  for (size_t i = 0; i < n;) {
    char tmp[8];
    size_t tl, step = 1;
    unsigned char ch = u[i];
    if (i >= SIM_SHOW_MAX) {
      if (o + 4 <= outlen) {
        memcpy(out + o, "...", 3);
        o += 3;
      }
      break;
    }
    if (ch == '\n' || ch == '\t' || ch == '\r') {
      tmp[0] = '\\';
      tmp[1] = ch == '\n' ? 'n' : ch == '\t' ? 't' : 'r';
      tl = 2;
    } else if (ch < 0x20 || ch == 0x7f) {
      tl = (size_t)snprintf(tmp, sizeof tmp, "\\x%02x", ch);
    } else if (ch < 0x80) {
      tmp[0] = (char)ch;
      tl = 1;
    } else if ((step = utf8_len(u + i, n - i)) > 0) {
      memcpy(tmp, u + i, step);
      tl = step;
    } else {
      step = 1;
      tl = (size_t)snprintf(tmp, sizeof tmp, "\\x%02x", ch);
    }
    if (o + tl + 1 > outlen)
      break;
    memcpy(out + o, tmp, tl);
    o += tl;
    i += step;
  }
  out[o] = '\0';
}

bool sim_parse_u64(const char *s, uint64_t *out) {
  uint64_t x = 0;
  if (s == NULL || *s == '\0')
    return false;
  for (; *s; s++) {
    if (*s < '0' || *s > '9')
      return false;
    unsigned d = (unsigned)(*s - '0');
    if (x > (UINT64_MAX - d) / 10)
      return false;
    x = x * 10 + d;
  }
  *out = x;
  return true;
}

bool sim_is_digits(const char *s, size_t n) {
  if (n == 0)
    return false;
  for (size_t i = 0; i < n; i++)
    if (s[i] < '0' || s[i] > '9')
      return false;
  return true;
}

bool sim_is_blank(char c) { return c == ' ' || c == '\t'; }

bool sim_is_space(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

uint64_t sim_fnv1a64(uint64_t h, const void *data, size_t n) {
  const unsigned char *p = data;
  for (size_t i = 0; i < n; i++) {
    h ^= p[i];
    h *= 0x100000001b3ULL;
  }
  return h;
}
