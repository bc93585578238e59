/* Text for the filedrop source: encodings and bounded lines. */
#include "filedrop.h"

#include <stdlib.h>

/* 0x80-0x9F of Windows-1252; 0 where the code page has no character. */
static const unsigned short cp1252_hi[32] = {
    0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0,      0x017D, 0,      0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178};

size_t fd_cp1252_to_utf8(const char *in, size_t len, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned c = (unsigned char)in[i];
        if (c >= 0x80 && c < 0xA0) c = cp1252_hi[c - 0x80] ? cp1252_hi[c - 0x80] : 0xFFFD;
        if (c < 0x80) {
            out[o++] = (char)c;
        } else if (c < 0x800) {
            out[o++] = (char)(0xC0 | (c >> 6));
            out[o++] = (char)(0x80 | (c & 0x3F));
        } else {
            out[o++] = (char)(0xE0 | (c >> 12));
            out[o++] = (char)(0x80 | ((c >> 6) & 0x3F));
            out[o++] = (char)(0x80 | (c & 0x3F));
        }
    }
    out[o] = '\0';
    return o;
}

ssize_t fd_getline(FILE *f, char **buf, size_t *cap, size_t max, size_t *kept)
{
    size_t n = 0, used = 0;
    int c;
    /* getc_unlocked: one reader per FILE, and no line is ever held beyond
     * max, whatever the file holds (getline() would grow without bound). */
    while ((c = getc_unlocked(f)) != EOF) {
        used++;
        if (n < max) {
            if (n + 2 > *cap) {
                size_t nc = *cap ? *cap * 2 : 4096;
                while (nc < n + 2)
                    nc *= 2;
                if (nc > max + 2) nc = max + 2;
                char *p = realloc(*buf, nc);
                if (!p) return -1;
                *buf = p;
                *cap = nc;
            }
            (*buf)[n++] = (char)c;
        }
        if (c == '\n') break;
    }
    if (ferror(f)) return -1;
    if (*buf) (*buf)[n] = '\0';
    *kept = n;
    return (ssize_t)used;
}
