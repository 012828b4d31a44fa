// The JSON scanner's inner loop in C: SSE2 on x86-64 (16 bytes per step), an 8-byte word loop
// elsewhere. Swift's portable SIMD types were not lowered to vector instructions for it (the
// 100 KB request took six times the instructions of the word loop they were to replace).
#ifndef SY_JSON_SCAN_H
#define SY_JSON_SCAN_H
#include <stddef.h>

/// How many bytes from `bytes` on need no attention inside a JSON string: the offset of the
/// first `"`, `\` or control byte (below 0x20), or `count` if there is none.
size_t sy_json_plain_string_bytes(const unsigned char *bytes, size_t count);

/// Outcomes of `sy_json_skip_string`.
enum {
    SY_JSON_OK = 0,
    SY_JSON_UNTERMINATED = 1,       // the bytes end inside the string (or inside an escape)
    SY_JSON_BAD_ESCAPE = 2,         // a backslash followed by a byte that is not an escape
    SY_JSON_BAD_UNICODE_ESCAPE = 3, // `\u` not followed by four hex digits
    SY_JSON_CONTROL_CHARACTER = 4,  // a byte below 0x20
};

/// Skips the JSON string whose opening quote is at `bytes[start]`, escapes validated. On
/// `SY_JSON_OK`, `*end` is the offset just after the closing quote; otherwise it is the offset
/// the error is reported at. The whole string in C: a Swift loop around the plain-byte search
/// paid a call and bounds checks per escape (a coding agent's turn has thousands).
int sy_json_skip_string(const unsigned char *bytes, size_t count, size_t start, size_t *end);
#endif
