// The JSON scanner's inner loop in C: SSE2 on x86-64 (16 bytes per step), an 8-byte word loop
// elsewhere. Swift's portable SIMD types were not lowered to vector instructions for it (the
// 100 KB request took six times the instructions of the word loop they were to replace).
#ifndef SY_JSON_SCAN_H
#define SY_JSON_SCAN_H
#include <stddef.h>

/// How many bytes from `bytes` on need no attention inside a JSON string: the offset of the
/// first `"`, `\` or control byte (below 0x20), or `count` if there is none.
size_t sy_json_plain_string_bytes(const unsigned char *bytes, size_t count);
#endif
