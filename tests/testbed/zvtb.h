/*
 * The testbed: plugin tests run against the real core, not a host of their
 * own.  A bed is a temporary folder with a config file the test writes, a
 * plugin folder (links to the build's plugins and the testbed's capture
 * plugins), and the state folder of a real runtime built from that config
 * (zv_runtime_build_host: the core's option parsing, plugin loader and host
 * table, a real SQLite store, the libevent loop the bed owns).  Results are
 * read back from where the core put them: the outbox, the quarantine, the
 * staged records, watermarks and counters in the store, and the core's log.
 *
 * Test plugins (tests/testbed/plugins): format "tbcap" takes every record
 * as one message whose catalogue lists every model field, so a source's
 * records arrive staged as the mapping made them; transport "tbcap" keeps
 * what it is handed and answers as its options say.
 *
 * Everything here aborts with a message on a testbed failure (not a
 * finding about the plugin under test): the Check runner reports it.
 */
#ifndef ZVTB_H
#define ZVTB_H

#include <stddef.h>
#include <stdint.h>
#include <zinvol/model.h>
#include <zinvol/plugin.h>

#include <event2/event.h>

#include "core/instance.h"
#include "delivery/delivery.h"

typedef struct zvtb zvtb;

/* ---- the bed ---- */

/* An empty bed (temporary folder, plugin links).  Its config is written by
 * zvtb_config and built by zvtb_build. */
zvtb *zvtb_new(void);
/* As zvtb_new, on an event base the caller owns (several beds on one loop,
 * e.g. transports of several runtimes driven by one test engine). */
zvtb *zvtb_new_on(struct event_base *base);
struct event_base *zvtb_base(zvtb *tb);
/* Removes the folder (unless ZVTB_KEEP is set) after freeing the runtime. */
void zvtb_free(zvtb *tb);
/* keys: the inside of the config's top-level object, e.g.
 *   "\"destinations\": [{...}]"
 * The bed adds state_dir, plugin_dir, catalogue_dir (the source tree's
 * conf/catalogue), organisation {12345678, Zorggroep Test} and log_level
 * unless keys name them. */
void zvtb_config(zvtb *tb, const char *keys);
/* Load the config and build the runtime (ZV_RT_RUN), open the store.  0, or
 * -1 with every error line in zvtb_errors(). */
int zvtb_build(zvtb *tb);
const char *zvtb_errors(const zvtb *tb);
/* zv_runtime_start: listener, delivery engine, sources' start(). */
int zvtb_start(zvtb *tb);
/* Free the runtime without stopping it (a crash): what a source did not
 * commit is lost, as the store's open transaction is. */
void zvtb_crash(zvtb *tb);
/* zv_runtime_stop and run the loop until it is done, then free the runtime. */
void zvtb_stop(zvtb *tb);
const char *zvtb_dir(const zvtb *tb);
/* A copy of the store as it is now (SQLite's VACUUM INTO), and a crash
 * back to it: the runtime is freed without stopping, the store file is
 * replaced by the copy, and the runtime is built again on it; plugin state
 * folders stay as the crash left them.  E.g. a flush whose transaction
 * never reached the disk: the next flush gets the same batch id. */
void zvtb_snapshot(zvtb *tb);
void zvtb_restore(zvtb *tb);
struct zv_runtime *zvtb_runtime(zvtb *tb);

/* ---- the loop (bounds against hanging, never timing assertions) ---- */
int zvtb_run_until(zvtb *tb, int (*pred)(zvtb *tb, void *arg), void *arg, int max_ms);
void zvtb_run_for(zvtb *tb, int ms);

/* ---- the core's log (captured while a bed exists; ZVTB_VERBOSE echoes) ---- */
const char *zvtb_log(const zvtb *tb); /* "level [component] line\n"... */
const char *zvtb_log_last(const zvtb *tb);
const char *zvtb_log_worst(const zvtb *tb); /* last line at warning or worse, "" */
int zvtb_log_problems(const zvtb *tb);      /* lines at warning or worse */
int zvtb_log_count(const zvtb *tb, const char *needle);
void zvtb_log_reset(zvtb *tb);

/* ---- formats ---- */

/* A bed with one destination "dest": the format with these options (JSON
 * object text, NULL: none) and the tbcap transport, built; aborts when the
 * core refuses the config (use zvtb_config + zvtb_build to test refusals). */
zvtb *zvtb_format(const char *format, const char *options_json);
/* As zvtb_format with more destination keys ("\"catalogue\": {...}") and
 * top-level keys (NULL: none). */
