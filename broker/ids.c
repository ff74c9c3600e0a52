/*  ids.c: session identifiers (see ids.h). The weak generator is predictable on purpose
    (control #1, stage2); the strong one draws from libsodium's CSPRNG. */
#include "ids.h"

#include <sodium.h>
#include <stdlib.h>
#include <time.h>

/* Used when the clock reads zero: xorshift64 never leaves the all-zero state. */
#define IDS_FALLBACK_SEED 0x9e3779b97f4a7c15ULL

struct collab_idgen {
    bool strong;
    uint64_t state; /* weak generator only */
};

uint64_t collab_xorshift64(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *state = x;
    return x;
}

void collab_uuid_format(uint64_t a, uint64_t b, char out[COLLAB_UUID_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    uint8_t bytes[16];
    for (int i = 0; i < 8; i++) {
        bytes[i] = (uint8_t)(a >> (56 - 8 * i));
        bytes[8 + i] = (uint8_t)(b >> (56 - 8 * i));
    }
    bytes[6] = (uint8_t)((bytes[6] & 0x0f) | 0x40); /* version 4 */
    bytes[8] = (uint8_t)((bytes[8] & 0x3f) | 0x80); /* variant 10 */
    char *p = out;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *p++ = '-';
        *p++ = hex[bytes[i] >> 4];
        *p++ = hex[bytes[i] & 0x0f];
    }
    *p = '\0';
}

/*  The deliberate weakness: nanoseconds of the wall clock are a guessable seed, and the
    generator's whole state is visible in its output anyway. */
static uint64_t clock_seed(void)
{
    struct timespec ts;
    uint64_t seed = 0;
    if (clock_gettime(CLOCK_REALTIME, &ts) == 0)
        seed = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
    return seed ? seed : IDS_FALLBACK_SEED;
}

/*  Returns a generator or NULL (out of memory, or libsodium failed to initialise). */
collab_idgen_t *collab_idgen_new(bool strong, uint64_t seed)
{
    if (strong && sodium_init() < 0)
        return NULL;
    collab_idgen_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->strong = strong;
    self->state = seed ? seed : clock_seed();
    return self;
}

/*  NULL-safe, idempotent; nulls the caller's pointer. */
void collab_idgen_destroy(collab_idgen_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sodium_memzero(*self_p, sizeof **self_p);
    free(*self_p);
    *self_p = NULL;
}

void collab_idgen_next(collab_idgen_t *self, char *out, size_t cap)
{
    if (!out || cap == 0)
        return;
    out[0] = '\0';
    if (cap <= COLLAB_TOKEN_LEN) /* a caller's bug: write nothing usable */
        return;
    if (self->strong) {
        uint8_t bin[32];
        randombytes_buf(bin, sizeof bin);
        sodium_bin2base64(out, cap, bin, sizeof bin, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
        sodium_memzero(bin, sizeof bin);
        return;
    }
    uint64_t a = collab_xorshift64(&self->state);
    uint64_t b = collab_xorshift64(&self->state);
    collab_uuid_format(a, b, out);
}
