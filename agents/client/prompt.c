/*  prompt.c: line input for the interactive client (see prompt.h). */
#include "prompt.h"
#include "agent_stop.h"
#include "collab_text.h"

#include <ctype.h>
#include <signal.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#define LINE_MAX_BYTES 65536 /* longer answers are refused: no field takes that much */

static struct termios saved_tty;
static int saved_fd = -1;

/*  A signal while echo is off: put the terminal back, then exit as agent_stop.h says. */
static void restore_and_exit(int sig)
{
    if (saved_fd >= 0)
        tcsetattr(saved_fd, TCSAFLUSH, &saved_tty);
    _exit(128 + sig);
}

void prompt_init(prompt_t *p, FILE *in, FILE *out)
{
    memset(p, 0, sizeof *p);
    p->in = in;
    p->out = out;
}

void prompt_wipe(prompt_t *p)
{
    if (p->line)
        sodium_memzero(p->line, p->cap);
}

void prompt_free(prompt_t *p)
{
    prompt_wipe(p);
    free(p->line);
    p->line = NULL;
    p->cap = 0;
}

static const char *read_answer(prompt_t *p)
{
    for (;;) {
        if (agent_stop_signal()) /* asked to stop: no more questions */
            return NULL;
        ssize_t n = getline(&p->line, &p->cap, p->in); /* a signal ends it: EINTR */
        if (n < 0)
            return NULL;
        while (n > 0 && (p->line[n - 1] == '\n' || p->line[n - 1] == '\r'))
            p->line[--n] = '\0';
        if (n <= LINE_MAX_BYTES)
            return p->line;
        fprintf(p->out, "(answer longer than %d bytes ignored) ", LINE_MAX_BYTES);
        fflush(p->out);
    }
}

const char *prompt_ask(prompt_t *p, const char *question)
{
    fputs(question, p->out);
    fflush(p->out);
    return read_answer(p);
}

const char *prompt_word(prompt_t *p, const char *question)
{
    const char *a = prompt_ask(p, question);
    if (!a)
        return NULL;
    while (isspace((unsigned char)*a))
        a++;
    size_t n = strlen(a);
    while (n > 0 && isspace((unsigned char)a[n - 1]))
        n--;
    memmove(p->line, a, n);
    p->line[n] = '\0';
    return p->line;
}

const char *prompt_secret(prompt_t *p, const char *question)
{
    int fd = fileno(p->in);
    struct termios quiet;
    if (!isatty(fd) || tcgetattr(fd, &saved_tty) != 0)
        return prompt_ask(p, question);
    quiet = saved_tty;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    saved_fd = fd;
    struct sigaction sa, old_int, old_term; /* sigaction: signal() would add SA_RESTART */
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = restore_and_exit;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    tcsetattr(fd, TCSAFLUSH, &quiet);
    const char *a = prompt_ask(p, question);
    tcsetattr(fd, TCSAFLUSH, &saved_tty);
    saved_fd = -1;
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    fputc('\n', p->out); /* the Enter that was not echoed */
    return a;
}

int prompt_number(prompt_t *p, const char *question, uint64_t *v)
{
    const char *a = prompt_word(p, question);
    if (!a)
        return -1;
    if (collab_parse_u64(a, 0, UINT64_MAX, v) != 0) {
        fprintf(p->out, "'%s' is not a number.\n", a);
        return 1;
    }
    return 0;
}

int prompt_text(prompt_t *p, const char *question, const char *what, size_t min_cp, size_t max_cp,
                char *out, size_t cap)
{
    const char *a = prompt_ask(p, question);
    if (!a)
        return -1;
    size_t len = strlen(a);
    if (len >= cap || collab_text_check(a, len, min_cp, max_cp, false) != 0) {
        if (min_cp > 0 && len == 0)
            fprintf(p->out, "%s is needed: it cannot be empty.\n", what);
        else
            fprintf(p->out, "%s must be %zu to %zu characters of valid UTF-8.\n", what, min_cp,
                    max_cp);
        return 1;
    }
    memcpy(out, a, len + 1);
    return 0;
}

int prompt_choice(prompt_t *p, const char *question, const char *const *choices, size_t n,
                  char *out, size_t cap)
{
    const char *a = prompt_word(p, question);
    if (!a)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (strcmp(a, choices[i]) == 0 && strlen(a) < cap) {
            memcpy(out, a, strlen(a) + 1);
            return 0;
        }
    fprintf(p->out, "'%s' is not one of: ", a);
    for (size_t i = 0; i < n; i++)
        fprintf(p->out, "%s%s", i ? ", " : "", choices[i]);
    fputs(".\n", p->out);
    return 1;
}
