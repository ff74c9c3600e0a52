/*  log.h: the broker's diagnostic log, readable lines or JSON lines, with levels. The level
    is checked before any formatting (redis's serverLog habit). The log is configured once per
    process, by its main (collab_log_init); until then nothing is written: the library never
    logs on its own. */
#ifndef COLLAB_LOG_H
#define COLLAB_LOG_H

#include <stdbool.h>
#include <stdio.h>

typedef enum {
    COLLAB_LOG_DEBUG,
    COLLAB_LOG_INFO,
    COLLAB_LOG_WARNING,
    COLLAB_LOG_ERROR,
    COLLAB_LOG_OFF /* a threshold only: nothing is written (the state before collab_log_init) */
} collab_log_level_t;

typedef enum { COLLAB_LOG_TEXT, COLLAB_LOG_JSON } collab_log_format_t;

/*  Configures this process's log: lines at level and above go to stream (lent: it must
    outlive the logging) in format. Call it from main, before the first line. */
void collab_log_init(collab_log_level_t level, collab_log_format_t format, FILE *stream);

/*  A level's name ("debug", "info", "warning", "error") into *level. Returns 0, or -1 for
    another name (*level untouched). */
int collab_log_level_parse(const char *name, collab_log_level_t *level);

/*  A format's name ("text", "json") into *format. Returns 0, or -1 (*format untouched). */
int collab_log_format_parse(const char *name, collab_log_format_t *format);

/*  Whether a line at level would be written. */
bool collab_log_enabled(collab_log_level_t level);

/*  Writes one line (use the macros: they check the level first). */
void collab_log_write(collab_log_level_t level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define collab_log(level, ...)                                                                     \
    do {                                                                                           \
        if (collab_log_enabled(level))                                                             \
            collab_log_write((level), __VA_ARGS__);                                                \
    } while (0)
#define log_debug(...)   collab_log(COLLAB_LOG_DEBUG, __VA_ARGS__)
#define log_info(...)    collab_log(COLLAB_LOG_INFO, __VA_ARGS__)
#define log_warning(...) collab_log(COLLAB_LOG_WARNING, __VA_ARGS__)
#define log_error(...)   collab_log(COLLAB_LOG_ERROR, __VA_ARGS__)

#endif
