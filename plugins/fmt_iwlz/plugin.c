/* iWlz 2.2 format plugin: descriptor, options, create/destroy, classify. */
#include "iwlz.h"

#include <zinvol/util.h>

#include <dlfcn.h>
#include <libgen.h>
#include <libxml/parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifndef ZV_IWLZ_RELEASES_DIR
#define ZV_IWLZ_RELEASES_DIR "/usr/share/zinvol/iwlz/releases"
#endif
/* The releases folder seen from the installed plugin (lib/zinvol/plugins),
 * so that an install under another prefix finds its own copy. */
#define IWLZ_RELEASES_FROM_PLUGIN "../../../share/zinvol/iwlz/releases"

/* The options as the core stores them (host->config()). */
typedef struct iwlz_conf {
    const char *release, *release_dir, *schema_dir, *afzender, *zorgkantoor;
    int own_rules;
    int prune_rules;
} iwlz_conf;

#define AT(m) ZV_OPT_AT(iwlz_conf, m)
static const zv_option options[] = {
    {.name = "release",
     .type = ZV_OPT_STRING,
     .def = "2.2",
     .min = 1,
     AT(release),
     .description =
         "bundled iStandaarden release: the folder `share/zinvol/iwlz/releases/<release>` next to "
         "the installed plugin (or under the prefix it was built for)"},
    {.name = "release_dir",
     .type = ZV_OPT_PATH,
     .min = 1,
     AT(release_dir),
     .description = "a release directory you supply (see \"Releases\" below); overrides `release`"},
    {.name = "schema_dir",
     .type = ZV_OPT_PATH,
     .min = 1,
     AT(schema_dir),
     .description = "legacy: take the message XSDs (same file names) from this folder instead of "
                    "the release's own copies"},
    {.name = "afzender",
     .type = ZV_OPT_STRING,
     AT(afzender),
     .description = "header `Afzender`: the 8-digit iWlz contract AGB; absent: `organisation.agb`"},
    {.name = "zorgkantoor",
     .type = ZV_OPT_STRING,
     AT(zorgkantoor),
     .description = "header `Ontvanger`: 4-digit zorgkantoor code; absent: `entitlement.funder` of "
                    "each record"},
    {.name = "own_rules",
     .type = ZV_OPT_BOOL,
     .def = "true",
     AT(own_rules),
     .description = "check zinvol's own record-level rules (table below) before the official rule "
                    "set; `false` leaves the verdict to the official set alone"},
    {.name = "prune_rules",
     .type = ZV_OPT_BOOL,
     .def = "true",
     AT(prune_rules),
     .description = "compile the official rule set without the templates that can only match "
                    "elements of other messages' namespaces (same verdicts, faster; see "
                    "\"Speed\" below); `false` compiles every template"},
};

static const zv_message_decl messages[] = {
    {"AW35", "iwlz-aw35.json", "Aanvang zorglevering (iWlz 2.2)"},
    {"AW39", "iwlz-aw39.json", "Mutaties zorglevering, einde zorg (iWlz 2.2)"}};

static void destroy(void *state)
{
    iwlz_state *st = state;
    if (!st) return;
    iwlz_schema_free(&st->aw35);
    iwlz_schema_free(&st->aw39);
    iwlz_schema_free(&st->aw36);
    iwlz_schema_free(&st->aw310);
    iwlz_rules_release(st->rules[0]);
    iwlz_rules_release(st->rules[1]);
    iwlz_codes_free(st);
    free(st->afzender);
    free(st->zorgkantoor);
    free(st);
}

