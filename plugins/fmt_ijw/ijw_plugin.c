/*
 * iJw / iWmo 3.2 format ("ijw"): start (JW305 / WMO305) and stop (JW307 /
 * WMO307) of delivery, to a gemeente.  One client per message, 1..n
 * products.  Structure and rules: README.md in this directory.
 */
#include "ijw.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zinvol/util.h>

static const zv_option options[] = {
    {"standard", ZV_OPT_STRING, "jw", 0,
     "\"jw\" (iJw: JW305/JW307) or \"wmo\" (iWmo: WMO305/WMO307)"},
    {"variant", ZV_OPT_STRING, "inspanningsgericht", 0,
     "Execution variant agreed with the gemeente: \"inspanningsgericht\", \"outputgericht\" "
     "(ToewijzingNummer identifies the product) or \"taakgericht\" (Product + Begindatum)"},
    {"gemeente", ZV_OPT_STRING, NULL, 0,
     "Ontvanger (4-digit gemeentecode); absent: entitlement.funder of each record"},
    {"agb", ZV_OPT_STRING, NULL, 0, "Afzender (8-digit AGB); absent: the organisation's agb"},
    {"bericht_code_305", ZV_OPT_STRING, NULL, 0,
     "BerichtCode of the start message; absent: 438 (JW305) or 418 (WMO305)"},
    {"bericht_code_307", ZV_OPT_STRING, NULL, 0,
     "BerichtCode of the stop message; absent: 440 (JW307) or 420 (WMO307)"},
    {"xsd_versie", ZV_OPT_STRING, "1.0.0", 0, "BerichtXsdVersie in the header"},
    {"basisschema_xsd_versie", ZV_OPT_STRING, "1.0.0", 0, "BasisschemaXsdVersie in the header"},
    {"stop_requires_start", ZV_OPT_BOOL, "true", 0,
     "Reject a stop for a product zinvol never started (TR069); false while migrating "
     "deliveries started before zinvol"},
    {"pretty", ZV_OPT_BOOL, "false", 0, "Indent the XML"},
    {NULL, 0, NULL, 0, NULL}};

/* Index = (wmo ? 2 : 0) + ijw_msg. */
static const zv_message_decl messages[] = {
    {"JW305", "ijw-305.json", "iJw 3.2 start jeugdhulp"},
    {"JW307", "ijw-307.json", "iJw 3.2 stop jeugdhulp"},
    {"WMO305", "iwmo-305.json", "iWmo 3.2 start Wmo-ondersteuning"},
    {"WMO307", "iwmo-307.json", "iWmo 3.2 stop Wmo-ondersteuning"},
    {NULL, NULL, NULL}};

const char *ijw_msg_prefix(const ijw_fmt *f, ijw_msg m)
{
    static const char *const p[2][2] = {{"jw305", "jw307"}, {"wmo305", "wmo307"}};
    return p[f->wmo][m];
}

const char *ijw_base_prefix(const ijw_fmt *f)
{
    return f->wmo ? "iwmo" : "ijw";
}

void ijw_msg_ns(const ijw_fmt *f, ijw_msg m, char *out, size_t outlen)
{
    snprintf(out, outlen, "http://www.istandaarden.nl/%s/3_2/%s/schema", ijw_base_prefix(f),
             ijw_msg_prefix(f, m));
}

void ijw_base_ns(const ijw_fmt *f, char *out, size_t outlen)
{
    snprintf(out, outlen, "http://www.istandaarden.nl/%s/3_2/basisschema/schema",
             ijw_base_prefix(f));
}

