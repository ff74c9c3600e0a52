/*  test_sniff_cli.c: collab-sniff and collab-replay as commands, on crafted files (no
    capture rights needed): usage errors exit 2, unreadable files 1; a pcap's lines, its
    JSON capture file, --count, -q, the port filter and a truncated file; collab-replay's
    selection and re-encoding errors, and exit 3 when no broker answers. */
#include "childproc.h"
#include "collab_spawn.h"
#include "pcapgen.h"
#include "sniftest.h"
#include "testutil.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <netinet/in.h>
#include <fcntl.h>
#include <sodium.h>
#include <sys/file.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define CAP (2 * COLLAB_MAX_FRAME)

static const char *sniff_exe, *replay_exe;
static char pcap[128], json[128], limits_json[128];

static void send_env(tconv_t *c, int side, const uint8_t *env, size_t n)
{
    static uint8_t frame[CAP];
    tconv_send(c, side, frame, zg_frame(frame, 0, env, n, false));
}

/*  login, its reply, create_project, its reply, close_project: 5 messages. */
static void make_pcap(void)
{
    static uint8_t env[CAP];
    pcapw_t w;
    tconv_t c;
    snprintf(pcap, sizeof pcap, "%s", st_path("cli.pcap"));
    snprintf(json, sizeof json, "%s", st_path("cli.jsonl"));
    CHECK(pcapw_open(&w, pcap, PG_ETHERNET) == 0);
    tconv_init(&c, &w, 4, 2, 40000, 5555, 1);
    zg_open_null(&c);
    send_env(&c, 0, env,
             zg_request(env, CAP, 1, "login", "coordinator1", "", "password", "s:coord123", NULL));
    send_env(&c, 1, env, zg_reply(env, CAP, 1, "session_id", "s:s-1", NULL));
    send_env(&c, 0, env,
             zg_request(env, CAP, 2, "create_project", "coordinator1", "s-1", "name", "s:P", NULL));
    send_env(&c, 1, env, zg_reply(env, CAP, 2, "project_id", "u:1", NULL));
    send_env(
        &c, 0, env,
        zg_request(env, CAP, 3, "close_project", "coordinator1", "s-1", "project_id", "u:1", NULL));
    tconv_close(&c);
    CHECK(pcapw_close(&w) == 0);
}

static int count(const char *text, const char *needle)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

/*  Runs a command to completion; returns its exit code, its output kept in *c. */
static int run(child_t *c, const char *const *argv)
{
    return child_run(c, argv, NULL, 20000);
}

/*  Runs a command and checks its exit code and that stream (out or err) contains want. */
static void expect(const char *const *argv, int code, bool err, const char *want)
{
    child_t c;
    int rc = run(&c, argv);
    CHECK_EQ_INT(rc, code);
    if (!CHECK(strstr(err ? c.err : c.out, want) != NULL))
        fprintf(stderr, "%s: wanted '%s' in:\n%s%s", argv[0], want, c.out, c.err);
    child_free(&c);
}

static void test_sniff_usage(void)
{
    const char *bogus[] = {sniff_exe, "--bogus", NULL};
    expect(bogus, 2, true, "unknown option");
    const char *both[] = {sniff_exe, "-i", "lo", "-r", pcap, NULL};
    expect(both, 2, true, "exclude each other");
    const char *bad_port[] = {sniff_exe, "-p", "70000", NULL};
    expect(bad_port, 2, true, "'-p'");
    const char *help[] = {sniff_exe, "--help", NULL};
    expect(help, 0, false, "usage: collab-sniff");
    const char *missing[] = {sniff_exe, "-r", "/nonexistent/x.pcap", NULL};
    expect(missing, 1, true, "/nonexistent/x.pcap");
    const char *no_iface[] = {sniff_exe, "-i", "nosuchif0", NULL};
    expect(no_iface, 1, true, "nosuchif0");
}

