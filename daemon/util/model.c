/* The field registry: one table, generated from ZV_FIELDS in model.h. */
#include <zinvol/model.h>

#include <string.h>

static const zv_field_def fields[ZV_FIELD_COUNT] = {
#define ZV_FIELD_DEF(id, name, kind, type, desc)                                                   \
    {ZV_F_##id, name, ZV_KIND_##kind, ZV_T_##type, desc},
    ZV_FIELDS(ZV_FIELD_DEF)
#undef ZV_FIELD_DEF
};

static const char *kind_names[ZV_KIND_COUNT] = {"client", "entitlement", "delivery", "declaration"};
static const char *type_names[ZV_T_COUNT] = {"string", "date", "int",      "code",
                                             "bsn",    "agb",  "postcode", "amount"};

const zv_field_def *zv_field_def_of(zv_field_id id)
{
    return (unsigned)id < ZV_FIELD_COUNT ? &fields[id] : NULL;
}

int zv_field_by_name(const char *name)
{
    if (!name) return -1;
    /* Linear: 50 entries, and callers resolve names once at load time. */
    for (int i = 0; i < ZV_FIELD_COUNT; i++)
        if (strcmp(fields[i].name, name) == 0) return i;
    return -1;
}

const char *zv_kind_name(zv_kind kind)
{
    return (unsigned)kind < ZV_KIND_COUNT ? kind_names[kind] : NULL;
}

int zv_kind_by_name(const char *name)
{
    for (int i = 0; name && i < ZV_KIND_COUNT; i++)
        if (strcmp(kind_names[i], name) == 0) return i;
    return -1;
}

const char *zv_type_name(zv_type type)
{
    return (unsigned)type < ZV_T_COUNT ? type_names[type] : NULL;
}
