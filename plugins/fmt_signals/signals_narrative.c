/*
 * The team's narrative for a period ("the story behind the numbers"): read
 * from a file or a folder of per-period files, and a small markdown subset
 * turned into HTML.  Every character of the text is escaped; only the
 * markup below is produced, so a narrative cannot inject anything into the
 * report.
 *
 * Markdown subset: "#", "##", "###" headings; "- " or "* " list items; blank
 * lines between paragraphs; **bold** and *italic* inside a line.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zinvol/utf8.h>

#include "signals.h"

#define NARRATIVE_MAX (64 * 1024)

static int read_text(const char *path, char **out, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (errno == ENOENT) return 1;
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    char *buf = malloc(NARRATIVE_MAX + 1);
    size_t n = buf ? fread(buf, 1, NARRATIVE_MAX + 1, f) : 0;
    int bad = ferror(f);
    fclose(f);
    size_t at;
    if (!buf || bad || n > NARRATIVE_MAX || !zv_utf8_valid(buf, n, &at)) {
        if (!buf || bad)
            snprintf(err, errlen, "%s: cannot read", path);
        else if (n > NARRATIVE_MAX)
            snprintf(err, errlen, "%s: larger than %d bytes", path, NARRATIVE_MAX);
        else
            snprintf(err, errlen, "%s: byte %zu: not UTF-8", path, at);
        free(buf);
        return -1;
    }
    buf[n] = '\0';
    *out = buf;
    return 0;
}

int sig_narrative_read(const char *path, const char *label, char **out, char *err, size_t errlen)
{
    *out = NULL;
    struct stat st;
    if (stat(path, &st) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) return read_text(path, out, err, errlen) < 0 ? -1 : 0;
    static const char *const EXT[] = {"md", "txt"};
    for (size_t i = 0; i < 2; i++) {
        char file[4200];
        snprintf(file, sizeof(file), "%s/%s.%s", path, label, EXT[i]);
        int rc = read_text(file, out, err, errlen);
        if (rc <= 0) return rc;
    }
    return 0; /* no story for this period (yet) */
}

/* One line's inline markup: **bold**, *italic*; the rest escaped. */
static void inline_md(zv_buf *b, const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        int strong = i + 1 < n && s[i] == '*' && s[i + 1] == '*';
        if (s[i] == '*') {
            size_t open = strong ? 2 : 1;
            const char *end = NULL;
            for (size_t j = i + open; j + open <= n && !end; j++)
                if (s[j] == '*' && (!strong || s[j + 1] == '*') && j > i + open) end = s + j;
            if (end) {
                zv_buf_puts(b, strong ? "<strong>" : "<em>");
                zv_html_escn(b, s + i + open, (size_t)(end - s) - i - open);
                zv_buf_puts(b, strong ? "</strong>" : "</em>");
                i = (size_t)(end - s) + open;
                continue;
            }
        }
        size_t j = i + 1;
        while (j < n && s[j] != '*')
            j++;
        zv_html_escn(b, s + i, j - i);
        i = j;
    }
}

void sig_markdown_html(zv_buf *b, const char *text)
{
    int in_p = 0, in_ul = 0;
    const char *line = text;
    while (line && *line) {
        const char *nl = strchr(line, '\n');
        size_t n = nl ? (size_t)(nl - line) : strlen(line);
        while (n && (line[n - 1] == '\r' || line[n - 1] == ' ' || line[n - 1] == '\t'))
            n--;
        size_t lead = 0;
        while (lead < n && (line[lead] == ' ' || line[lead] == '\t'))
            lead++;
        const char *s = line + lead;
        size_t len = n - lead;
        int item = len >= 2 && (s[0] == '-' || s[0] == '*') && s[1] == ' ';
        int head = 0;
        while (head < (int)len && head < 3 && s[head] == '#')
            head++;
        if (head && !(head < (int)len && s[head] == ' ')) head = 0;
        /* An indented line under a list item goes on with that item. */
        int more = in_ul && lead > 0 && len && !item && !head;
        if ((len == 0 || item || head) && in_p) zv_buf_puts(b, "</p>"), in_p = 0;
        if (in_ul && !more && (item || len == 0 || head || lead == 0)) zv_buf_puts(b, "</li>");
        if (!item && !more && in_ul) zv_buf_puts(b, "</ul>"), in_ul = 0;
        if (more) {
            zv_buf_puts(b, " ");
            inline_md(b, s, len);
        } else if (head) {
            zv_buf_printf(b, "<h%d>", head + 2);
            inline_md(b, s + head + 1, len - (size_t)head - 1);
            zv_buf_printf(b, "</h%d>", head + 2);
        } else if (item) {
            if (!in_ul) zv_buf_puts(b, "<ul>"), in_ul = 1;
            zv_buf_puts(b, "<li>");
            inline_md(b, s + 2, len - 2);
        } else if (len) {
            zv_buf_puts(b, in_p ? " " : "<p>");
            in_p = 1;
            inline_md(b, s, len);
        }
        line = nl ? nl + 1 : NULL;
    }
    if (in_p) zv_buf_puts(b, "</p>");
    if (in_ul) zv_buf_puts(b, "</li></ul>");
}
