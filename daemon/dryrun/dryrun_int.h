/* Internals of the dry run, shared by dryrun.c, dryrun_input.c and dryrun_render.c. */
#ifndef ZV_DRYRUN_INT_H
#define ZV_DRYRUN_INT_H

#include <stdio.h>
#include "core/runtime_int.h"

/* A record a destination would send, waiting for the render at the end. */
typedef struct dry_staged {
    zv_record *rec; /* minimised; owned */
    size_t row;     /* index into dry_run.rows */
} dry_staged;

typedef struct dry_msg {
    dry_staged *v;
    size_t n, cap;
} dry_msg;

typedef struct dry_run {
    zv_runtime *rt;
    zv_source_rt *src;
    FILE *out;
    zv_host host;  /* zv_core_host with emit, render results and state_dir replaced */
    char *scratch; /* scratch state directory for formats that keep state; NULL until asked */
    char **rows;   /* per input row its label ("row 3 (clients.csv:row3)"); owned */
    size_t nrows, caprows;
    dry_msg **msgs; /* [destination][message] */
    int64_t mapped, q_mapping, q_minimiser, q_rule, payloads;
    int failed; /* out of memory or a plugin broke the render contract */
} dry_run;

/* dryrun.c: the one dry run of this process (plugins reach it through the host). */
extern dry_run *zv_dry_current;
int zv_dry_emit(zv_ctx *ctx, const zv_item *item);
/* Print a value with BSNs masked. */
void zv_dry_print_value(FILE *out, const zv_field_def *def, const char *value);

/* dryrun_input.c: read input as the file-drop source reads a drop, with the
 * source's options when it is a file-drop source, handing each row to
 * host->emit.  0, or -1 with why (the file would be rejected). */
int zv_dry_read_input(dry_run *dr, const char *input, char *why, size_t whylen);

/* dryrun_render.c: render what each destination would send and print it. */
int zv_dry_add_payload(zv_render_out *out, const zv_payload_spec *p);
int zv_dry_rendered_fields(zv_render_out *out, size_t index, const zv_field_id *fields, size_t n);
int zv_dry_reject(zv_render_out *out, size_t index, const char *rule, const char *field,
                  const char *reason);
void zv_dry_render_all(dry_run *dr);

#endif
