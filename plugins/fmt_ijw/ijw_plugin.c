/*
 * iJw / iWmo 3.2 format ("ijw"): start (JW305 / WMO305) and stop (JW307 /
 * WMO307) of delivery, one client per message with 1..n products, and
 * declarations (JW323 / WMO323), to a gemeente.  Structure and rules:
 * README.md in this directory.
 */
#include "ijw.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zinvol/util.h>

/* The options as the core stores them (host->config()). */
typedef struct ijw_conf {
    int standard; /* 0 jw, 1 wmo */
    int variant;  /* ijw_variant */
    const char *gemeente, *agb, *code[IJW_NMSG], *schema_dir, *xsd_bericht, *xsd_basis;
    int stop_requires_start, pretty;
} ijw_conf;

#define AT(m) ZV_OPT_AT(ijw_conf, m)
static const zv_option options[] = {
    {.name = "standard",
     .type = ZV_OPT_ENUM,
     .def = "jw",
     .choices = "jw|wmo",
     AT(standard),
     .description = "iJw (JW305/JW307/JW323) or iWmo (WMO305/WMO307/WMO323)"},
    {.name = "variant",
     .type = ZV_OPT_ENUM,
     .def = "inspanningsgericht",
     .choices = "inspanningsgericht|outputgericht|taakgericht",
     AT(variant),
     .description =
         "execution variant agreed with the gemeente: `outputgericht` (ToewijzingNummer is the "
         "product key and is required) or `taakgericht` (Product + Begindatum is the key)"},
    {.name = "gemeente",
     .type = ZV_OPT_STRING,
     .min = 4,
     .max = 4,
     AT(gemeente),
     .description = "Ontvanger (4 digits); absent: `entitlement.funder` of each record"},
    {.name = "agb",
     .type = ZV_OPT_STRING,
     .min = 8,
     .max = 8,
     AT(agb),
     .description = "Afzender (8 digits); absent: the organisation's `agb`"},
    {.name = "bericht_code_305",
     .type = ZV_OPT_STRING,
     .min = 3,
     .max = 3,
     AT(code[IJW_START]),
     .description = "BerichtCode of the start; absent: 438 (jw), 418 (wmo)"},
    {.name = "bericht_code_307",
     .type = ZV_OPT_STRING,
     .min = 3,
     .max = 3,
     AT(code[IJW_STOP]),
     .description = "BerichtCode of the stop; absent: 440 (jw), 420 (wmo)"},
    {.name = "bericht_code_323",
     .type = ZV_OPT_STRING,
     .min = 3,
     .max = 3,
     AT(code[IJW_DECL]),
     .description = "BerichtCode of the declaration; absent: 490 (jw), 484 (wmo)"},
    {.name = "schema_dir",
     .type = ZV_OPT_PATH,
     AT(schema_dir),
     .description =
         "folder with the official XSDs of the standard (JW305.xsd, JW307.xsd, JW323.xsd and "
         "basisschema.xsd; WMO... for wmo) as downloaded from the iStandaarden site: every message "
         "is validated against them before it is queued; absent: datatype checks only"},
    {.name = "xsd_versie",
     .type = ZV_OPT_STRING,
     AT(xsd_bericht),
     .description = "XsdVersie in the header; absent: from the XSD in `schema_dir`, else `1.0.0`"},
    {.name = "basisschema_xsd_versie",
     .type = ZV_OPT_STRING,
     AT(xsd_basis),
     .description =
         "BasisschemaXsdVersie in the header; absent: from the XSD in `schema_dir`, else `1.0.0`"},
    {.name = "stop_requires_start",
     .type = ZV_OPT_BOOL,
     .def = "true",
     AT(stop_requires_start),
     .description =
         "`false` lets a stop through for deliveries started before zinvol kept history "
         "(migration); `true` rejects a stop for a product zinvol never started (TR069)"},
    {.name = "pretty",
     .type = ZV_OPT_BOOL,
     .def = "false",
     AT(pretty),
     .description = "indent the XML"},
};

/* Indexes are stored with staged records: append only (see ijw_message_index). */
static const zv_message_decl messages[] = {
    {"JW305", "ijw-305.json", "iJw 3.2 start jeugdhulp"},
    {"JW307", "ijw-307.json", "iJw 3.2 stop jeugdhulp"},
    {"WMO305", "iwmo-305.json", "iWmo 3.2 start Wmo-ondersteuning"},
    {"WMO307", "iwmo-307.json", "iWmo 3.2 stop Wmo-ondersteuning"},
    {"JW323", "ijw-323.json", "iJw 3.2 declaratie jeugdhulp"},
    {"WMO323", "iwmo-323.json", "iWmo 3.2 declaratie Wmo-ondersteuning"}};

int ijw_message_index(int wmo, ijw_msg m)
{
    return m == IJW_DECL ? 4 + wmo : 2 * wmo + (int)m;
}

int ijw_message_of(int index, int *wmo, ijw_msg *m)
{
    if (index < 0 || index > 5) return -1;
    *wmo = index >= 4 ? index - 4 : index >= 2;
    *m = index >= 4 ? IJW_DECL : (ijw_msg)(index & 1);
    return 0;
}