zvtb *zvtb_format_ex(const char *format, const char *options_json, const char *dest_keys,
                     const char *top_keys);
/* Every batch the core renders from now on has this now (unix time) instead
 * of the clock's (zv_runtime.batch_now), so dated rules are reproducible. */
void zvtb_set_now(zvtb *tb, int64_t now);
const zv_plugin_descriptor *zvtb_fmt_desc(zvtb *tb);
void *zvtb_fmt_state(zvtb *tb); /* the instance the core created */

typedef struct zvtb_payload {
    int64_t outbox_id;
    char *message; /* as the outbox has it: "AW35" */
    char *data;    /* NUL-terminated copy */
    size_t len;
    char *content_type, *idem, *ext;
    size_t n;
    size_t *records; /* indexes into the records handed to zvtb_render */
    char **keys;     /* record keys (NULL entries when the format gave none) */
} zvtb_payload;

typedef struct zvtb_reject {
    size_t index;
    char *stage; /* "rule", "schema" (rule XSD), "render" (ZV-RENDER, ZV-SIZE) */
    char *rule, *field, *reason;
} zvtb_reject;

typedef struct zvtb_render {
    int rc;          /* zv_pipeline_flush: 0, or -1 (records stay staged) */
    zvtb_payload *p; /* in outbox order */
    size_t np;
    zvtb_reject *r; /* in quarantine order */
    size_t nr;
    size_t left_staged;   /* records the flush left staged (then removed) */
    size_t total_records; /* over all payloads */
    /* An aggregate format's records (no payload names them): counted, and
     * counted nowhere (zv_host.not_counted), as the core tallied them. */
    int64_t counted, not_counted;
} zvtb_render;

/* The core's render path for records as the minimiser would hand them: each
 * is staged for message `message` of "dest" and zv_pipeline_flush renders
 * them (the render contract, halving, quarantine, outbox).  Records whose
 * record ids repeat get "<id>.<index>" so that results map back to indexes.
 * Whatever stays staged is removed after it is counted.  With ZVTB_DUMP_DIR
 * set, every payload read back is also written there.  Batch ids are the
 * store's sequence per destination: a fresh bed's first batch is "1". */
void zvtb_render_records(zvtb *tb, int message, zv_record *const *recs, size_t n, zvtb_render *out);
void zvtb_render_free(zvtb_render *out);
/* The store's counter (field, what) of "dest" (zv_store_count_add), e.g.
 * ("record", "counted") of an aggregate destination; 0 when none. */
int64_t zvtb_counter(zvtb *tb, const char *field, const char *what);
/* Draw n batch ids of "dest" from the store's sequence, so the next flush
 * gets a later one (to line batch ids up between beds). */
void zvtb_skip_batches(zvtb *tb, int n);
/* zvtb_render_records for the test's batch: its message, records and now
 * (batch_id and destination are the core's, as in the daemon).  Returns
 * out->rc. */
int zvtb_render_batch(zvtb *tb, const zv_batch *b, zvtb_render *out);

/* interpret() of the destination's format through the core's verdict
 * collector (zv_verdict_add, as the delivery engine uses it).  *out is a
 * view of verdicts the bed owns until the next zvtb_interpret or
 * zvtb_free (do not free it).  Returns interpret's result. */
int zvtb_interpret(zvtb *tb, const zv_answer *answer, zv_verdict_out *out);

/* ---- sources ---- */

/* The source instance named `source` of the built runtime (NULL: none). */
zv_ctx *zvtb_source_ctx(zvtb *tb, const char *source);
/* Hand items to the core through a source's context, as a source plugin
 * does (host->emit, then host->commit): for the tbcap source, or to feed
 * another source's pipeline; the runtime must be started (zvtb_start).
 * Returns emit's result (ZV_EMIT_*, or < 0). */
int zvtb_push(zvtb *tb, const char *source, const zv_item *item);
int zvtb_commit(zvtb *tb, const char *source);
/* Render everything staged, every destination (zv_pipeline_flush_all). */
int zvtb_flush(zvtb *tb);
/* The payloads of destination dest in the outbox, oldest first (records
 * are indexes into nothing: n, keys and records_json as the core wrote). */
void zvtb_outbox(zvtb *tb, const char *dest, zvtb_render *out);

/* ---- transports ---- */

/* The transport instance the core created for destination dest (the
 * runtime must be started for its HTTP client); owned by the runtime. */
zv_instance *zvtb_transport(zvtb *tb, const char *dest);

/* ---- files ---- */
char *zvtb_read_file(const char *path, size_t *len); /* aborts when unreadable */
int zvtb_count(const char *hay, const char *needle);

#endif
