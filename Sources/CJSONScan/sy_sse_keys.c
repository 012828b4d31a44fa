// SSE2 finds the quotes 16 bytes at a time (memchr from quote to quote cost 2k instructions per
// chunk: ~34 strings, a call for each end); the rest is plain C.
#include "sy_sse_keys.h"
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/// Bit k set: `p[k]` is a quote, for the 16 bytes from `p` (fewer when `p + 16 > limit`).
static inline unsigned quote_mask(const unsigned char *p, const unsigned char *limit) {
#if defined(__SSE2__)
    if (limit - p >= 16) {
        __m128i block = _mm_loadu_si128((const __m128i *)p);
        return (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(block, _mm_set1_epi8('"')));
    }
#endif
    unsigned mask = 0;
    size_t n = (size_t)(limit - p) < 16 ? (size_t)(limit - p) : 16;
    for (size_t k = 0; k < n; k++) mask |= (unsigned)(p[k] == '"') << k;
    return mask;
}

/// Whether the five bytes at `p` are `name` (five letters).
static inline int is_name(const unsigned char *p, const char *name) {
    unsigned a, b;
    memcpy(&a, p, 4);
    memcpy(&b, name, 4);
    return a == b && p[4] == (unsigned char)name[4];
}

static const unsigned char *skip_blanks(const unsigned char *p, const unsigned char *end) {
    while (p < end && (*p == ' ' || *p == '\t')) p++;
    return p;
}

int sy_sse_event_keys(const unsigned char *bytes, size_t count, size_t *model_values, size_t capacity,
                      size_t *model_count) {
    int found = 0;
    size_t models = 0;
    const unsigned char *all_end = bytes + count;
    const unsigned char *line = bytes;
    while (line < all_end) {
        const unsigned char *newline = memchr(line, '\n', (size_t)(all_end - line));
        const unsigned char *end = newline ? newline : all_end;
        const unsigned char *open = NULL;         // the open string's quote, if inside one
        const unsigned char *model_value = NULL;  // where a "model" key's value starts
        for (const unsigned char *p = line; p < end; p += 16) {
            unsigned mask = quote_mask(p, all_end);
            while (mask) {
                const unsigned char *q = p + __builtin_ctz(mask);
                mask &= mask - 1;
                if (q >= end) break;
                if (!open) { open = q; continue; }
                if (q[-1] == '\\') {
                    const unsigned char *k = q - 1;
                    while (k > open + 1 && k[-1] == '\\') k--;
                    if (((q - k) & 1) != 0) continue;  // escaped
                }
                const unsigned char *string = open, *close = q + 1;
                open = NULL;
                if (string == model_value) {
                    if (models < capacity) {
                        model_values[2 * models] = (size_t)(string - bytes);
                        model_values[2 * models + 1] = (size_t)(close - bytes);
                    }
                    models++;
                    model_value = NULL;
                    continue;  // a value, not a key
                }
                const unsigned char *after = skip_blanks(close, end);
                if (after == end || *after != ':') continue;
                after = skip_blanks(after + 1, end);
                // Every name acted on has five letters.
                if (close - string != 7) continue;
                if (is_name(string + 1, "model")) {
                    if (after < end && *after == '"') model_value = after;
                } else if (is_name(string + 1, "delta")) {
                    found |= SY_SSE_DELTA;
                } else if (is_name(string + 1, "usage")) {
                    if (after < end && *after == '{') found |= SY_SSE_USAGE_OBJECT;
                }
            }
        }
        if (!newline) break;
        line = newline + 1;
    }
    *model_count = models;
    return found;
}
