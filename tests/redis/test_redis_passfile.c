/*  test_redis_passfile.c: the Redis password file (broker/redis_passfile.c): an owner-only file
    is read (0600, or 0400), one that group or others may read is refused naming the file
    and its mode (0640, 0604), as are what is not a regular file, a file too long and a
    line of the wrong form; no reason ever shows the password. */
#include "redis_passfile.h"
#include "testutil.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/collab-redis-passfile-XXXXXX";
static char path[128];

static void write_file(const char *content, size_t len, mode_t mode)
{
    unlink(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    CHECK(fd >= 0 && write(fd, content, len) == (ssize_t)len);
    if (fd >= 0)
        close(fd);
    CHECK(chmod(path, mode) == 0); /* chmod: the umask does not narrow it */
}

/*  A file of this content and mode is read as this user and password. */
static void check_reads(const char *content, mode_t mode, const char *user, const char *password)
{
    collab_redis_auth_t s;
    char err[512];
    write_file(content, strlen(content), mode);
    CHECK_OK(collab_redis_passfile_load(path, &s, err, sizeof err));
    CHECK_STR(err, "");
    CHECK_STR(s.user, user);
    CHECK_STR(s.password, password);
    collab_redis_auth_wipe(&s);
}

static void test_modes(void)
{
    collab_redis_auth_t s;
    char err[512];
    check_reads("s3cret-Pw\n", 0600, "", "s3cret-Pw");
    check_reads("s3cret-Pw", 0400, "", "s3cret-Pw");
    static const mode_t refused[] = {0640, 0604, 0660, 0620, 0602, 0644};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        char mode[16];
        snprintf(mode, sizeof mode, "mode 0%03o", (unsigned)refused[i]);
        write_file("s3cret-Pw\n", 10, refused[i]);
        CHECK_RC(collab_redis_passfile_load(path, &s, err, sizeof err), COLLAB_E_IO);
        CHECK(strstr(err, path) != NULL);
        if (!CHECK(strstr(err, mode) != NULL && strstr(err, "chmod 600") != NULL))
            fprintf(stderr, "  reason was: %s\n", err);
        CHECK(strstr(err, "s3cret") == NULL);
        CHECK_STR(s.password, ""); /* wiped */
    }
    collab_redis_auth_wipe(&s);
}

static void test_content(void)
{
    collab_redis_auth_t s;
    char err[512];
    check_reads("broker1 pw-of-broker1\r\n", 0600, "broker1", "pw-of-broker1");
    static const struct {
        const char *text;
        const char *reason;
    } bad[] = {
        {"", "is empty"},
        {"\n", "is empty"},
        {"a b c", "one space between"},
        {" pw", "one space between"},
        {"pw ", "one space between"},
        {"user  pw", "one space between"},
        {"pw\nsecond", "more than one line"},
        {"pw\n\n", "more than one line"},
        {"p\tw", "control character"},
        {"p\x01w", "control character"},
        {"p\xc3\xa9", "not ASCII"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        write_file(bad[i].text, strlen(bad[i].text), 0600);
        CHECK_RC(collab_redis_passfile_load(path, &s, err, sizeof err), COLLAB_E_BAD_REQUEST);
        if (!CHECK(strstr(err, path) != NULL && strstr(err, bad[i].reason) != NULL))
            fprintf(stderr, "  for '%s' the reason was: %s\n", bad[i].text, err);
    }
    write_file("p\0w", 3, 0600);
    CHECK_RC(collab_redis_passfile_load(path, &s, err, sizeof err), COLLAB_E_BAD_REQUEST);
}

static void test_size_and_type(void)
{
    collab_redis_auth_t s;
    char err[512], big[COLLAB_REDIS_PASSFILE_MAX + 2];
    /* a user of 128 and a password of 512 fit; one more byte of password does not */
    memset(big, 'u', 128);
    big[128] = ' ';
    memset(big + 129, 'p', 512);
    write_file(big, 641, 0600);
    CHECK_OK(collab_redis_passfile_load(path, &s, err, sizeof err));
    CHECK_EQ_INT(strlen(s.password), 512);
    memset(big + 129, 'p', 513);
    write_file(big, 642, 0600);
    CHECK_RC(collab_redis_passfile_load(path, &s, err, sizeof err), COLLAB_E_BAD_REQUEST);
    CHECK(strstr(err, "longer than") != NULL && strstr(err, "ppp") == NULL);
    memset(big, 'p', sizeof big);
    write_file(big, sizeof big, 0600);
    CHECK_RC(collab_redis_passfile_load(path, &s, err, sizeof err), COLLAB_E_IO);
    CHECK(strstr(err, "bytes long; at most 1024") != NULL);
    CHECK_RC(collab_redis_passfile_load(dir, &s, err, sizeof err), COLLAB_E_IO);
    CHECK(strstr(err, "is a directory") != NULL);
    char fifo[160];
    snprintf(fifo, sizeof fifo, "%s/fifo", dir);
    CHECK(mkfifo(fifo, 0600) == 0);
    CHECK_RC(collab_redis_passfile_load(fifo, &s, err, sizeof err), COLLAB_E_IO); /* no wait */
    CHECK(strstr(err, "is a FIFO") != NULL);
    unlink(fifo);
    snprintf(fifo, sizeof fifo, "%s/absent", dir);
    CHECK_RC(collab_redis_passfile_load(fifo, &s, err, sizeof err), COLLAB_E_NOT_FOUND);
    CHECK(strstr(err, fifo) != NULL);
    CHECK_RC(collab_redis_passfile_load(NULL, &s, err, sizeof err), COLLAB_E_NOT_FOUND);
}

int main(void)
{
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(path, sizeof path, "%s/redis.pass", dir);
    TU_RUN(test_modes);
    TU_RUN(test_content);
    TU_RUN(test_size_and_type);
    unlink(path);
    CHECK(rmdir(dir) == 0);
    return tu_exit("test_redis_passfile");
}
