/*
 * Applying a compiled mapping to one item.  Hot path (a million items per
 * run in the benchmark): item fields are located once through the mapping's
 * path hash; values are converted in one scratch buffer on the stack, so the
 * only allocations are the record's own arena.
 */
#include "mapping_int.h"
#include "mapping_value.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <zinvol/util.h>

#define STACK_PATHS 64
#define STACK_SCRATCH 1024

typedef struct slot {
    const char *v;
    size_t len;
} slot;

/* Today's date, recomputed at most once a second (localtime per record
 * showed up in the benchmark). */
static void today_cached(char out[11])
{
    static _Thread_local time_t at;
    static _Thread_local char today[11];
    time_t now = time(NULL);
    if (now != at || !today[0]) {
        zv_date_today(today);
        at = now;
    }
    memcpy(out, today, 11);
}

static int rule_matches(const zv_record_rule *rr, const zv_item *item, const slot *slots)
{
    if (rr->when_type && (!item->type || strcmp(rr->when_type, item->type) != 0)) return 0;
    if (rr->when_src < 0) return 1;
    const slot *s = &slots[rr->when_src];
    if (!s->v || !s->len) return 0;
    if (rr->when_present) return 1;
    for (size_t i = 0; i < rr->nwhen_in; i++)
        if (strlen(rr->when_in[i]) == s->len && memcmp(rr->when_in[i], s->v, s->len) == 0) return 1;
    return 0;
}

static void fail(char *field, size_t fieldlen, const char *f, char *reason, size_t reasonlen,
                 const char *why)
{
    if (field && fieldlen) snprintf(field, fieldlen, "%s", f);
    if (reason && reasonlen) {
        snprintf(reason, reasonlen, "%s", why);
        zv_bsn_scrub(reason); /* last line of defence: why never quotes a BSN knowingly */
    }
}

static int has_control(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7F) return 1;
    return 0;
}

/* The record id: configured parts joined by '/', else the item's own, else
 * a hash of the item so the same content gets the same id.  -1 (and the
 * part's index in *badpart) when a part holds a control character: ids are
 * text, and "12\u0000x" must not pass for "12". */
static int record_id(const zv_mapping *m, const zv_item *item, const slot *slots, char *out,
                     size_t outlen, int *badpart)
{
    if (m->nid) {
        /* Parts that are absent are left out, so ["id", "/id"] also works
         * as "whichever is there". */
        size_t o = 0;
        out[0] = '\0';
        for (int i = 0; i < m->nid; i++) {
            const slot *s = &slots[m->id_src[i]];
            if (!s->v || !s->len) continue;
            if (has_control(s->v, s->len)) {
                if (badpart) *badpart = i;
                return -1;
            }
            int w = snprintf(out + o, outlen - o, "%s%.*s", o ? "/" : "", (int)s->len, s->v);
            if (w < 0 || (size_t)w >= outlen - o) break;
            o += (size_t)w;
        }
        if (o) return 0;
    }
    if (item->record_id && *item->record_id) {
        snprintf(out, outlen, "%s", item->record_id);
        return 0;
    }
    char *j = zv_item_to_json(item);
    char hex[65];
    zv_sha256_hex(j ? j : "", j ? strlen(j) : 0, hex);
    free(j);
    snprintf(out, outlen, "h:%.24s", hex);
    return 0;
}

/* Selectors need the item and an index of its paths; built on first use. */
typedef struct sel_ctx {
    const zv_item *item;
    zv_sel_item ix;
    int ready;
    zv_buf val, country;
} sel_ctx;

static const char *ref_name(const zv_mapping *m, const zv_src_ref *r)
{
    return r->path >= 0 ? m->paths[r->path] : m->sels[r->sel].text;
}

/* The first non-empty of the alternatives, into out (or a slot's value). */
static int resolve(const zv_mapping *m, const zv_src_ref *refs, int n, const char *join,
                   const slot *slots, sel_ctx *sx, zv_buf *out, const char **v, size_t *len)
{
    *v = NULL;
    *len = 0;
    for (int i = 0; i < n; i++) {
        if (refs[i].path >= 0) {
            const slot *s = &slots[refs[i].path];
            if (s->v && s->len) {
                *v = s->v, *len = s->len;
                return 0;
            }
            continue;
        }
        if (!sx->ready) {
            if (zv_sel_item_init(&sx->ix, sx->item) < 0) return -1;
            sx->ready = 1;
        }
        zv_buf_reset(out);
        if (zv_sel_eval(&m->sels[refs[i].sel], &sx->ix, join, out, NULL) > 0 && out->len) {
            if (out->oom) return -1;
            *v = out->data, *len = out->len;
            return 0;
        }
    }
    return 0;
}

static int is_nl(const char *s, size_t n)
{
    static const char *const nl[] = {"NL",          "NLD", "Nederland", "The Netherlands",
                                     "Netherlands", "528", "6030",      NULL};
    for (int i = 0; nl[i]; i++)
        if (strlen(nl[i]) == n && strncasecmp(nl[i], s, n) == 0) return 1;
    return 0;
}

