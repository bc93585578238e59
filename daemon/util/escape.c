/* Outside text made safe for one-line output (logs, zinvolctl listings)
 * and for HTML. */
#include <zinvol/util.h>

#include <stdio.h>
#include <string.h>

size_t zv_escape_ctrl(const char *in, size_t inlen, char *out, size_t outlen)
{
    if (!out || outlen == 0) return 0;
    size_t o = 0;
    for (size_t i = 0; i < inlen; i++) {
        unsigned char c = (unsigned char)in[i];
        char esc[5];
        size_t n;
        if (c == '\n')
            n = 2, esc[0] = '\\', esc[1] = 'n';
        else if (c == '\r')
            n = 2, esc[0] = '\\', esc[1] = 'r';
        else if (c == '\t')
            n = 2, esc[0] = '\\', esc[1] = 't';
        else if (c < 0x20 || c == 0x7f)
            n = (size_t)snprintf(esc, sizeof(esc), "\\x%02x", c);
        else
            n = 1, esc[0] = (char)c;
        /* Never cut an escape in half: stop at the last whole one. */
        if (o + n >= outlen) break;
        for (size_t k = 0; k < n; k++)
            out[o++] = esc[k];
    }
    out[o] = '\0';
    return o;
}

void zv_html_esc(zv_buf *b, const char *s)
{
    zv_html_escn(b, s, s ? strlen(s) : 0);
}

void zv_html_escn(zv_buf *b, const char *s, size_t n)
{
    if (!s) return;
    for (const char *end = s + n; s < end && *s; s++) {
        switch (*s) {
        case '<':
            zv_buf_puts(b, "&lt;");
            break;
        case '>':
            zv_buf_puts(b, "&gt;");
            break;
        case '&':
            zv_buf_puts(b, "&amp;");
            break;
        case '"':
            zv_buf_puts(b, "&quot;");
            break;
        case '\'':
            zv_buf_puts(b, "&#39;");
            break;
        default:
            zv_buf_append(b, s, 1);
        }
    }
}
