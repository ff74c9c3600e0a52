/*  test_spawn.c: the shared fork/exec helper and the monotonic clock (common/): pipes,
    /dev/null, files, stderr joined to stdout, a working folder, a removed environment
    variable, a worker function, exit codes and signals, and the wait's deadline. */
#include "collab_clock.h"
#include "collab_spawn.h"
#include "testutil.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*  Reads fd to its end into buf (NUL-terminated). */
static void slurp(int fd, char *buf, size_t cap)
{
    size_t n = 0;
    ssize_t r;
    while (n + 1 < cap && (r = read(fd, buf + n, cap - 1 - n)) > 0)
        n += (size_t)r;
    buf[n] = '\0';
}

static int run_sh(const char *script, const collab_spawn_opts_t *o, collab_proc_t *p)
{
    const char *argv[] = {"/bin/sh", "-c", script, NULL};
    return collab_spawn(p, argv, o);
}

static void test_pipes(void)
{
    const collab_spawn_opts_t o = {
        .in = COLLAB_SPAWN_PIPE, .out = COLLAB_SPAWN_PIPE, .err = COLLAB_SPAWN_PIPE};
    collab_proc_t p;
    char out[64], err[64];
    CHECK_OK(run_sh("read x; echo out:$x; echo err:$x >&2; exit 3", &o, &p));
    CHECK(write(p.in, "hi\n", 3) == 3);
    close(p.in);
    p.in = -1;
    slurp(p.out, out, sizeof out);
    slurp(p.err, err, sizeof err);
    CHECK_STR(out, "out:hi\n");
    CHECK_STR(err, "err:hi\n");
    CHECK_OK(collab_spawn_wait(&p, 5000));
    CHECK_EQ_INT(collab_spawn_code(&p), 3);
    collab_spawn_close(&p);
    CHECK_EQ_INT(p.in, -1);
    CHECK_EQ_INT(p.out, -1);
}

static void test_joined_null_and_file(void)
{
    char dir[] = "/tmp/collab-spawn-XXXXXX", path[64], text[64] = "";
    CHECK(mkdtemp(dir) != NULL);
    collab_spawn_opts_t o = {.out = COLLAB_SPAWN_PIPE, .err = COLLAB_SPAWN_STDOUT};
    collab_proc_t p;
    CHECK_OK(run_sh("echo a; echo b >&2", &o, &p));
    slurp(p.out, text, sizeof text);
    CHECK_STR(text, "a\nb\n");
    CHECK_OK(collab_spawn_wait(&p, 5000));
    collab_spawn_close(&p);
    o = (collab_spawn_opts_t){
        .out = COLLAB_SPAWN_NULL, .err = COLLAB_SPAWN_FILE, .err_path = "e.txt", .dir = dir};
    CHECK_OK(run_sh("echo gone; pwd >&2", &o, &p));
    CHECK_OK(collab_spawn_wait(&p, 5000));
    CHECK_EQ_INT(collab_spawn_code(&p), 0);
    snprintf(path, sizeof path, "%s/e.txt", dir);
    FILE *f = fopen(path, "r");
    CHECK(f && fgets(text, sizeof text, f));
    CHECK(strncmp(text, dir, strlen(dir)) == 0); /* ran in dir, wrote its stderr there */
    if (f)
        fclose(f);
    unlink(path);
    rmdir(dir);
}

static void test_env_and_exec_failure(void)
{
    static const char *const unset[] = {"COLLAB_SPAWN_TEST", NULL};
    const collab_spawn_opts_t o = {.out = COLLAB_SPAWN_PIPE, .unset_env = unset};
    collab_proc_t p;
    char out[64];
    setenv("COLLAB_SPAWN_TEST", "x", 1);
    CHECK_OK(run_sh("echo \"[${COLLAB_SPAWN_TEST:-unset}]\"", &o, &p));
    slurp(p.out, out, sizeof out);
    CHECK_STR(out, "[unset]\n");
    CHECK_OK(collab_spawn_wait(&p, 5000));
    collab_spawn_close(&p);
    const char *none[] = {"/nonexistent/program", NULL};
    CHECK_OK(collab_spawn(&p, none, NULL));
    CHECK_OK(collab_spawn_wait(&p, -1));
    CHECK_EQ_INT(collab_spawn_code(&p), 127);
}

static int worker(void *arg, int fd)
{
    const char *text = arg;
    return write(fd, text, strlen(text)) == (ssize_t)strlen(text) ? 7 : 1;
}

static void test_fn(void)
{
    const collab_spawn_opts_t o = {.out = COLLAB_SPAWN_PIPE};
    collab_proc_t p;
    char out[64];
    CHECK_OK(collab_spawn_fn(&p, worker, "from the worker", &o));
    slurp(p.out, out, sizeof out);
    CHECK_STR(out, "from the worker");
    CHECK_OK(collab_spawn_wait(&p, 5000));
    CHECK_EQ_INT(collab_spawn_code(&p), 7);
    collab_spawn_close(&p);
}

/*  A child that outlives the deadline is killed; a signal shows as 128 + its number. */
static void test_deadline_and_kill(void)
{
    collab_proc_t p;
    int64_t t0 = collab_mono_ms();
    CHECK_OK(run_sh("exec sleep 30", NULL, &p));
    CHECK_EQ_INT(collab_spawn_code(&p), -1); /* not exited yet */
    CHECK_EQ_INT(collab_spawn_wait(&p, 100), -1);
    CHECK(collab_mono_ms() - t0 >= 100 && collab_mono_ms() - t0 < 20000);
    CHECK_EQ_INT(collab_spawn_code(&p), 128 + SIGKILL);
    CHECK_OK(run_sh("exec sleep 30", NULL, &p));
    collab_spawn_kill(&p, SIGTERM);
    CHECK_OK(collab_spawn_wait(&p, 20000));
    CHECK_EQ_INT(collab_spawn_code(&p), 128 + SIGTERM);
}

static void test_clock(void)
{
    int64_t ns = collab_mono_ns(), us = collab_mono_us(), ms = collab_mono_ms();
    CHECK(ns > 0 && us >= ns / 1000 && ms >= ns / 1000000);
    CHECK(collab_mono_ns() >= ns);
}

int main(void)
{
    TU_RUN(test_pipes);
    TU_RUN(test_joined_null_and_file);
    TU_RUN(test_env_and_exec_failure);
    TU_RUN(test_fn);
    TU_RUN(test_deadline_and_kill);
    TU_RUN(test_clock);
    return tu_exit("test_spawn");
}