static int map_field(const zv_mapping *m, const zv_field_rule *fr, const slot *slots, sel_ctx *sx,
                     zv_map_ctx *cx, zv_record *rec, char *scratch, size_t scratchlen, char *reason,
                     size_t reasonlen)
{
    const char *v = fr->constant;
    size_t len = v ? strlen(v) : 0;
    const char *from = fr->src >= 0 ? m->paths[fr->src]
                       : fr->nalts  ? ref_name(m, &fr->alts[0])
                                    : "value";
    if (fr->src >= 0) {
        v = slots[fr->src].v;
        len = slots[fr->src].len;
    } else if (fr->nalts &&
               resolve(m, fr->alts, fr->nalts, fr->join, slots, sx, &sx->val, &v, &len) < 0) {
        snprintf(reason, reasonlen, "out of memory");
        return -1;
    }
    if (len && fr->ncountry) {
        const char *cv;
        size_t cl;
        if (resolve(m, fr->country, fr->ncountry, NULL, slots, sx, &sx->country, &cv, &cl) < 0) {
            snprintf(reason, reasonlen, "out of memory");
            return -1;
        }
        while (cl && (*cv == ' ' || *cv == '\t'))
            cv++, cl--;
        while (cl && (cv[cl - 1] == ' ' || cv[cl - 1] == '\t'))
            cl--;
        /* A foreign address has a postcode of its own kind: not a Dutch one. */
        if (cl && !is_nl(cv, cl)) {
            snprintf(reason, reasonlen,
                     "foreign address (country '%.*s'): the postcode is not "
                     "a Dutch postcode (from %s)",
                     (int)(cl > 40 ? 40 : cl), cv, from);
            return -1;
        }
    }
    char *heap = NULL, *buf = scratch;
    size_t need = (len > fr->maxlit ? len : fr->maxlit) + 32;
    if (need > scratchlen) {
        if (!(heap = malloc(need))) {
            snprintf(reason, reasonlen, "out of memory");
            return -1;
        }
        buf = heap;
    }
    cx->buf_start = buf;
    char *s = buf + 1;
    if (v) memcpy(s, v, len);
    int rc = -1;
    if (zv_map_convert(fr, &s, &len) < 0) {
        snprintf(reason, reasonlen, "cannot convert the value of %s", from);
        goto out;
    }
    while (len && (s[0] == ' ' || s[0] == '\t' || s[0] == '\r' || s[0] == '\n'))
        s++, len--;
    while (len &&
           (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r' || s[len - 1] == '\n'))
        len--;
    if (len && fr->nmap) {
        const char *to;
        size_t tolen;
        if (zv_map_lookup(fr, s, len, &to, &tolen) < 0) {
            char shown[48];
            if (zv_field_def_of(fr->field)->type == ZV_T_BSN)
                snprintf(shown, sizeof(shown), "(masked)");
            else
                snprintf(shown, sizeof(shown), "'%.*s'", (int)(len > 40 ? 40 : len), s);
            snprintf(reason, reasonlen, "value %s of %s is not in the code map", shown, from);
            goto out;
        }
        s = buf + 1;
        memmove(s, to, tolen);
        len = tolen;
    }
    if (!len && fr->deflt) {
        len = strlen(fr->deflt);
        s = buf + 1;
        memcpy(s, fr->deflt, len);
    }
    if (!len) {
        rc = 0; /* absent: only an error when required, checked by the caller */
        goto out;
    }
    char why[256];
    if (zv_map_check(fr, cx, &s, &len, why, sizeof(why)) < 0) {
        snprintf(reason, reasonlen, "%s (from %s)", why, from);
        goto out;
    }
    rc = zv_record_set(rec, (zv_field_id)fr->field, s, len, NULL);
    if (rc < 0) snprintf(reason, reasonlen, "out of memory");
out:
    free(heap);
    return rc;
}

int zv_mapping_record_id(const zv_mapping *m, const zv_item *item, char *out, size_t outlen)
{
    if (!m->nid || !outlen) return 0;
    slot stack_slots[STACK_PATHS];
    slot *slots = m->npaths <= STACK_PATHS ? stack_slots : calloc(m->npaths, sizeof(slot));
    if (!slots) return 0;
    memset(slots, 0, m->npaths * sizeof(slot));
    for (size_t i = 0; i < item->nfields; i++) {
        const zv_item_field *f = &item->fields[i];
        if (!f->path || !f->value) continue;
        int k = zv_map_path_find(m, f->path, strlen(f->path));
        if (k >= 0 && !slots[k].v) slots[k] = (slot){f->value, f->len};
    }
    zv_item none = {ZV_SIZED(zv_item), item->type, NULL, NULL, 0, sizeof(zv_item_field)};
    int rc = record_id(m, &none, slots, out, outlen, NULL);
    if (slots != stack_slots) free(slots);
    /* record_id() falls back to a hash when no part is present; a part with
     * a control character leaves the item to its own id (the mapping then
     * quarantines it with the reason). */
    return rc == 0 && strncmp(out, "h:", 2) != 0;
}

zv_record *zv_mapping_apply(const zv_mapping *m, const zv_item *item, int64_t received, char *field,
                            size_t fieldlen, char *reason, size_t reasonlen)
{
    return zv_mapping_apply_ex(m, item, received, field, fieldlen, reason, reasonlen, NULL, NULL);
}

zv_record *zv_mapping_apply_ex(const zv_mapping *m, const zv_item *item, int64_t received,
                               char *field, size_t fieldlen, char *reason, size_t reasonlen,
                               zv_map_drop_cb dropped, void *arg)
{
    sel_ctx sx = {.item = item};
    zv_buf_init(&sx.val);
    zv_buf_init(&sx.country);
    slot stack_slots[STACK_PATHS];
    slot *slots = m->npaths <= STACK_PATHS ? stack_slots : calloc(m->npaths, sizeof(slot));
    char why[512];
    zv_record *rec = NULL;
    if (!slots) {
        fail(field, fieldlen, "record", reason, reasonlen, "out of memory");
        return NULL;
    }
    memset(slots, 0, m->npaths * sizeof(slot));
    for (size_t i = 0; i < item->nfields; i++) {
        const zv_item_field *f = &item->fields[i];
        if (!f->path || !f->value) continue;
        if (f->path[0] == '!' && strcmp(f->path, ZV_ITEM_ERROR) == 0) {
            /* The source could not read this record (broken row or line). */
            snprintf(why, sizeof(why), "%.*s", (int)f->len, f->value);
            fail(field, fieldlen, "record", reason, reasonlen, why);
            goto out;
        }
        int k = zv_map_path_find(m, f->path, strlen(f->path));
        if (k >= 0 && !slots[k].v) slots[k] = (slot){f->value, f->len};
    }
    const zv_record_rule *rr = NULL;
    for (size_t i = 0; i < m->nrules && !rr; i++)
        if (rule_matches(&m->rules[i], item, slots)) rr = &m->rules[i];
    if (!rr) {
        snprintf(why, sizeof(why), "no mapping rule matches this item (type '%s')",
                 item->type ? item->type : "");
        fail(field, fieldlen, "record", reason, reasonlen, why);
        goto out;
    }
    char rid[256];
    int badpart = 0;
    if (record_id(m, item, slots, rid, sizeof(rid), &badpart) < 0) {
        snprintf(why, sizeof(why), "record id part %s contains a control character",
                 m->paths[m->id_src[badpart]]);
        fail(field, fieldlen, "record", reason, reasonlen, why);
        goto out;
    }
    rec = zv_record_new(rr->kind, m->source, rid, received);
    if (!rec) {
        fail(field, fieldlen, "record", reason, reasonlen, "out of memory");
        goto out;
    }
    zv_map_ctx cx = {.today = ""};
    today_cached(cx.today);
    char scratch[STACK_SCRATCH];
    for (size_t i = 0; i < rr->nfields; i++) {
        const zv_field_rule *fr = &rr->fields[i];
        if (map_field(m, fr, slots, &sx, &cx, rec, scratch, sizeof(scratch), why, sizeof(why)) <
            0) {
            /* An optional field the mapping lets go: the record goes on
             * without it, and the reason is reported, not lost. */
            if (fr->on_error_drop && !rr->required[fr->field] && strcmp(why, "out of memory")) {
                zv_bsn_scrub(why);
                if (dropped) dropped(arg, zv_field_def_of(fr->field)->name, why);
                continue;
            }
            fail(field, fieldlen, zv_field_def_of(fr->field)->name, reason, reasonlen, why);
            zv_record_free(rec);
            rec = NULL;
            goto out;
        }
    }
    for (int id = 0; id < ZV_FIELD_COUNT; id++) {
        if (!rr->required[id] || rec->values[id].str) continue;
        const char *from = "no source";
        for (size_t i = 0; i < rr->nfields; i++)
            if (rr->fields[i].field == id && rr->fields[i].src >= 0)
                from = m->paths[rr->fields[i].src];
            else if (rr->fields[i].field == id && rr->fields[i].nalts)
                from = ref_name(m, &rr->fields[i].alts[0]);
        snprintf(why, sizeof(why), "required field is missing or empty (source %s)", from);
        fail(field, fieldlen, zv_field_def_of(id)->name, reason, reasonlen, why);
        zv_record_free(rec);
        rec = NULL;
        goto out;
    }
out:
    if (slots != stack_slots) free(slots);
    if (sx.ready) zv_sel_item_free(&sx.ix);
    zv_buf_free(&sx.val);
    zv_buf_free(&sx.country);
    return rec;
}
