/* PDF from a report's HTML (ctl_pdf.c). */
#ifndef ZV_CTL_PDF_H
#define ZV_CTL_PDF_H

#include <zinvol/util.h>

/* Print html to out; -1 with the reason on stderr ("prog: what: ..."). */
int zv_ctl_print_pdf(const char *prog, const char *what, const zv_buf *html, const char *out);

#endif
