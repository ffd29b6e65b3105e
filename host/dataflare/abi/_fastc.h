/* Declarations shared by the _fastc sources (see _fastc.c for the overview).
 *
 * _fastc_plan.c compiles a plan into a Node tree, _fastc_lower.c writes
 * values as val_t trees, _fastc_lift.c reads them back, and _fastc.c is the
 * module with its Node and Caller types. Assumes a little-endian 64-bit
 * host, as the Python fast path does.
 */
#ifndef DATAFLARE_FASTC_H
#define DATAFLARE_FASTC_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* The C API's value layout. The module exports these as LAYOUT, and
 * dataflare.abi.c_ext compares them with wasmtime-py's ctypes structs at
 * import (_wasmtime_private.check_layout). Payload reads and writes below
 * use `a + 8` (PAYLOAD_OFFSET) and `a + 16` (its second word). */
#define VAL 32            /* sizeof(wasmtime_component_val_t) */
#define PAYLOAD_OFFSET 8  /* offsetof(wasmtime_component_val_t, of) */
#define ENTRY 48          /* sizeof(wasmtime_component_valrecord_entry_t): name, then val */
#define ENTRY_VAL_OFFSET 16 /* offsetof(wasmtime_component_valrecord_entry_t, val) */

enum {
    K_BOOL, K_S8, K_U8, K_S16, K_U16, K_S32, K_U32, K_S64, K_U64,
    K_F32, K_F64, K_CHAR, K_STRING, K_LIST, K_RECORD, K_TUPLE,
    K_VARIANT, K_ENUM, K_OPTION, K_RESULT, K_FLAGS
};

typedef enum {
    N_INT, N_FLOAT, N_BOOL, N_STRING, N_UTF8, N_BYTES, N_LIST, N_TUPLE, N_RECORD,
    N_OPTION, N_RESULT, N_VARIANT, N_PY
} NodeTag;



/* Interned attribute names and shared constants (defined in _fastc.c). */
extern PyObject *fc_s_pos, *fc_s_end, *fc_s_alloc, *fc_s_value;
extern PyObject *fc_empty_tuple, *fc_empty_str, *fc_empty_bytes;

/* How to build an instance of a class from its field values: straight into
 * its slots (a slotted dataclass whose __init__ only assigns them; checked by
 * c_ext) or by calling it. */
typedef struct {
    PyTypeObject *cls;
    Py_ssize_t n;
    Py_ssize_t *offsets; /* NULL: call cls(*values) */
} Ctor;

typedef struct Node Node;

typedef struct {
    PyObject *cls;
    char *name;
    Py_ssize_t name_len;
    Node *payload; /* NULL: no payload */
    Ctor ctor;
} Case;

struct Node {
    NodeTag tag;
    /* int, float */
    unsigned char kind;
    int width;
    int is_signed;
    long long lo, hi;
    PyObject *lo_obj, *hi_obj;
    const char *what; /* the WIT name in messages: "u32", "f64" */
    /* list, option: elem; tuple, record: elems */
    Node *elem;
    Node **elems;
    Py_ssize_t n;
    int all_strings;
    /* record */
    PyObject *cls;
    PyObject *cls_name;
    PyObject **attrs;
    char *tpl;
    char **names;
    Ctor ctor;
    /* option */
    int nested;
    /* result */
    Node *ok, *err;
    /* variant */
    Case *cases;
    PyObject *case_names;
    /* py */
    PyObject *py_lower, *py_lift;
};

/* Ok, Err and Some: set once by `setup` (defined in _fastc.c). */
extern Ctor fc_ctor_ok, fc_ctor_err, fc_ctor_some;
extern PyObject *fc_cls_ok, *fc_cls_err, *fc_cls_some;

/* val_memory._Arena's bump pointer, mirrored while lowering: written back
 * before anything in Python allocates from the arena, re-read after. */
typedef struct {
    PyObject *arena;
    char *pos;
    char *end;
} Lw;

/* Everything a tree points to is kept alive by its owner's `keep` list, so
 * nodes hold borrowed references. */
typedef struct {
    PyObject *keep;
} Build;

static inline void put_u64(char *a, uint64_t v) { memcpy(a, &v, 8); }
static inline uint64_t get_u64(const char *a) { uint64_t v; memcpy(&v, a, 8); return v; }

/* kind byte, seven zero bytes, then two payload words (the Python _HEAD) */
static inline void put_head(char *a, unsigned char kind, uint64_t w1, uint64_t w2)
{
    put_u64(a, kind);
    put_u64(a + 8, w1);
    put_u64(a + 16, w2);
}

/* _fastc_lower.c */
Py_ssize_t fc_utf8_error(const unsigned char *s, Py_ssize_t n);
int fc_lower(const Node *nd, PyObject *v, char *a, Lw *w);
int fc_lw_load(Lw *w);
int fc_lw_store(Lw *w);
char *fc_lw_alloc_vals(Lw *w, Py_ssize_t n, size_t each);

/* _fastc_lift.c */
PyObject *fc_lift(const Node *nd, const char *a);

/* _fastc_plan.c */
Node *fc_build(Build *b, PyObject *plan);
void fc_free_node(Node *nd);
int fc_build_ctor(Build *b, Ctor *c, PyObject *cls, PyObject *descrs, Py_ssize_t n);

#endif
