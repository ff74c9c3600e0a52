/*  prompt.h: the interactive client's input: one answer per line from a stream, so a
    session can be typed or scripted; secrets read without echo on a terminal. */
#ifndef PROMPT_H
#define PROMPT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct {
    FILE *in, *out;
    char *line; /* the last answer, lent to the caller until the next question */
    size_t cap;
} prompt_t;

void prompt_init(prompt_t *p, FILE *in, FILE *out);

/*  Wipes and frees the line buffer. */
void prompt_free(prompt_t *p);

/*  Prints the question (flushed) and returns the answer without its line ending, or NULL
    at end of input. */
const char *prompt_ask(prompt_t *p, const char *question);

/*  Same, with surrounding blanks removed. */
const char *prompt_word(prompt_t *p, const char *question);

/*  Same as prompt_ask without echo when the input is a terminal. */
const char *prompt_secret(prompt_t *p, const char *question);

/*  Asks for an unsigned number. Returns 0 with *v, 1 when the answer was not a number
    (after saying so), or -1 at end of input. */
int prompt_number(prompt_t *p, const char *question, uint64_t *v);

/*  Asks for a text of min_cp..max_cp code points of valid UTF-8, copied into out (cap
    bytes). Returns 0, 1 when the answer is outside that (after saying so, naming what),
    or -1 at end of input. */
int prompt_text(prompt_t *p, const char *question, const char *what, size_t min_cp, size_t max_cp,
                char *out, size_t cap);

/*  Asks for one of n words (blanks trimmed), copied into out. Returns 0, 1 when the
    answer is none of them (after listing them), or -1 at end of input. */
int prompt_choice(prompt_t *p, const char *question, const char *const *choices, size_t n,
                  char *out, size_t cap);

/*  Wipes the last answer (after a password). */
void prompt_wipe(prompt_t *p);

#endif
