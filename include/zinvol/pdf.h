/*
 * HTML to PDF with headless Chromium, for reports that have one layout for
 * screen and paper (zinvolctl audit/disclose --format pdf, the signals
 * format's period report).  ZV_CHROMIUM names another binary than
 * "chromium".  Part of zvutil, so plugins may use it.
 */
#ifndef ZINVOL_PDF_H
#define ZINVOL_PDF_H

#include <stddef.h>
#include <zinvol/util.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Print html[0..len) to a PDF appended to pdf.  Blocks until Chromium is
 * done (it is killed after timeout_s seconds).  0, or -1 with the reason in
 * err ("chromium could not print the PDF (exit 127)").  chrome: the binary;
 * NULL: $ZV_CHROMIUM, else "chromium". */
int zv_pdf_from_html(const char *chrome, const char *html, size_t len, int timeout_s, zv_buf *pdf,
                     char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
