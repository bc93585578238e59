/* Retour parsers (iWlz AW36/AW310, iJw/iWmo JW306/JW308/WMO306/WMO308):
 * funders' answers arrive as files or HTTP bodies.  The harness builds the
 * real runtime once from a small config (the real format plugins, loaded as
 * zinvold loads them) and hands every input to each format's interpret(),
 * exactly as zinvolctl retour and the delivery engine do. */
#include <event2/event.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/runtime.h"
#include "core/runtime_int.h"
#include "delivery/delivery.h"

static zv_runtime *rt;

static zv_runtime *build(void)
{
    const char *plugins = getenv("ZV_PLUGIN_DIR");
    char dir[] = "/tmp/zv-fuzz-retour-XXXXXX";
    if (!plugins || !mkdtemp(dir)) {
        fprintf(stderr, "fuzz_retour: set ZV_PLUGIN_DIR to the built plugins\n");
        abort();
    }
    /* The iWlz schemas from the source tree, not the install prefix: a
     * bundled release directory where the plugin has one, else its XSDs. */
    const char *src = getenv("ZV_SOURCE_DIR") ? getenv("ZV_SOURCE_DIR") : ".";
    char iwlz_opts[4200], probe[4096];
    snprintf(probe, sizeof probe, "%s/plugins/fmt_iwlz/releases/2.2", src);
    if (access(probe, R_OK) == 0) {
        snprintf(iwlz_opts, sizeof iwlz_opts, "{\"release_dir\": \"%s\"}", probe);
    } else {
        snprintf(probe, sizeof probe, "%s/plugins/fmt_iwlz/schemas", src);
        snprintf(iwlz_opts, sizeof iwlz_opts, "{\"schema_dir\": \"%s\"}", probe);
    }
    char conf[128];
    snprintf(conf, sizeof conf, "%s/z.conf", dir);
    FILE *f = fopen(conf, "w");
    fprintf(f,
            "{\"state_dir\": \"%s/state\", \"plugin_dir\": \"%s\", \"catalogue_dir\": \"%s/conf/"
            "catalogue\", \"organisation\": {\"agb\": \"12345678\", \"name\": \"Fuzz\"},"
            "\"sources\": [], \"destinations\": ["
            "{\"name\": \"zk\", \"format\": \"iwlz\", \"transport\": \"filedrop\","
            " \"format_options\": %s, \"transport_options\": {\"dir\": \"%s\"}},"
            "{\"name\": \"jw\", \"format\": \"ijw\", \"transport\": \"filedrop\","
            " \"format_options\": {\"standard\": \"jw\", \"gemeente\": \"0363\"},"
            " \"transport_options\": {\"dir\": \"%s\"}},"
            "{\"name\": \"wmo\", \"format\": \"ijw\", \"transport\": \"filedrop\","
            " \"format_options\": {\"standard\": \"wmo\", \"gemeente\": \"0363\"},"
            " \"transport_options\": {\"dir\": \"%s\"}}]}\n",
            dir, plugins, src, iwlz_opts, dir, dir, dir);
    fclose(f);
    zv_errors errs;
    zv_errors_init(&errs);
    zv_config *cfg = zv_config_load(conf, NULL, &errs);
    struct event_base *base = event_base_new();
    zv_runtime *r = cfg ? zv_runtime_build(cfg, base, ZV_RT_CHECK, &errs) : NULL;
    for (size_t i = 0; i < errs.n; i++)
        fprintf(stderr, "fuzz_retour: %s\n", errs.lines[i]);
    zv_errors_free(&errs);
    if (!r)
        abort();
    return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!rt) {
        rt = build();
        /* the formats log every refused answer; ZV_FUZZ_LOG=1 shows them */
        if (!getenv("ZV_FUZZ_LOG")) zv_log_set_level((zv_log_level)-1);
    }
    zv_answer a = {ZV_SIZED(zv_answer), .status = 0, .body = (const char *)data, .len = size};
    for (size_t i = 0; i < rt->ndests; i++) {
        const zv_instance *fmt = &rt->dests[i].fmt;
        zv_verdict_out v;
        zv_verdict_out_init(&v);
        fmt->desc->format->interpret(fmt->state, &a, &v);
        for (size_t k = 0; k < v.n; k++)
            if (!v.v[k].record_key)
                abort(); /* a verdict must name its record */
        zv_verdict_out_free(&v);
    }
    return 0;
}
