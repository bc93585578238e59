/*
 * An iStandaarden release as data: one directory with a manifest
 * (release.json) naming the namespaces, BerichtCode/versions, XSD files,
 * XSLT rule set and code lists of the release.  Loading a release checks
 * that it is complete and consistent before anything is compiled, so that
 * --check-config refuses a half-copied or mixed-up directory with a reason
 * instead of the plugin failing on the first message.
 */
#include "iwlz.h"

#include <zinvol/json.h>
#include <zinvol/util.h>

#include <libxml/parser.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *const msg_names[IWLZ_NMSG] = {"AW35", "AW39", "AW36", "AW310"};

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static int is_file(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* A manifest string member, copied; "" and absent both count as missing. */
static int take_str(const zv_json *obj, const char *key, char *dst, size_t dstlen)
{
    const zv_json *v = obj ? zv_json_get(obj, key) : NULL;
    size_t len = 0;
    const char *s = v && zv_json_type_of(v) == ZV_JSON_STRING ? zv_json_str(v, &len) : NULL;
    if (!s || len == 0 || len >= dstlen) return -1;
    memcpy(dst, s, len + 1);
    return 0;
}

/* A path relative to the release directory; no way out of it. */
static int take_path(const iwlz_release *rel, const zv_json *obj, const char *key, char *dst,
                     size_t dstlen, char *err, size_t errlen, const char *what)
{
    char rel_path[512];
    if (take_str(obj, key, rel_path, sizeof(rel_path)) < 0)
        return fail(err, errlen, "release %s: %s: \"%s\" missing in release.json", rel->dir, what,
                    key);
    if (rel_path[0] == '/' || strstr(rel_path, ".."))
        return fail(err, errlen, "release %s: %s.%s '%s' must be a path inside the release",
                    rel->dir, what, key, rel_path);
    snprintf(dst, dstlen, "%s/%s", rel->dir, rel_path);
    if (!is_file(dst))
        return fail(err, errlen, "release %s: %s.%s: file '%s' not found (incomplete release)",
                    rel->dir, what, key, rel_path);
    return 0;
}

/* The fixed value an XSD's Header gives an element (<xs:pattern value=>). */
static xmlChar *fixed_value(xmlNodePtr n, const char *element, int in_element)
{
    for (xmlNodePtr c = n ? n->children : NULL; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE) continue;
        int here = in_element;
        if (xmlStrEqual(c->name, BAD_CAST "element")) {
            xmlChar *name = xmlGetProp(c, BAD_CAST "name");
            here = name && xmlStrEqual(name, BAD_CAST element);
            xmlFree(name);
        }
        if (here && (xmlStrEqual(c->name, BAD_CAST "pattern") ||
                     xmlStrEqual(c->name, BAD_CAST "enumeration")))
            return xmlGetProp(c, BAD_CAST "value");
        xmlChar *v = fixed_value(c, element, here);
        if (v) return v;
    }
    return NULL;
}

/* The XSD must be the message the manifest says: same target namespace
 * and the same fixed BerichtCode/BerichtVersie/BerichtSubversie. */
static int check_xsd(const iwlz_release *rel, const iwlz_release_msg *m, char *err, size_t errlen)
{
    xmlDocPtr doc =
        xmlReadFile(m->xsd, NULL, XML_PARSE_NONET | XML_PARSE_NOWARNING | XML_PARSE_NOERROR);
    if (!doc) return fail(err, errlen, "release %s: %s: %s is not XML", rel->dir, m->name, m->xsd);
    xmlNodePtr root = xmlDocGetRootElement(doc);
    xmlChar *tns = root ? xmlGetProp(root, BAD_CAST "targetNamespace") : NULL;
    int rc = 0;
    if (!tns || !xmlStrEqual(tns, BAD_CAST m->ns))
        rc = fail(err, errlen,
                  "release %s: %s: namespace in release.json (%s) differs from the XSD's "
                  "targetNamespace (%s) (inconsistent release)",
                  rel->dir, m->name, m->ns, tns ? (char *)tns : "none");
    static const char *const elems[] = {"BerichtCode", "BerichtVersie", "BerichtSubversie"};
    const char *want[] = {m->code, m->versie, m->subversie};
    for (size_t i = 0; rc == 0 && i < 3; i++) {
        xmlChar *v = fixed_value(root, elems[i], 0);
        if (!v || !xmlStrEqual(v, BAD_CAST want[i]))
            rc = fail(err, errlen,
                      "release %s: %s: %s in release.json is '%s', the XSD fixes '%s' "
                      "(inconsistent release)",
                      rel->dir, m->name, elems[i], want[i], v ? (char *)v : "nothing");
        xmlFree(v);
    }
    xmlFree(tns);
    xmlFreeDoc(doc);
    return rc;
}

/* Legacy option schema_dir: the same file name, taken from another folder. */
static int override_xsd(const iwlz_release *rel, char *path, size_t len, const char *xsd_dir,
                        char *err, size_t errlen)
{
    if (!xsd_dir) return 0;
    const char *b = strrchr(path, '/');
    char name[256];
    snprintf(name, sizeof(name), "%s", b ? b + 1 : path);
    snprintf(path, len, "%s/%s", xsd_dir, name);
    if (!is_file(path))
        return fail(err, errlen, "release %s: schema_dir %s has no %s", rel->dir, xsd_dir, name);
    return 0;
}