static void test_sniff_file(void)
{
    child_t c;
    const char *all[] = {sniff_exe, "-r", pcap, "-w", json, NULL};
    CHECK_EQ_INT(run(&c, all), 0);
    CHECK_EQ_INT(count(c.out, "\n"), 5);
    CHECK_EQ_INT(count(c.out, "-> broker request "), 3);
    CHECK_EQ_INT(count(c.out, "<- broker reply #"), 2);
    CHECK(strstr(c.out, "password=\"coord123\"") != NULL);
    CHECK(strstr(c.err, "5 messages (0 undecoded, 0 encrypted, 0 dropped over the limits), 1 "
                        "connections, 0 gaps") != NULL);
    CHECK(strstr(c.err, "over the limits (") == NULL); /* no hint when nothing was dropped */
    child_free(&c);
    FILE *f = fopen(json, "r");
    int lines = 0;
    for (int ch; f && (ch = fgetc(f)) != EOF;)
        lines += ch == '\n';
    if (f)
        fclose(f);
    CHECK_EQ_INT(lines, 5);

    const char *two[] = {sniff_exe, "-r", pcap, "--count", "2", NULL};
    CHECK_EQ_INT(run(&c, two), 0);
    CHECK_EQ_INT(count(c.out, "\n"), 2);
    child_free(&c);
    const char *quiet[] = {sniff_exe, "-r", pcap, "-q", NULL};
    CHECK_EQ_INT(run(&c, quiet), 0);
    CHECK_EQ_INT(c.out_len, 0);
    CHECK(strstr(c.err, "collab-sniff: 5 messages") != NULL);
    child_free(&c);
    const char *other_port[] = {sniff_exe, "-r", pcap, "-p", "6000", NULL};
    expect(other_port, 0, true, "collab-sniff: 0 messages");
}

/*  Lines of a JSON-lines text that parse as objects with "index" 1, 2, ... in order. */
static int json_lines(const char *text)
{
    int n = 0;
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        char *line = strndup(p, len);
        cJSON *o = line ? cJSON_Parse(line) : NULL;
        const cJSON *idx = cJSON_GetObjectItem(o, "index");
        if (!CHECK(cJSON_IsNumber(idx) && idx->valuedouble == n + 1))
            fprintf(stderr, "not a capture record #%d: %s\n", n + 1, line ? line : "");
        n++;
        cJSON_Delete(o);
        free(line);
        p += len + (nl != NULL);
    }
    return n;
}

/*  -w - puts the records on standard output, and nothing else. */
static void test_sniff_stdout(void)
{
    child_t c;
    const char *argv[] = {sniff_exe, "-r", pcap, "-w", "-", NULL};
    CHECK_EQ_INT(run(&c, argv), 0);
    CHECK_EQ_INT(json_lines(c.out), 5);
    CHECK(strstr(c.out, "-> broker") == NULL);
    CHECK(strstr(c.out, "\"action\":\"close_project\"") != NULL);
    CHECK(strstr(c.err, "collab-sniff: 5 messages") != NULL);
    child_free(&c);
}

/*  A standard output that cannot be written fails the run (exit 1), saying so. */
static void test_sniff_output_errors(void)
{
    const char *lines[] = {"/bin/sh", "-c", "exec \"$0\" \"$@\" > /dev/full", sniff_exe, "-r",
                           pcap,      NULL};
    expect(lines, 1, true, "collab-sniff: standard output: No space left on device");
    const char *records[] = {
        "/bin/sh", "-c", "exec \"$0\" \"$@\" > /dev/full", sniff_exe, "-r", pcap, "-w", "-", NULL};
    expect(records, 1, true, "collab-sniff: standard output: No space left on device");
    const char *file[] = {sniff_exe, "-r", pcap, "-q", "-w", "/dev/full", NULL};
    expect(file, 1, true, "collab-sniff: /dev/full: No space left on device");
    const char *fine[] = {"/bin/sh", "-c", "exec \"$0\" \"$@\" > /dev/null", sniff_exe, "-r",
                          pcap,      NULL};
    expect(fine, 0, true, "collab-sniff: 5 messages");
}

/*  Runs argv with its standard output a pipe nobody reads any more (as `| head -1` leaves
    it) and its standard error in err_path. Returns the exit code, or -1. */
