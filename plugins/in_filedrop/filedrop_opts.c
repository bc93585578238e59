/*
 * The filedrop source's options: the table the host validates, and reading
 * them into an fd_src - shared by the plugin and zinvold --dry-run, so a
 * dry run reads a sample exactly as the source would.
 */
#include "filedrop.h"

#include <stdlib.h>
#include <string.h>
#include <zinvol/optmap.h>

#define AT(m) ZV_OPT_AT(fd_conf, m)

const zv_option fd_options[] = {
    {.name = "directory",
     .type = ZV_OPT_PATH,
     .flags = ZV_OPT_REQUIRED,
     .min = 1,
     AT(directory),
     .description =
         "watched with inotify; made when the source starts if missing (`--check-config` only "
         "reports it); `done/` and `rejected/` are created inside"},
    {.name = "delimiter",
     .type = ZV_OPT_STRING,
     .def = ",",
     .min = 1,
     .max = 3,
     AT(delimiter),
     .description = "CSV field delimiter: one character (not a quote or newline), or `tab`"},
    {.name = "encoding",
     .type = ZV_OPT_ENUM,
     .def = "utf-8",
     .choices = "utf-8|windows-1252|utf8|cp1252",
     AT(encoding),
     .description = "CSV only: `utf-8` or `windows-1252` (converted to UTF-8); `utf8` and `cp1252` "
                    "are other names for them"},
    {.name = "settle",
     .type = ZV_OPT_DURATION,
     .def = "2s",
     .flags = ZV_OPT_SECONDS,
     AT(settle_s),
     .description = "a file is taken once it has not been written to for this long"},
    {.name = "settle_wait",
     .type = ZV_OPT_DURATION,
     .def = "10m",
     .flags = ZV_OPT_SECONDS,
     AT(settle_wait_s),
     .description =
         "`--once`: how long to wait for files still being written before reporting done"},
    {.name = "batch_rows",
     .type = ZV_OPT_INT,
     .def = "200",
     .min = 1,
     .max = 1000000,
     AT(batch_rows),
     .description = "records per commit and per callback on the loop (the next batch is read "
                    "once the last one is durable; the loop serves everything else meanwhile)"},
    {.name = "step_time",
     .type = ZV_OPT_DURATION,
     .def = "20ms",
     .min = 0,
     .max = 10000,
     AT(step_time_ms),
     .description = "a callback on the loop ends after the record that passes this much time, "
                    "even before `batch_rows` (0: one record per step), so that one step stays "
                    "short on a slow or busy machine"},
    {.name = "item_type",
     .type = ZV_OPT_STRING,
     AT(item_type),
     .description =
         "for the mapping's `when.type`; absent: the file name up to the first `_`, `-` or `.`"},
    {.name = "max_file_size",
     .type = ZV_OPT_SIZE,
     .def = "4GiB",
     .min = 1,
     AT(max_file_size),
     .description = "any file; over it the file is rejected"},
    {.name = "max_json_size",
     .type = ZV_OPT_SIZE,
     .def = "64MiB",
     .min = 1,
     AT(max_json_size),
     .description =
         "a `.json` file, read and parsed as one document (its tree takes several times this in "
         "memory: export JSON lines for larger sets); over it the file is rejected"},
    {.name = "max_json_depth",
     .type = ZV_OPT_INT,
     .def = "32",
     .min = 1,
     .max = 64,
     AT(max_json_depth),
     .description = "nesting of one JSON record; deeper: that record is quarantined"},
    {.name = "max_line_length",
     .type = ZV_OPT_SIZE,
     .def = "1MiB",
     .min = 1,
     AT(max_line_length),
     .description = "a CSV row (quoted line breaks included) or a JSON line, the most memory a "
                    "line takes; CSV: the file is rejected (checked before the first row); JSON "
                    "lines: that line is quarantined, its first 4 KiB kept"},
    {.name = "max_columns",
     .type = ZV_OPT_INT,
     .def = "2000",
     .min = 1,
     AT(max_columns),
     .description =
         "columns in a CSV header (duplicates are found in one pass); more: the file is rejected"},
    {.name = "done_retention",
     .type = ZV_OPT_DURATION,
     .flags = ZV_OPT_SECONDS,
     .min = 1000,
     AT(done_retention_s),
     .description = "processed files in `done/` are removed this long after they were moved there; "
                    "absent: the daemon's `retention`"},
};
_Static_assert(sizeof(fd_options) / sizeof(fd_options[0]) == FD_NOPTIONS, "FD_NOPTIONS");

/* Copy the values the core checked (c) into s. */
static void take(fd_src *s, const fd_conf *c)
{
    s->settle_s = c->settle_s;
    s->settle_wait_s = c->settle_wait_s;
    s->batch = c->batch_rows;
    s->step_ns = c->step_time_ms * 1000000;
    s->cp1252 = c->encoding == 1 || c->encoding == 3;
    s->max_file = c->max_file_size;
    s->max_json = c->max_json_size;
    s->max_json_depth = c->max_json_depth;
    s->max_line = c->max_line_length;
    s->max_columns = c->max_columns;
    s->delim = c->delimiter && strcmp(c->delimiter, "tab") == 0 ? '\t'
               : c->delimiter                                   ? c->delimiter[0]
                                                                : ',';
}

int fd_read_options(fd_src *s, char *err, size_t errlen)
{
    const fd_conf *c = s->host->config(s->ctx);
    take(s, c);
    s->item_type = zv_strdup0(c->item_type);
    const char *d = c->delimiter;
    if (strcmp(d, "tab") != 0 && (strlen(d) != 1 || d[0] == '"' || d[0] == '\n')) {
        snprintf(err, errlen, "delimiter: one character (not a quote or newline), or \"tab\"");
        return -1;
    }
    /* The daemon's retention, in seconds as text, when done_retention is absent. */
    const char *org = s->host->org(s->ctx, "retention");
    s->retention_s = c->done_retention_s ? c->done_retention_s
                     : org               ? strtoll(org, NULL, 10)
                                         : 30 * 86400;
    return 0;
}

void fd_default_options(fd_src *s)
{
    zv_optset set;
    zv_optspec spec = {.options = fd_options, .count = FD_NOPTIONS, .conf_size = sizeof(fd_conf)};
    /* Only "directory" is missing, which a reader without a folder ignores. */
    zv_optset_resolve(&set, &spec, NULL, NULL, NULL);
    take(s, set.conf);
    zv_optset_free(&set);
}
