/*  test_hex.c: the hex codec (protocol/collab_hex.h): every byte both ways, either case,
    odd lengths, non-digits anywhere, the bounds of out, and the encoder's NUL. */
#include "collab_hex.h"
#include "testutil.h"

#include <string.h>

static void test_round_trip(void)
{
    uint8_t bin[256], back[256];
    char hex[513];
    for (int i = 0; i < 256; i++)
        bin[i] = (uint8_t)i;
    CHECK_EQ_INT(collab_hex_encode(bin, 256, hex, sizeof hex), 512);
    CHECK_EQ_INT(strlen(hex), 512);
    CHECK(strncmp(hex, "000102", 6) == 0 && strcmp(hex + 506, "fdfeff") == 0);
    CHECK_EQ_INT(collab_hex_decode(hex, 512, back, sizeof back), 256);
    CHECK_MEM(back, 256, bin, 256);
}

static void test_decode(void)
{
    uint8_t out[4] = {0};
    CHECK_EQ_INT(collab_hex_decode("DeadBEEF", 8, out, 4), 4);
    CHECK(out[0] == 0xde && out[1] == 0xad && out[2] == 0xbe && out[3] == 0xef);
    CHECK_EQ_INT(collab_hex_decode("", 0, out, 0), 0);
    CHECK_EQ_INT(collab_hex_decode("abc", 3, out, 4), -1);         /* odd */
    CHECK_EQ_INT(collab_hex_decode("0011223344", 10, out, 4), -1); /* too long for out */
    CHECK_EQ_INT(collab_hex_decode("00112233xx", 8, out, 4), 4);   /* only len is read */
    const char *bad[] = {"g0",
                         "0g",
                         "G0",
                         ":0",
                         "/0",
                         "@0",
                         "`0",
                         " 0",
                         "0\n",
                         "\xff"
                         "0"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_EQ_INT(collab_hex_decode(bad[i], 2, out, 4), -1);
    char one[3] = {0};
    int digits = 0;
    for (int c = 0; c < 256; c++) { /* exactly the 22 digits decode, to the right value */
        one[0] = '0', one[1] = (char)c;
        if (collab_hex_decode(one, 2, out, 1) == 1) {
            digits++;
            CHECK(out[0] == (c <= '9' ? c - '0' : (c | 32) - 'a' + 10));
        }
    }
    CHECK_EQ_INT(digits, 22);
}

static void test_encode_bounds(void)
{
    char out[5] = "zzzz";
    const uint8_t b[2] = {0xab, 0x01};
    CHECK_EQ_INT(collab_hex_encode(b, 2, out, 4), -1); /* no room for the NUL */
    CHECK_STR(out, "zzzz");
    CHECK_EQ_INT(collab_hex_encode(b, 2, out, 5), 4);
    CHECK_STR(out, "ab01");
    CHECK_EQ_INT(collab_hex_encode(b, 0, out, 1), 0);
    CHECK_STR(out, "");
    CHECK_EQ_INT(collab_hex_encode(b, 0, out, 0), -1);
}

int main(void)
{
    TU_RUN(test_round_trip);
    TU_RUN(test_decode);
    TU_RUN(test_encode_bounds);
    return tu_exit("test_hex");
}