static int run_closed_pipe(const char *const *argv, const char *err_path)
{
    int p[2];
    if (pipe(p) != 0)
        return -1;
    close(p[0]);
    /* SIGPIPE as a shell would leave it: the tool must choose */
    const collab_spawn_opts_t opts = {.out = COLLAB_SPAWN_FD,
                                      .out_fd = p[1],
                                      .err = COLLAB_SPAWN_FILE,
                                      .err_path = err_path,
                                      .default_sigpipe = true};
    collab_proc_t child;
    int rc = collab_spawn(&child, argv, &opts);
    close(p[1]);
    if (rc != 0 || collab_spawn_wait(&child, -1) != 0)
        return -1;
    return collab_spawn_code(&child);
}

static void test_sniff_closed_pipe(void)
{
    const char *err_path = st_path("pipe.err");
    const char *argv[] = {sniff_exe, "-r", pcap, NULL};
    CHECK_EQ_INT(run_closed_pipe(argv, err_path), 1); /* not killed by SIGPIPE (141) */
    FILE *f = fopen(err_path, "r");
    char text[4096] = "";
    size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0;
    text[n] = '\0';
    if (f)
        fclose(f);
    CHECK(strstr(text, "collab-sniff: standard output: Broken pipe") != NULL);
}

/*  -c counts decoded messages (of one action with --action); --broker names the port. */
static void test_sniff_count_and_broker(void)
{
    child_t c;
    const char *two[] = {sniff_exe, "-r", pcap, "-c", "2", NULL};
    CHECK_EQ_INT(run(&c, two), 0);
    CHECK_EQ_INT(count(c.out, "\n"), 2);
    child_free(&c);
    const char *create[] = {sniff_exe, "-r", pcap, "-c", "1", "--action", "create_project", NULL};
    CHECK_EQ_INT(run(&c, create), 0);
    CHECK_EQ_INT(count(c.out, "\n"), 3); /* login, its reply, then the create_project */
    CHECK(strstr(c.out, "request create_project") != NULL);
    child_free(&c);
    const char *absent[] = {sniff_exe, "-r", pcap, "-c", "1", "--action", "delete_project", NULL};
    CHECK_EQ_INT(run(&c, absent), 0);
    CHECK_EQ_INT(count(c.out, "\n"), 5); /* never reached: the file ends */
    child_free(&c);
    const char *broker[] = {sniff_exe, "-r", pcap, "--broker", "tcp://127.0.0.1:5555", NULL};
    CHECK_EQ_INT(run(&c, broker), 0);
    CHECK_EQ_INT(count(c.out, "\n"), 5);
    child_free(&c);
    const char *other[] = {sniff_exe, "-r", pcap, "--broker", "tcp://[::1]:6000", NULL};
    expect(other, 0, true, "collab-sniff: 0 messages");
    const char *no_c[] = {sniff_exe, "-r", pcap, "--action", "login", NULL};
    expect(no_c, 2, true, "give -c N");
    const char *both[] = {sniff_exe, "-r", pcap, "-p", "5555", "--broker", "tcp://h:5555", NULL};
    expect(both, 2, true, "-p and --broker exclude each other");
    const char *bad[] = {sniff_exe, "-r", pcap, "--broker", "localhost:5555", NULL};
    expect(bad, 2, true, "--broker must be tcp://HOST:PORT");
    const char *zero[] = {sniff_exe, "-r", pcap, "-c", "0", NULL};
    expect(zero, 2, true, "'-c'");
}

/*  A capture with a message of 17 frames between a login and its reply. */
static const char *make_limits_pcap(void)
{
    static uint8_t env[CAP], frame[CAP];
    static char path[128];
    pcapw_t w;
    tconv_t c;
    snprintf(path, sizeof path, "%s", st_path("limits.pcap"));
    CHECK(pcapw_open(&w, path, PG_ETHERNET) == 0);
    tconv_init(&c, &w, 4, 2, 40000, 5555, 1);
    zg_open_null(&c);
    send_env(&c, 0, env,
             zg_request(env, CAP, 1, "login", "coordinator1", "", "password", "s:coord123", NULL));
    for (int i = 0; i < 17; i++)
        tconv_send(&c, 0, frame, zg_frame(frame, i < 16 ? 1 : 0, "part", 4, false));
    send_env(&c, 1, env, zg_reply(env, CAP, 1, "session_id", "s:s-1", NULL));
    tconv_close(&c);
    CHECK(pcapw_close(&w) == 0);
    return path;
}

