/*
 * Store transactions: plain ones, units inside a group, group commit.
 *
 * Without a writer thread (zinvolctl, tests) a group is committed on the
 * caller's thread and a plain transaction is one of its own.  With one
 * (zv_store_writer_start, the daemon) every transaction of the loop is a
 * unit of the group: begin_as() opens a unit, commit() releases it into the
 * group, and the group's COMMIT (its one fsync) runs on the writer thread
 * (store_writer.c).  The loop never waits for another process's lock: the
 * group's BEGIN IMMEDIATE does not wait (busy timeout ZV_STORE_LOOP_BUSY_MS);
 * when the file is locked the writer waits for it and the loop is told when
 * it is free.  The writer's connection serves both threads, never at the
 * same time: the loop touches no transaction while a commit is under way
 * (zv_store_ready; callbacks that would are held back, zv_store_when_ready),
 * so what a unit reads, its own and earlier units' rows included, is on the
 * connection it writes to.  Reads that need not see the open group go to
 * the store's reader (zv_store_reader), a connection of its own.
 */
#include "store_int.h"

#include <stdio.h>
#include <string.h>

static int refuse(zv_store *s, const char *what, const char *owner)
{
    snprintf(s->err, sizeof(s->err),
             "a transaction is already open (opened by %s); refusing to nest %s for %s",
             s->unit ? s->unit_owner : s->owner, what, owner ? owner : "?");
    return -1;
}

/* The group a unit joins: open already, or begun now.  With a writer: a
 * commit under way ends first (one fsync), and a locked file is waited for
 * on the writer thread, never here. */
static int group_open(zv_store *s)
{
    if (s->wr) zv_store_writer_settle(s);
    if (s->open) return 0;
    if (s->wr && zv_store_writer_locked(s)) {
        snprintf(s->err, sizeof(s->err),
                 "the store file is locked by another process; the writer thread waits for it");
        return -1;
    }
    if (zv_store_run(s, "BEGIN IMMEDIATE") < 0) {
        if (s->wr && (s->last_rc & 0xff) == SQLITE_BUSY) zv_store_writer_wait_lock(s);
        return -1;
    }
    s->open = 1;
    s->group = 1;
    s->failed = 0;
    s->gen++;
    snprintf(s->owner, sizeof(s->owner), "group commit");
    return 0;
}

static int unit_savepoint(zv_store *s, const char *owner)
{
    if (zv_store_run(s, "SAVEPOINT zv_unit") < 0) {
        if (!s->group_units) zv_store_group_commit(s); /* nothing in it: just end it */
        return -1;
    }
    s->unit = 1;
    s->unit_failed = 0;
    s->plain = 0;
    snprintf(s->unit_owner, sizeof(s->unit_owner), "%s", owner ? owner : "?");
    return 0;
}

int zv_store_begin_as(zv_store *s, const char *owner)
{
    if (s->wr) {                                /* a unit of the group (top of this file) */
        if (s->lent) zv_store_writer_settle(s); /* the lent unit goes first */
        if (s->unit || (s->open && !s->group)) return refuse(s, "one", owner);
        if (group_open(s) < 0 || unit_savepoint(s, owner) < 0) return -1;
        s->plain = 1;
        return 0;
    }
    /* Units waiting in a group are committed first: they come before. */
    if (s->open && s->group && !s->unit) zv_store_group_commit(s);
    /* No nesting: a second begin would silently join (and report the
     * success of) whatever the first owner leaves open or rolls back. */
    if (s->open) return refuse(s, "one", owner);
    s->failed = 0;
    if (zv_store_run(s, "BEGIN IMMEDIATE") < 0) return -1;
    s->open = 1;
    snprintf(s->owner, sizeof(s->owner), "%s", owner ? owner : "?");
    return 0;
}

int zv_store_begin(zv_store *s)
{
    return zv_store_begin_as(s, "?");
}

int zv_store_unit_begin(zv_store *s, const char *owner)
{
    if (s->wr && s->lent) zv_store_writer_settle(s);
    if (s->unit || (s->open && !s->group)) return refuse(s, "a unit", owner);
    if (group_open(s) < 0) return -1;
    return unit_savepoint(s, owner);
}

/* A group with no unit in it ends at once: it holds the file's write lock,
 * and nothing would commit it.  Nothing was written, so no fsync. */
void zv_store_group_end_empty(zv_store *s)
{
    if (!s->open || !s->group || s->unit || s->group_units) return;
    if (s->failed) s->failed = 0; /* ROLLBACK below: nothing of it is kept anyway */
    s->open = s->group = 0;
    zv_store_run(s, "ROLLBACK");
    s->gen_done = s->gen;
    if (s->on_group) s->on_group(s->on_group_arg, 1, 0);
}

int zv_store_group_prepare(zv_store *s)
{
    if (!s->wr) return 1;
    if (!zv_store_ready(s)) return 0;
    if (s->open) return 1;
    if (group_open(s) == 0) return 1;
    return !zv_store_writer_locked(s); /* other errors: the caller meets them */
}

void zv_store_unit_rollback(zv_store *s)
{
    if (!s->unit) return;
    s->unit = 0;
    s->unit_failed = 0;
    s->plain = 0;
    if (zv_store_run(s, "ROLLBACK TO zv_unit") < 0 || zv_store_run(s, "RELEASE zv_unit") < 0)
        s->failed = 1; /* the group cannot be trusted any more */
    zv_store_group_end_empty(s);
}

