/*
 * Source plugin tests on the testbed: a bed whose config has the source
 * under test ("ecd", with the test's options and mapping) and a capture
 * destination ("capture": format and transport tbcap, a catalogue of every
 * model field, a batch window that never closes by itself), built and
 * started by the real core.  Everything is read back from the store through
 * a second connection, so only what the core committed is seen: records as
 * the core sent them to the destination, quarantine, watermarks, counters.
 * The plugin's HTTP routes are on the core's listener (127.0.0.1, a free
 * port).
 *
 * Records (zvs_nrecords, zvs_record, zvs_find) are what the core put in
 * capture's outbox: reading them first closes capture's batch window as the
 * daemon does when it expires (everything staged is rendered, on a worker
 * thread, through change detection: a key's newest content goes out once,
 * content equal to what was last sent for its key does not go out again,
 * and the source's emit reports it as a duplicate), followed by what is
 * still staged (after a crash no runtime closes the window: what the core
 * committed waits there).  So what a test sees depends on where it reads,
 * never on when the loop happened to run.
 */
#ifndef ZVTB_SRC_H
#define ZVTB_SRC_H

#include <stddef.h>
#include <stdint.h>
#include <zinvol/plugin.h>

#include "zvtb.h"

typedef struct zvs_rec {
    char *record_id;
    char *item_json; /* NULL: the core keeps the item only for quarantine */
    zv_record *rec;  /* as rendered for capture (every field: the catalogue keeps all) */
} zvs_rec;

typedef struct zvs_quar {
    char *record_id;
    char *field;
    char *reason;
    char *item_json;
} zvs_quar;

typedef struct zvs_host zvs_host;

/* options: the source's "options" object as JSON; mapping: its "mapping". */
zvs_host *zvs_new(const char *options_json, const char *mapping_json, char *err, size_t errlen);
void zvs_free(zvs_host *h);
/* Build and start the runtime with the source of plugin file <file>
 * ("in_filedrop.so": type filedrop); again after zvs_stop or zvs_crash. */
int zvs_start(zvs_host *h, const char *file, char *err, size_t errlen);
/* zv_runtime_stop: the source's stop(), what it handed over is committed. */
void zvs_stop(zvs_host *h);
/* The runtime freed without stopping: uncommitted work is lost. */
void zvs_crash(zvs_host *h);
/* Call the source's drain() and run until it reports drained() or max_ms. */
int zvs_drain(zvs_host *h, int max_ms);
int zvs_run_until(zvs_host *h, int (*pred)(zvs_host *, void *), void *arg, int max_ms);
void zvs_run_for(zvs_host *h, int ms);

int zvs_http_port(const zvs_host *h);
const char *zvs_state_dir(const zvs_host *h);
zvtb *zvs_bed(zvs_host *h);

/* Committed results.  Pointers stay valid until zvs_free.  The record
 * readers close capture's window first (see above). */
size_t zvs_nrecords(zvs_host *h);
const zvs_rec *zvs_record(zvs_host *h, size_t i);
size_t zvs_nquarantine(zvs_host *h);
const zvs_quar *zvs_quarantine(zvs_host *h, size_t i);
const char *zvs_watermark(zvs_host *h, const char *key);
/* The reason the mapping left out an optional field of a record (from the
 * core's log line), or NULL. */
const char *zvs_dropped(zvs_host *h, const char *record_id, const char *field);
/* A source's counter (count()) as the store has it, after the counts the
 * core keeps in memory until the next unit are written (zv_unit_flush_counts). */
int64_t zvs_counter(zvs_host *h, const char *name);
size_t zvs_nemits(const zvs_host *h); /* emit() calls, committed or not */
size_t zvs_ncommits(const zvs_host *h);
const zvs_rec *zvs_find(zvs_host *h, const char *record_id);
/* After `after` more emit() calls, the next `count` ones fail as the core's
 * emit does when the store fails (-1). */
void zvs_fail_emits(zvs_host *h, int after, int count);
/* The plugin's own last log line at warning or worse; "" when none. */
const char *zvs_last_warning(const zvs_host *h);

#endif
