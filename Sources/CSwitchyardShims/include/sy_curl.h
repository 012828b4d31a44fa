#ifndef SY_CURL_H
#define SY_CURL_H
#include <curl/curl.h>
#endif
