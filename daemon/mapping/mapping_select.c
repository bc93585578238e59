/* Selection by meaning in source paths: see mapping_select.h. */
#include "mapping_select.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mapping_int.h"

#define MAX_STEPS 8
#define MAX_PREDS 8

/* Index of the ']' closing the '[' at s[i], or -1. */
static long close_of(const char *s, size_t len, size_t i)
{
    int depth = 0;
    for (size_t k = i; k < len; k++) {
        if (s[k] == '[') depth++;
        if (s[k] == ']' && --depth == 0) return (long)k;
    }
    return -1;
}

/* '=' outside nested brackets, or "*" alone. */
static int is_selector(const char *s, size_t len)
{
    if (len == 1 && s[0] == '*') return 1;
    int depth = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '[') depth++;
        if (s[i] == ']') depth--;
        if (s[i] == '=' && depth == 0) return 1;
    }
    return 0;
}

static char *dup_trim(const char *s, size_t len)
{
    while (len && (*s == ' ' || *s == '\t'))
        s++, len--;
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    char *d = malloc(len + 1);
    if (d) memcpy(d, s, len), d[len] = '\0';
    return d;
}

static int parse_preds(const char *s, size_t len, zv_sel_step *st, char *err, size_t errlen)
{
    if (len == 1 && s[0] == '*') return 0;
    st->preds = calloc(MAX_PREDS, sizeof(*st->preds));
    if (!st->preds) return -1;
    size_t start = 0;
    int depth = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && s[i] == '[') depth++;
        if (i < len && s[i] == ']') depth--;
        if (i < len && (s[i] != ',' || depth)) continue;
        const char *c = s + start;
        size_t cl = i - start, eq = cl;
        int d = 0;
        for (size_t k = 0; k < cl && eq == cl; k++) {
            if (c[k] == '[') d++;
            if (c[k] == ']') d--;
            if (c[k] == '=' && d == 0) eq = k;
        }
        int neg = eq > 0 && eq < cl && c[eq - 1] == '!';
        size_t keylen = neg ? eq - 1 : eq;
        if (st->npreds == MAX_PREDS) {
            snprintf(err, errlen, "at most %d conditions in one selector", MAX_PREDS);
            return -1;
        }
        zv_sel_pred *p = &st->preds[st->npreds];
        p->key = dup_trim(c, keylen);
        p->value = eq < cl ? dup_trim(c + eq + 1, cl - eq - 1) : NULL;
        p->neg = neg;
        st->npreds++;
        if (!p->key || !p->value || !p->key[0] || !p->value[0]) {
            snprintf(err, errlen, "condition '%.*s' is not key=value or key!=value", (int)cl, c);
            return -1;
        }
        start = i + 1;
    }
    return 0;
}

int zv_sel_compile(const char *text, zv_selector *out, char *err, size_t errlen)
{
    size_t len = strlen(text), lit = 0;
    memset(out, 0, sizeof(*out));
    int any = 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] == ']') {
            snprintf(err, errlen, "unbalanced ']' at position %zu", i);
            zv_sel_free(out);
            return -1;
        }
        if (text[i] != '[') continue;
        long c = close_of(text, len, i);
        if (c < 0) {
            snprintf(err, errlen, "unbalanced '[' at position %zu", i);
            zv_sel_free(out);
            return -1;
        }
        if (!is_selector(text + i + 1, (size_t)c - i - 1)) {
            i = (size_t)c;
            continue;
        }
        if (!out->steps && !(out->steps = calloc(MAX_STEPS, sizeof(*out->steps)))) return -1;
        if (out->nsteps == MAX_STEPS || i == lit) {
            snprintf(err, errlen, "%s",
                     i == lit ? "a selector needs an element name before it"
                              : "at most 8 selectors in one path");
            zv_sel_free(out);
            return -1;
        }
        zv_sel_step *st = &out->steps[out->nsteps++];
        st->lit = dup_trim(text + lit, i - lit);
        st->litlen = st->lit ? strlen(st->lit) : 0;
        if (!st->lit || parse_preds(text + i + 1, (size_t)c - i - 1, st, err, errlen) < 0) {
            zv_sel_free(out);
            return -1;
        }
        any = 1;
        lit = (size_t)c + 1;
        i = (size_t)c;
    }
    if (!any) {
        zv_sel_free(out);
        return 0;
    }
    out->text = strdup(text);
    out->tail = strdup(text + lit);
    out->taillen = strlen(text + lit);
    if (!out->text || !out->tail) {
        zv_sel_free(out);
        return -1;
    }
    return 1;
}

int zv_sel_literal(const char *text, zv_selector *out)
{
    memset(out, 0, sizeof(*out));
    out->text = strdup(text);
    out->tail = strdup(text);
    out->taillen = strlen(text);
    return out->text && out->tail ? 0 : -1;
}

