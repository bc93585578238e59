/*
 * zinvol plugin ABI.
 *
 * A plugin is a shared object that exports exactly one symbol,
 * ZV_PLUGIN_SYMBOL, a const zv_plugin_descriptor.  The core reads the first
 * three members (abi_major, abi_minor, size) before it touches anything else
 * and refuses the file when the major differs, the minor is newer than the
 * core's, or the size is smaller than the descriptor of that minor.
 *
 * Three kinds of plugin exist:
 *   source    - reads from an ECD and hands raw items to the core, which maps
 *               them into model records (see model.h);
 *   format    - a funder's message format: declares its messages and their
 *               requirement catalogues, renders minimised records into
 *               payloads and reads the receiver's answers;
 *   transport - delivers a payload somewhere and reports the outcome.
 *
 * The core owns the event loop.  Plugins never block and never run a loop of
 * their own: they get timers, fd watches, an HTTP client and HTTP routes from
 * the host table handed to create().  All callbacks run on the loop thread.
 *
 * Compatibility rules: members are only appended to the structs below (a
 * minor bump); anything else is a major bump.  A plugin's minor is never
 * newer than the core's (the loader refuses it), so:
 *   - every struct that may grow starts with `size_t size` (the host table
 *     and the descriptor: `uint32_t size`), set by whoever fills it to
 *     sizeof as it was compiled (ZV_SIZED below);
 *   - the core checks the size of every struct a plugin hands it and reads
 *     members appended after the plugin's minor only when the size covers
 *     them (ZV_HAS); a struct the core hands a plugin is always the core's
 *     own, so it has every member the plugin knows;
 *   - an array crossing the ABI travels as pointer + count + element size,
 *     and is read with ZV_AT, so appending a member to its element type does
 *     not change where element i starts;
 *   - a struct that will never grow says "Frozen" next to it.
 *
 * Pointers: next to every pointer below is who owns it and how long it is
 * valid.  "Borrowed for the call" means the receiver copies what it keeps.
 *
 * Changing the ABI: the test abi/snapshot compares this header's layout
 * (abidw/abidiff from abigail-tools) with tests/abi/zv-abi-MAJOR.MINOR.abi
 * and fails on any difference.  When you change a struct, a callback's
 * signature or an enum here (or in model.h / json.h, which this includes):
 *   1. bump ZV_ABI_MINOR when you only appended members at the end of
 *      structs that carry a size, else bump ZV_ABI_MAJOR and reset the minor;
 *   2. record the new layout: cmake --build build --target abi-baseline
 *      (writes tests/abi/zv-abi-MAJOR.MINOR.abi) and commit it beside the
 *      older baselines, which stay: the test also checks that a minor only
 *      appended to the previous minor of the same major;
 *   3. say in the ABI history below and in README.md ("Plugins") what changed.
 * A version not yet in tests/abi/released may be re-recorded in place
 * (step 2 alone) while it is being built; a released one never is.
 */
#ifndef ZINVOL_PLUGIN_H
#define ZINVOL_PLUGIN_H

