// One pass over a streamed event's JSON for the keys the gateway acts on (SSEEventKeys.swift
// says why a walk over whole strings, and why in C).
#ifndef SY_SSE_KEYS_H
#define SY_SSE_KEYS_H
#include <stddef.h>

/// Bits of `sy_sse_event_keys`'s result.
enum {
    SY_SSE_DELTA = 1,        // a "delta" key
    SY_SSE_USAGE_OBJECT = 2, // a "usage" key whose value is an object
};

/// Walks the strings of each line of `bytes` (a quote after an odd run of backslashes is escaped). A string followed by optional spaces or tabs and a colon is a
/// key. Stores the [start, end) offsets of the string value of each "model" key (quotes
/// included), two numbers per value, for up to `capacity` values, and sets `*model_count` to how
/// many there are (more than `capacity`: call again with room for all).
int sy_sse_event_keys(const unsigned char *bytes, size_t count, size_t *model_values, size_t capacity,
                      size_t *model_count);
#endif
