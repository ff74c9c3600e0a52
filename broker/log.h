/*  log.h: the broker's and agents' diagnostic log on stderr, readable lines or JSON lines,
    with levels. The level is checked before any formatting (redis's serverLog habit). */
#ifndef COLLAB_LOG_H
#define COLLAB_LOG_H

#include <stdbool.h>

typedef enum {
    COLLAB_LOG_DEBUG,
    COLLAB_LOG_INFO,
    COLLAB_LOG_WARNING,
    COLLAB_LOG_ERROR
} collab_log_level_t;

extern collab_log_level_t collab_log_threshold;

/*  Configures the log: "text" or "json", and a level name ("debug", "info", "warning",
    "error"). Returns 0, or -1 for an unknown name. */
int collab_log_setup(const char *format, const char *level);

void collab_log_write(collab_log_level_t level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define collab_log(level, ...)                                                                     \
    do {                                                                                           \
        if ((level) >= collab_log_threshold)                                                       \
            collab_log_write((level), __VA_ARGS__);                                                \
    } while (0)
#define log_debug(...)   collab_log(COLLAB_LOG_DEBUG, __VA_ARGS__)
#define log_info(...)    collab_log(COLLAB_LOG_INFO, __VA_ARGS__)
#define log_warning(...) collab_log(COLLAB_LOG_WARNING, __VA_ARGS__)
#define log_error(...)   collab_log(COLLAB_LOG_ERROR, __VA_ARGS__)

#endif
