#include "sy_json_scan.h"
#include <stdint.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>  // part of every x86-64 CPU
#endif

size_t sy_json_plain_string_bytes(const unsigned char *bytes, size_t count) {
    size_t i = 0;
#if defined(__SSE2__)
    const __m128i quote = _mm_set1_epi8('"');
    const __m128i backslash = _mm_set1_epi8('\\');
    const __m128i highest_control = _mm_set1_epi8(0x1F);
    while (i + 16 <= count) {
        __m128i block = _mm_loadu_si128((const __m128i *)(bytes + i));
        // Unsigned "byte <= 0x1F": max(byte, 0x1F) == 0x1F.
        __m128i control = _mm_cmpeq_epi8(_mm_max_epu8(block, highest_control), highest_control);
        __m128i special = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(block, quote), _mm_cmpeq_epi8(block, backslash)), control);
        int mask = _mm_movemask_epi8(special);
        if (mask != 0) return i + (size_t)__builtin_ctz((unsigned)mask);
        i += 16;
    }
#else
    // Elsewhere: eight bytes per step. Per byte, the high bit is set where the byte is a quote,
    // a backslash or below 0x20; borrows only mark bytes above the first real match.
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    while (i + 8 <= count) {
        uint64_t word;
        memcpy(&word, bytes + i, 8);
        uint64_t quote = word ^ (ones * 0x22), slash = word ^ (ones * 0x5C);
        uint64_t marks = (((quote - ones) & ~quote) | ((slash - ones) & ~slash) | ((word - ones * 0x20) & ~word)) & highs;
        if (marks != 0) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
            return i + (size_t)(__builtin_ctzll(marks) >> 3);
#else
            break;  // the byte loop below finds it
#endif
        }
        i += 8;
    }
#endif
    for (; i < count; i++) {
        unsigned char byte = bytes[i];
        if (byte == '"' || byte == '\\' || byte < 0x20) return i;
    }
    return count;
}

static int sy_is_hex(unsigned char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

int sy_json_skip_string(const unsigned char *bytes, size_t count, size_t start, size_t *end) {
    size_t i = start + 1;
    for (;;) {
        if (i < count) i += sy_json_plain_string_bytes(bytes + i, count - i);
        if (i >= count) { *end = count; return SY_JSON_UNTERMINATED; }
        unsigned char c = bytes[i];
        if (c == '"') { *end = i + 1; return SY_JSON_OK; }
        if (c != '\\') { *end = i; return SY_JSON_CONTROL_CHARACTER; }
        if (i + 1 >= count) { *end = count; return SY_JSON_UNTERMINATED; }
        switch (bytes[i + 1]) {
        case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
            i += 2;
            break;
        case 'u':
            if (i + 6 > count) { *end = count; return SY_JSON_UNTERMINATED; }
            for (size_t k = 2; k < 6; k++) {
                if (!sy_is_hex(bytes[i + k])) { *end = i + k; return SY_JSON_BAD_UNICODE_ESCAPE; }
            }
            i += 6;
            break;
        default:
            *end = i; return SY_JSON_BAD_ESCAPE;
        }
    }
}
