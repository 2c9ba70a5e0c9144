#pragma once
#include <dlfcn.h>
#include <pthread.h>

// libxml2 (and ICU behind it) is opened on first use instead of being linked: linking it adds
// milliseconds to every start of the helper, while only S3 error documents need it.
//
// The few declarations used are written here rather than included from <libxml/...>, whose
// headers live in their own directory (`pkg-config --cflags libxml-2.0`): a library target
// cannot add that include path without `unsafeFlags`, and `pkgConfig` would also link libxml2.
// They are libxml2's stable ABI (libxml2.so.2): the parser options, the node types, and the
// leading fields of `struct _xmlNode` (only read, never allocated here).

typedef unsigned char xmlChar;
typedef struct _xmlDoc xmlDoc;
typedef xmlDoc *xmlDocPtr;

typedef enum {
    XML_ELEMENT_NODE = 1,
    XML_TEXT_NODE = 3,
    XML_CDATA_SECTION_NODE = 4,
} xmlElementType;

typedef enum {
    XML_PARSE_NOERROR = 1 << 5,
    XML_PARSE_NOWARNING = 1 << 6,
    XML_PARSE_NOBLANKS = 1 << 8,
    XML_PARSE_NONET = 1 << 11,
} xmlParserOption;

typedef struct _xmlNode {
    void *_private;
    xmlElementType type;
    const xmlChar *name;
    struct _xmlNode *children;
    struct _xmlNode *last;
    struct _xmlNode *parent;
    struct _xmlNode *next;
    struct _xmlNode *prev;
    struct _xmlDoc *doc;
    void *ns;
    xmlChar *content;
} xmlNode;
typedef xmlNode *xmlNodePtr;

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
