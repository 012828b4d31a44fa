// The JSON scanner's inner loops in C: SSE2 on x86-64 (16 bytes per step), an 8-byte word loop
// elsewhere. Swift's portable SIMD types were not lowered to vector instructions for it (the
// 100 KB request took six times the instructions of the word loop they were to replace).
#ifndef SY_JSON_SCAN_H
#define SY_JSON_SCAN_H
#include <stddef.h>

/// Outcomes of the skip functions below.
enum {
    SY_JSON_OK = 0,
    SY_JSON_UNTERMINATED = 1,       // the bytes end inside the string (or inside an escape)
    SY_JSON_BAD_ESCAPE = 2,         // a backslash followed by a byte that is not an escape
    SY_JSON_BAD_UNICODE_ESCAPE = 3, // `\u` not followed by four hex digits
    SY_JSON_CONTROL_CHARACTER = 4,  // a byte below 0x20
    // `sy_json_skip_value` and `sy_json_skip_container` only:
    SY_JSON_END_IN_CONTAINER = 5,          // the bytes end before the container closes
    SY_JSON_EXPECTED_COMMA_OR_BRACE = 6,
    SY_JSON_EXPECTED_COMMA_OR_BRACKET = 7,
    SY_JSON_EXPECTED_NAME = 8,             // a member name in quotes
    SY_JSON_EXPECTED_COLON = 9,            // after a member name
    SY_JSON_EXPECTED_VALUE = 10,
    SY_JSON_TOO_DEEP = 11,                 // more than `max_depth` open containers
    SY_JSON_END_IN_LITERAL = 12,
    SY_JSON_BAD_LITERAL = 13,              // not `true`, `false` or `null`
    SY_JSON_DIGIT_AFTER_POINT = 14,
    SY_JSON_DIGIT_IN_EXPONENT = 15,
};

/// The deepest nesting `sy_json_skip_container` tracks (a larger `max_depth` is clamped to it).
#define SY_JSON_DEPTH_LIMIT 1024

/// Skips the JSON string whose opening quote is at `bytes[start]`, escapes validated. On
/// `SY_JSON_OK`, `*end` is the offset just after the closing quote; otherwise it is the offset
/// the error is reported at. The whole string in C: a Swift loop around the plain-byte search
/// paid a call and bounds checks per escape (a coding agent's turn has thousands).
int sy_json_skip_string(const unsigned char *bytes, size_t count, size_t start, size_t *end);

/// Skips the object or array whose opener is at `bytes[start]`, every value in it validated as
/// JSON; more than `max_depth` levels open at once is an error. On `SY_JSON_OK`, `*end` is the
/// offset just after the matching close; otherwise the offset the error is reported at. In C
/// because it is the scanner's whole cost for a long conversation: the same walk in Swift
/// spent a third of it on bounds checks and calls per value.
int sy_json_skip_container(const unsigned char *bytes, size_t count, size_t start, size_t max_depth, size_t *end);

/// Skips the JSON value (any kind) that starts at `bytes[start]`, as `sy_json_skip_container`
/// does for objects and arrays; `*end` as there.
int sy_json_skip_value(const unsigned char *bytes, size_t count, size_t start, size_t max_depth, size_t *end);
#endif
