/*
 * PDF output for zinvolctl's reports: the HTML page printed by headless
 * Chromium (ZV_CHROMIUM names another binary).  One layout serves screen and
 * paper, and no PDF library has to know the report's structure.
 */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctl_pdf.h"

static int rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)type;
    (void)ftw;
    remove(path);
    return 0;
}

/* Headless Chromium prints the HTML; ZV_CHROMIUM names another binary. */
int zv_ctl_print_pdf(const char *prog, const char *what, const zv_buf *html, const char *out)
{
    char dir[] = "/tmp/zv-disclose-XXXXXX";
    if (!mkdtemp(dir)) return -1;
    char page[64], profile[64], arg_pdf[4200], arg_prof[96];
    snprintf(page, sizeof(page), "%s/page.html", dir);
    snprintf(profile, sizeof(profile), "%s/profile", dir);
    FILE *pf = fopen(page, "wb");
    int rc = pf && fwrite(html->data, 1, html->len, pf) == html->len ? 0 : -1;
    if (pf && fclose(pf) != 0) rc = -1;
    const char *chrome = getenv("ZV_CHROMIUM") ? getenv("ZV_CHROMIUM") : "chromium";
    snprintf(arg_pdf, sizeof(arg_pdf), "--print-to-pdf=%s", out);
    snprintf(arg_prof, sizeof(arg_prof), "--user-data-dir=%s", profile);
    pid_t pid = rc == 0 ? fork() : -1;
    if (pid == 0) {
        /* Chromium talks a lot on both streams; the exit status is enough. */
        if (!freopen("/dev/null", "w", stderr) || !freopen("/dev/null", "w", stdout)) _exit(127);
        execlp(chrome, chrome, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
               "--no-first-run", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--no-pdf-header-footer", arg_prof, arg_pdf, page, (char *)NULL);
        _exit(127);
    }
    int status = 0;
    if (pid > 0) waitpid(pid, &status, 0);
    if (pid < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0 || access(out, R_OK) != 0) {
        fprintf(stderr, "%s: %s: %s could not print the PDF (exit %d)\n", prog, what, chrome,
                WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        rc = -1;
    }
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return rc;
}

