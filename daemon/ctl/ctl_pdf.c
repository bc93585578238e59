/*
 * PDF output for zinvolctl's reports: the HTML page printed by headless
 * Chromium through zvutil's zv_pdf_from_html (the signals format prints its
 * period report the same way).
 */
#include <stdio.h>
#include <zinvol/pdf.h>

#include "ctl_pdf.h"

int zv_ctl_print_pdf(const char *prog, const char *what, const zv_buf *html, const char *out)
{
    zv_buf pdf;
    zv_buf_init(&pdf);
    char err[512];
    int rc = zv_pdf_from_html(NULL, html->data, html->len, 120, &pdf, err, sizeof(err));
    if (rc != 0) {
        fprintf(stderr, "%s: %s: %s\n", prog, what, err);
    } else {
        FILE *f = fopen(out, "wb");
        if (!f || fwrite(pdf.data, 1, pdf.len, f) != pdf.len) rc = -1;
        if (f && fclose(f) != 0) rc = -1;
        if (rc != 0) fprintf(stderr, "%s: %s: cannot write %s\n", prog, what, out);
    }
    zv_buf_free(&pdf);
    return rc;
}