/*  A message over the limits shows in the lines, the records and the summary; the option
    raises the limit, within its bound. */
static void test_sniff_limits(void)
{
    child_t c;
    const char *path = make_limits_pcap();
    snprintf(limits_json, sizeof limits_json, "%s", st_path("limits.jsonl"));
    const char *dflt[] = {sniff_exe, "-r", path, "-w", limits_json, NULL};
    CHECK_EQ_INT(run(&c, dflt), 0);
    CHECK(strstr(c.out, "dropped: 17 frames, 68 bytes, over the sniffer's limit of 16 frames "
                        "(raise it with --max-frames)") != NULL);
    CHECK(strstr(c.err, "3 messages (0 undecoded, 0 encrypted, 1 dropped over the limits)"));
    CHECK(strstr(c.err, "1 message was over the limits (16 frames, 262144 bytes a message, "
                        "131072 bytes a frame)") != NULL);
    child_free(&c);
    FILE *f = fopen(limits_json, "r");
    char text[8192] = "";
    size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0;
    text[n] = '\0';
    if (f)
        fclose(f);
    CHECK_EQ_INT(json_lines(text), 3);
    CHECK(strstr(text, "\"index\":2,") && strstr(text, "\"dir\":\"dropped\"") &&
          strstr(text, "\"frames\":[]") &&
          strstr(text, "\"dropped\":{\"limit\":\"frames\",\"max\":16,\"frames\":17,"
                       "\"bytes\":68,\"complete\":true}"));
    const char *raised[] = {sniff_exe, "-r", path, "--max-frames", "17", NULL};
    CHECK_EQ_INT(run(&c, raised), 0);
    CHECK(strstr(c.out, "undecoded (malformed): 17 frames, 68 bytes") != NULL);
    CHECK(strstr(c.err, "0 dropped over the limits") != NULL);
    child_free(&c);
    const char *too_far[] = {sniff_exe, "-r", path, "--max-frames", "1025", NULL};
    expect(too_far, 2, true, "'--max-frames'");
    const char *too_big[] = {sniff_exe, "-r", path, "--max-message-bytes", "16777217", NULL};
    expect(too_big, 2, true, "'--max-message-bytes'");
    const char *small[] = {sniff_exe, "-r", path, "--max-frame-bytes", "4", NULL};
    CHECK_EQ_INT(run(&c, small), 0); /* the envelopes are larger, the parts too many */
    if (!CHECK(strstr(c.err, "3 messages (0 undecoded, 0 encrypted, 3 dropped") &&
               strstr(c.out, "over the sniffer's limit of 4 bytes (raise it with "
                             "--max-frame-bytes)")))
        fprintf(stderr, "collab-sniff --max-frame-bytes 4:\n%s%s", c.out, c.err);
    child_free(&c);
}

static void test_sniff_truncated(void)
{
    const char *cut = st_path("cut.pcap");
    FILE *in = fopen(pcap, "rb"), *out = fopen(cut, "wb");
    static uint8_t buf[1 << 16];
    size_t n = in ? fread(buf, 1, sizeof buf, in) : 0;
    CHECK(out && n > 100 && fwrite(buf, 1, n - 30, out) == n - 30);
    if (in)
        fclose(in);
    if (out)
        fclose(out);
    const char *argv[] = {sniff_exe, "-r", cut, NULL};
    expect(argv, 0, true, "cut short");
}

static uint16_t free_port(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0)
        a.sin_port = htons(1);
    if (fd >= 0)
        close(fd);
    return ntohs(a.sin_port);
}

