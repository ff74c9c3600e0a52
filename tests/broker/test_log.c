/*  test_log.c: the diagnostic log (broker/log.h): nothing is written before main configures
    it, the threshold, both formats, the stream chosen, and the names parsed. */
#include "log.h"
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

/*  Everything written to f so far, NUL-terminated (static: one at a time). */
static const char *contents(FILE *f)
{
    static char buf[2048];
    fflush(f);
    rewind(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    return buf;
}

static void test_off_until_init(void)
{
    CHECK(!collab_log_enabled(COLLAB_LOG_ERROR));
    log_error("not written: %d", 1); /* no stream yet: must not crash nor write */
}

static void test_threshold_and_text(void)
{
    FILE *f = tmpfile();
    collab_log_init(COLLAB_LOG_WARNING, COLLAB_LOG_TEXT, f);
    CHECK(!collab_log_enabled(COLLAB_LOG_INFO));
    CHECK(collab_log_enabled(COLLAB_LOG_ERROR));
    log_info("quiet %d", 1);
    log_warning("loud %d", 2);
    const char *text = contents(f);
    CHECK(strstr(text, "quiet") == NULL);
    CHECK(strstr(text, "warning loud 2\n") != NULL);
    CHECK(text[4] == '-' && strstr(text, "Z ") != NULL); /* an ISO time first */
    collab_log_init(COLLAB_LOG_OFF, COLLAB_LOG_TEXT, NULL);
    fclose(f);
}

static void test_json(void)
{
    FILE *f = tmpfile();
    collab_log_init(COLLAB_LOG_DEBUG, COLLAB_LOG_JSON, f);
    log_debug("a \"quoted\" %s", "word");
    const char *text = contents(f);
    CHECK(strstr(text, "\"level\":\"debug\"") != NULL);
    CHECK(strstr(text, "\"msg\":\"a \\\"quoted\\\" word\"") != NULL);
    collab_log_init(COLLAB_LOG_OFF, COLLAB_LOG_TEXT, NULL);
    CHECK(!collab_log_enabled(COLLAB_LOG_ERROR));
    fclose(f);
}

static void test_names(void)
{
    collab_log_level_t l = COLLAB_LOG_INFO;
    collab_log_format_t fmt = COLLAB_LOG_TEXT;
    CHECK_OK(collab_log_level_parse("error", &l));
    CHECK_EQ_INT(l, COLLAB_LOG_ERROR);
    CHECK_EQ_INT(collab_log_level_parse("loud", &l), -1);
    CHECK_EQ_INT(l, COLLAB_LOG_ERROR);
    CHECK_OK(collab_log_format_parse("json", &fmt));
    CHECK_EQ_INT(fmt, COLLAB_LOG_JSON);
    CHECK_EQ_INT(collab_log_format_parse("xml", &fmt), -1);
}

int main(void)
{
    TU_RUN(test_off_until_init);
    TU_RUN(test_threshold_and_text);
    TU_RUN(test_json);
    TU_RUN(test_names);
    return tu_exit("test_log");
}
