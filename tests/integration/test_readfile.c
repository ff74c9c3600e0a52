/*  test_readfile.c: agent_read_file, the bounded whole-file read the agents and tools use
    for their JSON inputs: sizes around the growth steps and the bound, an empty file, a
    missing file. */
#include "readfile.h"
#include "testutil.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[] = "/tmp/collab-readfile-XXXXXX";

static const char *file_of(size_t n)
{
    static char path[128];
    snprintf(path, sizeof path, "%s/f%zu", dir, n);
    FILE *f = fopen(path, "wb");
    for (size_t i = 0; f && i < n; i++)
        fputc('a' + (int)(i % 26), f);
    if (f)
        fclose(f);
    return path;
}

static void expect_ok(size_t n, size_t max)
{
    char err[256] = "";
    size_t len = 0;
    char *buf = agent_read_file(file_of(n), max, &len, err, sizeof err);
    if (CHECK(buf != NULL)) {
        CHECK_EQ_U64(len, n);
        CHECK_EQ_U64(strlen(buf), n); /* NUL-terminated right after the content */
        CHECK(n == 0 || (buf[0] == 'a' && buf[n - 1] == 'a' + (int)((n - 1) % 26)));
    } else {
        fprintf(stderr, "%s\n", err);
    }
    free(buf);
}

static void expect_refused(const char *path, size_t max, const char *reason)
{
    char err[256] = "";
    CHECK(agent_read_file(path, max, NULL, err, sizeof err) == NULL);
    CHECK(strstr(err, path) != NULL && strstr(err, reason) != NULL);
}

int main(void)
{
    if (!mkdtemp(dir))
        return 2;
    tu_current = "sizes";
    expect_ok(0, 100);
    expect_ok(1, 100);
    expect_ok(4094, 1 << 20); /* around the first growth step */
    expect_ok(4095, 1 << 20);
    expect_ok(4096, 1 << 20);
    expect_ok(10000, 1 << 20);
    expect_ok(100, 100); /* exactly the bound */
    tu_current = "refusals";
    expect_refused(file_of(101), 100, "larger than 100 bytes");
    expect_refused(file_of(20000), 10000, "larger than 10000 bytes");
    expect_refused("/nonexistent/file", 100, "cannot open");
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return tu_exit("test_readfile");
}