static int parse_options(ijw_fmt *f, char *err, size_t errlen)
{
    const zv_host *h = f->host;
    const char *std = h->cfg_str(f->ctx, "standard");
    const char *var = h->cfg_str(f->ctx, "variant");
    if (!std || (strcmp(std, "jw") && strcmp(std, "wmo"))) {
        snprintf(err, errlen, "option standard: expected \"jw\" or \"wmo\", got \"%s\"",
                 std ? std : "");
        return -1;
    }
    f->wmo = strcmp(std, "wmo") == 0;
    if (var && strcmp(var, "inspanningsgericht") == 0)
        f->variant = IJW_INSPANNING;
    else if (var && strcmp(var, "outputgericht") == 0)
        f->variant = IJW_OUTPUT;
    else if (var && strcmp(var, "taakgericht") == 0)
        f->variant = IJW_TAAK;
    else {
        snprintf(err, errlen,
                 "option variant: expected inspanningsgericht, outputgericht or taakgericht, "
                 "got \"%s\"",
                 var ? var : "");
        return -1;
    }
    f->gemeente = h->cfg_str(f->ctx, "gemeente");
    if (f->gemeente && (strlen(f->gemeente) != 4 || strspn(f->gemeente, "0123456789") != 4)) {
        snprintf(err, errlen, "option gemeente: expected a 4-digit gemeentecode");
        return -1;
    }
    f->afzender = h->cfg_str(f->ctx, "agb");
    if (!f->afzender) f->afzender = h->org(f->ctx, "agb");
    if (!f->afzender || !zv_agb_valid(f->afzender, strlen(f->afzender))) {
        snprintf(err, errlen, "Afzender: option agb or organisation.agb must be an 8-digit AGB");
        return -1;
    }
    const char *c5 = h->cfg_str(f->ctx, "bericht_code_305");
    const char *c7 = h->cfg_str(f->ctx, "bericht_code_307");
    snprintf(f->code[IJW_START], sizeof(f->code[0]), "%s", c5 ? c5 : f->wmo ? "418" : "438");
    snprintf(f->code[IJW_STOP], sizeof(f->code[0]), "%s", c7 ? c7 : f->wmo ? "420" : "440");
    for (int m = 0; m < 2; m++)
        if (strlen(f->code[m]) != 3 || strspn(f->code[m], "0123456789") != 3) {
            snprintf(err, errlen, "option bericht_code_%s: expected 3 digits", m ? "307" : "305");
            return -1;
        }
    f->xsd_bericht = h->cfg_str(f->ctx, "xsd_versie");
    f->xsd_basis = h->cfg_str(f->ctx, "basisschema_xsd_versie");
    f->pretty = h->cfg_bool(f->ctx, "pretty");
    f->stop_requires_start = h->cfg_bool(f->ctx, "stop_requires_start");
    return 0;
}

static int ijw_create(zv_ctx *ctx, const zv_host *host, void **state, char *err, size_t errlen)
{
    ijw_fmt *f = calloc(1, sizeof(*f));
    if (!f) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    f->ctx = ctx;
    f->host = host;
    if (parse_options(f, err, errlen) != 0) goto fail;
    const char *dir = host->state_dir(ctx);
    if (!dir) {
        snprintf(err, errlen, "no state directory for the started-products store");
        goto fail;
    }
    f->state = ijw_state_open(dir, err, errlen);
    if (!f->state) goto fail;
    *state = f;
    return 0;
fail:
    free(f);
    return -1;
}

static void ijw_destroy(void *state)
{
    ijw_fmt *f = state;
    if (!f) return;
    ijw_state_close(f->state);
    free(f);
}

static int ijw_classify(void *state, const zv_record *rec)
{
    ijw_fmt *f = state;
    const char *law = zv_rec_str(rec, ZV_F_ENT_LAW);
    if (rec->kind != ZV_KIND_DELIVERY || !law || strcmp(law, f->wmo ? "wmo" : "jw") != 0) return -1;
    return (f->wmo ? 2 : 0) + (zv_rec_get(rec, ZV_F_DEL_END) ? IJW_STOP : IJW_START);
}

static int render_cb(void *state, const zv_batch *b, zv_render_out *out)
{
    return ijw_render(state, b, out);
}

static int interpret_cb(void *state, const zv_answer *a, zv_verdict_out *out)
{
    return ijw_interpret(state, a, out);
}

static const zv_format_ops format_ops = {
    .messages = messages,
    .classify = ijw_classify,
    .render = render_cb,
    .interpret = interpret_cb,
};

ZV_PLUGIN_DEFINE = {
    ZV_DESCRIPTOR_HEAD(ZV_PLUGIN_FORMAT, "ijw"),
    .version = "1.0.0",
    .description = "iJw / iWmo 3.2 start and stop of delivery (JW305/JW307, WMO305/WMO307)",
    .options = options,
    .create = ijw_create,
    .destroy = ijw_destroy,
    .format = &format_ops,
};
