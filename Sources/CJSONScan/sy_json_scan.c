#include "sy_json_scan.h"
#include <stdint.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>  // part of every x86-64 CPU
#endif

/// How many bytes from `bytes` on need no attention inside a JSON string: the offset of the
/// first `"`, `\` or control byte (below 0x20), or `count` if there is none. Eight bytes per
/// step; x86-64 only comes here for a string's last 15 bytes.
static size_t plain_string_bytes(const unsigned char *bytes, size_t count) {
    size_t i = 0;
    // Per byte, the high bit is set where the byte is a quote, a backslash or below 0x20;
    // borrows only mark bytes above the first real match.
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
    for (; i < count; i++) {
        unsigned char byte = bytes[i];
        if (byte == '"' || byte == '\\' || byte < 0x20) return i;
    }
    return count;
}

static int sy_is_hex(unsigned char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

enum { SPECIAL_CLOSED = -1, SPECIAL_ESCAPE = -2 };

/// The byte at `pos` inside a string is a quote, a backslash or a control byte. Returns
/// SPECIAL_CLOSED (`*next` after the quote), SPECIAL_ESCAPE (`*next` after a valid escape) or
/// an error outcome (`*next` where it is reported).
static inline int string_special(const unsigned char *bytes, size_t count, size_t pos, size_t *next) {
    unsigned char c = bytes[pos];
    if (c == '"') { *next = pos + 1; return SPECIAL_CLOSED; }
    if (c != '\\') { *next = pos; return SY_JSON_CONTROL_CHARACTER; }
    if (pos + 1 >= count) { *next = count; return SY_JSON_UNTERMINATED; }
    switch (bytes[pos + 1]) {
    case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
        *next = pos + 2;
        return SPECIAL_ESCAPE;
    case 'u':
        if (pos + 6 > count) { *next = count; return SY_JSON_UNTERMINATED; }
        for (size_t k = 2; k < 6; k++) {
            if (!sy_is_hex(bytes[pos + k])) { *next = pos + k; return SY_JSON_BAD_UNICODE_ESCAPE; }
        }
        *next = pos + 6;
        return SPECIAL_ESCAPE;
    default:
        *next = pos;
        return SY_JSON_BAD_ESCAPE;
    }
}

/// 1 for the bytes that may follow a backslash as a two-byte escape.
static const unsigned char simple_escape[256] = {
    ['"'] = 1, ['\\'] = 1, ['/'] = 1, ['b'] = 1, ['f'] = 1, ['n'] = 1, ['r'] = 1, ['t'] = 1,
};

#if defined(__SSE2__)
/// One 16-byte block of a string at `*index`: every special byte of the block is handled from
/// the block's mask, so an escape costs a few instructions rather than a new search. Returns 1
/// when the string ended or is in error (`*outcome`, `*end` set), else 0 with `*index` advanced.
__attribute__((always_inline))
static inline int string_block16(const unsigned char *bytes, size_t count, size_t *index, size_t *end, int *outcome) {
    size_t i = *index, next = 0;
    __m128i block = _mm_loadu_si128((const __m128i *)(bytes + i));
    // Unsigned "byte <= 0x1F": max(byte, 0x1F) == 0x1F.
    __m128i control = _mm_cmpeq_epi8(_mm_max_epu8(block, _mm_set1_epi8(0x1F)), _mm_set1_epi8(0x1F));
    __m128i special = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(block, _mm_set1_epi8('"')),
                                                _mm_cmpeq_epi8(block, _mm_set1_epi8('\\'))), control);
    unsigned mask = (unsigned)_mm_movemask_epi8(special);
    size_t advance = 16;
    while (mask != 0) {
        size_t pos = i + (size_t)__builtin_ctz(mask);
        unsigned char c = bytes[pos];
        if (c == '"') { *end = pos + 1; *outcome = SY_JSON_OK; return 1; }
        if (c == '\\' && pos + 1 < count && simple_escape[bytes[pos + 1]]) {
            next = pos + 2;
        } else {
            int special_outcome = string_special(bytes, count, pos, &next);
            if (special_outcome != SPECIAL_ESCAPE) { *end = next; *outcome = special_outcome; return 1; }
        }
        size_t skip = next - i;  // the escape's bytes are not special, whatever they are
        if (skip >= 16) { advance = skip; break; }
        mask &= ~0u << skip;
    }
    *index = i + advance;
    return 0;
}

/// Bit k set: byte k of the 16 at `block` equals the broadcast byte `target`.
static inline uint64_t equal_mask(__m128i block, __m128i target) {
    return (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(block, target));
}

