#pragma once
#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>

// libcurl is opened on first use instead of being linked: with the thirty-odd libraries it
// depends on, linking it adds about 10 ms to every start of the helper, which the go command
// starts for every invocation, while only HTTP and S3 remotes need it.
// Call casb_curl_load() (true when libcurl is available) before any other casb_ function.

struct casb_curl_api {
    CURLcode (*global_init)(long);
    CURL *(*easy_init)(void);
    void (*easy_cleanup)(CURL *);
    void *easy_setopt;
    void *easy_getinfo;
    const char *(*easy_strerror)(CURLcode);
    CURLM *(*multi_init)(void);
    void *multi_setopt;
    CURLMcode (*multi_cleanup)(CURLM *);
    CURLMcode (*multi_add_handle)(CURLM *, CURL *);
    CURLMcode (*multi_remove_handle)(CURLM *, CURL *);
    CURLMcode (*multi_perform)(CURLM *, int *);
    CURLMsg *(*multi_info_read)(CURLM *, int *);
    CURLMcode (*multi_poll)(CURLM *, struct curl_waitfd[], unsigned int, int, int *);
    CURLMcode (*multi_wakeup)(CURLM *);
    struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
    void (*slist_free_all)(struct curl_slist *);
    int loaded;
};

// The table lives in a function-local static: Swift may compile these inline functions
// into several object files, each then opening libcurl once for its own copy.
static inline struct casb_curl_api *casb_curl_storage(void) {
    static struct casb_curl_api table;
    return &table;
}

static inline void casb_curl_resolve(void) {
    void *h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (h == NULL) return;
    struct casb_curl_api *t = casb_curl_storage();
#define CASB_SYM(field, name) *(void **)&t->field = dlsym(h, name); if (t->field == NULL) return
    CASB_SYM(global_init, "curl_global_init");
    CASB_SYM(easy_init, "curl_easy_init");
    CASB_SYM(easy_cleanup, "curl_easy_cleanup");
    CASB_SYM(easy_setopt, "curl_easy_setopt");
    CASB_SYM(easy_getinfo, "curl_easy_getinfo");
    CASB_SYM(easy_strerror, "curl_easy_strerror");
    CASB_SYM(multi_init, "curl_multi_init");
    CASB_SYM(multi_setopt, "curl_multi_setopt");
    CASB_SYM(multi_cleanup, "curl_multi_cleanup");
    CASB_SYM(multi_add_handle, "curl_multi_add_handle");
    CASB_SYM(multi_remove_handle, "curl_multi_remove_handle");
    CASB_SYM(multi_perform, "curl_multi_perform");
    CASB_SYM(multi_info_read, "curl_multi_info_read");
    CASB_SYM(multi_poll, "curl_multi_poll");
    CASB_SYM(multi_wakeup, "curl_multi_wakeup");
    CASB_SYM(slist_append, "curl_slist_append");
    CASB_SYM(slist_free_all, "curl_slist_free_all");
#undef CASB_SYM
    if (t->global_init(CURL_GLOBAL_ALL) == CURLE_OK) t->loaded = 1;
}

static inline struct casb_curl_api *casb_curl_api(void) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, casb_curl_resolve);
    return casb_curl_storage();
}

/// Opens libcurl once (thread-safe) and initialises it; 0 when it is not installed.
static inline int casb_curl_load(void) { return casb_curl_api()->loaded; }

/// Why libcurl could not be opened, if it could not.
static inline const char *casb_curl_load_error(void) { return dlerror(); }

static inline CURL *casb_easy_init(void) { return casb_curl_api()->easy_init(); }
static inline void casb_easy_cleanup(CURL *h) { casb_curl_api()->easy_cleanup(h); }
static inline const char *casb_easy_strerror(CURLcode c) { return casb_curl_api()->easy_strerror(c); }
static inline CURLM *casb_multi_init(void) { return casb_curl_api()->multi_init(); }
static inline CURLMcode casb_multi_cleanup(CURLM *m) { return casb_curl_api()->multi_cleanup(m); }
static inline CURLMcode casb_multi_add_handle(CURLM *m, CURL *h) { return casb_curl_api()->multi_add_handle(m, h); }
static inline CURLMcode casb_multi_remove_handle(CURLM *m, CURL *h) { return casb_curl_api()->multi_remove_handle(m, h); }
static inline CURLMcode casb_multi_perform(CURLM *m, int *running) { return casb_curl_api()->multi_perform(m, running); }
static inline CURLMsg *casb_multi_info_read(CURLM *m, int *left) { return casb_curl_api()->multi_info_read(m, left); }
static inline CURLMcode casb_multi_poll(CURLM *m, int timeout_ms) {
    return casb_curl_api()->multi_poll(m, NULL, 0, timeout_ms, NULL);
}
static inline CURLMcode casb_multi_wakeup(CURLM *m) { return casb_curl_api()->multi_wakeup(m); }
static inline struct curl_slist *casb_slist_append(struct curl_slist *l, const char *s) {
    return casb_curl_api()->slist_append(l, s);
}
static inline void casb_slist_free_all(struct curl_slist *l) { casb_curl_api()->slist_free_all(l); }

// curl_easy_setopt and friends are variadic: Swift cannot call them directly.
typedef CURLcode (*casb_easy_setopt_fn)(CURL *, CURLoption, ...);
typedef CURLcode (*casb_easy_getinfo_fn)(CURL *, CURLINFO, ...);
typedef CURLMcode (*casb_multi_setopt_fn)(CURLM *, CURLMoption, ...);
#define CASB_SETOPT ((casb_easy_setopt_fn)casb_curl_api()->easy_setopt)
static inline CURLcode casb_easy_setopt_long(CURL *h, CURLoption o, long v) { return CASB_SETOPT(h, o, v); }
static inline CURLcode casb_easy_setopt_off(CURL *h, CURLoption o, curl_off_t v) { return CASB_SETOPT(h, o, v); }
static inline CURLcode casb_easy_setopt_ptr(CURL *h, CURLoption o, const void *v) { return CASB_SETOPT(h, o, v); }
static inline CURLcode casb_easy_setopt_string(CURL *h, CURLoption o, const char *v) { return CASB_SETOPT(h, o, v); }
static inline CURLcode casb_easy_setopt_write(CURL *h, CURLoption o, curl_write_callback v) {
    return CASB_SETOPT(h, o, v);
}
static inline CURLcode casb_easy_setopt_read(CURL *h, curl_read_callback v) {
    return CASB_SETOPT(h, CURLOPT_READFUNCTION, v);
}
#undef CASB_SETOPT
static inline CURLcode casb_easy_getinfo_long(CURL *h, CURLINFO i, long *v) {
    return ((casb_easy_getinfo_fn)casb_curl_api()->easy_getinfo)(h, i, v);
}
static inline CURLMcode casb_multi_setopt_long(CURLM *m, CURLMoption o, long v) {
    return ((casb_multi_setopt_fn)casb_curl_api()->multi_setopt)(m, o, v);
}
