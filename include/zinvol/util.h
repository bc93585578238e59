/*
 * Small helpers shared by the core and plugins: growable buffers, BSN checks
 * and masking, dates, hashing.
 */
#ifndef ZINVOL_UTIL_H
#define ZINVOL_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- growable byte buffer; always NUL-terminated ---- */
typedef struct zv_buf {
    char *data;
    size_t len;
    size_t cap;
    int oom; /* set once an allocation failed; later appends are no-ops */
} zv_buf;

void zv_buf_init(zv_buf *b);
void zv_buf_free(zv_buf *b);
void zv_buf_reset(zv_buf *b);
int zv_buf_reserve(zv_buf *b, size_t extra);
int zv_buf_append(zv_buf *b, const void *data, size_t len);
int zv_buf_puts(zv_buf *b, const char *s);
int zv_buf_printf(zv_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int zv_buf_vprintf(zv_buf *b, const char *fmt, va_list ap);
/* Hand the bytes to the caller (who frees them) and reset b. */
char *zv_buf_steal(zv_buf *b, size_t *len);

/* ---- BSN ---- */
/* 1 when s is exactly 9 digits passing the elfproef, else 0. */
int zv_bsn_valid(const char *s, size_t len);
/* Writes a masked form ("*****6782" style: only the last 4 digits) into
 * out (at least 16 bytes).  Safe for any input, also invalid ones. */
const char *zv_bsn_mask(const char *s, char *out, size_t outlen);
/* Mask, in place, every BSN written in text: a whole token (letters and
 * digits) of 9 digits passing the elfproef, of 8 digits that passes with its
 * leading zero back, or the grouped forms "9999.00.006" / "999 996 708".
 * Digits inside a longer token (a hash, an id) are left alone.  Used by the
 * log sink as a last line of defence. */
void zv_bsn_scrub(char *text);

/* ---- one-line output ---- */
/* Copy in[0..inlen) to out with control characters written as \n, \r,
 * \t or \xNN, so outside text (ids, reasons) can never start a line of its
 * own in a log or a listing.  Truncates at whole escapes; out is always
 * NUL-terminated.  Returns the length written. */
size_t zv_escape_ctrl(const char *in, size_t inlen, char *out, size_t outlen);
/* Appends s (NULL: nothing) to b as HTML text or a quoted attribute value:
 * < > & " ' escaped, everything else as it is. */
void zv_html_esc(zv_buf *b, const char *s);
/* The same for the first n bytes of s (stops early at a NUL). */
void zv_html_escn(zv_buf *b, const char *s, size_t n);

/* ---- dates ---- */
/* 1 when s is a real calendar date YYYY-MM-DD. */
int zv_date_valid(const char *s, size_t len);
/* Days since 1970-01-01 for a valid date; returns 0 and sets *days. */
int zv_date_days(const char *s, int64_t *days);
/* Today's date (local) as YYYY-MM-DD into out[11]. */
void zv_date_today(char out[11]);
/* Current time. */
int64_t zv_now(void);    /* unix seconds (moved by zv_clock_set_today) */
/* Run as if today were this day (days since 1970-01-01, zv_date_days):
 * zv_now and zv_date_today move by whole days, the clock goes on. */
void zv_clock_set_today(int64_t days);
int64_t zv_now_ms(void); /* monotonic milliseconds */
int64_t zv_wall_ms(void); /* unix milliseconds, on the same clock as zv_now */
/* ISO 8601 UTC, "2026-11-23T18:05:00Z", into out[21]. */
void zv_time_iso(int64_t t, char out[21]);

/* ---- other checks ---- */
int zv_agb_valid(const char *s, size_t len);      /* 8 digits */
int zv_postcode_valid(const char *s, size_t len); /* 1234AB, first digit not 0 */

/* ---- hashing (OpenSSL libcrypto) ---- */
/* SHA-256 of data as 64 lowercase hex characters into out[65]. */
void zv_sha256_hex(const void *data, size_t len, char out[65]);

/* Parse "30s", "5m", "2h", "7d" or a plain number of seconds. -1 if invalid. */
int64_t zv_duration_parse(const char *s);

/* mkdir -p: create path and missing parents with mode; 0 when it is (now)
 * a directory, -1 with errno otherwise (ENOTDIR when a file is in the way). */
int zv_mkdir_p(const char *path, unsigned mode);
/* Whether a folder a plugin needs can be used without making anything:
 * 0 it exists and is writable, 1 it is missing but can be made (the nearest
 * existing level is a writable folder), -1 neither; why says so. */
int zv_dir_usable(const char *path, char *why, size_t whylen);

/* strdup that returns NULL for NULL. */
char *zv_strdup0(const char *s);

#ifdef __cplusplus
}
#endif
#endif