void zv_sel_free(zv_selector *s)
{
    for (int i = 0; i < s->nsteps; i++) {
        for (int k = 0; k < s->steps[i].npreds; k++) {
            free(s->steps[i].preds[k].key);
            free(s->steps[i].preds[k].value);
        }
        free(s->steps[i].preds);
        free(s->steps[i].lit);
    }
    free(s->steps);
    free(s->text);
    free(s->tail);
    memset(s, 0, sizeof(*s));
}

int zv_sel_item_init(zv_sel_item *ix, const zv_item *item)
{
    ix->item = item;
    ix->cap = 16;
    while (ix->cap < item->nfields * 2)
        ix->cap *= 2;
    ix->tab = calloc(ix->cap, sizeof(*ix->tab));
    if (!ix->tab) return -1;
    for (size_t i = 0; i < item->nfields; i++) {
        const char *p = item->fields[i].path;
        if (!p || !item->fields[i].value) continue;
        size_t h = zv_map_hash(p, strlen(p)) & (ix->cap - 1);
        int dup = 0;
        while (ix->tab[h] && !(dup = strcmp(item->fields[ix->tab[h] - 1].path, p) == 0))
            h = (h + 1) & (ix->cap - 1);
        if (!dup) ix->tab[h] = (uint32_t)i + 1; /* the first occurrence wins */
    }
    return 0;
}

void zv_sel_item_free(zv_sel_item *ix)
{
    free(ix->tab);
    ix->tab = NULL;
}

static long lookup(const zv_sel_item *ix, const char *p, size_t len)
{
    for (size_t h = zv_map_hash(p, len) & (ix->cap - 1); ix->tab[h]; h = (h + 1) & (ix->cap - 1)) {
        const zv_item_field *f = &ix->item->fields[ix->tab[h] - 1];
        if (strncmp(f->path, p, len) == 0 && f->path[len] == '\0') return (long)ix->tab[h] - 1;
    }
    return -1;
}

/* Conditions of one step on the element whose path is p[0..plen). */
static int preds_hold(const zv_sel_step *st, const zv_sel_item *ix, const char *p, size_t plen,
                      unsigned char *mark)
{
    int ok = 1;
    for (int i = 0; i < st->npreds && (ok || mark); i++) {
        const zv_sel_pred *pr = &st->preds[i];
        char key[1024];
        size_t kl = strlen(pr->key);
        if (plen + 1 + kl >= sizeof(key)) return 0;
        memcpy(key, p, plen);
        key[plen] = '.';
        memcpy(key + plen + 1, pr->key, kl);
        long k = lookup(ix, key, plen + 1 + kl);
        if (k >= 0 && mark) mark[k] = 1;
        const zv_item_field *f = k >= 0 ? &ix->item->fields[k] : NULL;
        /* "key=*": present with a value; "key!=*": absent or empty. */
        int eq = strcmp(pr->value, "*") == 0
                     ? f && f->len > 0
                     : f && strlen(pr->value) == f->len && memcmp(pr->value, f->value, f->len) == 0;
        if (eq == pr->neg) ok = 0;
    }
    return ok;
}

static int matches(const zv_selector *s, const zv_sel_item *ix, const char *p, unsigned char *mark)
{
    /* Most item paths differ in the first literal: no strlen() for them. */
    const char *first = s->nsteps ? s->steps[0].lit : s->tail;
    size_t firstlen = s->nsteps ? s->steps[0].litlen : s->taillen;
    if (strncmp(p, first, firstlen) != 0) return 0;
    size_t plen = strlen(p), pos = 0;
    for (int i = 0; i < s->nsteps; i++) {
        const zv_sel_step *st = &s->steps[i];
        if (plen - pos < st->litlen || memcmp(p + pos, st->lit, st->litlen) != 0) return 0;
        pos += st->litlen;
        while (pos < plen && p[pos] == '[') {
            long c = close_of(p, plen, pos);
            if (c < 0) return 0;
            pos = (size_t)c + 1;
        }
        if (pos < plen && p[pos] != '.') return 0;
        if (!preds_hold(st, ix, p, pos, mark)) return 0;
    }
    return plen - pos == s->taillen && memcmp(p + pos, s->tail, s->taillen) == 0;
}

int zv_sel_eval(const zv_selector *s, const zv_sel_item *ix, const char *join, zv_buf *out,
                unsigned char *mark)
{
    int n = 0;
    size_t jl = join ? strlen(join) : 0;
    for (size_t i = 0; i < ix->item->nfields; i++) {
        const zv_item_field *f = &ix->item->fields[i];
        if (!f->path || !f->value || !matches(s, ix, f->path, mark)) continue;
        if (mark) mark[i] = 1;
        if (!f->len) continue;
        if (n && !join) {
            if (!mark) break;
            continue;
        }
        if (n) zv_buf_append(out, join, jl);
        zv_buf_append(out, f->value, f->len);
        n++;
    }
    return n;
}
