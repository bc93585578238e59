/* Internal to fmt_signals: the signal set, its conditions, the count state
 * and the suppressed tables. */
#ifndef ZV_SIGNALS_H
#define ZV_SIGNALS_H

#include <stddef.h>
#include <stdint.h>
#include <zinvol/json.h>
#include <zinvol/model.h>
#include <zinvol/util.h>

#define SIG_MAX_DIMS 2
#define SIG_MAX_BANDS 16
/* Derived dimension: age in whole years on the period's last day. */
#define SIG_AGE_BAND "client.age_band"
#define SIG_DIM_AGE (-2)
#define SIG_UNKNOWN "onbekend"
/* Derived dimension: days from the assignment (entitlement.start) to the
 * start of care (delivery.start), in bands. */
#define SIG_WAIT_BAND "delivery.waiting_band"
#define SIG_DIM_WAIT (-3)

typedef enum sig_period { SIG_MONTH = 0, SIG_QUARTER, SIG_HALF, SIG_YEAR } sig_period;

/* A compiled condition, the catalogue's syntax:
 * {"field": F, "in": [..]} | {"field": F, "equals": V} | {"field": F, "present": b}
 * | {"all": [..]} | {"any": [..]} | {"not": C}. */
typedef enum sig_cond_op { SC_IN, SC_PRESENT, SC_ALL, SC_ANY, SC_NOT } sig_cond_op;
typedef struct sig_cond {
    sig_cond_op op;
    int field;     /* SC_IN, SC_PRESENT */
    int present;   /* SC_PRESENT */
    char **values; /* SC_IN: owned */
    size_t nvalues;
    struct sig_cond **sub; /* SC_ALL, SC_ANY, SC_NOT: owned */
    size_t nsub;
    int leaf; /* SC_IN, SC_PRESENT: the set's number of this test (sig_cond_number) */
} sig_cond;

typedef struct sig_measure {
    char *id, *title, *purpose, *citation; /* owned */
    int date_field;                        /* which date places a record in a period */
    int kind;                              /* record kind counted, -1: any */
    sig_cond *where;                       /* NULL: every record */
    int dims[SIG_MAX_DIMS];                /* field ids, or SIG_DIM_AGE */
    size_t ndims;
} sig_measure;

typedef struct sig_set {
    char *name, *description; /* owned */
    sig_period period;
    int bands[SIG_MAX_BANDS]; /* lower bounds of the age bands, ascending, first 0 */
    size_t nbands;
    int wbands[SIG_MAX_BANDS]; /* lower bounds of the waiting-days bands, first 0 */
    size_t nwbands;
    sig_measure *measures;
    size_t nmeasures;
    size_t nleaves; /* distinct field tests in the measures' conditions */
} sig_set;

/* Load and validate; NULL with "file: path: reason" in err. */
sig_set *sig_set_load(const char *file, char *err, size_t errlen);
void sig_set_free(sig_set *s);
const char *sig_dim_name(int dim);

/* Conditions: compile (NULL with "path: reason" in err) and evaluate. */
sig_cond *sig_cond_compile(const zv_json *j, const char *path, char *err, size_t errlen);
void sig_cond_free(sig_cond *c);
int sig_cond_eval(const sig_cond *c, const zv_record *r);
/* Number c's field tests: the same test (field, operator, values) in
 * another measure gets the same number.  seen[0..*n) holds the first of
 * each number (grown here; the caller frees the array). */
int sig_cond_number(sig_cond *c, const sig_cond ***seen, size_t *n);
/* sig_cond_eval with memo[leaf] (-1: not yet tested) shared by the
 * measures of one record: a test the measures repeat is done once. */
int sig_cond_eval_memo(const sig_cond *c, const zv_record *r, signed char *memo);

/* Periods: the label ("2026-Q1") of a date and the period's first and last day. */
int sig_period_of(sig_period p, const char *date, char label[16], char first[11], char last[11]);
const char *sig_period_name(sig_period p);
/* The first and last day of the period a label ("2026-Q3") names; -1 when
 * it is not a label of that kind of period. */
int sig_period_bounds(sig_period p, const char *label, char first[11], char last[11]);
/* The age band label of a birth date on a reference day, e.g. "12-17". */
void sig_age_band(const sig_set *s, const char *birth, const char *ref, char *out, size_t outlen);

/* The waiting-days band of an assignment and a start, e.g. "8-28";
 * "onbekend" when a date is missing or the start comes first. */
void sig_wait_band(const sig_set *s, const char *assigned, const char *start, char *out,
                   size_t outlen);

/* ---- state: per measure and period, one cell per distinct client ---- */
#define SIG_KEY_BYTES 16 /* a client: the first 128 bits of SHA-256(salt ":" BSN) */
typedef struct sig_state sig_state;
/* Opens (creating, or converting an earlier version) state_dir/signals.db
 * and loads the counts into memory; the set's measures get numbers there. */
