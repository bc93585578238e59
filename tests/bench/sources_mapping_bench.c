/*
 * Mapping benchmark (prints figures; not a timed test).
 *
 *   sources_mapping_bench [export.jsonl] [clients]
 *
 * Without a file it generates a JSON-lines export of `clients` (default
 * 1,000,000) with conf/demo/generate-ecd, then maps every line with
 * conf/demo/mapping-ecd-jsonl.json exactly as the filedrop source does
 * (streaming flattener -> item -> zv_mapping_apply) and reports records/s
 * per core (CPU time) and peak RSS.  In the same run it times `jq -c`
 * doing only the field selection on the same file.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zinvol/json.h>
#include <zinvol/util.h>

#include "mapping/mapping.h"

#ifndef ZV_SRC_DIR
#define ZV_SRC_DIR "."
#endif

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double cpu_s(const struct rusage *r)
{
    return (double)r->ru_utime.tv_sec + (double)r->ru_utime.tv_usec / 1e6 +
           (double)r->ru_stime.tv_sec + (double)r->ru_stime.tv_usec / 1e6;
}

/* The jq filter selecting exactly the source paths the mapping reads (every
 * "/..." string in the mapping file). */
static char *jq_filter(const char *mapping_text)
{
    zv_buf b;
    zv_buf_init(&b);
    zv_buf_puts(&b, "{");
    int n = 0;
    for (const char *p = mapping_text; (p = strstr(p, "\"/")); p++) {
        const char *end = strchr(p + 1, '"');
        if (!end) break;
        char path[128];
        snprintf(path, sizeof(path), "%.*s", (int)(end - p - 1), p + 1);
        if (strstr(b.data, path)) continue; /* already selected */
        char key[128];
        snprintf(key, sizeof(key), "%s", path + 1);
        for (char *k = key; *k; k++)
            if (*k == '/') *k = '_';
        zv_buf_printf(&b, "%s\"%s\": .", n++ ? ", " : "", key);
        for (const char *c = path + 1; *c; c++)
            zv_buf_append(&b, *c == '/' ? "." : c, 1);
    }
    zv_buf_puts(&b, "}");
    return zv_buf_steal(&b, NULL);
}

