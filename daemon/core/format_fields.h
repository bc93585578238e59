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

#endif