/// The bytes of a 64-byte window that a backslash escapes. `backslashes` marks the window's
/// backslashes; `carry_in` (0 or 1) says whether byte 0 is escaped by a run of backslashes
/// that ended the window before. A byte is escaped when the run of backslashes just before it
/// has odd length: adding a run's lowest bit to the run carries to the byte just past it, and
/// that byte's position has the other parity from the run's start exactly when the run is odd.
/// `*carry_out` is 1 when an odd run reaches the window's last byte.
static inline uint64_t escaped_bytes(uint64_t backslashes, uint64_t carry_in, uint64_t *carry_out) {
    const uint64_t even = 0x5555555555555555ull, odd = ~even;
    uint64_t runs = backslashes & ~carry_in;  // an escaped backslash starts no run
    uint64_t starts = runs & ~(runs << 1);
    uint64_t past_even_runs = (runs + (starts & even)) & ~runs;
    unsigned long long odd_sum = 0;
    *carry_out = (uint64_t)__builtin_uaddll_overflow(runs, starts & odd, &odd_sum);
    uint64_t past_odd_runs = odd_sum & ~runs;
    return (past_even_runs & odd) | (past_odd_runs & even) | carry_in;
}
#endif

/// `sy_json_skip_string`, inlined into the container walk (a call per string cost ~30
/// instructions, and a conversation has a string every ~70 bytes).
__attribute__((always_inline))
static inline int skip_string(const unsigned char *bytes, size_t count, size_t start, size_t *end) {
    size_t i = start + 1, next = 0;
#if defined(__SSE2__)
    int outcome = SY_JSON_OK;
    // Most member names and short values end in their first 16 bytes.
    if (i + 16 <= count && string_block16(bytes, count, &i, end, &outcome)) return outcome;
    // A long string, 64 bytes per step: one mask each of quotes, backslashes and control bytes,
    // the escaped bytes found from the backslashes (a coding agent's turn has an escape every
    // ~30 bytes; handled one by one they cost more than the search). A window that holds
    // anything but plain bytes, two-byte escapes and the closing quote goes to the 16-byte
    // path below, which reports errors at their exact offset.
    uint64_t carry = 0;  // 1: the byte at `i` is escaped by the window before
    while (i + 64 <= count) {
        __m128i b0 = _mm_loadu_si128((const __m128i *)(bytes + i));
        __m128i b1 = _mm_loadu_si128((const __m128i *)(bytes + i + 16));
        __m128i b2 = _mm_loadu_si128((const __m128i *)(bytes + i + 32));
        __m128i b3 = _mm_loadu_si128((const __m128i *)(bytes + i + 48));
        // Control bytes are rare (raw newlines between members of a pretty-printed body): any
        // in the window sends it to the 16-byte path, which finds out whether it counts.
        __m128i low = _mm_min_epu8(_mm_min_epu8(b0, b1), _mm_min_epu8(b2, b3));
        if (_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_max_epu8(low, _mm_set1_epi8(0x1F)), _mm_set1_epi8(0x1F))) != 0) break;
        const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\');
        uint64_t quotes = equal_mask(b0, quote) | equal_mask(b1, quote) << 16
                        | equal_mask(b2, quote) << 32 | equal_mask(b3, quote) << 48;
        uint64_t backslashes = equal_mask(b0, backslash) | equal_mask(b1, backslash) << 16
                             | equal_mask(b2, backslash) << 32 | equal_mask(b3, backslash) << 48;
        uint64_t carry_out = 0;
        uint64_t escaped = escaped_bytes(backslashes, carry, &carry_out);
        uint64_t stops = quotes & ~escaped;
        uint64_t before_stop = stops ? (stops & (0 - stops)) - 1 : ~0ull;
        uint64_t escapes = escaped & before_stop;
        int plain = 1;
        for (; escapes != 0; escapes &= escapes - 1) {
            if (!simple_escape[bytes[i + (size_t)__builtin_ctzll(escapes)]]) { plain = 0; break; }
        }
        if (!plain) break;
        if (stops != 0) {
            *end = i + (size_t)__builtin_ctzll(stops) + 1;
            return SY_JSON_OK;
        }
        carry = carry_out;
        i += 64;
    }
    i -= (size_t)carry;  // back to the backslash that escapes the byte at `i`
    while (i + 16 <= count) {
        if (string_block16(bytes, count, &i, end, &outcome)) return outcome;
    }
#endif
    for (;;) {
        if (i < count) i += plain_string_bytes(bytes + i, count - i);
        if (i >= count) { *end = count; return SY_JSON_UNTERMINATED; }
        int special_outcome = string_special(bytes, count, i, &next);
        if (special_outcome != SPECIAL_ESCAPE) {
            *end = next;
            return special_outcome == SPECIAL_CLOSED ? SY_JSON_OK : special_outcome;
        }
        i = next;
    }
}

int sy_json_skip_string(const unsigned char *bytes, size_t count, size_t start, size_t *end) {
    return skip_string(bytes, count, start, end);
}

static inline size_t skip_whitespace(const unsigned char *bytes, size_t count, size_t i) {
    while (i < count) {
        unsigned char c = bytes[i];
        if (c != ' ' && c != '\n' && c != '\r' && c != '\t') break;
        i++;
    }
    return i;
}

static inline int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }

