/*  log.c: the process's diagnostic log in text or JSON lines (cJSON does the escaping). */
#include "log.h"

#include <cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/*  The process's log, as its main configured it (collab_log_init): off until then. */
static struct {
    collab_log_level_t threshold;
    collab_log_format_t format;
    FILE *stream;
} the_log = {COLLAB_LOG_OFF, COLLAB_LOG_TEXT, NULL};

static const char *const level_names[] = {"debug", "info", "warning", "error"};

void collab_log_init(collab_log_level_t level, collab_log_format_t format, FILE *stream)
{
    the_log.threshold = level;
    the_log.format = format;
    the_log.stream = stream;
}

int collab_log_level_parse(const char *name, collab_log_level_t *level)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(name, level_names[i]) == 0) {
            *level = (collab_log_level_t)i;
            return 0;
        }
    return -1;
}

int collab_log_format_parse(const char *name, collab_log_format_t *format)
{
    if (strcmp(name, "json") != 0 && strcmp(name, "text") != 0)
        return -1;
    *format = strcmp(name, "json") == 0 ? COLLAB_LOG_JSON : COLLAB_LOG_TEXT;
    return 0;
}

bool collab_log_enabled(collab_log_level_t level)
{
    return the_log.stream && level >= the_log.threshold && level < COLLAB_LOG_OFF;
}

void collab_log_write(collab_log_level_t level, const char *fmt, ...)
{
    char msg[1024], when[32];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(when + n, sizeof when - n, ".%03ldZ", ts.tv_nsec / 1000000);
    if (!collab_log_enabled(level))
        return;
    if (the_log.format == COLLAB_LOG_TEXT) {
        fprintf(the_log.stream, "%s %-7s %s\n", when, level_names[level], msg);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    char *line = NULL;
    if (o && cJSON_AddStringToObject(o, "time", when) &&
        cJSON_AddStringToObject(o, "level", level_names[level]) &&
        cJSON_AddStringToObject(o, "msg", msg))
        line = cJSON_PrintUnformatted(o);
    if (line)
        fprintf(the_log.stream, "%s\n", line);
    free(line);
    cJSON_Delete(o);
}
