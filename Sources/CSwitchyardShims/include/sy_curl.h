// Non-variadic wrappers for libcurl's variadic setopt/getinfo, which Swift cannot call.
// One function per argument type; all symbols carry the sy_ prefix.
#ifndef SY_CURL_H
#define SY_CURL_H
#include <curl/curl.h>

CURLcode sy_curl_easy_setopt_long(CURL *handle, CURLoption option, long value);
CURLcode sy_curl_easy_setopt_pointer(CURL *handle, CURLoption option, void *value);
CURLcode sy_curl_easy_setopt_string(CURL *handle, CURLoption option, const char *value);
CURLcode sy_curl_easy_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value);
CURLcode sy_curl_easy_setopt_write_callback(CURL *handle, CURLoption option,
                                            size_t (*callback)(char *, size_t, size_t, void *));
CURLcode sy_curl_easy_setopt_read_callback(CURL *handle, CURLoption option,
                                           size_t (*callback)(char *, size_t, size_t, void *));
CURLMcode sy_curl_multi_setopt_long(CURLM *handle, CURLMoption option, long value);
CURLcode sy_curl_easy_getinfo_long(CURL *handle, CURLINFO info, long *value);
CURLcode sy_curl_easy_getinfo_pointer(CURL *handle, CURLINFO info, void **value);
#endif
