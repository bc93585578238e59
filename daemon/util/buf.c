#include <zinvol/util.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void zv_buf_init(zv_buf *b)
{
    memset(b, 0, sizeof(*b));
}

void zv_buf_free(zv_buf *b)
{
    free(b->data);
    zv_buf_init(b);
}

void zv_buf_reset(zv_buf *b)
{
    b->len = 0;
    if (b->data) b->data[0] = '\0';
}

int zv_buf_reserve(zv_buf *b, size_t extra)
{
    if (b->oom) return -1;
    if (b->len + extra + 1 <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p) {
        b->oom = 1;
        return -1;
    }
    b->data = p;
    b->cap = cap;
    return 0;
}

int zv_buf_append(zv_buf *b, const void *data, size_t len)
{
    if (zv_buf_reserve(b, len) < 0) return -1;
    if (len) memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return 0;
}

int zv_buf_puts(zv_buf *b, const char *s)
{
    return zv_buf_append(b, s, strlen(s));
}

int zv_buf_vprintf(zv_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0 || zv_buf_reserve(b, (size_t)n) < 0) return -1;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return 0;
}

int zv_buf_printf(zv_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = zv_buf_vprintf(b, fmt, ap);
    va_end(ap);
    return r;
}

char *zv_buf_steal(zv_buf *b, size_t *len)
{
    if (zv_buf_reserve(b, 0) < 0) return NULL;
    char *p = b->data;
    if (len) *len = b->len;
    zv_buf_init(b);
    return p;
}

char *zv_strdup0(const char *s)
{
    return s ? strdup(s) : NULL;
}