static void test_replay_usage(void)
{
    char ep[64], bad[128];
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%u", (unsigned)free_port());
    const char *none[] = {replay_exe, NULL};
    expect(none, 2, true, "a capture file is required");
    const char *no_broker[] = {replay_exe, json, "--index", "1", NULL};
    expect(no_broker, 2, true, "--broker is required");
    const char *no_pick[] = {replay_exe, json, "--broker", ep, NULL};
    expect(no_pick, 2, true, "--index or --action is required");
    const char *not_tcp[] = {replay_exe, json, "--broker", "ipc:///x", "--index", "1", NULL};
    expect(not_tcp, 2, true, "tcp://HOST:PORT");
    const char *missing[] = {replay_exe, "/nonexistent.jsonl", "--broker", ep, "--index", "1",
                             NULL};
    expect(missing, 1, true, "/nonexistent.jsonl");
    const char *no_index[] = {replay_exe, json, "--broker", ep, "--index", "99", NULL};
    expect(no_index, 1, true, "#99: there is no such message in the file");
    const char *no_match[] = {replay_exe, json, "--broker", ep, "--action", "set_role", NULL};
    expect(no_match, 1, true, "no message matches");
    const char *dropped[] = {replay_exe, limits_json, "--broker", ep, "--index", "2", NULL};
    expect(dropped, 1, true, "#2: the sniffer dropped it over its limits");
    const char *reply[] = {replay_exe, json,           "--broker",       ep,  "--index",
                           "2",        "--set-action", "delete_project", NULL};
    expect(reply, 1, true, "is not a request");
    const char *bad_name[] = {replay_exe,      json,           "--broker",      ep,  "--action",
                              "close_project", "--set-action", "Not-An-Action", NULL};
    expect(bad_name, 2, true, "--set-action: 1 to 32 characters");
    snprintf(bad, sizeof bad, "%s", st_path("bad.jsonl"));
    FILE *f = fopen(bad, "w");
    if (f) {
        fputs("{\"index\":1,\"dir\":\"request\",\"frames\":[\"80\"]}\n{\"index\":2,", f);
        fclose(f);
    }
    const char *broken[] = {replay_exe, bad, "--broker", ep, "--index", "1", NULL};
    expect(broken, 1, true, "bad.jsonl:2: not a JSON object");
}

static void test_replay_no_answer(void)
{
    char ep[64];
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%u", (unsigned)free_port());
    const char *argv[] = {replay_exe, json,           "--broker", ep,  "--action",
                          "login",    "--timeout-ms", "300",      NULL};
    expect(argv, 3, false, "#1 login [1/1]: no reply within 300 ms");
}

/*  Copies the capture file and appends two repeats, as a sniffer still writing it while
    collab-replay ran would have: #6 the create_project (#3) again, byte for byte, and #7
    the close_project (#5) re-encoded as delete_project. Returns the new file. */
static const char *make_repeats(void)
{
    static char path[128];
    static char line[4][8192];
    FILE *in = fopen(json, "r");
    for (int i = 0; in && i < 5; i++) {
        char buf[8192];
        if (!fgets(buf, sizeof buf, in))
            break;
        if (i == 0 || i == 2 || i == 4)
            snprintf(line[i / 2], sizeof line[0], "%s", buf);
    }
    if (in)
        fclose(in);
    snprintf(path, sizeof path, "%s", st_path("repeats.jsonl"));
    cJSON *create = cJSON_Parse(line[1]), *close = cJSON_Parse(line[2]);
    const cJSON *hex = cJSON_GetArrayItem(cJSON_GetObjectItem(close, "frames"), 0);
    static uint8_t bytes[4096], again[4096];
    size_t n = 0, len = 0;
    collab_envelope_t e;
    CHECK(cJSON_IsString(hex) && sodium_hex2bin(bytes, sizeof bytes, hex->valuestring,
                                                strlen(hex->valuestring), NULL, &n, NULL) == 0);
    CHECK_OK(collab_envelope_decode(bytes, n, &e));
    e.action = (collab_span_t){"delete_project", 14};
    CHECK_OK(collab_envelope_encode(&e, again, sizeof again, &len));
    char *hex_again = malloc(2 * len + 1);
    if (hex_again)
        sodium_bin2hex(hex_again, 2 * len + 1, again, len);
    FILE *out = fopen(path, "w");
    FILE *src = fopen(json, "r");
    for (int ch; src && out && (ch = fgetc(src)) != EOF;)
        fputc(ch, out);
    cJSON_ReplaceItemInObject(create, "index", cJSON_CreateNumber(6));
    cJSON_ReplaceItemInObject(close, "index", cJSON_CreateNumber(7));
    cJSON_ReplaceItemInObject(close, "action", cJSON_CreateString("delete_project"));
    cJSON *frames = cJSON_CreateArray();
    cJSON_AddItemToArray(frames, cJSON_CreateString(hex_again ? hex_again : ""));
    cJSON_ReplaceItemInObject(close, "frames", frames);
    char *a = cJSON_PrintUnformatted(create), *b = cJSON_PrintUnformatted(close);
    if (out)
        fprintf(out, "%s\n%s\n", a, b);
    CHECK(out && fclose(out) == 0);
    if (src)
        fclose(src);
    free(a), free(b), free(hex_again);
    cJSON_Delete(create), cJSON_Delete(close);
    return path;
}