const char *ijw_msg_prefix(const ijw_fmt *f, ijw_msg m)
{
    static const char *const p[2][IJW_NMSG] = {{"jw305", "jw307", "jw323"},
                                               {"wmo305", "wmo307", "wmo323"}};
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
    const ijw_conf *c = f->host->config(f->ctx);
    f->wmo = c->standard;
    f->variant = (ijw_variant)c->variant;
    f->gemeente = c->gemeente;
    if (f->gemeente && strspn(f->gemeente, "0123456789") != 4) {
        snprintf(err, errlen, "option gemeente: expected a 4-digit gemeentecode");
        return -1;
    }
    f->afzender = c->agb ? c->agb : f->host->org(f->ctx, "agb");
    if (!f->afzender || !zv_agb_valid(f->afzender, strlen(f->afzender))) {
        snprintf(err, errlen, "Afzender: option agb or organisation.agb must be an 8-digit AGB");
        return -1;
    }
    static const char *const opt[IJW_NMSG] = {"bericht_code_305", "bericht_code_307",
                                              "bericht_code_323"};
    /* Defaults as the XSDs' BerichtCode patterns have them. */
    static const char *const def[2][IJW_NMSG] = {{"438", "440", "490"}, {"418", "420", "484"}};
    for (int m = 0; m < IJW_NMSG; m++) {
        snprintf(f->code[m], sizeof(f->code[0]), "%s", c->code[m] ? c->code[m] : def[f->wmo][m]);
        if (strspn(f->code[m], "0123456789") != 3) {
            snprintf(err, errlen, "option %s: expected 3 digits", opt[m]);
            return -1;
        }
    }
    f->schema_dir = c->schema_dir;
    f->xsd_bericht = c->xsd_bericht;
    f->xsd_basis = c->xsd_basis;
    f->pretty = c->pretty;
    f->stop_requires_start = c->stop_requires_start;
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
    if (ijw_schemas_load(f, err, errlen) != 0) goto fail;
    if (f->schema_dir)
        host->log(ctx, ZV_LOG_INFO, "%s: every message is validated against %s/%s, %s, %s",
                  f->wmo ? "iWmo" : "iJw", f->schema_dir, f->xsd[0].file, f->xsd[1].file,
                  f->xsd[2].file);
    f->state = ijw_state_open(dir, err, errlen);
    if (!f->state) goto fail;
    *state = f;
    return 0;
fail:
    ijw_schemas_free(f);
    free(f);
    return -1;
}

static void ijw_destroy(void *state)
{
    ijw_fmt *f = state;
    if (!f) return;
    ijw_state_close(f->state);
    ijw_schemas_free(f);
    free(f);
}

static int ijw_classify(void *state, const zv_record *rec)
{
    ijw_fmt *f = state;
    const char *law = zv_rec_str(rec, ZV_F_ENT_LAW);
    if (!law || strcmp(law, f->wmo ? "wmo" : "jw") != 0) return -1;
    if (rec->kind == ZV_KIND_DECLARATION) return ijw_message_index(f->wmo, IJW_DECL);
    if (rec->kind != ZV_KIND_DELIVERY) return -1;
    return ijw_message_index(f->wmo, zv_rec_get(rec, ZV_F_DEL_END) ? IJW_STOP : IJW_START);
}

static int render_cb(void *state, const zv_batch *b, zv_render_out *out)
{
    ijw_fmt *f = state;
    int wmo;
    ijw_msg m;
    if (ijw_message_of(b->message, &wmo, &m) != 0 || wmo != f->wmo) {
        f->host->log(f->ctx, ZV_LOG_ERROR, "batch %s: message %d is not one of this instance",
                     b->batch_id, b->message);
        return -1;
    }
    return m == IJW_DECL ? ijw_render_decl(f, b, out) : ijw_render(f, b, out);
}

static int interpret_cb(void *state, const zv_answer *a, zv_verdict_out *out)
{
    return ijw_interpret(state, a, out);
}

/* ABI 1.2: an instance sends the messages of its own standard only, so a
 * Jeugdwet destination's catalogue checks and audit rows leave WMO out. */
static int ijw_message_active(const zv_json *options, int message)
{
    const zv_json *v = options ? zv_json_get(options, "standard") : NULL;
    const char *std = v ? zv_json_str(v, NULL) : NULL;
    int wmo, want = std && strcmp(std, "wmo") == 0;
    ijw_msg m;
    return ijw_message_of(message, &wmo, &m) == 0 && wmo == want;
}

static const zv_format_ops format_ops = {
    ZV_SIZED(zv_format_ops), ZV_MESSAGES(messages),     .classify = ijw_classify,
    .render = render_cb,     .interpret = interpret_cb,
};

ZV_PLUGIN_DEFINE = {
    ZV_DESCRIPTOR_HEAD(ZV_PLUGIN_FORMAT, "ijw"),
    .version = "1.0.0",
    .description = "iJw / iWmo 3.2 start and stop of delivery (JW305/JW307, WMO305/WMO307) and "
                   "declarations (JW323, WMO323)",
    ZV_OPTIONS(options, ijw_conf),
    .create = ijw_create,
    .destroy = ijw_destroy,
    .format = &format_ops,
    .message_active = ijw_message_active,
    .field_renderable = ijw_field_renderable,
};