int zv_store_unit_commit(zv_store *s, int sync)
{
    if (!s->unit) {
        snprintf(s->err, sizeof(s->err), "unit commit without a unit");
        return -1;
    }
    if (s->unit_failed) {
        zv_store_unit_rollback(s);
        snprintf(s->err, sizeof(s->err), "unit rolled back after an earlier failure");
        return -1;
    }
    s->unit = 0;
    s->plain = 0;
    if (zv_store_run(s, "RELEASE zv_unit") < 0) {
        s->failed = 1;
        zv_store_group_commit(s); /* rolls the group back, and says so */
        return -1;
    }
    s->group_units++;
    if (s->on_pending) s->on_pending(s->on_pending_arg);
    return sync ? zv_store_group_commit_sync(s) : 0;
}

/* The precommit hook's units belong to the group they end. */
static void precommit(zv_store *s)
{
    if (!s->on_precommit || s->in_precommit || s->failed) return;
    s->in_precommit = 1;
    s->on_precommit(s->on_precommit_arg);
    s->in_precommit = 0;
}

/* The end of a group on this thread: COMMIT (or ROLLBACK after a failure). */
static int group_end_here(zv_store *s)
{
    int64_t n = s->group_units;
    s->group = 0;
    s->group_units = 0;
    int rc = zv_store_commit(s);
    s->gen_done = s->gen;
    if (s->on_group) s->on_group(s->on_group_arg, rc == 0, n);
    return rc;
}

int zv_store_group_commit(zv_store *s)
{
    if (s->lent) return 0; /* committed after the lent unit is released into it */
    if (!s->open || !s->group || s->unit) return s->unit ? -1 : 0;
    precommit(s);
    if (!s->wr) return group_end_here(s);
    int64_t n = s->group_units;
    s->open = s->group = 0;
    s->group_units = 0;
    return zv_store_writer_post_commit(s, n);
}

int zv_store_group_commit_sync(zv_store *s)
{
    if (!s->wr) return zv_store_group_commit(s);
    if (s->lent) zv_store_writer_settle(s); /* its unit joins this group */
    if (zv_store_group_commit(s) < 0) return -1;
    return zv_store_writer_settle(s);
}

int zv_store_group_pending(const zv_store *s)
{
    return s->open && s->group && !s->unit;
}

int64_t zv_store_wait_gen(const zv_store *s)
{
    if ((s->open && s->group) || (s->wr && zv_store_writer_committing(s))) return s->gen;
    return 0;
}

int64_t zv_store_done_gen(const zv_store *s)
{
    return s->gen_done;
}

void zv_store_on_group(zv_store *s, void (*cb)(void *arg, int ok, int64_t units), void *arg)
{
    s->on_group = cb;
    s->on_group_arg = arg;
}

void zv_store_on_pending(zv_store *s, void (*cb)(void *arg), void *arg)
{
    s->on_pending = cb;
    s->on_pending_arg = arg;
}

void zv_store_on_precommit(zv_store *s, void (*cb)(void *arg), void *arg)
{
    s->on_precommit = cb;
    s->on_precommit_arg = arg;
}

int zv_store_commit(zv_store *s)
{
    if (s->plain) return zv_store_unit_commit(s, 0); /* into the group (writer) */
    if (!s->open) {
        snprintf(s->err, sizeof(s->err), "commit without begin");
        return -1;
    }
    s->open = 0;
    if (s->failed) {
        zv_store_run(s, "ROLLBACK");
        snprintf(s->err, sizeof(s->err), "transaction rolled back after an earlier failure");
        return -1;
    }
    if (zv_store_run(s, "COMMIT") < 0) {
        char keep[sizeof(s->err)];
        memcpy(keep, s->err, sizeof(keep));
        zv_store_run(s, "ROLLBACK");
        memcpy(s->err, keep, sizeof(keep));
        return -1;
    }
    return 0;
}

void zv_store_rollback(zv_store *s)
{
    if (s->plain) { /* only the unit: the group holds others' work */
        zv_store_unit_rollback(s);
        return;
    }
    if (!s->open) return;
    if (s->group) { /* units accepted into it are lost: say so */
        s->failed = 1;
        s->unit = 0;
        zv_store_group_commit(s);
        return;
    }
    s->open = 0;
    s->failed = 0;
    zv_store_run(s, "ROLLBACK");
}

const char *zv_store_txn_owner(const zv_store *s)
{
    /* A lent unit is the writer thread's until the loop takes it back. */
    if (!s || !s->open || s->lent) return NULL;
    if (s->group) return s->unit ? s->unit_owner : NULL; /* a pending group is no one's */
    return s->owner;
}

int zv_store_op_begin(zv_store *s, int *own)
{
    /* Inside the caller's transaction or unit: part of it.  Between units
     * of a waiting group: a unit of its own, so a failure fails only it. */
    *own = s->wr ? !(s->unit || (s->open && !s->group)) : !s->open;
    return *own ? zv_store_begin_as(s, "store") : 0;
}

int zv_store_op_end(zv_store *s, int own)
{
    if (own) return zv_store_commit(s);
    return s->failed || (s->unit && s->unit_failed) ? -1 : 0;
}

int zv_store_savepoint(zv_store *s, int *mark)
{
    *mark = s->failed;
    if (!s->open) {
        snprintf(s->err, sizeof(s->err), "savepoint outside a transaction");
        return -1;
    }
    return zv_store_run(s, "SAVEPOINT zv_sp");
}

int zv_store_savepoint_release(zv_store *s)
{
    if (zv_store_run(s, "RELEASE zv_sp") < 0) {
        s->failed = 1;
        return -1;
    }
    return 0;
}

void zv_store_savepoint_undo(zv_store *s, int mark)
{
    if (zv_store_run(s, "ROLLBACK TO zv_sp") < 0 || zv_store_run(s, "RELEASE zv_sp") < 0) {
        s->failed = 1;
        return;
    }
    s->failed = mark;
}
