/*  collab_text.h: UTF-8 validation, code point counting and the control-character check
    behind the output-sanitization control. Pure functions on bytes. */
#ifndef COLLAB_TEXT_H
#define COLLAB_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*  Validates strict UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF).
    On success returns 0 and stores the number of code points in *cp_count (may be NULL);
    otherwise returns COLLAB_E_UTF8. */
int collab_utf8_check(const char *s, size_t len, size_t *cp_count);

/*  Returns true if the valid UTF-8 text holds a character the strong sanitization control
    refuses: C0 controls (U+0000-U+001F), DEL, C1 controls (U+0080-U+009F) or a bidi
    override/isolate (U+202A-U+202E, U+2066-U+2069). allow_newline lets LF and TAB through. */
bool collab_text_has_controls(const char *s, size_t len, bool allow_newline);

/*  Checks a text field: valid UTF-8 with min_cp..max_cp code points, and, when strict,
    no refused control characters. Returns 0, COLLAB_E_UTF8, COLLAB_E_LIMIT or
    COLLAB_E_BAD_TEXT. */
int collab_text_check(const char *s, size_t len, size_t min_cp, size_t max_cp, bool strict);

/*  Writes s into out (capacity cap, always NUL-terminated when cap > 0) with every refused
    control character shown as a visible escape (\x1b, \u202e). Returns the bytes written,
    excluding the NUL; output is truncated at a character boundary when cap is too small.
    Invalid UTF-8 bytes are escaped as \xNN. */
size_t collab_text_escape(const char *s, size_t len, char *out, size_t cap);

/*  Parses a whole decimal integer (an optional sign, digits, nothing else) within
    [min, max] into *out. Returns 0, or COLLAB_E_MALFORMED (NULL, empty, trailing bytes,
    out of range); *out is then unchanged. For command-line and environment numbers. */
int collab_parse_long(const char *s, long min, long max, long *out);

/*  Parses a whole unsigned decimal integer (digits only: no sign, no blank) within
    [min, max] into *out. Returns 0, or COLLAB_E_MALFORMED; *out is then unchanged. For
    unsigned numbers from files, prompts and the command line (config values, handles). */
int collab_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);

#endif
