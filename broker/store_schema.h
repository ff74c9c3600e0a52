/*  store_schema.h: internal to the store. Opens a state file, recognising taskcollab's own
    files and refusing (untouched) anyone else's, creating the schema only in a new or empty
    database, then configuring WAL and synchronous=FULL. */
#ifndef COLLAB_STORE_SCHEMA_H
#define COLLAB_STORE_SCHEMA_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>

/*  Returns a configured connection (the caller closes it) or NULL with "PATH: reason" in
    err. With reset, every table is emptied (the schema marker kept) in one transaction. */
sqlite3 *collab_store_schema_open(const char *path, bool reset, char *err, size_t errlen);

/*  The store's connection, for the SQLite backend's own modules (store_atrest.c), in
    direct mode only: NULL once collab_store_start_writer has handed it to the writer
    thread, and NULL for a store on another backend (whose migrations then refuse). */
typedef struct collab_store collab_store_t;
sqlite3 *collab_store_db(collab_store_t *self);

#endif
