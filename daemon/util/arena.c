#include "arena.h"

#include <stdlib.h>
#include <string.h>

struct chunk {
    struct chunk *next;
    size_t size, used;
    unsigned char data[];
};

struct zv_arena {
    struct chunk *head;
    size_t next_size;
};

zv_arena *zv_arena_new(size_t first_chunk)
{
    zv_arena *a = calloc(1, sizeof(*a));
    if (a) a->next_size = first_chunk < 256 ? 256 : first_chunk;
    return a;
}

void zv_arena_free(zv_arena *a)
{
    if (!a) return;
    struct chunk *c = a->head;
    while (c) {
        struct chunk *n = c->next;
        free(c);
        c = n;
    }
    free(a);
}

void *zv_arena_alloc(zv_arena *a, size_t size)
{
    size = (size + 7) & ~(size_t)7;
    struct chunk *c = a->head;
    if (!c || c->size - c->used < size) {
        size_t want = a->next_size;
        while (want < size)
            want *= 2;
        c = malloc(sizeof(*c) + want);
        if (!c) return NULL;
        c->size = want;
        c->used = 0;
        c->next = a->head;
        a->head = c;
        /* Grow geometrically so large documents need few chunks. */
        if (a->next_size < (1u << 20)) a->next_size *= 2;
    }
    void *p = c->data + c->used;
    c->used += size;
    return p;
}

char *zv_arena_strndup(zv_arena *a, const char *s, size_t len)
{
    char *p = zv_arena_alloc(a, len + 1);
    if (!p) return NULL;
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}
