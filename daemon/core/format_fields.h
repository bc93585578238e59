/*
 * Which model fields a destination's format can carry in a message
 * (issue 12 item 6): the format's own declaration, read once per
 * destination.  A format that declares nothing carries whatever it is given.
 */
#ifndef ZV_FORMAT_FIELDS_H
#define ZV_FORMAT_FIELDS_H

#include <zinvol/model.h>

#include "runtime_int.h"

/* 1 when destination d's format can render field f in message m. */
int zv_dest_renders(const zv_dest_rt *d, int m, zv_field_id f);
/* --check-config (and every load): an error per entry of d's catalogue for
 * message m, from the file or a destination override, whose field the
 * format cannot carry - "file: path: reason". */
void zv_dest_check_fields(const zv_runtime *rt, const zv_dest_rt *d, int m, zv_errors *errs);

#endif
