#include "sy_curl.h"
#include <errno.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

CURLcode sy_curl_easy_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}
CURLcode sy_curl_easy_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}
CURLcode sy_curl_easy_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}
CURLcode sy_curl_easy_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}
CURLcode sy_curl_easy_setopt_write_callback(CURL *handle, CURLoption option,
                                            size_t (*callback)(char *, size_t, size_t, void *)) {
    return curl_easy_setopt(handle, option, callback);
}
CURLcode sy_curl_easy_setopt_read_callback(CURL *handle, CURLoption option,
                                           size_t (*callback)(char *, size_t, size_t, void *)) {
    return curl_easy_setopt(handle, option, callback);
}
CURLMcode sy_curl_multi_setopt_long(CURLM *handle, CURLMoption option, long value) {
    return curl_multi_setopt(handle, option, value);
}
CURLMcode sy_curl_multi_setopt_pointer(CURLM *handle, CURLMoption option, void *value) {
    return curl_multi_setopt(handle, option, value);
}
CURLMcode sy_curl_multi_setopt_socket_callback(CURLM *handle,
                                               int (*callback)(CURL *, curl_socket_t, int, void *, void *)) {
    return curl_multi_setopt(handle, CURLMOPT_SOCKETFUNCTION, callback);
}
CURLMcode sy_curl_multi_setopt_timer_callback(CURLM *handle, int (*callback)(CURLM *, long, void *)) {
    return curl_multi_setopt(handle, CURLMOPT_TIMERFUNCTION, callback);
}
CURLcode sy_curl_easy_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}
CURLcode sy_curl_easy_getinfo_pointer(CURL *handle, CURLINFO info, void **value) {
    return curl_easy_getinfo(handle, info, value);
}

int sy_epoll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }

int sy_epoll_ctl(int epfd, int op, int fd, unsigned events) {
    struct epoll_event ev = {0};
    if (events & SY_EPOLLIN) ev.events |= EPOLLIN;
    if (events & SY_EPOLLOUT) ev.events |= EPOLLOUT;
    ev.data.fd = fd;
    int ctl = op == 0 ? EPOLL_CTL_ADD : op == 1 ? EPOLL_CTL_MOD : EPOLL_CTL_DEL;
    int rc = epoll_ctl(epfd, ctl, fd, &ev);
    // Add a descriptor already there, or modify one that is not: do the other.
    if (rc != 0 && ctl == EPOLL_CTL_ADD && errno == EEXIST) rc = epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev);
    else if (rc != 0 && ctl == EPOLL_CTL_MOD && errno == ENOENT) rc = epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
    return rc;
}

int sy_epoll_wait(int epfd, int *fds, unsigned *events, int max, int timeout_ms) {
    struct epoll_event ready[64];
    if (max > 64) max = 64;
    int n = epoll_wait(epfd, ready, max, timeout_ms);
    for (int i = 0; i < n; i++) {
        unsigned mask = 0;
        if (ready[i].events & EPOLLIN) mask |= SY_EPOLLIN;
        if (ready[i].events & EPOLLOUT) mask |= SY_EPOLLOUT;
        if (ready[i].events & (EPOLLERR | EPOLLHUP)) mask |= SY_EPOLLERR;
        fds[i] = ready[i].data.fd;
        events[i] = mask;
    }
    return n;
}

int sy_eventfd(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }
