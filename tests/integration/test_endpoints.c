/*  test_endpoints: --broker's list of endpoints (client_endpoints.h, agent_cli.h): one as
    before, several separated by commas, each checked as one (the source form
    tcp://SRC:0;HOST:PORT included), and every bad list refused with a reason naming it. */
#include "agent_cli.h"
#include "client_endpoints.h"
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

static collab_endpoints_t eps;

/*  The list is refused, by the splitter (split) or by the shape check, with needle in
    the reason. */
static void refused(const char *list, bool split, const char *needle)
{
    char err[700] = "";
    if (split)
        CHECK(collab_endpoints_parse(list, &eps, err, sizeof err) == -1 && eps.n == 0);
    err[0] = '\0';
    CHECK(agent_cli_check_endpoints(list, err, sizeof err) == -1);
    if (!CHECK(strstr(err, needle) != NULL))
        fprintf(stderr, "  '%s': %s\n", list, err);
}

static void test_lists(void)
{
    char err[700];
    tu_current = "lists";
    CHECK_OK(collab_endpoints_parse("tcp://127.0.0.1:5555", &eps, err, sizeof err));
    CHECK_EQ_INT(eps.n, 1);
    CHECK_STR(eps.ep[0], "tcp://127.0.0.1:5555");
    const char *two = "tcp://127.0.0.2:0;127.0.0.1:5555,tcp://broker2:5556";
    CHECK_OK(collab_endpoints_parse(two, &eps, err, sizeof err));
    CHECK_EQ_INT(eps.n, 2);
    CHECK_STR(eps.ep[0], "tcp://127.0.0.2:0;127.0.0.1:5555");
    CHECK_STR(eps.ep[1], "tcp://broker2:5556");
    CHECK_OK(agent_cli_check_endpoints(two, err, sizeof err));
    CHECK_OK(agent_cli_check_endpoints("ipc:///tmp/a,tcp://[::1]:5555", err, sizeof err));
    char eight[400] = "", nine[sizeof eight + 16];
    for (int i = 1; i <= 8; i++)
        snprintf(eight + strlen(eight), sizeof eight - strlen(eight), "%stcp://b%d:1",
                 i > 1 ? "," : "", i);
    CHECK_OK(agent_cli_check_endpoints(eight, err, sizeof err));
    snprintf(nine, sizeof nine, "%s,tcp://b9:1", eight);
    refused(nine, true, "more than 8 endpoints");
    refused("", true, "no broker endpoint");
    refused("tcp://a:1,", true, "empty endpoint");
    refused(",tcp://a:1", true, "empty endpoint");
    refused("tcp://a:1,,tcp://b:2", true, "empty endpoint");
    refused("tcp://a:1,tcp://a:1", true, "'tcp://a:1' is listed twice");
    refused("tcp://a:1,notaurl", false, "'notaurl' is not a broker endpoint");
    refused("tcp://a:1, tcp://b:2", false, "' tcp://b:2' is not a broker endpoint");
    refused("tcp://a:1;tcp://b:2", false, "is not a broker endpoint");
    char *longer = malloc(COLLAB_ENDPOINT_MAX + 40);
    snprintf(longer, COLLAB_ENDPOINT_MAX + 40, "tcp://a:1,tcp://%0*d:1", COLLAB_ENDPOINT_MAX, 0);
    refused(longer, true, "endpoint 2 of the list is longer than");
    free(longer);
}

/*  --broker and COLLAB_BROKER carry the whole list into agent_cli_t. */
static void test_cli(void)
{
    agent_cli_t cli;
    tu_current = "cli";
    char *argv[] = {"prog", "--broker", "tcp://a:1,tcp://b:2", "rest", NULL};
    CHECK_EQ_INT(agent_cli_parse(&cli, "prog", 4, argv), 2);
    CHECK_STR(cli.endpoint, "tcp://a:1,tcp://b:2");
    setenv("COLLAB_BROKER", "tcp://c:3,tcp://d:4,tcp://e:5", 1);
    char *none[] = {"prog", NULL};
    CHECK_EQ_INT(agent_cli_parse(&cli, "prog", 1, none), 1);
    CHECK_STR(cli.endpoint, "tcp://c:3,tcp://d:4,tcp://e:5");
    unsetenv("COLLAB_BROKER");
}

int main(void)
{
    test_lists();
    test_cli();
    return tu_exit("test_endpoints");
}
