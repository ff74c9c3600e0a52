/*  log.c: stderr logging in text or JSON lines (cJSON does the escaping). */
#include "log.h"

#include <cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

collab_log_level_t collab_log_threshold = COLLAB_LOG_INFO;
static bool json_format;

static const char *const level_names[] = {"debug", "info", "warning", "error"};

int collab_log_setup(const char *format, const char *level)
{
    if (format) {
        if (strcmp(format, "json") != 0 && strcmp(format, "text") != 0)
            return -1;
        json_format = strcmp(format, "json") == 0;
    }
    if (level) {
        for (int i = 0; i < 4; i++)
            if (strcmp(level, level_names[i]) == 0) {
                collab_log_threshold = (collab_log_level_t)i;
                return 0;
            }
        return -1;
    }
    return 0;
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
    if (!json_format) {
        fprintf(stderr, "%s %-7s %s\n", when, level_names[level], msg);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    char *line = NULL;
    if (o && cJSON_AddStringToObject(o, "time", when) &&
        cJSON_AddStringToObject(o, "level", level_names[level]) &&
        cJSON_AddStringToObject(o, "msg", msg))
        line = cJSON_PrintUnformatted(o);
    if (line)
        fprintf(stderr, "%s\n", line);
    free(line);
    cJSON_Delete(o);
}
