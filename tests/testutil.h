/*  testutil.h: the whole test "framework": checks that print file:line, count failures and
    let the program go on, so one run shows every broken expectation. No external framework. */
#ifndef TESTUTIL_H
#define TESTUTIL_H

#include "collab_error.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static int tu_checks;
static int tu_failures;
static const char *tu_current = "";

__attribute__((format(printf, 3, 4))) static inline void tu_fail(const char *file, int line,
                                                                 const char *fmt, ...)
{
    va_list ap;
    tu_failures++;
    fprintf(stderr, "%s:%d: FAIL in %s: ", file, line, tu_current);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static inline int tu_check(int ok, const char *file, int line, const char *what)
{
    tu_checks++;
    if (!ok)
        tu_fail(file, line, "%s", what);
    return ok;
}

/*  Each CHECK evaluates its arguments exactly once and evaluates to 1 when it held. */
#define CHECK(cond) tu_check(!!(cond), __FILE__, __LINE__, #cond)

#define CHECK_EQ_INT(a, b)                                                                         \
    do {                                                                                           \
        long long tu_a_ = (long long)(a), tu_b_ = (long long)(b);                                  \
        tu_checks++;                                                                               \
        if (tu_a_ != tu_b_)                                                                        \
            tu_fail(__FILE__, __LINE__, "%s == %s (%lld != %lld)", #a, #b, tu_a_, tu_b_);          \
    } while (0)

#define CHECK_EQ_U64(a, b)                                                                         \
    do {                                                                                           \
        unsigned long long tu_a_ = (unsigned long long)(a), tu_b_ = (unsigned long long)(b);       \
        tu_checks++;                                                                               \
        if (tu_a_ != tu_b_)                                                                        \
            tu_fail(__FILE__, __LINE__, "%s == %s (%llu != %llu)", #a, #b, tu_a_, tu_b_);          \
    } while (0)

/*  A return code, shown by name: "got limit (-6), want utf8 (-7)". */
#define CHECK_RC(expr, want)                                                                       \
    do {                                                                                           \
        int tu_r_ = (expr), tu_w_ = (want);                                                        \
        tu_checks++;                                                                               \
        if (tu_r_ != tu_w_)                                                                        \
            tu_fail(__FILE__, __LINE__, "%s: got %s (%d), want %s (%d)", #expr,                    \
                    collab_errname(tu_r_), tu_r_, collab_errname(tu_w_), tu_w_);                   \
    } while (0)

#define CHECK_OK(expr) CHECK_RC(expr, 0)

#define CHECK_STR(a, b)                                                                            \
    do {                                                                                           \
        const char *tu_a_ = (a), *tu_b_ = (b);                                                     \
        tu_checks++;                                                                               \
        if (!tu_a_ || !tu_b_ || strcmp(tu_a_, tu_b_) != 0)                                         \
            tu_fail(__FILE__, __LINE__, "%s == %s (\"%s\" != \"%s\")", #a, #b,                     \
                    tu_a_ ? tu_a_ : "(null)", tu_b_ ? tu_b_ : "(null)");                           \
    } while (0)

/*  Two byte ranges are equal in length and content; the first difference is reported. */
#define CHECK_MEM(a, alen, b, blen)                                                                \
    tu_check_mem((a), (alen), (b), (blen), __FILE__, __LINE__, #a, #b)

/*  A collab_span_t holds exactly the NUL-terminated string s. */
#define CHECK_SPAN(span, s) CHECK_MEM((span).ptr, (span).len, (s), strlen(s))

static inline void tu_check_mem(const void *a, size_t alen, const void *b, size_t blen,
                                const char *file, int line, const char *an, const char *bn)
{
    const uint8_t *pa = (const uint8_t *)a, *pb = (const uint8_t *)b;
    tu_checks++;
    if (alen != blen) {
        tu_fail(file, line, "%s vs %s: length %zu != %zu", an, bn, alen, blen);
        return;
    }
    for (size_t i = 0; i < alen; i++)
        if (pa[i] != pb[i]) {
            tu_fail(file, line, "%s vs %s: byte %zu is %02x, want %02x", an, bn, i, pa[i], pb[i]);
            return;
        }
}

#define TU_RUN(fn)                                                                                 \
    do {                                                                                           \
        tu_current = #fn;                                                                          \
        fn();                                                                                      \
    } while (0)

/*  Prints the summary; the program's exit status is non-zero when anything failed. */
static inline int tu_exit(const char *program)
{
    fprintf(stderr, "%s: %d checks, %d failed\n", program, tu_checks, tu_failures);
    return tu_failures ? 1 : 0;
}

#endif