static int is_dir(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* The directory of a bundled release: in a build tree, the link next to the
 * plugin; installed, share/ of the plugin's own prefix; last, share/ of the
 * prefix the plugin was built for. */
static int find_release(const char *name, char *dir, size_t len, char *err, size_t errlen)
{
    if (!name[0] || strchr(name, '/') || strstr(name, "..")) {
        snprintf(err, errlen, "option release: '%s' is not a release name (e.g. \"2.2\")", name);
        return -1;
    }
    Dl_info info;
    if (dladdr((void *)find_release, &info) && info.dli_fname) {
        char so[IWLZ_PATH_MAX];
        snprintf(so, sizeof(so), "%s", info.dli_fname);
        char *sodir = dirname(so);
        /* A build tree links the source's releases next to the plugins. */
        snprintf(dir, len, "%s/iwlz-releases/%s", sodir, name);
        if (is_dir(dir)) return 0;
        snprintf(dir, len, "%s/%s/%s", sodir, IWLZ_RELEASES_FROM_PLUGIN, name);
        if (is_dir(dir)) return 0;
    }
    snprintf(dir, len, "%s/%s", ZV_IWLZ_RELEASES_DIR, name);
    if (is_dir(dir)) return 0;
    snprintf(err, errlen,
             "option release: no bundled release '%s' (looked in %s); use release_dir for a "
             "release you supply",
             name, ZV_IWLZ_RELEASES_DIR);
    return -1;
}

static const char *base(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static int load_all(iwlz_state *st, const char *dir, const char *xsd_dir, int prune, char *err,
                    size_t errlen)
{
    if (iwlz_release_load(&st->rel, dir, xsd_dir, err, errlen) < 0) return -1;
    iwlz_schema *s[IWLZ_NMSG] = {&st->aw35, &st->aw39, &st->aw36, &st->aw310};
    for (int k = 0; k < IWLZ_NMSG; k++) {
        const char *x = st->rel.msg[k].xsd;
        if (iwlz_schema_load(s[k], x, base(x), err, errlen) < 0) return -1;
    }
    for (int k = IWLZ_AW35; k <= IWLZ_AW39; k++) {
        int compiled;
        size_t pruned = 0;
        iwlz_ns_set only = {0};
        /* Not closed (xs:any): the rule set is compiled whole. */
        if (prune && iwlz_closed_namespaces(st->rel.msg[k].xsd, &only) < 0)
            st->host->log(st->ctx, ZV_LOG_INFO,
                          "iwlz: %s admits elements of any namespace: the official rule set is "
                          "compiled with every template",
                          base(st->rel.msg[k].xsd));
        st->rules[k] =
            iwlz_rules_acquire(st->rel.msg[k].xslt, &only, &compiled, &pruned, err, errlen);
        if (!st->rules[k]) return -1;
        st->host->log(st->ctx, ZV_LOG_DEBUG,
                      "iwlz: official rule set %s %s, %zu templates for other messages left out, "
                      "%zu given the element names of the XSD",
                      st->rel.msg[k].xslt, compiled ? "compiled" : "shared with another instance",
                      pruned, iwlz_rules_rewritten(st->rules[k]));
    }
    return iwlz_codes_load(st, st->rel.code_lists, err, errlen);
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
    const iwlz_conf *c = host->config(ctx);
    const char *rel_dir = c->release_dir;
    const char *rel_name = c->release;
    const char *xsd_dir = c->schema_dir;
    char dir[IWLZ_PATH_MAX];
    const char *afz = c->afzender;
    const char *zk = c->zorgkantoor;
    if (afz && !zv_agb_valid(afz, strlen(afz))) {
        snprintf(err, errlen, "option afzender: '%s' is not an 8-digit AGB code", afz);
        goto fail;
    }
    if (zk && (strlen(zk) != 4 || strspn(zk, "0123456789") != 4)) {
        snprintf(err, errlen, "option zorgkantoor: '%s' is not a 4-digit zorgkantoor code", zk);
        goto fail;
    }
    st->own_rules = c->own_rules;
    st->afzender = zv_strdup0(afz);
    st->zorgkantoor = zv_strdup0(zk);
    if ((afz && !st->afzender) || (zk && !st->zorgkantoor)) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if (rel_dir)
        snprintf(dir, sizeof(dir), "%s", rel_dir);
    else if (find_release(rel_name ? rel_name : "2.2", dir, sizeof(dir), err, errlen) < 0)
        goto fail;
    if (load_all(st, dir, xsd_dir, c->prune_rules, err, errlen) < 0) goto fail;
    host->log(ctx, ZV_LOG_INFO,
              "iwlz: release %s from %s (AW35 %s, AW39 %s, basisschema %s, official rules %s), "
              "%zu retourcodes",
              st->rel.name, dir, st->aw35.bericht_versie, st->aw39.bericht_versie,
              st->aw35.basis_versie, base(st->rel.msg[IWLZ_AW39].xslt), st->ncodes);
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
    if (zv_rec_get(rec, ZV_F_DEL_END) || zv_rec_get(rec, ZV_F_DEL_MUTATION_CODE) ||
        zv_rec_get(rec, ZV_F_DEL_REQUEST_KIND))
        return IWLZ_AW39;
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

static const zv_format_ops format_ops = {ZV_SIZED(zv_format_ops), ZV_MESSAGES(messages),
                                         .classify = classify, .render = render,
                                         .interpret = interpret};

ZV_PLUGIN_DEFINE = {
    ZV_DESCRIPTOR_HEAD(ZV_PLUGIN_FORMAT, "iwlz"),
    .version = "0.1.0",
    .description = "iWlz 2.2 AW35/AW39 to the zorgkantoor, AW36/AW310 retour",
    ZV_OPTIONS(options, iwlz_conf),
    .create = create,
    .destroy = destroy,
    .format = &format_ops,
    .field_renderable = iwlz_field_renderable,
};