/// At a number's first byte (or what should be one); `*index` ends after it or at the error.
static int skip_number(const unsigned char *bytes, size_t count, size_t *index) {
    size_t start = *index, i = start;
    if (i < count && bytes[i] == '-') i++;
    if (i >= count || !is_digit(bytes[i])) { *index = start; return SY_JSON_EXPECTED_VALUE; }
    if (bytes[i] == '0') {
        i++;
    } else {
        while (i < count && is_digit(bytes[i])) i++;
    }
    if (i < count && bytes[i] == '.') {
        i++;
        if (i >= count || !is_digit(bytes[i])) { *index = i; return SY_JSON_DIGIT_AFTER_POINT; }
        while (i < count && is_digit(bytes[i])) i++;
    }
    if (i < count && (bytes[i] == 'e' || bytes[i] == 'E')) {
        i++;
        if (i < count && (bytes[i] == '+' || bytes[i] == '-')) i++;
        if (i >= count || !is_digit(bytes[i])) { *index = i; return SY_JSON_DIGIT_IN_EXPONENT; }
        while (i < count && is_digit(bytes[i])) i++;
    }
    *index = i;
    return SY_JSON_OK;
}

static int skip_literal(const unsigned char *bytes, size_t count, size_t *index, const char *word, size_t n) {
    size_t i = *index;
    if (i + n > count) return SY_JSON_END_IN_LITERAL;
    if (memcmp(bytes + i, word, n) != 0) return SY_JSON_BAD_LITERAL;
    *index = i + n;
    return SY_JSON_OK;
}

/// A string, literal or number at `bytes[*index]`; `*index` ends after it or at the error.
__attribute__((always_inline))
static inline int skip_scalar(const unsigned char *bytes, size_t count, size_t *index) {
    switch (bytes[*index]) {
    case '"': {
        size_t after = 0;
        int outcome = skip_string(bytes, count, *index, &after);
        *index = after;
        return outcome;
    }
    case 't': return skip_literal(bytes, count, index, "true", 4);
    case 'f': return skip_literal(bytes, count, index, "false", 5);
    case 'n': return skip_literal(bytes, count, index, "null", 4);
    default: return skip_number(bytes, count, index);
    }
}

int sy_json_skip_value(const unsigned char *bytes, size_t count, size_t start, size_t max_depth, size_t *end) {
    if (start >= count) { *end = start; return SY_JSON_EXPECTED_VALUE; }
    if (bytes[start] == '{' || bytes[start] == '[') return sy_json_skip_container(bytes, count, start, max_depth, end);
    size_t i = start;
    int outcome = skip_scalar(bytes, count, &i);
    *end = i;
    return outcome;
}

int sy_json_skip_container(const unsigned char *bytes, size_t count, size_t start, size_t max_depth, size_t *end) {
    // Bit k of the stack: level k is an object (else an array).
    uint64_t objects[SY_JSON_DEPTH_LIMIT / 64] = {0};
    if (max_depth > SY_JSON_DEPTH_LIMIT) max_depth = SY_JSON_DEPTH_LIMIT;
    size_t depth = 0, i = start;
    int outcome = SY_JSON_OK;
#define PUSH(is_object)                                                                     \
    do {                                                                                    \
        uint64_t bit = 1ull << (depth % 64);                                                \
        if (is_object) objects[depth / 64] |= bit; else objects[depth / 64] &= ~bit;        \
        depth++;                                                                            \
    } while (0)
#define FAIL(at, code) do { *end = (at); return (code); } while (0)
    PUSH(bytes[i] == '{');
    i++;
    int expect_value = 1;  // just after an opener or a comma
    int first = 1;         // just after an opener (an empty container is allowed)
    while (depth > 0) {
        int is_object = (objects[(depth - 1) / 64] >> ((depth - 1) % 64)) & 1;
        i = skip_whitespace(bytes, count, i);
        if (i >= count) FAIL(i, SY_JSON_END_IN_CONTAINER);
        unsigned char c = bytes[i];
        if ((first || !expect_value) && c == (is_object ? '}' : ']')) {
            i++;
            depth--;
            expect_value = 0; first = 0;
            continue;
        }
        if (!expect_value) {
            if (c != ',') FAIL(i, is_object ? SY_JSON_EXPECTED_COMMA_OR_BRACE : SY_JSON_EXPECTED_COMMA_OR_BRACKET);
            i++;
            expect_value = 1; first = 0;
            continue;
        }
        if (is_object) {
            if (c != '"') FAIL(i, SY_JSON_EXPECTED_NAME);
            size_t after = 0;
            outcome = skip_string(bytes, count, i, &after);
            if (outcome != SY_JSON_OK) FAIL(after, outcome);
            i = skip_whitespace(bytes, count, after);
            if (i >= count || bytes[i] != ':') FAIL(i, SY_JSON_EXPECTED_COLON);
            i = skip_whitespace(bytes, count, i + 1);
        }
        if (i >= count) FAIL(i, SY_JSON_EXPECTED_VALUE);
        unsigned char v = bytes[i];
        if (v == '{' || v == '[') {
            if (depth >= max_depth) FAIL(i, SY_JSON_TOO_DEEP);
            PUSH(v == '{');
            i++;
            expect_value = 1; first = 1;
            continue;
        }
        outcome = skip_scalar(bytes, count, &i);
        if (outcome != SY_JSON_OK) FAIL(i, outcome);
        expect_value = 0; first = 0;
    }
#undef PUSH
#undef FAIL
    *end = i;
    return SY_JSON_OK;
}