#include <stddef.h>
#include <stdint.h>
#include <zinvol/model.h>
#include <zinvol/json.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ABI history: 1.0 first; 1.1 zv_host.http_route_limit; 1.2
 * zv_plugin_descriptor.message_active; 1.3 zv_host.staged_total; 2.0
 * refuses every 1.x plugin and has typed options (duration, size, enum,
 * path, ranges, offsets into a config struct: zv_option, the descriptor's
 * noptions / option_size / config_size, zv_host.config); 2.1
 * zv_host.rendered_fields and zv_plugin_descriptor.field_renderable (what a
 * format renders); 2.2 plugins' TLS listeners (https_listen, ex_peer),
 * audit_disclosure, retour and problem; 2.3 zv_host.schedule and
 * zv_plugin_descriptor.format_flags (ZV_FORMAT_AGGREGATE); 2.4 the core
 * path for aggregate formats: zv_host.not_counted, zv_batch.more, and
 * payloads of an aggregate format that name no records; also
 * zv_host.event_once (webhooks' replays across nodes).  Changing the
 * ABI: see "Changing the ABI" above. */
#define ZV_ABI_MAJOR 2
#define ZV_ABI_MINOR 4
#define ZV_PLUGIN_SYMBOL "zv_plugin"

#if defined(__GNUC__)
#define ZV_EXPORT __attribute__((visibility("default")))
#else
#define ZV_EXPORT
#endif

/* Declare the descriptor in a plugin: ZV_PLUGIN_DEFINE = { ... }; */
#define ZV_PLUGIN_DEFINE ZV_EXPORT const zv_plugin_descriptor zv_plugin

typedef enum zv_plugin_kind {
    ZV_PLUGIN_SOURCE = 1,
    ZV_PLUGIN_FORMAT = 2,
    ZV_PLUGIN_TRANSPORT = 3
} zv_plugin_kind;

/* ---- configuration declared by the plugin ------------------------------ */

/* Option types, and the member each one fills in the plugin's config
 * struct (see zv_option.offset).  Values as the user writes them:
 *   duration  "500ms", "30s", "5m", "2h", "7d", or a number of seconds;
 *   size      a number of bytes, or "64KiB", "8MiB", "4GiB" (also "KB" = 1000,
 *             "K"/"M"/"G" = KiB/MiB/GiB);
 *   enum      one of the option's choices. */
typedef enum zv_opt_type {
    ZV_OPT_STRING = 1, /* const char * */
    ZV_OPT_INT,        /* int: whole number within [min, max] */
    ZV_OPT_BOOL,       /* int: 0 or 1 */
    ZV_OPT_NUMBER,     /* double */
    ZV_OPT_OBJECT,     /* const zv_json *: free-form JSON object */
    ZV_OPT_ARRAY,      /* const zv_json *: free-form JSON array */
    ZV_OPT_DURATION,   /* int64_t: milliseconds (seconds with ZV_OPT_SECONDS) */
    ZV_OPT_SIZE,       /* int64_t: bytes */
    ZV_OPT_ENUM,       /* int: index into choices */
    ZV_OPT_PATH        /* const char *: a file name, relative ones resolved
                          against the config file's folder */
} zv_opt_type;

#define ZV_OPT_REQUIRED 0x1u /* no default: the config must set it */
#define ZV_OPT_SECRET 0x2u   /* never echoed in logs, reports or --describe */
#define ZV_OPT_SECONDS 0x4u  /* duration: store whole seconds (rounded down), not ms */

/* One option.  The plugin's static data.  Arrays of these travel as
 * pointer + count + element size (zv_plugin_descriptor.options /
 * noptions / option_size, read with ZV_AT), so members may be appended:
 * the core reads only the first option_size bytes of each element and
 * takes absent members as 0.
 *
 * Range: min is the smallest value accepted (0 unless set, so negative
 * numbers need min < 0), max the largest (0: no upper bound).  It applies
 * to int, size (bytes), duration (milliseconds, also with ZV_OPT_SECONDS)
 * and to the length of string and path values.
 *
 * offset: where the core stores the value in the instance's config struct,
 * before create(); see zv_plugin_descriptor.config_size.  A plugin with a
 * config struct gives every option a member (ZV_OPT_AT); the loader
 * refuses a table whose members overlap or leave the struct. */
typedef struct zv_option {
    const char *name;
    zv_opt_type type;
    const char *def; /* default as the user would write it ("30s", "8MiB", "true",
                        a choice); NULL: none (the member stays 0 / NULL) */
    unsigned flags;
    const char *description;
    const char *choices; /* enum: "jw|wmo"; the member is the index (0 = first) */
    int64_t min, max;
    size_t offset;
} zv_option;

#define ZV_OPT_AT(conf_type, member) .offset = offsetof(conf_type, member)
/* In a descriptor: .options, .noptions and .option_size, and for
 * ZV_OPTIONS also .config_size (ZV_OPTION_TABLE: no struct, read the values
 * with host->cfg_*()). */
#define ZV_OPTION_TABLE(array)                                                                     \
    .options = (array), .noptions = sizeof(array) / sizeof((array)[0]),                            \
    .option_size = sizeof(zv_option)
#define ZV_OPTIONS(array, conf_type) ZV_OPTION_TABLE(array), .config_size = sizeof(conf_type)

/* ---- host services ----------------------------------------------------- */

typedef struct zv_ctx zv_ctx; /* one plugin instance, owned by the core */
typedef struct zv_timer zv_timer;
typedef struct zv_watch zv_watch;

typedef enum zv_log_level {
    ZV_LOG_ERROR = 0,
    ZV_LOG_WARN,
    ZV_LOG_NOTICE,
    ZV_LOG_INFO,
    ZV_LOG_DEBUG
} zv_log_level;

#define ZV_FD_READ 0x1
#define ZV_FD_WRITE 0x2

typedef void (*zv_timer_cb)(void *arg);
typedef void (*zv_fd_cb)(int fd, int what, void *arg);

/* Set a sized struct's size in an initialiser: {ZV_SIZED(zv_delivery), ...}. */
#define ZV_SIZED(type) .size = sizeof(type)
/* 1 when the sized struct *p, of type `type`, was filled by someone who
 * knew member m (it was appended in a later minor than the filler's). */
#define ZV_HAS(p, type, m) ((p)->size >= offsetof(type, m) + sizeof(((type *)0)->m))
/* Element i of an array crossing the ABI, whose elements are elem_size
 * bytes apart (the sender's sizeof, which may exceed this header's). */
#define ZV_AT(type, base, elem_size, i)                                                            \
    ((const type *)(const void *)((const char *)(base) + (size_t)(i) * (elem_size)))
/* Elements of a true array (not a pointer), for the count member:
 * .headers = h, .nheaders = ZV_COUNT(h), .header_size = sizeof h[0]. */
#define ZV_COUNT(a) (sizeof(a) / sizeof((a)[0]))
/* The three members describing a format's static messages array. */
#define ZV_MESSAGES(a) .messages = (a), .nmessages = ZV_COUNT(a), .message_size = sizeof((a)[0])

/* Frozen (an HTTP header is a name and a value; it will not grow), but
 * still sent with an element size, like every array. */
typedef struct zv_http_header {
    const char *name;  /* borrowed for the call that receives the array */
    const char *value; /* borrowed for the call that receives the array */
} zv_http_header;

/* Filled by the plugin; the host copies everything it needs during
 * http_request(), so every pointer here is borrowed for that call only. */
typedef struct zv_http_request {
    size_t size;        /* sizeof(zv_http_request) as the plugin compiled it */
    const char *method; /* "GET", "POST", ...; NULL: GET */
    const char *url;
    const zv_http_header *headers; /* nheaders elements, header_size bytes apart */
    size_t nheaders;
    size_t header_size; /* sizeof(zv_http_header) as the plugin compiled it */
    const void *body;
    size_t body_len;
    long timeout_ms;       /* 0: 30 s */
    const char *ca_file;   /* NULL: system store; verification is always on */
    const char *cert_file; /* client certificate for mTLS, PEM */
    const char *key_file;
    const char *bearer_token;
    size_t max_response; /* 0: 64 MiB */
} zv_http_request;

/* Filled by the host and handed to zv_http_cb; it and everything it
 * points to are owned by the host and valid only during that call. */
typedef struct zv_http_response {
    size_t size;       /* sizeof(zv_http_response) of the core */
    int status;        /* HTTP status; 0 when no response arrived */
    const char *error; /* transport error text when status is 0, else NULL */
    const char *body;  /* NUL-terminated for convenience; never NULL */
    size_t body_len;
    const char *content_type; /* NULL when the response had none */
    long retry_after_s;       /* from Retry-After, -1 if absent */
} zv_http_response;

/* Called at most once per request, on the loop, never from inside
 * http_request() and never after http_cancel(); resp is valid only during
 * the call. */
typedef void (*zv_http_cb)(const zv_http_response *resp, void *arg);
/* A request in flight: the host's, returned by http_request(). */
typedef struct zv_http_call zv_http_call;

typedef struct zv_http_exchange zv_http_exchange; /* an incoming request */
typedef void (*zv_route_cb)(zv_http_exchange *ex, void *arg);

/* A raw item from a source, before mapping.  Paths are the source's own:
 * JSON pointers for JSON, column names for CSV, element paths for FHIR.
 * Filled by the source and handed to emit(); the core copies what it keeps,
 * so every pointer is borrowed for the emit() call only. */
typedef struct zv_item_field {
    const char *path;
    const char *value; /* len bytes, not necessarily NUL-terminated */
    size_t len;
} zv_item_field;

typedef struct zv_item {
    size_t size;                 /* sizeof(zv_item) as the source compiled it */
    const char *type;            /* e.g. "Patient", a file's base name; may be NULL */
    const char *record_id;       /* id at the source; NULL: the core derives one */
    const zv_item_field *fields; /* nfields elements, field_size bytes apart */
    size_t nfields;
    size_t field_size; /* sizeof(zv_item_field) as the source compiled it */
} zv_item;

/* Reserved item path: a source that could not read a record (a CSV row
 * with the wrong number of columns, a JSON line that does not parse) still
 * emits it, with this field's value saying why, so the record lands in
 * quarantine with its raw content instead of being dropped.  Mapping then
 * fails with field "record" and that reason. */
#define ZV_ITEM_ERROR "!error"

/* Results of emit(). */
#define ZV_EMIT_STAGED 0      /* mapped and staged (durable at the next commit) */
#define ZV_EMIT_QUARANTINED 1 /* failed mapping; kept in quarantine with the reason */
#define ZV_EMIT_DUPLICATE 2   /* already seen (same source and record id and content) */

typedef struct zv_render_out zv_render_out;
typedef struct zv_verdict_out zv_verdict_out;

/* Filled by a format and handed to add_payload(), which copies all of it:
 * every pointer is borrowed for that call only. */
typedef struct zv_payload_spec {
    size_t size; /* sizeof(zv_payload_spec) as the format compiled it */
    const void *data;
    size_t len;
    const char *content_type;
    const char *idem_key;  /* unique per destination, e.g. BerichtIdentificatie */
    const char *extension; /* for file names: "xml", "json" */
    /* Indexes into the batch this payload carries: nrecords of them (an
     * array of size_t, whose element never changes).  At least one, except
     * for a ZV_FORMAT_AGGREGATE format under a 2.4 core (ZV_HOST_HAS(host,
     * not_counted)): its payloads hold counts, no record's fields, and name
     * no records (0; any named are not listed in the trail either). */
    const size_t *records;
    size_t nrecords;
    /* Per carried record (nrecords of them, parallel to records), the key
     * the format's interpret() will use in its verdicts (e.g.
     * "<bsn>/<besluitnummer>"); NULL: no per-record verdicts. */
    const char *const *record_keys;
} zv_payload_spec;

/* A TLS listener of a plugin's own (ABI 2.2): client certificates are
 * required and verified against client_ca; one path is served. */
typedef struct zv_https_spec {
    size_t size;           /* ZV_SIZED(zv_https_spec) */
    const char *listen;    /* "host:port" */
    const char *cert_file; /* server certificate chain, PEM */
    const char *key_file;  /* its key, PEM */
    const char *client_ca; /* CA certificates a client's certificate must chain to, PEM */
    const char *path;      /* e.g. "/graphql"; every other path gets 404 */
    size_t max_body;       /* 0: http.limits.max_body_size */
} zv_https_spec;

/* What a plugin disclosed outside the outbox (ABI 2.2), e.g. a register
 * answering a query: written to the hash-chained audit trail like a
 * delivery, with each client's pseudonymous key (never the BSN), so the
 * disclosure view lists it beside the sent messages. */
typedef struct zv_query_disclosure {
    size_t size;          /* ZV_SIZED(zv_query_disclosure) */
    const char *message;  /* what was answered, e.g. the template "QLR-0003-ZK" */
    const char *fields;   /* "client.bsn=standard,delivery.start=standard" */
    /* The clients whose data went out, nbsns of them; borrowed for the call. */
    const char *const *bsns;
    size_t nbsns;
    const char *reference; /* an id of the exchange (trace id), may be NULL */
    const char *detail;    /* who asked: claims, certificate; no BSN */
    /* Who asked, as the records name that party (entitlement.funder, e.g.
     * the zorgkantoor "5501"), so the audit report can set what was asked
     * beside what messages sent to the same party; NULL: not known. */
    const char *party;
} zv_query_disclosure;

/* The host table: owned by the core, valid from create() until destroy()
 * returns (keep the pointer, never copy the table).  Every zv_ctx pointer
 * is the one create() got; it is valid for the same time. */
typedef struct zv_host {
    uint32_t size; /* sizeof(zv_host) of the core */
    uint32_t abi_major, abi_minor;

    void (*log)(zv_ctx *ctx, zv_log_level level, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

    /* The instance's own options, validated against the plugin's table.
     * Absent optional options without default: NULL / 0 / NULL.  Returned
     * strings and JSON are owned by the core and valid until destroy(). */
    const char *(*cfg_str)(zv_ctx *ctx, const char *name);
    int64_t (*cfg_int)(zv_ctx *ctx, const char *name);
    int (*cfg_bool)(zv_ctx *ctx, const char *name);
    double (*cfg_number)(zv_ctx *ctx, const char *name);
    const zv_json *(*cfg_json)(zv_ctx *ctx, const char *name);
    const char *(*instance_name)(zv_ctx *ctx); /* core's, valid until destroy() */
    /* Organisation-wide settings: "agb", "name", "retention" (how long
     * delivered data is kept, in seconds as decimal text).  Owned by the
     * core; "agb" and "name" are valid until destroy(), "retention" until
     * the next org() call of this instance; NULL for an unknown key. */
    const char *(*org)(zv_ctx *ctx, const char *key);

    /* Timers and fd watches: the handle belongs to the plugin, which frees
     * it with timer_free / unwatch_fd (before or in destroy()); arg is the
     * plugin's and is only passed back. */
    zv_timer *(*timer_new)(zv_ctx *ctx, zv_timer_cb cb, void *arg);
    void (*timer_arm)(zv_timer *t, uint64_t ms);
    void (*timer_cancel)(zv_timer *t);
    void (*timer_free)(zv_timer *t);

    zv_watch *(*watch_fd)(zv_ctx *ctx, int fd, int what, zv_fd_cb cb, void *arg);
    void (*unwatch_fd)(zv_watch *w);

    /* Asynchronous HTTP(S) through the core's libcurl multi handle.  Returns
     * the call, or NULL when it could not be started (bad URL, req->size
     * too small): then cb is never called.  The handle is the host's and
     * valid until cb has returned or http_cancel() was called on it.  cb
     * is called exactly once unless the call is cancelled; at shutdown a
     * call still in flight is called back with status 0 and error
     * "cancelled", which may be after destroy(): a plugin whose arg dies in
     * destroy() cancels its calls there. */
    zv_http_call *(*http_request)(zv_ctx *ctx, const zv_http_request *req, zv_http_cb cb,
                                  void *arg);
    /* Abandon a call in flight: its cb is never called, the transfer is
     * aborted and the handle is freed (invalid after this).  Not for a call
     * whose cb has run, nor from inside that call's own cb. */
    void (*http_cancel)(zv_http_call *call);

    /* Routes on the daemon's HTTP listener, e.g. "/webhook/ons" (path is
     * copied).  An exchange handed to the route callback is owned by the
     * core until the plugin calls ex_reply() exactly once (now or later, on
     * the loop), which frees it; what ex_method/ex_header/ex_body return is
     * the core's and valid until then. */
    int (*http_route)(zv_ctx *ctx, const char *path, zv_route_cb cb, void *arg);
    const char *(*ex_method)(zv_http_exchange *ex);
    const char *(*ex_header)(zv_http_exchange *ex, const char *name);
    const char *(*ex_body)(zv_http_exchange *ex, size_t *len);
    void (*ex_reply)(zv_http_exchange *ex, int status, const char *content_type, const void *body,
                     size_t len);

    /* Sources: hand an item to the mapping layer (item is borrowed for the
     * call; its size and field_size are checked: a wrong one is refused
     * with -1 and a log line).  Returns ZV_EMIT_* or a negative value when
     * it could not be kept (store failure): then the source must not
     * acknowledge and should retry later. */
    int (*emit)(zv_ctx *ctx, const zv_item *item);
    /* Make every emit and watermark since the last commit durable (one
     * transaction).  Acknowledge upstream only after this returns 0. */
    int (*commit)(zv_ctx *ctx);
    /* Every callback the host invokes is one unit of work: what it emitted
     * and watermarked since the last commit() is committed whole by
     * commit() or discarded whole by rollback() (appended below); a unit
     * still open when the callback returns is rolled back and logged. */
    /* Per-source resume points, written in the same transaction as emits;
     * key and value are copied; get writes into the plugin's buf. */
    int (*watermark_get)(zv_ctx *ctx, const char *key, char *buf, size_t buflen);
    int (*watermark_set)(zv_ctx *ctx, const char *key, const char *value);
    /* Once mode: the source has handed over everything available now. */
    void (*drained)(zv_ctx *ctx);
    /* Count an event for metrics ("rejected_signature", ...). */
    void (*count)(zv_ctx *ctx, const char *counter, int64_t delta);

    /* Formats: results of render() and interpret().  out is the core's,
     * valid during that render()/interpret() call; every argument is
     * copied (p is checked like emit()'s item). */
    int (*add_payload)(zv_render_out *out, const zv_payload_spec *p);
    int (*reject_record)(zv_render_out *out, size_t index, const char *rule, const char *field,
                         const char *reason);
    int (*verdict)(zv_verdict_out *out, const char *record_key, int accepted, const char *codes,
                   const char *reason);

    /* State directory private to this instance (created on demand); the
     * string is the core's, valid until destroy(). */
    const char *(*state_dir)(zv_ctx *ctx);

    /* The route registered with http_route takes bodies of at most max_body
     * bytes: the listener refuses larger ones (413) before reading them
     * (it cannot go above http.limits.max_body_size).  -1: no such route. */
    int (*http_route_limit)(zv_ctx *ctx, const char *path, size_t max_body);

    /* Sources: how many (record, destination) pairs this instance's emits
     * have staged since the daemon started: one record routed to three
     * destinations counts three.  A source takes the difference over one
     * input to say what became of it ("12 staged for destinations"). */
    int64_t (*staged_total)(zv_ctx *ctx);

    /* Sources: discard every emit and watermark since the last commit (the
     * unit of this callback), e.g. when one emit of a page failed.  Nothing
     * when none is open. */
    void (*rollback)(zv_ctx *ctx);

    /* The instance's config struct (zv_plugin_descriptor.config_size bytes),
     * filled from the options before create().  Owned by the core, and so
     * are the strings and JSON values in it: valid until destroy() returns.
     * NULL when the plugin declares no config struct. */
    const void *(*config)(zv_ctx *ctx);
    /* ---- members appended after 2.0: check with ZV_HOST_HAS before use ---- */

    /* 2.1.  Formats, inside render(): the model fields of batch record
     * `index` that the payload carrying it really contains (an element
     * written, not only a field read).  Called once per record that goes
     * into a payload; a later call for the same record replaces the
     * earlier.  fields[0..n) is borrowed for the call.  The audit trail, the
     * report and disclosures list exactly these.  A field the record does
     * not have is refused (-1, and the render counts as failed).  A record
     * for which it is never called counts the fields the format can carry
     * (field_renderable) among those it was given. */
    int (*rendered_fields)(zv_render_out *out, size_t index, const zv_field_id *fields,
                           size_t n);
    /* Heavy work off the loop (a large parse, a validation): work(arg) runs
     * on one of the core's worker threads, then done(arg) on the loop as a
     * callback of this instance (one unit of work, like a timer's).
     * Owner and lifetime: arg is the plugin's; it must stay valid until
     * done(arg) has run, and done() is where the plugin frees it.  work()
     * may touch only arg and what the plugin itself made thread-safe: no
     * host function, no timer, no other callback's data.  done() runs
     * exactly once for every call that returned 0, never inside
     * queue_work(), and before the instance's destroy() (the core waits for
     * work still running when it stops).  -1: not queued, nothing will run
     * (no worker pool, e.g. in zinvolctl or a dry run: do the work inline). */
    int (*queue_work)(zv_ctx *ctx, void (*work)(void *arg), void (*done)(void *arg), void *arg);

    /* Sources: commit() without waiting for the disk (group commit).  The
     * unit of this callback joins the group the core commits after this
     * turn of the loop together with every other unit committed meanwhile,
     * with one fsync; durable(arg, ok) is then called once, on the loop in
     * a callback of its own (never inside commit_async): ok 1 when the unit
     * is on disk (acknowledge upstream now, e.g. answer 202), 0 when the
     * group was lost (answer 503; nothing of it is kept).  arg is the
     * plugin's and must stay valid until then.  -1: the unit could not be
     * committed (it is rolled back) and durable() is not called. */
    int (*commit_async)(zv_ctx *ctx, void (*durable)(void *arg, int ok), void *arg);

    /* ---- 2.2 ---- */
    /* Serve spec->path over TLS with verified client certificates on a
     * listener of this instance's own.  Bound when the daemon starts
     * serving (never in --check-config or --dry-run); cb runs on the loop
     * for every request to the path, the exchange is answered with
     * ex_reply as on http_route.  0, or -1 with why in err. */
    int (*https_listen)(zv_ctx *ctx, const zv_https_spec *spec, zv_route_cb cb, void *arg,
                        char *err, size_t errlen);
    /* The verified client certificate's subject of a request on an
     * https_listen listener ("CN=...,O=..."); NULL elsewhere.  Valid until
     * ex_reply. */
    const char *(*ex_peer)(zv_http_exchange *ex);
    /* Append one entry of kind "queried" to the audit trail, committed
     * before it returns.  0, or -1 (logged) when the store refused it: the
     * caller must then not hand out the data. */
    int (*audit_disclosure)(zv_ctx *ctx, const zv_query_disclosure *d);
    /* Formats: hand a receiver's answer that arrived outside a delivery
     * (e.g. an error report on the plugin's own listener) to this
     * instance's interpret(), as `zinvolctl retour` does with a file: each
     * verdict is matched to the newest payload that carried its record key;
     * rejected ones go to the dead letter with codes and reason.  0 all
     * matched, 1 some matched no payload, -1 failure (why in err). */
    int (*retour)(zv_ctx *ctx, const char *body, size_t len, char *err, size_t errlen);
    /* A condition of this instance an operator must act on (text is
     * copied, at most 255 bytes, BSNs masked), e.g. "token: HTTP 401 from
     * the authorisation server"; NULL or "" clears it.  While set, /healthz
     * is degraded with "<instance>: <text>", `zinvolctl status` shows it
     * beside the instance and /metrics has zinvol_plugin_problem 1.  Loop
     * thread only (not from render() or queue_work's work). */
    void (*problem)(zv_ctx *ctx, const char *text);

    /* ---- 2.3 ---- */
    /* Formats: the destination's policy.schedule ("event", "daily", ...
     * "quarterly", "yearly"); NULL for sources and transports.  Borrowed
     * from the config, valid for the instance's life. */
    const char *(*schedule)(zv_ctx *ctx);

    /* ---- 2.4 ---- */
    /* Aggregate formats (ZV_FORMAT_AGGREGATE), inside render(): batch
     * record `index` was counted in no measure, for `reason` (a short fixed
     * phrase, e.g. "no client.bsn"; borrowed for the call; no record's
     * value in it).  Every other record of the batch that is not rejected
     * counts as counted.  The core keeps a counter per destination and
     * reason (counted records and these), so every record ends in a visible
     * state although no payload names it.  A later call for the same record
     * is ignored. -1: index out of range (the render counts as failed). */
    int (*not_counted)(zv_render_out *out, size_t index, const char *reason);
    /* Sources: remember event_id (an upstream event's id, at most 200
     * bytes, copied) in the open unit, so that it is committed or rolled
     * back with what the event brought.  1: new; 0: received before, by
     * this node or, on a shared store, any other (the caller drops the
     * event and answers it as a replay); -1: the store failed.  Two nodes
     * given the same id at once: the second waits for the first's unit and
     * is told 0 if it was committed, 1 if it was rolled back. */
    int (*event_once)(zv_ctx *ctx, const char *event_id);
} zv_host;

/* 1 when the host table h has member m (appended in a later minor). */
#define ZV_HOST_HAS(h, m) ((h)->size >= offsetof(zv_host, m) + sizeof((h)->m) && (h)->m)

/* ---- source plugins ---------------------------------------------------- */

/* The ops tables below are the plugin's (static data), read by the core
 * while the plugin is loaded; size is sizeof as the plugin compiled it. */
typedef struct zv_source_ops {
    size_t size;
    /* Begin watching / listening / polling. */
    int (*start)(void *state);
    /* Once mode: hand over everything available now, then call
     * host->drained().  May finish asynchronously. */
    int (*drain)(void *state);
    /* Stop accepting input; finish or persist what is in flight. */
    void (*stop)(void *state);
} zv_source_ops;

/* ---- format plugins ---------------------------------------------------- */

/* An element of zv_format_ops.messages: the plugin's static data, its
 * strings too. */
typedef struct zv_message_decl {
    const char *name;      /* "AW35" */
    const char *catalogue; /* catalogue file, looked up in the catalogue dir; NULL: none */
    const char *description;
} zv_message_decl;

/* Filled by the core for render(); it and all it points to (the records
 * too) are the core's, valid during that render() call only. */
typedef struct zv_batch {
    size_t size; /* sizeof(zv_batch) of the core */
    const char *destination;
    const char *batch_id; /* unique per destination, stable across retries */
    int message;          /* index into the plugin's messages */
    int64_t now;          /* unix time of the batch window's close */
    size_t n;
    /* n pointers (an array of pointers: its stride never changes);
     * minimised: only fields that may be sent. */
    const zv_record *const *records;
    /* 2.4 (read when size says it is there): 1 when more records of this
     * destination follow in further batches of the same flush (the core
     * renders a flush in work units of max_records).  An aggregate format
     * may then count and make no payload, and send its running counts with
     * the flush's last batch (more 0): one payload per touched period per
     * flush. */
    int more;
} zv_batch;

/* 1 when batch b has member m (appended in a later minor). */
#define ZV_BATCH_HAS(b, m) ((b)->size >= offsetof(zv_batch, m) + sizeof((b)->m))

/* Filled by the core for interpret(); it and all it points to are the
 * core's, valid during that interpret() call only. */
typedef struct zv_answer {
    size_t size;              /* sizeof(zv_answer) of the core */
    int status;               /* HTTP status or 0 for a retour that arrived as a file */
    const char *content_type; /* NULL: unknown */
    const char *body;
    size_t len;
    const char *payload; /* the payload the answer is about; NULL for a retour file */
    size_t payload_len;
} zv_answer;

typedef struct zv_format_ops {
    size_t size;
    /* nmessages elements, message_size bytes apart (.message_size =
     * sizeof(zv_message_decl)); read by the core with ZV_AT. */
    const zv_message_decl *messages;
    size_t nmessages;
    size_t message_size;
    /* Which message a record becomes, or -1 when this format does not take it. */
    int (*classify)(void *state, const zv_record *rec);
    /* Render a batch: add_payload() for each message, reject_record() for
     * records that violate a rule of the standard.  A rejected record must
     * not appear in any payload.  Returns 0, or -1 on internal failure.
     * The daemon calls render() on a worker thread, one batch at a time per
     * instance, while classify() and interpret() may run on the loop: render
     * may use add_payload, reject_record and log of the host only, and must
     * share no mutable state with classify/interpret unguarded. */
    int (*render)(void *state, const zv_batch *batch, zv_render_out *out);
    /* Read a receiver's answer or a retour message: one verdict() per
     * record key (e.g. BSN + Besluitnummer).  NULL: HTTP status only. */
    int (*interpret)(void *state, const zv_answer *answer, zv_verdict_out *out);
} zv_format_ops;

/* ---- transport plugins ------------------------------------------------- */

/* Filled by the core for send(): the struct itself is valid during send()
 * only; the strings and the payload it points to are the core's and stay
 * valid until the send's callback has been called, so an asynchronous
 * transport may use them until it calls back without copying. */
typedef struct zv_delivery {
    size_t size; /* sizeof(zv_delivery) of the core */
    const char *destination;
    const char *idem_key;
    const void *payload;
    size_t len;
    const char *content_type;
    const char *extension;
    int attempt; /* 1 for the first try */
} zv_delivery;

typedef enum zv_send_status {
    ZV_SEND_OK = 0,
    ZV_SEND_RETRY,   /* temporary: try again later */
    ZV_SEND_REJECTED /* permanent: the receiver refused this payload */
} zv_send_status;

/* Filled by the transport and handed to zv_send_cb: borrowed for that
 * call (the core copies detail and the answer). */
typedef struct zv_send_result {
    size_t size; /* sizeof(zv_send_result) as the transport compiled it */
    zv_send_status status;
    int http_status;    /* 0 when not HTTP */
    const char *detail; /* human-readable reason */
    long retry_after_s; /* -1: none given */
    const char *answer; /* receiver's body, handed to the format */
    size_t answer_len;
    const char *answer_type;
} zv_send_result;

/* Called exactly once per send(), on the loop (never from inside send()). */
typedef void (*zv_send_cb)(const zv_send_result *res, void *arg);

typedef struct zv_transport_ops {
    size_t size;
    int (*send)(void *state, const zv_delivery *d, zv_send_cb cb, void *arg);
} zv_transport_ops;

/* ---- the descriptor ---------------------------------------------------- */

typedef struct zv_plugin_descriptor {
    /* Frozen for every ABI version, past and future: the core reads these
     * three before anything else to refuse a plugin of another major. */
    uint32_t abi_major; /* must equal the core's ZV_ABI_MAJOR */
    uint32_t abi_minor; /* must not exceed the core's ZV_ABI_MINOR */
    uint32_t size;      /* sizeof(zv_plugin_descriptor) as the plugin saw it */
    zv_plugin_kind kind;
    /* All pointers in the descriptor are the plugin's static data, read by
     * the core while the plugin is loaded (until exit). */
    const char *name; /* type name used in the config: "iwlz", "http" */
    const char *version;
    const char *description;
    /* noptions elements, option_size bytes apart (ZV_OPTIONS sets all
     * four); entries with a NULL name are skipped. */
    const zv_option *options;
    size_t noptions;
    size_t option_size; /* sizeof(zv_option) as the plugin saw it */
    /* sizeof the plugin's config struct: the core allocates it zeroed, stores
     * every option at its offset (given value or default) and hands it out
     * with host->config() before create().  0: no struct, only cfg_*(). */
    size_t config_size;

    /* *state is the plugin's: passed back to every op, freed by destroy().
     * err is the core's buffer of errlen bytes, for the reason of a -1. */
    int (*create)(zv_ctx *ctx, const zv_host *host, void **state, char *err, size_t errlen);
    void (*destroy)(void *state);

    const zv_source_ops *source;       /* kind == ZV_PLUGIN_SOURCE */
    const zv_format_ops *format;       /* kind == ZV_PLUGIN_FORMAT */
    const zv_transport_ops *transport; /* kind == ZV_PLUGIN_TRANSPORT */

    /* Formats, optional: whether an instance with these options can ever
     * produce messages[message] (1) or never does (0), e.g. an iJw-only
     * instance never sends WMO305.  options is the destination's
     * format_options object as configured (NULL when absent; defaults not
     * applied).  A pure function of the options: the core calls it without
     * an instance (catalogue checks, the audit report).  NULL: every
     * message is active.  Read it with
     * zv_plugin_message_active() in the core. */
    int (*message_active)(const zv_json *options, int message); /* options borrowed */

    /* 2.1.  Formats, optional: whether messages[message] of an instance
     * with these options can carry model field `field` at all (1) or never
     * does (0): a declaration of what the format renders, e.g. iwlz has no
     * element for client.postcode.  A pure function of the options (as for
     * message_active; options borrowed).  The core refuses in --check-config
     * a catalogue entry or override for a field the format cannot carry, and
     * counts only fields it can carry in change detection.  NULL, or a
     * plugin of 2.0: every field can be carried.  Read it with
     * zv_plugin_field_renderable() in the core. */
    int (*field_renderable)(const zv_json *options, int message, zv_field_id field);

    /* 2.3.  Formats, optional: ZV_FORMAT_* flags.  Read with
     * zv_plugin_format_flags() in the core (0 for older plugins). */
    uint32_t format_flags;
} zv_plugin_descriptor;

/* The format's payloads hold only counts over many clients (no field of
 * any one record): the audit report shows its destinations with 0
 * personal fields and the fields it reads as read, not sent. */
#define ZV_FORMAT_AGGREGATE 0x1u

#define ZV_DESCRIPTOR_HEAD(kind_, name_)                                                           \
    .abi_major = ZV_ABI_MAJOR, .abi_minor = ZV_ABI_MINOR,                                          \
    .size = (uint32_t)sizeof(zv_plugin_descriptor), .kind = (kind_), .name = (name_)

#ifdef __cplusplus
}
#endif
#endif
