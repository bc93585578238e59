/*
 * The filedrop source's options: the table the host validates, and reading
 * them into an fd_src - shared by the plugin and zinvold --dry-run, so a
 * dry run reads a sample exactly as the source would.
 */
#include "filedrop.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

const zv_option fd_options[] = {
    {"directory", ZV_OPT_STRING, NULL, ZV_OPT_REQUIRED | ZV_OPT_PATH,
     "Directory the ECD drops its exports in; done/ and rejected/ are created inside"},
    {"delimiter", ZV_OPT_STRING, ",", 0, "CSV field delimiter: one character, or \"tab\""},
    {"encoding", ZV_OPT_STRING, "utf-8", 0, "CSV encoding: utf-8 or windows-1252"},
    {"settle", ZV_OPT_STRING, "2s", 0,
     "A file is complete once it has not been written to for this long"},
    {"settle_wait", ZV_OPT_STRING, "10m", 0,
     "--once: how long to wait for files that are still being written"},
    {"batch_rows", ZV_OPT_INT, "500", 0, "Records per commit (and per turn of the loop)"},
    {"item_type", ZV_OPT_STRING, NULL, 0,
     "Item type for the mapping's \"when\"; default: the file name up to the first _ - or ."},
    {"max_file_size", ZV_OPT_INT, "4294967296", 0, "Largest file read at all (bytes)"},
    {"max_json_size", ZV_OPT_INT, "67108864", 0, "Largest .json file read as one document"},
    {"max_json_depth", ZV_OPT_INT, "32", 0, "Deepest nesting of a JSON record (at most 64)"},
    {"max_line_length", ZV_OPT_INT, "1048576", 0,
     "Longest CSV row or JSON line (bytes); a CSV row with quoted line breaks counts as one"},
    {"max_columns", ZV_OPT_INT, "2000", 0, "Most columns a CSV header may have"},
    {"done_retention", ZV_OPT_STRING, NULL, 0,
     "Processed files in done/ are removed after this; default: the daemon's retention"},
    {NULL, 0, NULL, 0, NULL}};

/* The resource bounds: every one positive; retention from done_retention,
 * else the daemon's own (host org "retention", in seconds). */
static int read_bounds(fd_src *s, char *err, size_t errlen)
{
    static const char *const names[] = {"max_file_size", "max_json_size", "max_json_depth",
                                        "max_line_length", "max_columns"};
    int64_t *vals[] = {&s->max_file, &s->max_json, &s->max_json_depth, &s->max_line,
                       &s->max_columns};
    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
        *vals[i] = s->host->cfg_int(s->ctx, names[i]);
        if (*vals[i] < 1) {
            snprintf(err, errlen, "%s: at least 1", names[i]);
            return -1;
        }
    }
    if (s->max_json_depth > 64) {
        snprintf(err, errlen, "max_json_depth: at most 64");
        return -1;
    }
    const char *ret = s->host->cfg_str(s->ctx, "done_retention");
    const char *org = ret ? NULL : s->host->org(s->ctx, "retention");
    s->retention_s = ret ? zv_duration_parse(ret) : org ? zv_duration_parse(org) : 30 * 86400;
    if (s->retention_s < 0) {
        snprintf(err, errlen, "done_retention: a duration such as \"30d\"");
        return -1;
    }
    return 0;
}

int fd_read_options(fd_src *s, char *err, size_t errlen)
{
    const zv_host *host = s->host;
    zv_ctx *ctx = s->ctx;
    const char *d = host->cfg_str(ctx, "delimiter");
    const char *enc = host->cfg_str(ctx, "encoding");
    s->settle_s = zv_duration_parse(host->cfg_str(ctx, "settle"));
    s->settle_wait_s = zv_duration_parse(host->cfg_str(ctx, "settle_wait"));
    s->batch = host->cfg_int(ctx, "batch_rows");
    s->item_type = zv_strdup0(host->cfg_str(ctx, "item_type"));
    if (read_bounds(s, err, errlen) < 0) return -1;
    if (d && strcmp(d, "tab") == 0) d = "\t";
    if (!d || strlen(d) != 1 || d[0] == '"' || d[0] == '\n') {
        snprintf(err, errlen, "delimiter: one character (not a quote or newline), or \"tab\"");
        return -1;
    }
    s->delim = d[0];
    if (enc && (strcasecmp(enc, "windows-1252") == 0 || strcasecmp(enc, "cp1252") == 0))
        s->cp1252 = 1;
    else if (!enc || (strcasecmp(enc, "utf-8") != 0 && strcasecmp(enc, "utf8") != 0)) {
        snprintf(err, errlen, "encoding: utf-8 or windows-1252, not '%s'", enc ? enc : "");
        return -1;
    }
    if (s->settle_s < 0 || s->settle_wait_s < 0) {
        snprintf(err, errlen, "%s: a duration such as \"2s\"",
                 s->settle_s < 0 ? "settle" : "settle_wait");
        return -1;
    }
    if (s->batch < 1) {
        snprintf(err, errlen, "batch_rows: at least 1");
        return -1;
    }
    return 0;
}

void fd_default_options(fd_src *s)
{
    struct {
        const char *name;
        int64_t *v;
    } nums[] = {{"batch_rows", &s->batch},         {"max_file_size", &s->max_file},
                {"max_json_size", &s->max_json},   {"max_json_depth", &s->max_json_depth},
                {"max_line_length", &s->max_line}, {"max_columns", &s->max_columns}};
    for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++)
        for (const zv_option *o = fd_options; o->name; o++)
            if (strcmp(o->name, nums[i].name) == 0) *nums[i].v = strtoll(o->def, NULL, 10);
    s->delim = ',';
    s->settle_s = 2;
}
