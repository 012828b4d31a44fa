// memmem is a GNU extension: enable it before any system header.
#define _GNU_SOURCE
#include "sy_text.h"
#include <string.h>

const void *sy_memmem(const void *haystack, size_t haystack_length, const void *needle, size_t needle_length) {
    return memmem(haystack, haystack_length, needle, needle_length);
}
