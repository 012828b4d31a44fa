// Byte search for the gateway's hot paths (SSE events, usage markers). glibc's memmem is a GNU
// extension that Swift's Glibc module does not expose.
#ifndef SY_TEXT_H
#define SY_TEXT_H
#include <stddef.h>

/// The first occurrence of `needle` in `haystack`, or NULL.
const void *sy_memmem(const void *haystack, size_t haystack_length, const void *needle, size_t needle_length);
#endif
