/*
 * records.c — layer 3: one statistics record per file (device, inode),
 * in an open-addressing table that grows up to RECORDS_MAX files; the rest
 * are summed in one "(other files)" record.  See records.h.
 */
#include "records.h"

#include <sched.h>
#include <stdlib.h>
#include <string.h>

struct slot {
    struct wb_record r;
    char *path;
    bool used;
};

#define RECORDS_MAX (1u << 16)
static struct slot *table;
static size_t table_cap, table_used;
static struct slot other_files;
static _Atomic int table_lock;

static void take_lock(void)
{
    while (atomic_exchange_explicit(&table_lock, 1, memory_order_acquire))
        sched_yield();
}
static bool try_lock(void)
{
    for (int i = 0; i < 1000; i++)
        if (!atomic_exchange_explicit(&table_lock, 1, memory_order_acquire))
            return true;
    return false;
}
static void drop_lock(void) { atomic_store_explicit(&table_lock, 0, memory_order_release); }

static size_t slot_of(dev_t dev, ino_t ino, size_t cap)
{
    uint64_t h = ((uint64_t)dev * 0x9E3779B97F4A7C15ull) ^ ((uint64_t)ino * 0xC2B2AE3D27D4EB4Full);
    return (size_t)(h ^ (h >> 29)) & (cap - 1);
}

static void grow(void)
{
    size_t cap = table_cap ? 2 * table_cap : 64;
    struct slot *grown = calloc(cap, sizeof *grown);
    if (!grown)
        return;   /* the table stays as it is; when full, other_files */
    for (size_t i = 0; i < table_cap; i++) {
        if (!table[i].used)
            continue;
        size_t j = slot_of(table[i].r.dev, table[i].r.ino, cap);
        while (grown[j].used)
            j = (j + 1) & (cap - 1);
        grown[j] = table[i];
    }
    free(table);
    table = grown;
    table_cap = cap;
}

/* lock held: the slot of (dev, ino), or other_files. */
static struct slot *slot_for(dev_t dev, ino_t ino)
{
    if (table_used * 2 >= table_cap && table_cap < 2 * RECORDS_MAX)
        grow();
    if (!table_cap)
        return &other_files;
    size_t j = slot_of(dev, ino, table_cap);
    while (table[j].used) {
        if (table[j].r.dev == dev && table[j].r.ino == ino)
            return &table[j];
        j = (j + 1) & (table_cap - 1);
    }
    if (table_used >= RECORDS_MAX || table_used + 1 >= table_cap)
        return &other_files;
    table[j].used = true;
    table[j].r.dev = dev;
    table[j].r.ino = ino;
    table_used++;
    return &table[j];
}

void wb_records_add(const struct wb_record *add)
{
    take_lock();
    struct slot *s = slot_for(add->dev, add->ino);
    struct wb_record *r = &s->r;
    r->writes += add->writes;
    r->direct += add->direct;
    r->bytes += add->bytes;
    r->kernel_writes += add->kernel_writes;
    r->lost += add->lost;
    if (add->max_wait_ms > r->max_wait_ms)
        r->max_wait_ms = add->max_wait_ms;
    if (s == &other_files)
        other_files.used = true;
    else if (!s->path && add->path)
        s->path = strdup(add->path);
    drop_lock();
}

bool wb_records_empty(void)
{
    take_lock();
    bool empty = !table_used && !other_files.used;
    drop_lock();
    return empty;
}

static void give(struct slot *s, const char *path, wb_record_fn fn, void *arg)
{
    struct wb_record r = s->r;
    r.path = path;
    fn(&r, arg);
}

bool wb_records_take(wb_record_fn fn, void *arg, bool try_only)
{
    if (try_only ? !try_lock() : (take_lock(), false))
        return false;
    for (size_t i = 0; i < table_cap; i++)
        if (table[i].used)
            give(&table[i], table[i].path, fn, arg);
    if (other_files.used)
        give(&other_files, "(other files)", fn, arg);
    if (!try_only) {
        for (size_t i = 0; i < table_cap; i++)
            free(table[i].path);
        if (table)
            memset(table, 0, table_cap * sizeof *table);
        table_used = 0;
        memset(&other_files, 0, sizeof other_files);
    }
    drop_lock();
    return true;
}

void wb_records_after_fork_child(void)
{
    atomic_store(&table_lock, 0);
    table = NULL;
    table_cap = table_used = 0;
    memset(&other_files, 0, sizeof other_files);
}
