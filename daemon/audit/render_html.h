/* Parts of the HTML audit report (render_html.c is the page). */
#ifndef ZV_AUDIT_RENDER_HTML_H
#define ZV_AUDIT_RENDER_HTML_H

#include "audit.h"

extern const char *const ZV_HTML_LEVEL_COLOUR[ZV_LEVEL_COUNT];
extern const char *const ZV_HTML_FLAG_COLOUR[ZV_FLAG_COUNT];

void zv_html_level_badge(zv_buf *b, zv_level l);
void zv_html_flag_badge(zv_buf *b, zv_flag_kind k);
void zv_html_verified_mark(zv_buf *b, zv_verified v);

/* CSS rules and radio controls that filter the detail rows by destination,
 * level and signal without scripts (rows carry d-N, l-N and f-N classes). */
void zv_html_filter_css(zv_buf *b, const zv_audit_report *r);
void zv_html_filter_controls(zv_buf *b, const zv_audit_report *r);
/* "Wettelijk verplicht of niet?": the split per destination with its chain. */
void zv_html_legal_split(zv_buf *b, const zv_audit_report *r);
/* Legend of every level, route, verification mark and signal. */
void zv_html_legend(zv_buf *b);
/* Destination x field grid coloured by level. */
void zv_html_grid(zv_buf *b, const zv_audit_report *r);
/* Sends and quarantines per week. */
void zv_html_trend(zv_buf *b, const zv_audit_report *r);

#endif
