/*
 * Retour messages JW306 / JW308 (WMO306 / WMO308): the gemeente's answer
 * to a start or stop.  They repeat the heenbericht with RetourCodes on the
 * header, the client and each product.  Code 0200 means "no remark"; any
 * other code on the header, the client or the product rejects that product
 * (an error on a higher level rejects everything below it).
 *
 * A rejected start is removed from the started-products history so that a
 * corrected start can be sent.  An answer without a body (HTTP status only)
 * gives no verdicts.
 */
#include "ijw.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <stdio.h>
#include <string.h>
#include <zinvol/util.h>

static xmlNodePtr child(xmlNodePtr n, const char *name)
{
    for (xmlNodePtr c = n ? n->children : NULL; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE && strcmp((const char *)c->name, name) == 0) return c;
    return NULL;
}

static void text_of(xmlNodePtr n, char *out, size_t outlen)
{
    xmlChar *t = n ? xmlNodeGetContent(n) : NULL;
    snprintf(out, outlen, "%s", t ? (const char *)t : "");
    xmlFree(t);
}

/* Append the non-0200 RetourCodes under n (its own RetourCodes child). */
static void codes_of(xmlNodePtr n, zv_buf *codes)
{
    for (xmlNodePtr c = child(child(n, "RetourCodes"), "RetourCode"); c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE || strcmp((const char *)c->name, "RetourCode") != 0)
            continue;
        char code[16];
        text_of(c, code, sizeof(code));
        if (strcmp(code, "0200") == 0) continue;
        zv_buf_printf(codes, "%s%s", codes->len ? "," : "", code);
    }
}

static int product_verdict(ijw_fmt *f, int start, const char *gemeente, const char *bsn,
                           xmlNodePtr p, const zv_buf *upper, zv_verdict_out *out)
{
    char nr[64], cat[16], code[16], begin[16], pkey[160], key[200];
    xmlNodePtr prod = child(p, "Product");
    text_of(child(p, "ToewijzingNummer"), nr, sizeof(nr));
    text_of(child(prod, "Categorie"), cat, sizeof(cat));
    text_of(child(prod, "Code"), code, sizeof(code));
    text_of(child(p, "Begindatum"), begin, sizeof(begin));
    if (ijw_product_key(f->variant, nr[0] ? nr : NULL, cat[0] ? cat : NULL, code[0] ? code : NULL,
                        begin, pkey, sizeof(pkey)) != 0)
        return -1;
    zv_buf codes;
    zv_buf_init(&codes);
    zv_buf_puts(&codes, upper->data ? upper->data : "");
    codes_of(p, &codes);
    int accepted = codes.len == 0;
    snprintf(key, sizeof(key), "%s/%s", bsn, pkey);
    int rc = f->host->verdict(out, key, accepted, codes.data ? codes.data : "",
                              accepted ? NULL : "rejected by the gemeente (see retourcodes)");
    zv_buf_free(&codes);
    if (!accepted && start) ijw_state_forget(f->state, gemeente, bsn, pkey);
    return rc;
}

int ijw_interpret(ijw_fmt *f, const zv_answer *a, zv_verdict_out *out)
{
    if (!a->body || a->len == 0) return 0;
    /* NOERROR/NOWARNING: libxml2 would otherwise print to stderr itself; the
     * reason goes into our own log line instead. */
    xmlDocPtr doc = xmlReadMemory(a->body, (int)a->len, "retour.xml", NULL,
                                  XML_PARSE_NONET | XML_PARSE_NOBLANKS | XML_PARSE_NOERROR |
                                      XML_PARSE_NOWARNING);
    if (!doc) {
        const xmlError *e = xmlGetLastError();
        char why[160];
        snprintf(why, sizeof(why), "%s", e && e->message ? e->message : "unreadable");
        why[strcspn(why, "\n")] = '\0';
        f->host->log(f->ctx, ZV_LOG_WARN, "answer is not XML (%s at line %d); HTTP status %d only",
                     why, e ? e->line : 0, a->status);
        return -1;
    }
    xmlNodePtr root = xmlDocGetRootElement(doc);
    xmlNodePtr header = child(root, "Header");
    xmlNodePtr client = child(root, "Client");
    char bericht[8], gemeente[16], bsn[16];
    text_of(child(header, "BerichtCode"), bericht, sizeof(bericht));
    text_of(child(header, "Ontvanger"), gemeente, sizeof(gemeente));
    text_of(child(client, "Bsn"), bsn, sizeof(bsn));
    int start = child(client, "StartProducten") != NULL;
    xmlNodePtr list = child(client, start ? "StartProducten" : "StopProducten");
    int rc = 0;
    if (!header || !client || !list) {
        f->host->log(f->ctx, ZV_LOG_WARN,
                     "retour (BerichtCode %s) has no Client with products: no per-record "
                     "verdicts",
                     bericht);
        rc = header ? 0 : -1;
        goto done;
    }
    zv_buf upper;
    zv_buf_init(&upper);
    codes_of(header, &upper);
    codes_of(client, &upper);
    for (xmlNodePtr p = list->children; p && rc == 0; p = p->next)
        if (p->type == XML_ELEMENT_NODE)
            rc = product_verdict(f, start, gemeente, bsn, p, &upper, out);
    zv_buf_free(&upper);
done:
    xmlFreeDoc(doc);
    return rc;
}
