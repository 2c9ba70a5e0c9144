#pragma once
#include <libxml/xmlversion.h>
// Debian builds libxml2 with ICU, whose headers clash with Foundation's own copy of ICU in
// any module that imports both. Nothing here needs libxml2's ICU declarations.
#undef LIBXML_ICU_ENABLED
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <dlfcn.h>
#include <pthread.h>

// libxml2 (and ICU behind it) is opened on first use instead of being linked: linking it adds
// milliseconds to every start of the helper, while only S3 error documents need it.

struct casb_xml_api {
    xmlDocPtr (*read_memory)(const char *, int, const char *, const char *, int);
    xmlNodePtr (*root_element)(const xmlDoc *);
    void (*free_doc)(xmlDocPtr);
    int loaded;
};

// A function-local static: Swift may compile these inline functions into several object files.
static inline struct casb_xml_api *casb_xml_storage(void) {
    static struct casb_xml_api table;
    return &table;
}

static inline void casb_xml_resolve(void) {
    void *h = dlopen("libxml2.so.2", RTLD_NOW | RTLD_LOCAL);
    if (h == NULL) return;
    struct casb_xml_api *t = casb_xml_storage();
    *(void **)&t->read_memory = dlsym(h, "xmlReadMemory");
    *(void **)&t->root_element = dlsym(h, "xmlDocGetRootElement");
    *(void **)&t->free_doc = dlsym(h, "xmlFreeDoc");
    t->loaded = t->read_memory != NULL && t->root_element != NULL && t->free_doc != NULL;
}

static inline struct casb_xml_api *casb_xml_api(void) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, casb_xml_resolve);
    return casb_xml_storage();
}

/// Opens libxml2 once (thread-safe); 0 when it is not installed.
static inline int casb_xml_load(void) { return casb_xml_api()->loaded; }

static inline xmlDocPtr casb_xml_read_memory(const char *buffer, int size, const char *url, int options) {
    return casb_xml_api()->read_memory(buffer, size, url, NULL, options);
}
static inline xmlNodePtr casb_xml_root_element(const xmlDoc *doc) { return casb_xml_api()->root_element(doc); }
static inline void casb_xml_free_doc(xmlDocPtr doc) { casb_xml_api()->free_doc(doc); }
