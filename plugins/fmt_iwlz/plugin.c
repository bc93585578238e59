/* iWlz 2.2 format plugin: descriptor, options, create/destroy, classify. */
#include "iwlz.h"

#include <zinvol/util.h>

#include <libxml/parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef ZV_IWLZ_SCHEMA_DIR
#define ZV_IWLZ_SCHEMA_DIR "/usr/share/zinvol/schemas/iwlz-2.2"
#endif

static const zv_option options[] = {
    {"schema_dir", ZV_OPT_STRING, ZV_IWLZ_SCHEMA_DIR, ZV_OPT_PATH,
     "Folder with the official iWlz 2.2 XSDs (AW35, AW36, AW39, AW310, basisschema)"},
    {"afzender", ZV_OPT_STRING, NULL, 0,
     "Header Afzender (8-digit iWlz contract AGB); default: organisation.agb"},
    {"zorgkantoor", ZV_OPT_STRING, NULL, 0,
     "Header Ontvanger (4-digit zorgkantoor code); default: entitlement.funder per record"},
    {NULL, 0, NULL, 0, NULL}};

static const zv_message_decl messages[] = {
    {"AW35", "iwlz-aw35.json", "Aanvang zorglevering (iWlz 2.2)"},
    {"AW39", "iwlz-aw39.json", "Mutaties zorglevering, einde zorg (iWlz 2.2)"},
    {NULL, NULL, NULL}};

static void destroy(void *state)
{
    iwlz_state *st = state;
    if (!st) return;
    iwlz_schema_free(&st->aw35);
    iwlz_schema_free(&st->aw39);
    iwlz_schema_free(&st->aw36);
    iwlz_schema_free(&st->aw310);
    iwlz_codes_free(st);
    free(st->afzender);
    free(st->zorgkantoor);
    free(st);
}

static int load_all(iwlz_state *st, const char *dir, char *err, size_t errlen)
{
    if (iwlz_schema_load(&st->aw35, dir, "AW35.xsd", err, errlen) < 0 ||
        iwlz_schema_load(&st->aw39, dir, "AW39.xsd", err, errlen) < 0 ||
        iwlz_schema_load(&st->aw36, dir, "AW36.xsd", err, errlen) < 0 ||
        iwlz_schema_load(&st->aw310, dir, "AW310.xsd", err, errlen) < 0)
        return -1;
    return iwlz_codes_load(st, dir, err, errlen);
}

static int create(zv_ctx *ctx, const zv_host *host, void **state, char *err, size_t errlen)
{
    xmlInitParser();
    iwlz_state *st = calloc(1, sizeof(*st));
    if (!st) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    st->ctx = ctx;
    st->host = host;
    const char *dir = host->cfg_str(ctx, "schema_dir");
    const char *afz = host->cfg_str(ctx, "afzender");
    const char *zk = host->cfg_str(ctx, "zorgkantoor");
    if (afz && !zv_agb_valid(afz, strlen(afz))) {
        snprintf(err, errlen, "option afzender: '%s' is not an 8-digit AGB code", afz);
        goto fail;
    }
    if (zk && (strlen(zk) != 4 || strspn(zk, "0123456789") != 4)) {
        snprintf(err, errlen, "option zorgkantoor: '%s' is not a 4-digit zorgkantoor code", zk);
        goto fail;
    }
    st->afzender = zv_strdup0(afz);
    st->zorgkantoor = zv_strdup0(zk);
    if ((afz && !st->afzender) || (zk && !st->zorgkantoor)) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if (!dir) dir = ZV_IWLZ_SCHEMA_DIR;
    if (load_all(st, dir, err, errlen) < 0) goto fail;
    host->log(ctx, ZV_LOG_INFO,
              "iwlz: schemas from %s (AW35 %s, AW39 %s, basisschema %s), %zu retourcodes", dir,
              st->aw35.bericht_versie, st->aw39.bericht_versie, st->aw35.basis_versie, st->ncodes);
    *state = st;
    return 0;
fail:
    destroy(st);
    return -1;
}

static int classify(void *state, const zv_record *rec)
{
    (void)state;
    const char *law = zv_rec_str(rec, ZV_F_ENT_LAW);
    if (rec->kind != ZV_KIND_DELIVERY || !law || strcmp(law, "wlz") != 0) return -1;
    if (zv_rec_get(rec, ZV_F_DEL_END) || zv_rec_get(rec, ZV_F_DEL_MUTATION_CODE)) return IWLZ_AW39;
    return IWLZ_AW35;
}

static int render(void *state, const zv_batch *batch, zv_render_out *out)
{
    if (batch->message != IWLZ_AW35 && batch->message != IWLZ_AW39) return -1;
    return iwlz_render(state, batch, out);
}

static int interpret(void *state, const zv_answer *answer, zv_verdict_out *out)
{
    return iwlz_interpret(state, answer, out);
}

static const zv_format_ops format_ops = {
    .messages = messages, .classify = classify, .render = render, .interpret = interpret};

ZV_PLUGIN_DEFINE = {
    ZV_DESCRIPTOR_HEAD(ZV_PLUGIN_FORMAT, "iwlz"),
    .version = "0.1.0",
    .description = "iWlz 2.2 AW35/AW39 to the zorgkantoor, AW36/AW310 retour",
    .options = options,
    .create = create,
    .destroy = destroy,
    .format = &format_ops,
};
