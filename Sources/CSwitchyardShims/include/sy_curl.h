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
CURLMcode sy_curl_multi_setopt_pointer(CURLM *handle, CURLMoption option, void *value);
CURLMcode sy_curl_multi_setopt_socket_callback(CURLM *handle,
                                               int (*callback)(CURL *, curl_socket_t, int, void *, void *));
CURLMcode sy_curl_multi_setopt_timer_callback(CURLM *handle, int (*callback)(CURLM *, long, void *));
CURLcode sy_curl_easy_getinfo_long(CURL *handle, CURLINFO info, long *value);
CURLcode sy_curl_easy_getinfo_pointer(CURL *handle, CURLINFO info, void **value);

// epoll and eventfd for the upstream client's socket loop (not in Swift's Glibc module); the
// wrappers also keep x86-64's packed `struct epoll_event` out of Swift.
enum { SY_EPOLLIN = 1, SY_EPOLLOUT = 4, SY_EPOLLERR = 8 };
int sy_epoll_create(void);
/// op: 0 add, 1 modify, 2 delete. `events` is a mask of SY_EPOLLIN / SY_EPOLLOUT.
int sy_epoll_ctl(int epfd, int op, int fd, unsigned events);
/// Fills `fds` and `events` (SY_EPOLL* masks, ERR for errors and hang-ups) with up to `max`
/// ready descriptors; returns how many, or -1.
int sy_epoll_wait(int epfd, int *fds, unsigned *events, int max, int timeout_ms);
int sy_eventfd(void);
#endif
