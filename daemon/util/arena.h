/* Bump allocator: many small allocations freed together.  Internal to util. */
#ifndef ZV_ARENA_H
#define ZV_ARENA_H
#include <stddef.h>

typedef struct zv_arena zv_arena;

zv_arena *zv_arena_new(size_t first_chunk);
void zv_arena_free(zv_arena *a);
void *zv_arena_alloc(zv_arena *a, size_t size); /* 8-byte aligned, NULL on OOM */
char *zv_arena_strndup(zv_arena *a, const char *s, size_t len);
#endif