int main(int argc, char **argv)
{
    const char *file = argc > 1 ? argv[1] : NULL;
    long clients = argc > 2 ? atol(argv[2]) : 1000000;
    char gen[512], mpath[512], err[256];
    if (!file) {
        snprintf(gen, sizeof(gen),
                 "python3 %s/conf/demo/generate-ecd --clients %ld --bad 3 --format jsonl "
                 "--out /tmp --name zv-bench-export",
                 ZV_SRC_DIR, clients);
        fprintf(stderr, "generating: %s\n", gen);
        if (system(gen) != 0) return 1;
        file = "/tmp/zv-bench-export.jsonl";
    }
    snprintf(mpath, sizeof(mpath), "%s/conf/demo/mapping-ecd-jsonl.json", ZV_SRC_DIR);
    zv_json_doc *spec = zv_json_parse_file(mpath, 0, err, sizeof(err));
    if (!spec) {
        fprintf(stderr, "%s: %s\n", mpath, err);
        return 1;
    }
    zv_errors errs;
    zv_errors_init(&errs);
    zv_mapping *m = zv_mapping_compile(zv_json_root(spec), "bench", mpath, "", &errs);
    if (!m) {
        fprintf(stderr, "%s\n", errs.n ? errs.lines[0] : "mapping");
        return 1;
    }
    /* Read the way the filedrop source does: line by line, constant memory. */
    FILE *in = fopen(file, "r");
    struct stat st;
    if (!in || fstat(fileno(in), &st) != 0) {
        perror(file);
        return 1;
    }
    setvbuf(in, NULL, _IOFBF, 1 << 20);

    struct rusage r0, r1;
    getrusage(RUSAGE_SELF, &r0);
    double t0 = now_s();
    zv_json_flat *flat = zv_json_flat_new();
    zv_item_field *fields = NULL;
    size_t cap = 0, linecap = 0;
    char *line = NULL;
    ssize_t got;
    long lines = 0, ok = 0, failed = 0, broken = 0;
    char field[64], reason[256];
    while ((got = getline(&line, &linecap, in)) > 0) {
        size_t len = (size_t)got;
        if (line[len - 1] == '\n') len--;
        lines++;
        int n = zv_json_flatten(flat, line, len, err, sizeof(err));
        if (n < 0) {
            broken++;
            continue;
        }
        size_t cnt;
        const zv_json_pair *pairs = zv_json_flat_pairs(flat, &cnt);
        if (cnt > cap) {
            cap = cnt * 2;
            fields = realloc(fields, cap * sizeof(*fields));
        }
        for (size_t i = 0; i < cnt; i++)
            fields[i] = (zv_item_field){pairs[i].path, pairs[i].value, pairs[i].len};
        zv_item it = {ZV_SIZED(zv_item), NULL, NULL, fields, cnt, sizeof(zv_item_field)};
        zv_record *rec = zv_mapping_apply(m, &it, 0, field, sizeof(field), reason, sizeof(reason));
        if (rec) {
            ok++;
        } else {
            failed++;
            /* Show the first failures: the export has a few on purpose. */
            if (failed <= 5)
                fprintf(stderr, "  quarantine: line %ld: %s: %s\n", lines, field, reason);
        }
        zv_record_free(rec);
    }
    free(line);
    fclose(in);
    double wall = now_s() - t0;
    getrusage(RUSAGE_SELF, &r1);
    double cpu = cpu_s(&r1) - cpu_s(&r0);

    /* jq -c doing only the field selection, on the same file. */
    FILE *mf = fopen(mpath, "r");
    char *text = calloc(1, 1 << 20);
    size_t tn = mf && text ? fread(text, 1, (1 << 20) - 1, mf) : 0;
    if (mf) fclose(mf);
    if (!text) return 1;
    text[tn] = '\0';
    char *filter = jq_filter(text);
    free(text);
    double jt0 = now_s();
    /* ZV_BENCH_NO_JQ=1 skips jq (for profiling the mapping alone). */
    pid_t pid = getenv("ZV_BENCH_NO_JQ") ? -1 : fork();
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, 1);
        execlp("jq", "jq", "-c", filter, file, (char *)NULL);
        _exit(127);
    }
    int status = 1 << 8;
    struct rusage jr;
    memset(&jr, 0, sizeof(jr));
    if (pid > 0) wait4(pid, &status, 0, &jr);
    double jwall = now_s() - jt0;
    double jcpu = cpu_s(&jr);
    int jq_ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;

    struct rusage self;
    getrusage(RUSAGE_SELF, &self);
    printf("sources_mapping_bench: %s (%.1f MB, %ld lines)\n", file, (double)st.st_size / 1e6,
           lines);
    printf("  mapped:            %ld ok, %ld failed mapping (quarantine), %ld broken lines\n", ok,
           failed, broken);
    printf("  zinvol mapping:    %.2f s wall, %.2f s CPU, %.0f records/s per core\n", wall, cpu,
           (double)lines / cpu);
    printf("  peak RSS:          %.1f MB\n", (double)self.ru_maxrss / 1024.0);
    if (jq_ok)
        printf("  jq -c selection:   %.2f s wall, %.2f s CPU, %.0f records/s per core\n", jwall,
               jcpu, (double)lines / jcpu);
    else
        printf("  jq -c selection:   failed (exit %d)\n", WEXITSTATUS(status));
    if (jq_ok) printf("  speed-up vs jq:    %.1fx (CPU time)\n", jcpu / cpu);
    printf("  jq filter: %.200s%s\n", filter, strlen(filter) > 200 ? "..." : "");
    free(filter);
    free(fields);
    zv_json_flat_free(flat);
    zv_mapping_free(m);
    zv_errors_free(&errs);
    zv_json_free(spec);
    return 0;
}
