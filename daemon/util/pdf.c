/*
 * PDF from HTML: the page is written to a private temporary folder and
 * printed by headless Chromium with its own throw-away profile.  One layout
 * serves screen and paper, and no PDF library has to know a report's
 * structure.  Between fork() and exec only async-signal-safe calls are made,
 * so this is safe in a process with threads (zinvold's writer, workers).
 */
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zinvol/pdf.h>

static int rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)type;
    (void)ftw;
    remove(path);
    return 0;
}

static int write_file(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    int rc = fwrite(data, 1, len, f) == len ? 0 : -1;
    if (fclose(f) != 0) rc = -1;
    return rc;
}

static int read_file(const char *path, zv_buf *out)
{
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        zv_buf_append(out, chunk, n);
    int rc = ferror(f) || out->oom ? -1 : 0;
    fclose(f);
    return rc;
}

/* Wait for pid at most timeout_s seconds; kill it after that.  The exit
 * status, or -1 when it did not exit normally in time. */
static int wait_bounded(pid_t pid, int timeout_s)
{
    struct timespec nap = {0, 50 * 1000 * 1000};
    for (long waited = 0;; waited += 50) {
        int status;
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        if (r < 0) return -1;
        if (waited >= (long)timeout_s * 1000) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            return -1;
        }
        nanosleep(&nap, NULL);
    }
}

int zv_pdf_from_html(const char *chrome, const char *html, size_t len, int timeout_s, zv_buf *pdf,
                     char *err, size_t errlen)
{
    if (!chrome) chrome = getenv("ZV_CHROMIUM") ? getenv("ZV_CHROMIUM") : "chromium";
    char dir[] = "/tmp/zv-pdf-XXXXXX";
    if (!mkdtemp(dir)) {
        snprintf(err, errlen, "cannot create a temporary folder: %m");
        return -1;
    }
    char page[64], out[64], arg_pdf[96], arg_prof[96];
    snprintf(page, sizeof(page), "%s/page.html", dir);
    snprintf(out, sizeof(out), "%s/page.pdf", dir);
    snprintf(arg_pdf, sizeof(arg_pdf), "--print-to-pdf=%s", out);
    snprintf(arg_prof, sizeof(arg_prof), "--user-data-dir=%s/profile", dir);
    int rc = -1;
    if (write_file(page, html, len) != 0) {
        snprintf(err, errlen, "cannot write %s", page);
        goto done;
    }
    pid_t pid = fork();
    if (pid == 0) {
        /* Chromium talks a lot on both streams; the exit status is enough. */
        int null = open("/dev/null", O_WRONLY);
        if (null < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0) _exit(127);
        execlp(chrome, chrome, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
               "--no-first-run", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--no-pdf-header-footer", arg_prof, arg_pdf, page, (char *)NULL);
        _exit(127);
    }
    if (pid < 0) {
        snprintf(err, errlen, "cannot start %s: %m", chrome);
        goto done;
    }
    int status = wait_bounded(pid, timeout_s > 0 ? timeout_s : 120);
    if (status != 0 || access(out, R_OK) != 0) {
        snprintf(err, errlen, "%s could not print the PDF (exit %d)", chrome, status);
        goto done;
    }
    if (read_file(out, pdf) != 0) {
        snprintf(err, errlen, "cannot read the printed PDF");
        goto done;
    }
    rc = 0;
done:
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return rc;
}
