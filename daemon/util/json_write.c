/* JSON output through yajl_gen; see json.c for why this is isolated. */
#include <zinvol/json.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>

struct zv_jw {
    yajl_gen g;
    int failed;
};

zv_jw *zv_jw_new(int pretty)
{
    zv_jw *w = calloc(1, sizeof(*w));
    if (!w) return NULL;
    w->g = yajl_gen_alloc(NULL);
    if (!w->g) {
        free(w);
        return NULL;
    }
    yajl_gen_config(w->g, yajl_gen_beautify, pretty ? 1 : 0);
    if (pretty) yajl_gen_config(w->g, yajl_gen_indent_string, "  ");
    yajl_gen_config(w->g, yajl_gen_validate_utf8, 1);
    return w;
}

void zv_jw_free(zv_jw *w)
{
    if (!w) return;
    yajl_gen_free(w->g);
    free(w);
}

static void check(zv_jw *w, yajl_gen_status st)
{
    if (st != yajl_gen_status_ok) w->failed = 1;
}

void zv_jw_obj_open(zv_jw *w)
{
    check(w, yajl_gen_map_open(w->g));
}
void zv_jw_obj_close(zv_jw *w)
{
    check(w, yajl_gen_map_close(w->g));
}
void zv_jw_arr_open(zv_jw *w)
{
    check(w, yajl_gen_array_open(w->g));
}
void zv_jw_arr_close(zv_jw *w)
{
    check(w, yajl_gen_array_close(w->g));
}
void zv_jw_key(zv_jw *w, const char *key)
{
    zv_jw_str(w, key);
}
void zv_jw_null(zv_jw *w)
{
    check(w, yajl_gen_null(w->g));
}
void zv_jw_bool(zv_jw *w, int v)
{
    check(w, yajl_gen_bool(w->g, v));
}
void zv_jw_int(zv_jw *w, int64_t v)
{
    check(w, yajl_gen_integer(w->g, (long long)v));
}

void zv_jw_str(zv_jw *w, const char *s)
{
    if (!s) {
        zv_jw_null(w);
        return;
    }
    zv_jw_strn(w, s, strlen(s));
}

void zv_jw_strn(zv_jw *w, const char *s, size_t len)
{
    check(w, yajl_gen_string(w->g, (const unsigned char *)s, len));
}

void zv_jw_double(zv_jw *w, double v)
{
    char tmp[64];
    /* yajl_gen_double prints %.20g noise; 6 significant digits are enough
     * for the figures zinvol writes (shares, rates). */
    int n = snprintf(tmp, sizeof(tmp), "%.6g", v);
    check(w, yajl_gen_number(w->g, tmp, (size_t)n));
}

void zv_jw_value(zv_jw *w, const zv_json *v)
{
    size_t len;
    switch (zv_json_type_of(v)) {
    case ZV_JSON_NULL:
        zv_jw_null(w);
        break;
    case ZV_JSON_BOOL: {
        int b = 0;
        zv_json_bool(v, &b);
        zv_jw_bool(w, b);
        break;
    }
    case ZV_JSON_NUMBER: {
        const char *t = zv_json_number_text(v);
        check(w, yajl_gen_number(w->g, t, strlen(t)));
        break;
    }
    case ZV_JSON_STRING: {
        const char *s = zv_json_str(v, &len);
        zv_jw_strn(w, s, len);
        break;
    }
    case ZV_JSON_ARRAY:
        zv_jw_arr_open(w);
        for (size_t i = 0; i < zv_json_len(v); i++)
            zv_jw_value(w, zv_json_at(v, i));
        zv_jw_arr_close(w);
        break;
    case ZV_JSON_OBJECT:
        zv_jw_obj_open(w);
        for (size_t i = 0; i < zv_json_len(v); i++) {
            zv_jw_key(w, zv_json_key_at(v, i));
            zv_jw_value(w, zv_json_at(v, i));
        }
        zv_jw_obj_close(w);
        break;
    }
}

int zv_jw_result(zv_jw *w, const char **buf, size_t *len)
{
    const unsigned char *b;
    size_t l;
    if (w->failed || yajl_gen_get_buf(w->g, &b, &l) != yajl_gen_status_ok) return -1;
    *buf = (const char *)b;
    *len = l;
    return 0;
}