static int load_msg(iwlz_release *rel, const zv_json *msgs, int k, const char *xsd_dir, char *err,
                    size_t errlen)
{
    iwlz_release_msg *m = &rel->msg[k];
    snprintf(m->name, sizeof(m->name), "%s", msg_names[k]);
    const zv_json *o = zv_json_get(msgs, m->name);
    if (!o || zv_json_type_of(o) != ZV_JSON_OBJECT)
        return fail(err, errlen, "release %s: release.json has no message %s (incomplete release)",
                    rel->dir, m->name);
    static const char *const keys[] = {"namespace", "bericht_code", "versie", "subversie"};
    char *dst[] = {m->ns, m->code, m->versie, m->subversie};
    size_t len[] = {sizeof(m->ns), sizeof(m->code), sizeof(m->versie), sizeof(m->subversie)};
    for (size_t i = 0; i < 4; i++)
        if (take_str(o, keys[i], dst[i], len[i]) < 0)
            return fail(err, errlen, "release %s: messages.%s.%s missing in release.json", rel->dir,
                        m->name, keys[i]);
    if (take_path(rel, o, "xsd", m->xsd, sizeof(m->xsd), err, errlen, m->name) < 0 ||
        override_xsd(rel, m->xsd, sizeof(m->xsd), xsd_dir, err, errlen) < 0)
        return -1;
    /* Outgoing messages are judged by the release's rule set as well. */
    if (k <= IWLZ_AW39 &&
        take_path(rel, o, "xslt", m->xslt, sizeof(m->xslt), err, errlen, m->name) < 0)
        return -1;
    return check_xsd(rel, m, err, errlen);
}

/* SHA256SUMS (optional): "<hex>  <path>" per line; every file must match. */
static int check_sums(const iwlz_release *rel, const char *file, char *err, size_t errlen)
{
    char path[IWLZ_PATH_MAX];
    snprintf(path, sizeof(path), "%s/%s", rel->dir, file);
    FILE *f = fopen(path, "r");
    if (!f) return fail(err, errlen, "release %s: checksums file '%s' not found", rel->dir, file);
    char line[1024];
    int rc = 0, n = 0;
    while (rc == 0 && fgets(line, sizeof(line), f)) {
        char hex[65], name[900], want[65];
        if (sscanf(line, "%64s %899s", want, name) != 2) continue;
        snprintf(path, sizeof(path), "%s/%s", rel->dir, name);
        FILE *g = strstr(name, "..") ? NULL : fopen(path, "rb");
        zv_buf b;
        zv_buf_init(&b);
        char chunk[8192];
        size_t got;
        while (g && (got = fread(chunk, 1, sizeof(chunk), g)) > 0)
            zv_buf_append(&b, chunk, got);
        if (!g)
            rc = fail(err, errlen,
                      "release %s: %s lists '%s', which is missing (incomplete release)", rel->dir,
                      file, name);
        else {
            zv_sha256_hex(b.data ? b.data : "", b.len, hex);
            if (strcmp(hex, want) != 0)
                rc = fail(err, errlen,
                          "release %s: '%s' differs from its checksum in %s (changed file)",
                          rel->dir, name, file);
            fclose(g);
        }
        zv_buf_free(&b);
        n++;
    }
    fclose(f);
    if (rc == 0 && n == 0) rc = fail(err, errlen, "release %s: %s lists no files", rel->dir, file);
    return rc;
}

int iwlz_release_load(iwlz_release *rel, const char *dir, const char *xsd_dir, char *err,
                      size_t errlen)
{
    memset(rel, 0, sizeof(*rel));
    snprintf(rel->dir, sizeof(rel->dir), "%s", dir);
    char path[IWLZ_PATH_MAX], jerr[256];
    snprintf(path, sizeof(path), "%s/release.json", dir);
    if (!is_file(path))
        return fail(err, errlen, "release %s: no release.json (not a release directory)", dir);
    zv_json_doc *doc = zv_json_parse_file(path, 0, jerr, sizeof(jerr));
    if (!doc) return fail(err, errlen, "release %s: release.json: %s", dir, jerr);
    const zv_json *root = zv_json_root(doc);
    const zv_json *basis = zv_json_get(root, "basisschema");
    const zv_json *msgs = zv_json_get(root, "messages");
    char sums[256] = "";
    int rc = 0;
    if (take_str(root, "release", rel->name, sizeof(rel->name)) < 0)
        rc = fail(err, errlen, "release %s: \"release\" (its name) missing in release.json", dir);
    else if (take_str(basis, "namespace", rel->basis_ns, sizeof(rel->basis_ns)) < 0)
        rc = fail(err, errlen, "release %s: basisschema.namespace missing in release.json", dir);
    else if (take_path(rel, basis, "xsd", rel->basis_xsd, sizeof(rel->basis_xsd), err, errlen,
                       "basisschema") < 0 ||
             take_path(rel, root, "code_lists", rel->code_lists, sizeof(rel->code_lists), err,
                       errlen, "release") < 0)
        rc = -1;
    else if (!msgs || zv_json_type_of(msgs) != ZV_JSON_OBJECT)
        rc = fail(err, errlen, "release %s: \"messages\" missing in release.json", dir);
    for (int k = 0; rc == 0 && k < IWLZ_NMSG; k++)
        rc = load_msg(rel, msgs, k, xsd_dir, err, errlen);
    if (rc == 0 && take_str(root, "checksums", sums, sizeof(sums)) == 0)
        rc = check_sums(rel, sums, err, errlen);
    zv_json_free(doc);
    return rc;
}