/*  Repeats of earlier messages are skipped when picked by action, sent when asked for by
    index (saying so), and --index sends in the order given. */
static void test_replay_repeats(void)
{
    child_t c;
    char ep[64];
    const char *path = make_repeats();
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%u", (unsigned)free_port());
    const char *by_action[] = {replay_exe,       path,           "--broker", ep,  "--action",
                               "create_project", "--timeout-ms", "200",      NULL};
    CHECK_EQ_INT(run(&c, by_action), 3);
    CHECK(strstr(c.err, "#6 repeats #3 (the same request): skipped") != NULL);
    CHECK(strstr(c.err, "1 of the selected messages are replays of earlier messages in this "
                        "file") != NULL);
    CHECK(strstr(c.out, "#3 create_project [1/1]: no reply") != NULL);
    CHECK(strstr(c.out, "#6 ") == NULL);
    CHECK(strstr(c.err, "1 sent: 0 accepted, 0 refused, 1 unanswered") != NULL);
    child_free(&c);

    const char *by_index[] = {replay_exe, path, "--broker",     ep,    "--index", "6",
                              "--index",  "1",  "--timeout-ms", "200", NULL};
    CHECK_EQ_INT(run(&c, by_index), 3);
    CHECK(strstr(c.err, "#6 repeats #3 (the same request): sent, as asked") != NULL);
    const char *six = strstr(c.out, "#6 create_project [1/1]"), *one = strstr(c.out, "#1 login");
    CHECK(six && one && six < one); /* the order given, not the file's */
    CHECK(strstr(c.err, "2 sent: 0 accepted, 0 refused, 2 unanswered") != NULL);
    child_free(&c);

    const char *tampered[] = {replay_exe, path, "--broker", ep, "--action", "delete_project", NULL};
    CHECK_EQ_INT(run(&c, tampered), 1);
    CHECK(strstr(c.err, "#7 repeats #5 (the same request under another action): skipped") != NULL);
    CHECK(strstr(c.err, "nothing left to send") != NULL);
    child_free(&c);
}

/*  A capture file that a sniffer still holds (its lock) is read with a note. */
static void test_replay_being_written(void)
{
    child_t c;
    char ep[64];
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%u", (unsigned)free_port());
    int fd = open(json, O_WRONLY);
    CHECK(fd >= 0 && flock(fd, LOCK_EX) == 0);
    const char *argv[] = {replay_exe, json,           "--broker", ep,  "--index",
                          "1",        "--timeout-ms", "100",      NULL};
    CHECK_EQ_INT(run(&c, argv), 3);
    CHECK(strstr(c.err, "is still being written by a running collab-sniff") != NULL);
    child_free(&c);
    const char *second[] = {sniff_exe, "-r", pcap, "-w", json, NULL}; /* would truncate it */
    expect(second, 1, true, "another collab-sniff is writing it");
    if (fd >= 0)
        close(fd);
    CHECK_EQ_INT(run(&c, argv), 3);
    CHECK(strstr(c.err, "still being written") == NULL);
    child_free(&c);
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    sniff_exe = argv[1];
    replay_exe = argv[2];
    make_pcap();
    TU_RUN(test_sniff_usage);
    TU_RUN(test_sniff_file);
    TU_RUN(test_sniff_truncated);
    TU_RUN(test_sniff_stdout);
    TU_RUN(test_sniff_output_errors);
    TU_RUN(test_sniff_closed_pipe);
    TU_RUN(test_sniff_count_and_broker);
    TU_RUN(test_sniff_limits);
    TU_RUN(test_replay_usage);
    TU_RUN(test_replay_no_answer);
    TU_RUN(test_replay_repeats);
    TU_RUN(test_replay_being_written);
    st_cleanup();
    return tu_exit("test_sniff_cli");
}