sig_state *sig_state_open(const char *dir, const char *salt_opt, const sig_set *set, char *err,
                          size_t errlen);
void sig_state_close(sig_state *st);
int sig_state_begin(sig_state *st);
/* -1 leaves the transaction open: the caller rolls back. */
int sig_state_commit(sig_state *st);
/* Back to the last commit, on disk and in memory. */
void sig_state_rollback(sig_state *st);
int sig_state_client_key(sig_state *st, const char *bsn, unsigned char key[SIG_KEY_BYTES]);
/* Numbers: of a measure of the set (-1: not one), of a period label or a
 * cell name (added when new: between begin and commit only; -1 on failure). */
int sig_state_measure(const sig_state *st, const char *id);
int sig_state_period(sig_state *st, const char *label);
int sig_state_cell(sig_state *st, const char *cell);
/* Keep the cell of the client's latest record in the period: the greatest
 * (date, cell name), so the result does not depend on the order of
 * arrival, and putting a record twice changes nothing.  Between begin and
 * commit only.  day: sig_day_of() of the record's date. */
int sig_state_put(sig_state *st, int measure, int period, const unsigned char key[SIG_KEY_BYTES],
                  int32_t day, int cell);
/* Days since 1800-01-01 of a valid YYYY-MM-DD; -1 when it is not one. */
int sig_day_of(const char *date, int32_t *day);
/* A valid model date (zv_date_valid) into its parts; -1 when not one. */
int sig_ymd(const char *date, int *y, int *m, int *d);
int32_t sig_days(int y, int m, int d); /* days since 1800-01-01 */
typedef int (*sig_cell_cb)(const char *cell, int64_t count, void *arg);
int sig_state_cells(sig_state *st, const char *measure, const char *period, sig_cell_cb cb,
                    void *arg);

/* Period reports handed over (revision and a digest of their counts):
 * 0 found, 1 none yet, -1 error. */
int sig_state_report_get(sig_state *st, const char *period, int64_t *revision, char digest[65],
                         char batch[64]);
int sig_state_report_put(sig_state *st, const char *period, int64_t revision, const char *digest,
                         const char *batch);
/* Periods with counts and no report yet, in order; cb returns non-zero to stop. */
int sig_state_unreported(sig_state *st, int (*cb)(const char *period, void *arg), void *arg);
/* The team's narrative for a period from an ECD field: the latest (date, text) wins. */
int sig_state_narrative_put(sig_state *st, const char *period, const char *date, const char *text);
char *sig_state_narrative_get(sig_state *st, const char *period); /* malloc'd or NULL */
/* Running counts once per flush (signals_pending.c).  Between begin and
 * commit: sweep at the start of batch batch_id (marks of earlier batches
 * go, later or equal ones are pending again), add a period counted into,
 * mark a period's payload as made by batch_id.  each: the pending periods
 * in order (cb non-zero stops). */
int sig_state_pending_sweep(sig_state *st, const char *batch_id);
int sig_state_pending_add(sig_state *st, const char *period);
int sig_state_pending_made(sig_state *st, const char *period, const char *batch_id);
int sig_state_pending_each(sig_state *st, int (*cb)(const char *period, void *arg), void *arg);

/* ---- tables with suppression ---- */
#define SIG_CELL_SEP '\x1f'
typedef enum sig_show { SIG_SHOWN = 0, SIG_PRIMARY, SIG_SECONDARY } sig_show;
typedef struct sig_entry {
    char *values[SIG_MAX_DIMS]; /* owned; NULL for a total over that dimension */
    int64_t count;
    sig_show show;
} sig_entry;
typedef struct sig_table {
    size_t ndims;
    sig_entry *e; /* cells first, then margins, then the grand total (last) */
    size_t n, ncells;
} sig_table;

int sig_table_add_cell(sig_table *t, const char *cell, int64_t count);
/* Margins and grand total, then primary (below k) and secondary suppression. */
int sig_table_finish(sig_table *t, int64_t k);
void sig_table_clear(sig_table *t);

/* ---- the period report (signals_report.c, signals_narrative.c) ---- */
typedef struct sig_report {
    const sig_set *set;
    const sig_table *tables; /* one per measure, finished */
    int64_t k;
    const char *label, *start, *end; /* the period */
    const char *destination, *org, *generated;
    int64_t revision;      /* 1 for the first report of the period */
    const char *narrative; /* markdown subset; NULL: none given */
} sig_report;

int sig_report_html(const sig_report *r, zv_buf *out);
void sig_markdown_html(zv_buf *b, const char *text);
/* The narrative for a period: path is a file (used for every period) or a
 * folder holding <label>.md or <label>.txt.  0 with *out malloc'd or NULL
 * (none for this period); -1 with "file: reason" in err. */
int sig_narrative_read(const char *path, const char *label, char **out, char *err, size_t errlen);

#endif
