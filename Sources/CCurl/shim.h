// Typed wrappers over libcurl's variadic functions (which Swift cannot import).
// Everything is static inline: no C target to compile.
#ifndef ZUORA_SYNC_CCURL_SHIM_H
#define ZUORA_SYNC_CCURL_SHIM_H

#include <curl/curl.h>
#include <string.h>

typedef size_t (*zs_write_callback)(char *ptr, size_t size, size_t nmemb, void *userdata);

static inline CURLcode zs_easy_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode zs_easy_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode zs_easy_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode zs_easy_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode zs_easy_setopt_write_callback(CURL *handle, CURLoption option, zs_write_callback value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode zs_easy_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}
static inline CURLcode zs_easy_getinfo_pointer(CURL *handle, CURLINFO info, void **value) {
    return curl_easy_getinfo(handle, info, value);
}
static inline CURLMcode zs_multi_setopt_long(CURLM *handle, CURLMoption option, long value) {
    return curl_multi_setopt(handle, option, value);
}

#endif
