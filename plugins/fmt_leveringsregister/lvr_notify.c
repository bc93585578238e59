/*
 * The zendNotificatie request (iWlz-generiek netwerkpunt.graphql) for one
 * change of the register: eventType, subject and recordID come from the
 * release's notification table (the RC's notificaties/zorgkantoor pages),
 * so a new RC's event names are a data change.  The body is a GraphQL
 * request, {"query": the mutation, "variables": {"notificatieInput": ...}},
 * sent as application/json (RFC0040 asks that of requests).
 */
#include "lvr.h"

#include <stdlib.h>
#include <string.h>

/* "Levering/{leveringID}" with the event's ids filled in. */
static void fill(zv_buf *b, const char *tpl, const lvr_event *e)
{
    for (const char *p = tpl; *p;) {
        const char *o = strchr(p, '{'), *c = o ? strchr(o, '}') : NULL;
        if (!o || !c) {
            zv_buf_puts(b, p);
            return;
        }
        zv_buf_append(b, p, (size_t)(o - p));
        size_t n = (size_t)(c - o - 1);
        const char *v = !strncmp(o + 1, "leveringID", n) && n == 10 ? e->levering
                        : !strncmp(o + 1, "bemiddelingspecificatieID", n) && n == 25
                            ? e->bemiddeling
                        : !strncmp(o + 1, "id", n) && n == 2 ? e->id
                                                             : "";
        zv_buf_puts(b, v);
        p = c + 1;
    }
}

char *lvr_notification(const lvr *l, const lvr_event *e, const char *now_iso, char id[37],
                       size_t *len, zv_buf *record_id)
{
    const zv_json *ev = zv_json_get(l->events, e->type);
    const char *type = zv_json_str(zv_json_get(ev, e->kind), NULL);
    const char *subj = zv_json_str(zv_json_get(ev, "subject"), NULL);
    const char *rec = zv_json_str(zv_json_get(ev, "record"), NULL);
    if (!type || !subj || !rec) return NULL;
    lvr_uuid(id);
    zv_buf s, r;
    zv_buf_init(&s);
    zv_buf_init(&r);
    fill(&s, subj, e);
    fill(&r, rec, e);
    zv_jw *w = zv_jw_new(0);
    zv_jw_obj_open(w);
    zv_jw_key(w, "query");
    zv_jw_str(w, l->mutation);
    zv_jw_key(w, "operationName");
    zv_jw_str(w, "zendNotificatie");
    zv_jw_key(w, "variables");
    zv_jw_obj_open(w);
    zv_jw_key(w, "notificatieInput");
    zv_jw_obj_open(w);
    zv_jw_key(w, "timestamp");
    zv_jw_str(w, now_iso);
    zv_jw_key(w, "afzenderIDType");
    zv_jw_str(w, l->afzender_type);
    zv_jw_key(w, "afzenderID");
    zv_jw_str(w, l->afzender);
    zv_jw_key(w, "ontvangerIDType");
    zv_jw_str(w, l->ontvanger_type);
    zv_jw_key(w, "ontvangerID");
    zv_jw_str(w, e->zorgkantoor);
    zv_jw_key(w, "ontvangerKenmerk");
    zv_jw_null(w);
    zv_jw_key(w, "eventType");
    zv_jw_str(w, type);
    zv_jw_key(w, "subjectList");
    zv_jw_arr_open(w);
    zv_jw_obj_open(w);
    zv_jw_key(w, "subject");
    zv_jw_str(w, s.data ? s.data : "");
    zv_jw_key(w, "recordID");
    zv_jw_str(w, r.data ? r.data : "");
    zv_jw_obj_close(w);
    zv_jw_arr_close(w);
    zv_jw_obj_close(w);
    zv_jw_obj_close(w);
    zv_jw_obj_close(w);
    zv_buf_free(&s);
    if (record_id) zv_buf_puts(record_id, r.data ? r.data : "");
    zv_buf_free(&r);
    const char *out;
    char *copy = NULL;
    if (zv_jw_result(w, &out, len) == 0) copy = strndup(out, *len);
    zv_jw_free(w);
    return copy;
}
