/* The C accelerator for fast typed calls (see fastnative.py for the Python side).
 *
 * A `Node` is a codec spec compiled into a C tree (from the plan that
 * fastnative.plan() builds); it writes and reads wasmtime_component_val_t
 * trees exactly as the Python fast path does (fastscalars, fastcontainers,
 * fastvariants, fastgen): same checks, same exception types and messages,
 * the kind byte checked on every node read and pointers followed only from
 * nodes of the checked kind. Kinds not done here ("py" plan nodes: char,
 * enum, flags) call the Python closures, with the arena's bump pointer
 * written back first and re-read afterwards.
 *
 * A `Caller` is one export bound to its nodes: lower the arguments into the
 * caller's arena, call wasmtime_component_func_call with the GIL released
 * (host callbacks take it again, as with ctypes), lift the result, and
 * always delete the result tree and reset its slot.
 *
 * C99 and the CPython C API only. Assumes a little-endian 64-bit host, as
 * the Python fast path does.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <stdint.h>
#include <string.h>

#define VAL 32   /* sizeof(wasmtime_component_val_t) */
#define ENTRY 48 /* sizeof(wasmtime_component_valrecord_entry_t): name, then val */

enum {
    K_BOOL, K_S8, K_U8, K_S16, K_U16, K_S32, K_U32, K_S64, K_U64,
    K_F32, K_F64, K_CHAR, K_STRING, K_LIST, K_RECORD, K_TUPLE,
    K_VARIANT, K_ENUM, K_OPTION, K_RESULT, K_FLAGS
};

typedef enum {
    N_INT, N_FLOAT, N_BOOL, N_STRING, N_BYTES, N_LIST, N_TUPLE, N_RECORD,
    N_OPTION, N_RESULT, N_VARIANT, N_PY
} NodeTag;

typedef void *(*func_call_t)(const void *func, void *ctx, const void *args, size_t nargs,
                             void *results, size_t nresults);
typedef void (*val_delete_t)(void *val);

static func_call_t api_func_call = NULL;
static val_delete_t api_val_delete = NULL;

/* Interned attribute names and the classes every tree shares. */
static PyObject *s_pos, *s_end, *s_alloc, *s_value;
static PyObject *empty_tuple, *empty_str, *empty_bytes;

/* How to build an instance of a class from its field values: straight into
 * its slots (a slotted dataclass whose __init__ only assigns them; checked by
 * fastnative) or by calling it. */
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

/* Ok, Err and Some: set once by `setup`. */
static Ctor ctor_ok, ctor_err, ctor_some;
static PyObject *cls_ok, *cls_err, *cls_some;

/* ------------------------------------------------------------ helpers */

static void put_u64(char *a, uint64_t v) { memcpy(a, &v, 8); }
static uint64_t get_u64(const char *a) { uint64_t v; memcpy(&v, a, 8); return v; }

/* kind byte, seven zero bytes, then two payload words (the Python _HEAD) */
static void put_head(char *a, unsigned char kind, uint64_t w1, uint64_t w2)
{
    put_u64(a, kind);
    put_u64(a + 8, w1);
    put_u64(a + 16, w2);
}

static PyObject *type_name(PyObject *v)
{
    return PyType_GetName(Py_TYPE(v));
}

static int type_error_got(const char *fmt, PyObject *v)
{
    /* fmt has one %U for type(v).__name__ */
    PyObject *name = type_name(v);
    if (name == NULL)
        return -1;
    PyErr_Format(PyExc_TypeError, fmt, name);
    Py_DECREF(name);
    return -1;
}

static int kind_error(const char *a, const char *what)
{
    PyErr_Format(PyExc_TypeError, "guest returned value kind %d where %s was expected",
                 (int)(unsigned char)a[0], what);
    return -1;
}

/* isinstance(v, cls), with the exact-type case first */
static int is_instance(PyObject *v, PyObject *cls)
{
    if ((PyObject *)Py_TYPE(v) == cls)
        return 1;
    return PyObject_IsInstance(v, cls);
}

/* getattr(v, name) where `offset` is the slot of `name` in exact type `cls` */
static PyObject *get_field(PyObject *v, const Ctor *ctor, Py_ssize_t i, PyObject *name)
{
    if (ctor->offsets != NULL && Py_TYPE(v) == ctor->cls) {
        PyObject *x = *(PyObject **)((char *)v + ctor->offsets[i]);
        if (x != NULL) {
            Py_INCREF(x);
            return x;
        }
    }
    return PyObject_GetAttr(v, name);
}

/* cls(*values); steals the references in `values` (even on failure) */
static PyObject *construct(const Ctor *ctor, PyObject **values, Py_ssize_t n)
{
    PyObject *out;
    Py_ssize_t i;
    if (ctor->offsets != NULL) {
        out = ctor->cls->tp_new(ctor->cls, empty_tuple, NULL);
        if (out != NULL) {
            for (i = 0; i < n; i++)
                *(PyObject **)((char *)out + ctor->offsets[i]) = values[i];
            return out;
        }
    } else {
        out = PyObject_Vectorcall((PyObject *)ctor->cls, values, (size_t)n, NULL);
    }
    for (i = 0; i < n; i++)
        Py_DECREF(values[i]);
    return out;
}

static PyObject *construct1(const Ctor *ctor, PyObject *value)
{
    return construct(ctor, &value, 1);
}

/* ------------------------------------------------------------ the arena */

/* fastmem._Arena's bump pointer, mirrored while lowering: written back
 * before anything in Python allocates from the arena, re-read after. */
typedef struct {
    PyObject *arena;
    char *pos;
    char *end;
} Lw;

static int read_addr(PyObject *obj, PyObject *name, char **out)
{
    PyObject *v = PyObject_GetAttr(obj, name);
    if (v == NULL)
        return -1;
    *out = (char *)PyLong_AsVoidPtr(v);
    Py_DECREF(v);
    return PyErr_Occurred() ? -1 : 0;
}

static int lw_load(Lw *w)
{
    if (read_addr(w->arena, s_pos, &w->pos) < 0)
        return -1;
    return read_addr(w->arena, s_end, &w->end);
}

static int lw_store(Lw *w)
{
    PyObject *v = PyLong_FromVoidPtr(w->pos);
    int rc;
    if (v == NULL)
        return -1;
    rc = PyObject_SetAttr(w->arena, s_pos, v);
    Py_DECREF(v);
    return rc;
}

static char *lw_alloc_slow(Lw *w, size_t n)
{
    PyObject *r, *size;
    char *p;
    if (lw_store(w) < 0)
        return NULL;
    size = PyLong_FromSize_t(n);
    if (size == NULL)
        return NULL;
    r = PyObject_CallMethodOneArg(w->arena, s_alloc, size);
    Py_DECREF(size);
    if (r == NULL)
        return NULL;
    p = (char *)PyLong_AsVoidPtr(r);
    Py_DECREF(r);
    if (PyErr_Occurred() || lw_load(w) < 0)
        return NULL;
    return p;
}

/* `n` bytes, 8-aligned (arena.alloc, inlined) */
static char *lw_alloc(Lw *w, size_t n)
{
    size_t size = (n + 7) & ~(size_t)7;
    if (size < n) {
        PyErr_NoMemory();
        return NULL;
    }
    if ((size_t)(w->end - w->pos) >= size) {
        char *p = w->pos;
        w->pos += size;
        return p;
    }
    return lw_alloc_slow(w, n);
}

static char *lw_alloc_vals(Lw *w, Py_ssize_t n, size_t each)
{
    if ((size_t)n > PY_SSIZE_T_MAX / each) {
        PyErr_NoMemory();
        return NULL;
    }
    return lw_alloc(w, (size_t)n * each);
}

/* ------------------------------------------------------------ lowering */

static int lower(const Node *nd, PyObject *v, char *a, Lw *w);

static int lower_int(const Node *nd, PyObject *v, char *a)
{
    PyObject *x = v;
    int overflow = 0;
    uint64_t bits = 0;
    if (!PyLong_CheckExact(v)) {
        int is_int = PyObject_IsInstance(v, (PyObject *)&PyLong_Type);
        int is_bool = is_int > 0 ? PyObject_IsInstance(v, (PyObject *)&PyBool_Type) : 0;
        if (is_int < 0 || is_bool < 0)
            return -1;
        if (is_bool || !is_int) {
            PyObject *name = type_name(v);
            if (name != NULL) {
                PyErr_Format(PyExc_TypeError, "%s expects int, got %U", nd->what, name);
                Py_DECREF(name);
            }
            return -1;
        }
        x = PyNumber_Long(v);
        if (x == NULL)
            return -1;
    } else {
        Py_INCREF(x);
    }
    if (nd->kind == K_U64) {
        unsigned long long u = PyLong_AsUnsignedLongLong(x);
        if (u == (unsigned long long)-1 && PyErr_Occurred()) {
            if (!PyErr_ExceptionMatches(PyExc_OverflowError))
                goto fail;
            PyErr_Clear();
            overflow = 1;
        }
        bits = u;
    } else {
        long long s = PyLong_AsLongLongAndOverflow(x, &overflow);
        if (s == -1 && PyErr_Occurred())
            goto fail;
        if (s < nd->lo || s > nd->hi)
            overflow = 1;
        bits = (uint64_t)s;
    }
    if (overflow) {
        PyErr_Format(PyExc_OverflowError, "%S is out of range for %s [%S, %S]", x, nd->what,
                     nd->lo_obj, nd->hi_obj);
        goto fail;
    }
    Py_DECREF(x);
    put_u64(a, nd->kind);
    put_u64(a + 8, bits); /* little-endian: the low `width` bytes are the value */
    return 0;
fail:
    Py_DECREF(x);
    return -1;
}

static int lower_float(const Node *nd, PyObject *v, char *a)
{
    double d;
    if (PyFloat_CheckExact(v)) {
        d = PyFloat_AS_DOUBLE(v);
    } else {
        PyObject *f;
        int is_bool = PyObject_IsInstance(v, (PyObject *)&PyBool_Type);
        int is_num = 0;
        if (is_bool < 0)
            return -1;
        if (!is_bool) {
            is_num = PyObject_IsInstance(v, (PyObject *)&PyLong_Type);
            if (is_num == 0)
                is_num = PyObject_IsInstance(v, (PyObject *)&PyFloat_Type);
            if (is_num < 0)
                return -1;
        }
        if (is_bool || !is_num) {
            PyObject *name = type_name(v);
            if (name != NULL) {
                PyErr_Format(PyExc_TypeError, "%s expects float, got %U", nd->what, name);
                Py_DECREF(name);
            }
            return -1;
        }
        f = PyNumber_Float(v);
        if (f == NULL)
            return -1;
        d = PyFloat_AS_DOUBLE(f);
        Py_DECREF(f);
    }
    put_u64(a, nd->kind);
    if (nd->kind == K_F32) {
        /* out of range rounds to infinity, as the Python path and ctypes do */
        float y = (float)d;
        memset(a + 8, 0, 8);
        memcpy(a + 8, &y, 4);
    } else {
        memcpy(a + 8, &d, 8);
    }
    return 0;
}

static int lower_bool(PyObject *v, char *a)
{
    if (!PyBool_Check(v))
        return type_error_got("bool expects bool, got %U", v);
    put_u64(a, K_BOOL);
    put_u64(a + 8, v == Py_True);
    return 0;
}

/* The UTF-8 of str `v`: its own buffer when ASCII, else a new bytes object
 * (`*owner`), as str.encode() would raise for lone surrogates. */
static const char *utf8_of(PyObject *v, Py_ssize_t *n, PyObject **owner)
{
    *owner = NULL;
    if (PyUnicode_IS_ASCII(v)) {
        *n = PyUnicode_GET_LENGTH(v);
        return (const char *)PyUnicode_DATA(v);
    }
    *owner = PyUnicode_AsUTF8String(v);
    if (*owner == NULL)
        return NULL;
    *n = PyBytes_GET_SIZE(*owner);
    return PyBytes_AS_STRING(*owner);
}

static int lower_string(PyObject *v, char *a, Lw *w)
{
    Py_ssize_t n;
    PyObject *owner;
    const char *data;
    char *p;
    if (!PyUnicode_CheckExact(v))
        return type_error_got("string expects str, got %U", v);
    data = utf8_of(v, &n, &owner);
    if (data == NULL)
        return -1;
    p = lw_alloc(w, (size_t)n);
    if (p == NULL) {
        Py_XDECREF(owner);
        return -1;
    }
    if (n)
        memcpy(p, data, (size_t)n);
    Py_XDECREF(owner);
    put_head(a, K_STRING, (uint64_t)n, (uint64_t)(uintptr_t)p);
    return 0;
}

static int lower_bytes(PyObject *v, char *a, Lw *w)
{
    PyObject *b = v;
    const unsigned char *data;
    Py_ssize_t n, i;
    char *p;
    if (!PyBytes_CheckExact(v)) {
        PyObject *types = PyTuple_Pack(3, (PyObject *)&PyBytes_Type,
                                       (PyObject *)&PyByteArray_Type,
                                       (PyObject *)&PyMemoryView_Type);
        int ok;
        if (types == NULL)
            return -1;
        ok = PyObject_IsInstance(v, types);
        Py_DECREF(types);
        if (ok < 0)
            return -1;
        if (!ok)
            return type_error_got("list<u8> expects bytes, got %U", v);
        b = PyObject_CallOneArg((PyObject *)&PyBytes_Type, v);
        if (b == NULL)
            return -1;
    } else {
        Py_INCREF(b);
    }
    n = PyBytes_GET_SIZE(b);
    p = lw_alloc_vals(w, n, VAL);
    if (p == NULL) {
        Py_DECREF(b);
        return -1;
    }
    data = (const unsigned char *)PyBytes_AS_STRING(b);
    for (i = 0; i < n; i++) {
        char *e = p + i * VAL;
        put_u64(e, K_U8);
        put_u64(e + 8, data[i]);
        put_u64(e + 16, 0);
        put_u64(e + 24, 0);
    }
    Py_DECREF(b);
    put_head(a, K_LIST, (uint64_t)n, (uint64_t)(uintptr_t)p);
    return 0;
}

static int lower_list(const Node *nd, PyObject *v, char *a, Lw *w)
{
    Py_ssize_t n, i;
    PyObject *seq = v;
    char *p;
    if (!PyList_CheckExact(v) && !PyTuple_CheckExact(v)) {
        PyObject *types = PyTuple_Pack(2, (PyObject *)&PyList_Type, (PyObject *)&PyTuple_Type);
        int ok;
        if (types == NULL)
            return -1;
        ok = PyObject_IsInstance(v, types);
        Py_DECREF(types);
        if (ok < 0)
            return -1;
        if (!ok)
            return type_error_got("list expects list, got %U", v);
        n = PyObject_Length(v);
        if (n < 0)
            return -1;
        /* iterate as `for x in v` does, into a snapshot whose length is known */
        seq = PySequence_Tuple(v);
        if (seq == NULL)
            return -1;
        if (PyTuple_GET_SIZE(seq) != n) {
            Py_DECREF(seq);
            PyErr_SetString(PyExc_RuntimeError, "list length changed while it was iterated");
            return -1;
        }
    } else {
        Py_INCREF(seq);
    }
    n = PySequence_Fast_GET_SIZE(seq);
    p = lw_alloc_vals(w, n, VAL);
    if (p == NULL)
        goto fail;
    for (i = 0; i < n; i++) {
        PyObject *x;
        /* element lowering can run Python code that mutates a list */
        if (i >= PySequence_Fast_GET_SIZE(seq)) {
            PyErr_SetString(PyExc_RuntimeError, "list changed size while it was lowered");
            goto fail;
        }
        x = PySequence_Fast_GET_ITEM(seq, i);
        Py_INCREF(x);
        if (lower(nd->elem, x, p + i * VAL, w) < 0) {
            Py_DECREF(x);
            goto fail;
        }
        Py_DECREF(x);
    }
    if (PySequence_Fast_GET_SIZE(seq) != n) {
        PyErr_SetString(PyExc_RuntimeError, "list changed size while it was lowered");
        goto fail;
    }
    Py_DECREF(seq);
    put_head(a, K_LIST, (uint64_t)n, (uint64_t)(uintptr_t)p);
    return 0;
fail:
    Py_DECREF(seq);
    return -1;
}

/* item i of tuple (or tuple subclass) v, as v[i] */
static PyObject *tuple_item(PyObject *v, Py_ssize_t i)
{
    if (PyTuple_CheckExact(v)) {
        PyObject *x = PyTuple_GET_ITEM(v, i);
        Py_INCREF(x);
        return x;
    }
    return PySequence_GetItem(v, i);
}

/* A tuple of strings (metadata and config pairs): every type checked before
 * any is encoded, as the Python path does; one allocation for all. */
static int lower_strings(const Node *nd, PyObject *v, char **out, Lw *w)
{
    Py_ssize_t n = nd->n, i, total = 0;
    PyObject *small_items[8], *small_owners[8];
    PyObject **items = small_items, **owners = small_owners;
    const char *small_data[8];
    const char **data = small_data;
    Py_ssize_t small_sizes[8];
    Py_ssize_t *sizes = small_sizes;
    int rc = -1;
    char *p, *d;
    if (n > 8) {
        items = PyMem_Calloc((size_t)n, sizeof(PyObject *));
        owners = PyMem_Calloc((size_t)n, sizeof(PyObject *));
        data = PyMem_Calloc((size_t)n, sizeof(char *));
        sizes = PyMem_Calloc((size_t)n, sizeof(Py_ssize_t));
        if (!items || !owners || !data || !sizes) {
            PyErr_NoMemory();
            goto done;
        }
    } else {
        memset(small_items, 0, sizeof small_items);
        memset(small_owners, 0, sizeof small_owners);
    }
    for (i = 0; i < n; i++) {
        items[i] = tuple_item(v, i);
        if (items[i] == NULL)
            goto done;
        if (!PyUnicode_CheckExact(items[i])) {
            type_error_got("string expects str, got %U", items[i]);
            goto done;
        }
    }
    for (i = 0; i < n; i++) {
        data[i] = utf8_of(items[i], &sizes[i], &owners[i]);
        if (data[i] == NULL)
            goto done;
        total += sizes[i];
    }
    p = lw_alloc(w, (size_t)(n * VAL + total));
    if (p == NULL)
        goto done;
    d = p + n * VAL;
    for (i = 0; i < n; i++) {
        char *e = p + i * VAL;
        if (sizes[i])
            memcpy(d, data[i], (size_t)sizes[i]);
        put_head(e, K_STRING, (uint64_t)sizes[i], (uint64_t)(uintptr_t)d);
        put_u64(e + 24, 0);
        d += sizes[i];
    }
    *out = p;
    rc = 0;
done:
    if (items != NULL) {
        for (i = 0; i < n; i++) {
            Py_XDECREF(items[i]);
            if (owners != NULL)
                Py_XDECREF(owners[i]);
        }
    }
    if (n > 8) {
        PyMem_Free(items);
        PyMem_Free(owners);
        PyMem_Free((void *)data);
        PyMem_Free(sizes);
    }
    return rc;
}

static int lower_tuple(const Node *nd, PyObject *v, char *a, Lw *w)
{
    Py_ssize_t n = nd->n, i;
    char *p;
    int ok = PyTuple_CheckExact(v) ? 1 : PyObject_IsInstance(v, (PyObject *)&PyTuple_Type);
    if (ok < 0)
        return -1;
    if (ok) {
        Py_ssize_t len = PyTuple_CheckExact(v) ? PyTuple_GET_SIZE(v) : PyObject_Length(v);
        if (len < 0)
            return -1;
        ok = len == n;
    }
    if (!ok) {
        PyErr_Format(PyExc_TypeError, "expected a tuple of %zd items, got %R", n, v);
        return -1;
    }
    if (n && nd->all_strings) {
        if (lower_strings(nd, v, &p, w) < 0)
            return -1;
    } else {
        p = lw_alloc_vals(w, n, VAL);
        if (p == NULL)
            return -1;
        for (i = 0; i < n; i++) {
            PyObject *x = tuple_item(v, i);
            int rc;
            if (x == NULL)
                return -1;
            rc = lower(nd->elems[i], x, p + i * VAL, w);
            Py_DECREF(x);
            if (rc < 0)
                return -1;
        }
    }
    put_head(a, K_TUPLE, (uint64_t)n, (uint64_t)(uintptr_t)p);
    return 0;
}

static int lower_record(const Node *nd, PyObject *v, char *a, Lw *w)
{
    Py_ssize_t i;
    char *p;
    int ok = is_instance(v, nd->cls);
    if (ok < 0)
        return -1;
    if (!ok) {
        PyObject *name = type_name(v);
        if (name != NULL) {
            PyErr_Format(PyExc_TypeError, "expected %U, got %U", nd->cls_name, name);
            Py_DECREF(name);
        }
        return -1;
    }
    p = lw_alloc_vals(w, nd->n, ENTRY);
    if (p == NULL)
        return -1;
    if (nd->n)
        memcpy(p, nd->tpl, (size_t)(nd->n * ENTRY));
    for (i = 0; i < nd->n; i++) {
        PyObject *x = get_field(v, &nd->ctor, i, nd->attrs[i]);
        int rc;
        if (x == NULL)
            return -1;
        rc = lower(nd->elems[i], x, p + i * ENTRY + 16, w);
        Py_DECREF(x);
        if (rc < 0)
            return -1;
    }
    put_head(a, K_RECORD, (uint64_t)nd->n, (uint64_t)(uintptr_t)p);
    return 0;
}

/* a payload node into a fresh val; *out is its address */
static int lower_payload(const Node *payload, PyObject *holder, const Ctor *ctor, char **out,
                         Lw *w)
{
    PyObject *x;
    int rc;
    char *p = lw_alloc(w, VAL);
    if (p == NULL)
        return -1;
    x = get_field(holder, ctor, 0, s_value);
    if (x == NULL)
        return -1;
    rc = lower(payload, x, p, w);
    Py_DECREF(x);
    *out = p;
    return rc;
}

static int lower_option(const Node *nd, PyObject *v, char *a, Lw *w)
{
    char *p;
    if (v == Py_None) {
        put_u64(a, K_OPTION);
        put_u64(a + 8, 0);
        return 0;
    }
    if (nd->nested) {
        int ok = is_instance(v, cls_some);
        if (ok < 0)
            return -1;
        if (!ok) {
            PyErr_Format(PyExc_TypeError, "expected Some(...) or None, got %R", v);
            return -1;
        }
        if (lower_payload(nd->elem, v, &ctor_some, &p, w) < 0)
            return -1;
    } else {
        p = lw_alloc(w, VAL);
        if (p == NULL || lower(nd->elem, v, p, w) < 0)
            return -1;
    }
    put_u64(a, K_OPTION);
    put_u64(a + 8, (uint64_t)(uintptr_t)p);
    return 0;
}

static int lower_result(const Node *nd, PyObject *v, char *a, Lw *w)
{
    char *p = NULL;
    int is_ok = is_instance(v, cls_ok);
    const Node *payload;
    if (is_ok < 0)
        return -1;
    if (!is_ok) {
        int is_err = is_instance(v, cls_err);
        if (is_err < 0)
            return -1;
        if (!is_err) {
            PyErr_Format(PyExc_TypeError, "expected Ok(...) or Err(...), got %R", v);
            return -1;
        }
    }
    payload = is_ok ? nd->ok : nd->err;
    if (payload != NULL &&
        lower_payload(payload, v, is_ok ? &ctor_ok : &ctor_err, &p, w) < 0)
        return -1;
    put_u64(a, K_RESULT);
    put_u64(a + 8, (uint64_t)is_ok);
    put_u64(a + 16, (uint64_t)(uintptr_t)p);
    return 0;
}

static int lower_variant(const Node *nd, PyObject *v, char *a, Lw *w)
{
    Py_ssize_t i;
    const Case *c = NULL;
    char *p = NULL;
    for (i = 0; i < nd->n; i++) {
        if ((PyObject *)Py_TYPE(v) == nd->cases[i].cls) {
            c = &nd->cases[i];
            break;
        }
    }
    if (c == NULL) {
        PyObject *name = type_name(v);
        if (name != NULL) {
            PyErr_Format(PyExc_TypeError, "expected one of %U, got %U", nd->case_names, name);
            Py_DECREF(name);
        }
        return -1;
    }
    if (c->payload != NULL && lower_payload(c->payload, v, &c->ctor, &p, w) < 0)
        return -1;
    put_head(a, K_VARIANT, (uint64_t)c->name_len, (uint64_t)(uintptr_t)c->name);
    put_u64(a + 24, (uint64_t)(uintptr_t)p);
    return 0;
}

static int lower_py(const Node *nd, PyObject *v, char *a, Lw *w)
{
    PyObject *addr, *r;
    if (lw_store(w) < 0)
        return -1;
    addr = PyLong_FromVoidPtr(a);
    if (addr == NULL)
        return -1;
    r = PyObject_CallFunctionObjArgs(nd->py_lower, v, addr, w->arena, NULL);
    Py_DECREF(addr);
    if (r == NULL)
        return -1;
    Py_DECREF(r);
    return lw_load(w);
}

static int lower(const Node *nd, PyObject *v, char *a, Lw *w)
{
    switch (nd->tag) {
    case N_INT: return lower_int(nd, v, a);
    case N_FLOAT: return lower_float(nd, v, a);
    case N_BOOL: return lower_bool(v, a);
    case N_STRING: return lower_string(v, a, w);
    case N_BYTES: return lower_bytes(v, a, w);
    case N_LIST: return lower_list(nd, v, a, w);
    case N_TUPLE: return lower_tuple(nd, v, a, w);
    case N_RECORD: return lower_record(nd, v, a, w);
    case N_OPTION: return lower_option(nd, v, a, w);
    case N_RESULT: return lower_result(nd, v, a, w);
    case N_VARIANT: return lower_variant(nd, v, a, w);
    case N_PY: return lower_py(nd, v, a, w);
    }
    PyErr_SetString(PyExc_SystemError, "bad fast codec node");
    return -1;
}

/* ------------------------------------------------------------ lifting */

static PyObject *lift(const Node *nd, const char *a);

static PyObject *lift_int(const Node *nd, const char *a)
{
    if ((unsigned char)a[0] != nd->kind) {
        kind_error(a, nd->what);
        return NULL;
    }
    switch (nd->kind) {
    case K_S8: { int8_t v; memcpy(&v, a + 8, 1); return PyLong_FromLong(v); }
    case K_U8: { uint8_t v; memcpy(&v, a + 8, 1); return PyLong_FromLong(v); }
    case K_S16: { int16_t v; memcpy(&v, a + 8, 2); return PyLong_FromLong(v); }
    case K_U16: { uint16_t v; memcpy(&v, a + 8, 2); return PyLong_FromLong(v); }
    case K_S32: { int32_t v; memcpy(&v, a + 8, 4); return PyLong_FromLong(v); }
    case K_U32: { uint32_t v; memcpy(&v, a + 8, 4); return PyLong_FromUnsignedLong(v); }
    case K_S64: { int64_t v; memcpy(&v, a + 8, 8); return PyLong_FromLongLong(v); }
    default: return PyLong_FromUnsignedLongLong(get_u64(a + 8));
    }
}

static PyObject *lift_float(const Node *nd, const char *a)
{
    if ((unsigned char)a[0] != nd->kind) {
        kind_error(a, nd->what);
        return NULL;
    }
    if (nd->kind == K_F32) {
        float y;
        memcpy(&y, a + 8, 4);
        return PyFloat_FromDouble((double)y);
    } else {
        double d;
        memcpy(&d, a + 8, 8);
        return PyFloat_FromDouble(d);
    }
}

static PyObject *lift_bool(const char *a)
{
    if ((unsigned char)a[0] != K_BOOL) {
        kind_error(a, "bool");
        return NULL;
    }
    return PyBool_FromLong(a[8] != 0);
}

static PyObject *lift_string(const char *a)
{
    uint64_t n;
    if ((unsigned char)a[0] != K_STRING) {
        kind_error(a, "string");
        return NULL;
    }
    n = get_u64(a + 8);
    if (!n) {
        Py_INCREF(empty_str);
        return empty_str;
    }
    if (n > PY_SSIZE_T_MAX)
        return PyErr_NoMemory();
    return PyUnicode_DecodeUTF8((const char *)(uintptr_t)get_u64(a + 16), (Py_ssize_t)n, NULL);
}

static PyObject *lift_bytes(const char *a)
{
    uint64_t n, i;
    const char *p;
    PyObject *out;
    char *d;
    if ((unsigned char)a[0] != K_LIST) {
        kind_error(a, "list<u8>");
        return NULL;
    }
    n = get_u64(a + 8);
    if (!n) {
        Py_INCREF(empty_bytes);
        return empty_bytes;
    }
    if (n > PY_SSIZE_T_MAX)
        return PyErr_NoMemory();
    p = (const char *)(uintptr_t)get_u64(a + 16);
    out = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)n);
    if (out == NULL)
        return NULL;
    d = PyBytes_AS_STRING(out);
    for (i = 0; i < n; i++) {
        const char *e = p + i * VAL;
        if ((unsigned char)e[0] != K_U8) {
            Py_DECREF(out);
            PyErr_SetString(PyExc_TypeError,
                            "guest returned a list<u8> with elements of another kind");
            return NULL;
        }
        d[i] = e[8];
    }
    return out;
}

static PyObject *lift_list(const Node *nd, const char *a)
{
    uint64_t n, i;
    const char *p;
    PyObject *out;
    if ((unsigned char)a[0] != K_LIST) {
        kind_error(a, "list");
        return NULL;
    }
    n = get_u64(a + 8);
    if (n > PY_SSIZE_T_MAX / VAL)
        return PyErr_NoMemory();
    p = (const char *)(uintptr_t)get_u64(a + 16);
    out = PyList_New((Py_ssize_t)n);
    if (out == NULL)
        return NULL;
    for (i = 0; i < n; i++) {
        PyObject *x = lift(nd->elem, p + i * VAL);
        if (x == NULL) {
            Py_DECREF(out);
            return NULL;
        }
        PyList_SET_ITEM(out, (Py_ssize_t)i, x);
    }
    return out;
}

static PyObject *lift_tuple(const Node *nd, const char *a)
{
    uint64_t size = get_u64(a + 8);
    const char *p;
    PyObject *out;
    Py_ssize_t i;
    if ((unsigned char)a[0] != K_TUPLE || size != (uint64_t)nd->n) {
        PyErr_Format(PyExc_TypeError,
                     "guest returned kind %d (size %llu) where a %zd-tuple was expected",
                     (int)(unsigned char)a[0], (unsigned long long)size, nd->n);
        return NULL;
    }
    p = (const char *)(uintptr_t)get_u64(a + 16);
    out = PyTuple_New(nd->n);
    if (out == NULL)
        return NULL;
    for (i = 0; i < nd->n; i++) {
        PyObject *x = lift(nd->elems[i], p + i * VAL);
        if (x == NULL) {
            Py_DECREF(out);
            return NULL;
        }
        PyTuple_SET_ITEM(out, i, x);
    }
    return out;
}

static PyObject *lift_record(const Node *nd, const char *a)
{
    uint64_t count = get_u64(a + 8);
    const char *p;
    PyObject *small[8];
    PyObject **values = small;
    PyObject *out = NULL;
    Py_ssize_t i, n = nd->n;
    if ((unsigned char)a[0] != K_RECORD || count != (uint64_t)n) {
        PyErr_Format(PyExc_TypeError,
                     "guest returned kind %d (%llu fields) where record %U was expected",
                     (int)(unsigned char)a[0], (unsigned long long)count, nd->cls_name);
        return NULL;
    }
    p = (const char *)(uintptr_t)get_u64(a + 16);
    if (n > 8) {
        values = PyMem_Calloc((size_t)n, sizeof(PyObject *));
        if (values == NULL)
            return PyErr_NoMemory();
    }
    for (i = 0; i < n; i++) {
        values[i] = lift(nd->elems[i], p + i * ENTRY + 16);
        if (values[i] == NULL) {
            while (i--)
                Py_DECREF(values[i]);
            goto done;
        }
    }
    out = construct(&nd->ctor, values, n);
done:
    if (values != small)
        PyMem_Free(values);
    return out;
}

static PyObject *lift_option(const Node *nd, const char *a)
{
    const char *p;
    PyObject *x;
    if ((unsigned char)a[0] != K_OPTION) {
        kind_error(a, "option");
        return NULL;
    }
    p = (const char *)(uintptr_t)get_u64(a + 8);
    if (p == NULL)
        Py_RETURN_NONE;
    x = lift(nd->elem, p);
    if (x == NULL || !nd->nested)
        return x;
    return construct1(&ctor_some, x);
}

static PyObject *payload_mismatch(const char *what)
{
    PyErr_Format(PyExc_TypeError, "guest returned a %s whose payload does not match its type",
                 what);
    return NULL;
}

static PyObject *lift_result(const Node *nd, const char *a)
{
    int is_ok;
    const char *p;
    const Node *payload;
    PyObject *x;
    if ((unsigned char)a[0] != K_RESULT) {
        kind_error(a, "result");
        return NULL;
    }
    is_ok = a[8] != 0;
    p = (const char *)(uintptr_t)get_u64(a + 16);
    payload = is_ok ? nd->ok : nd->err;
    if ((payload == NULL) != (p == NULL))
        return payload_mismatch("result");
    if (payload == NULL) {
        x = Py_None;
        Py_INCREF(x);
    } else {
        x = lift(payload, p);
        if (x == NULL)
            return NULL;
    }
    return construct1(is_ok ? &ctor_ok : &ctor_err, x);
}

static PyObject *lift_variant(const Node *nd, const char *a)
{
    uint64_t n = get_u64(a + 8);
    const char *name = (const char *)(uintptr_t)get_u64(a + 16);
    const char *p = (const char *)(uintptr_t)get_u64(a + 24);
    const Case *c = NULL;
    Py_ssize_t i;
    if ((unsigned char)a[0] != K_VARIANT) {
        kind_error(a, "variant");
        return NULL;
    }
    for (i = 0; i < nd->n; i++) {
        const Case *k = &nd->cases[i];
        if ((uint64_t)k->name_len == n && (n == 0 || memcmp(k->name, name, (size_t)n) == 0)) {
            c = k;
            break;
        }
    }
    if (c == NULL) {
        PyErr_SetString(PyExc_ValueError, "guest returned an unknown variant case");
        return NULL;
    }
    if ((c->payload == NULL) != (p == NULL))
        return payload_mismatch("variant case");
    if (c->payload == NULL)
        return construct(&c->ctor, NULL, 0);
    {
        PyObject *x = lift(c->payload, p);
        if (x == NULL)
            return NULL;
        return construct1(&c->ctor, x);
    }
}

static PyObject *lift_py(const Node *nd, const char *a)
{
    PyObject *addr = PyLong_FromVoidPtr((void *)a), *r;
    if (addr == NULL)
        return NULL;
    r = PyObject_CallOneArg(nd->py_lift, addr);
    Py_DECREF(addr);
    return r;
}

static PyObject *lift(const Node *nd, const char *a)
{
    switch (nd->tag) {
    case N_INT: return lift_int(nd, a);
    case N_FLOAT: return lift_float(nd, a);
    case N_BOOL: return lift_bool(a);
    case N_STRING: return lift_string(a);
    case N_BYTES: return lift_bytes(a);
    case N_LIST: return lift_list(nd, a);
    case N_TUPLE: return lift_tuple(nd, a);
    case N_RECORD: return lift_record(nd, a);
    case N_OPTION: return lift_option(nd, a);
    case N_RESULT: return lift_result(nd, a);
    case N_VARIANT: return lift_variant(nd, a);
    case N_PY: return lift_py(nd, a);
    }
    PyErr_SetString(PyExc_SystemError, "bad fast codec node");
    return NULL;
}

/* ------------------------------------------------------------ compiling a plan */

/* Everything a tree points to is kept alive by its owner's `keep` list, so
 * nodes hold borrowed references. */
typedef struct {
    PyObject *keep;
} Build;

static PyObject *kept(Build *b, PyObject *obj)
{
    if (obj == NULL || PyList_Append(b->keep, obj) < 0)
        return NULL;
    return obj;
}

static void free_node(Node *nd);

static void free_ctor(Ctor *c) { PyMem_Free(c->offsets); }

static void free_node(Node *nd)
{
    Py_ssize_t i;
    if (nd == NULL)
        return;
    free_node(nd->elem);
    free_node(nd->ok);
    free_node(nd->err);
    if (nd->elems != NULL) {
        for (i = 0; i < nd->n; i++)
            free_node(nd->elems[i]);
        PyMem_Free(nd->elems);
    }
    if (nd->names != NULL) {
        for (i = 0; i < nd->n; i++)
            PyMem_Free(nd->names[i]);
        PyMem_Free(nd->names);
    }
    if (nd->cases != NULL) {
        for (i = 0; i < nd->n; i++) {
            free_node(nd->cases[i].payload);
            PyMem_Free(nd->cases[i].name);
            free_ctor(&nd->cases[i].ctor);
        }
        PyMem_Free(nd->cases);
    }
    PyMem_Free(nd->attrs);
    PyMem_Free(nd->tpl);
    free_ctor(&nd->ctor);
    PyMem_Free(nd);
}

static int plan_error(const char *msg)
{
    PyErr_Format(PyExc_ValueError, "bad fast codec plan: %s", msg);
    return -1;
}

/* `descrs`: None (call the class) or one member descriptor per field, each
 * a writable object slot of exactly `cls` (fastnative checks the class). */
static int build_ctor(Build *b, Ctor *c, PyObject *cls, PyObject *descrs, Py_ssize_t n)
{
    Py_ssize_t i;
    if (!PyType_Check(cls))
        return plan_error("not a class");
    c->cls = (PyTypeObject *)kept(b, cls);
    if (c->cls == NULL)
        return -1;
    c->n = n;
    c->offsets = NULL;
    if (descrs == Py_None)
        return 0;
    if (!PyTuple_Check(descrs) || PyTuple_GET_SIZE(descrs) != n)
        return plan_error("slot descriptors");
    if (kept(b, descrs) == NULL)
        return -1;
    c->offsets = PyMem_Calloc((size_t)(n ? n : 1), sizeof(Py_ssize_t));
    if (c->offsets == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (i = 0; i < n; i++) {
        PyObject *d = PyTuple_GET_ITEM(descrs, i);
        PyMemberDef *m;
        if (!Py_IS_TYPE(d, &PyMemberDescr_Type) ||
            PyDescr_TYPE(d) != (PyTypeObject *)cls)
            return plan_error("not a slot of the class");
        m = ((PyMemberDescrObject *)d)->d_member;
        if (m->type != T_OBJECT_EX || (m->flags & READONLY))
            return plan_error("not a writable object slot");
        c->offsets[i] = m->offset;
    }
    return 0;
}

static char *copy_name(PyObject *s, Py_ssize_t *len)
{
    Py_ssize_t n;
    const char *src = PyUnicode_AsUTF8AndSize(s, &n);
    char *out;
    if (src == NULL)
        return NULL;
    out = PyMem_Malloc((size_t)n + 1);
    if (out == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    memcpy(out, src, (size_t)n + 1);
    *len = n;
    return out;
}

static Node *build(Build *b, PyObject *plan);

/* a payload plan or None (no payload): 0, or -1 on error */
static int build_optional(Build *b, PyObject *plan, Node **out)
{
    *out = NULL;
    if (plan == Py_None)
        return 0;
    *out = build(b, plan);
    return *out == NULL ? -1 : 0;
}

static int build_int(Node *nd, PyObject *plan)
{
    static const struct { const char *name; unsigned char kind; int width, is_signed; } kinds[] = {
        {"s8", K_S8, 1, 1}, {"u8", K_U8, 1, 0}, {"s16", K_S16, 2, 1}, {"u16", K_U16, 2, 0},
        {"s32", K_S32, 4, 1}, {"u32", K_U32, 4, 0}, {"s64", K_S64, 8, 1}, {"u64", K_U64, 8, 0},
    };
    PyObject *name;
    size_t i;
    if (PyTuple_GET_SIZE(plan) != 4)
        return plan_error("int");
    name = PyTuple_GET_ITEM(plan, 1);
    nd->lo_obj = PyTuple_GET_ITEM(plan, 2);
    nd->hi_obj = PyTuple_GET_ITEM(plan, 3);
    if (!PyUnicode_Check(name) || !PyLong_Check(nd->lo_obj) || !PyLong_Check(nd->hi_obj))
        return plan_error("int");
    for (i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        if (PyUnicode_CompareWithASCIIString(name, kinds[i].name) == 0) {
            nd->kind = kinds[i].kind;
            nd->width = kinds[i].width;
            nd->is_signed = kinds[i].is_signed;
            nd->what = kinds[i].name;
            break;
        }
    }
    if (nd->what == NULL)
        return plan_error("int name");
    if (nd->kind != K_U64) {
        nd->lo = PyLong_AsLongLong(nd->lo_obj);
        nd->hi = PyLong_AsLongLong(nd->hi_obj);
        if (PyErr_Occurred())
            return -1;
    }
    return 0;
}

static int build_record(Build *b, Node *nd, PyObject *plan)
{
    PyObject *fields;
    Py_ssize_t i, n;
    if (PyTuple_GET_SIZE(plan) != 4 || !PyTuple_Check(PyTuple_GET_ITEM(plan, 2)))
        return plan_error("record");
    nd->cls = PyTuple_GET_ITEM(plan, 1);
    fields = PyTuple_GET_ITEM(plan, 2);
    n = PyTuple_GET_SIZE(fields);
    nd->n = n;
    if (build_ctor(b, &nd->ctor, nd->cls, PyTuple_GET_ITEM(plan, 3), n) < 0)
        return -1;
    nd->cls_name = kept(b, PyType_GetName((PyTypeObject *)nd->cls));
    if (nd->cls_name == NULL)
        return -1;
    Py_DECREF(nd->cls_name); /* the keep list holds it */
    nd->elems = PyMem_Calloc((size_t)(n ? n : 1), sizeof(Node *));
    nd->attrs = PyMem_Calloc((size_t)(n ? n : 1), sizeof(PyObject *));
    nd->names = PyMem_Calloc((size_t)(n ? n : 1), sizeof(char *));
    nd->tpl = PyMem_Calloc((size_t)(n ? n : 1), ENTRY);
    if (!nd->elems || !nd->attrs || !nd->names || !nd->tpl) {
        PyErr_NoMemory();
        return -1;
    }
    for (i = 0; i < n; i++) {
        PyObject *f = PyTuple_GET_ITEM(fields, i);
        Py_ssize_t len;
        if (!PyTuple_Check(f) || PyTuple_GET_SIZE(f) != 3 ||
            !PyUnicode_Check(PyTuple_GET_ITEM(f, 0)) || !PyUnicode_Check(PyTuple_GET_ITEM(f, 1)))
            return plan_error("record field");
        nd->attrs[i] = PyTuple_GET_ITEM(f, 0);
        nd->names[i] = copy_name(PyTuple_GET_ITEM(f, 1), &len);
        if (nd->names[i] == NULL)
            return -1;
        /* the entries' names, copied in front of every record lowered */
        put_u64(nd->tpl + i * ENTRY, (uint64_t)len);
        put_u64(nd->tpl + i * ENTRY + 8, (uint64_t)(uintptr_t)nd->names[i]);
        nd->elems[i] = build(b, PyTuple_GET_ITEM(f, 2));
        if (nd->elems[i] == NULL)
            return -1;
    }
    return 0;
}

static int build_variant(Build *b, Node *nd, PyObject *plan)
{
    PyObject *cases;
    Py_ssize_t i, n;
    if (PyTuple_GET_SIZE(plan) != 3 || !PyTuple_Check(PyTuple_GET_ITEM(plan, 1)) ||
        !PyUnicode_Check(PyTuple_GET_ITEM(plan, 2)))
        return plan_error("variant");
    cases = PyTuple_GET_ITEM(plan, 1);
    nd->case_names = PyTuple_GET_ITEM(plan, 2);
    n = PyTuple_GET_SIZE(cases);
    nd->n = n;
    nd->cases = PyMem_Calloc((size_t)(n ? n : 1), sizeof(Case));
    if (nd->cases == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (i = 0; i < n; i++) {
        PyObject *c = PyTuple_GET_ITEM(cases, i);
        Case *k = &nd->cases[i];
        if (!PyTuple_Check(c) || PyTuple_GET_SIZE(c) != 4 ||
            !PyUnicode_Check(PyTuple_GET_ITEM(c, 0)))
            return plan_error("variant case");
        k->name = copy_name(PyTuple_GET_ITEM(c, 0), &k->name_len);
        if (k->name == NULL)
            return -1;
        k->cls = PyTuple_GET_ITEM(c, 1);
        if (build_optional(b, PyTuple_GET_ITEM(c, 2), &k->payload) < 0)
            return -1;
        if (build_ctor(b, &k->ctor, k->cls, PyTuple_GET_ITEM(c, 3), k->payload ? 1 : 0) < 0)
            return -1;
    }
    return 0;
}

static Node *build(Build *b, PyObject *plan)
{
    Node *nd;
    PyObject *tag;
    Py_ssize_t size, i;
    int rc = 0;
    if (Py_EnterRecursiveCall(" while compiling a fast codec plan"))
        return NULL;
    if (!PyTuple_Check(plan) || PyTuple_GET_SIZE(plan) < 1 ||
        !PyUnicode_Check(PyTuple_GET_ITEM(plan, 0))) {
        Py_LeaveRecursiveCall();
        plan_error("not a plan tuple");
        return NULL;
    }
    if (kept(b, plan) == NULL) {
        Py_LeaveRecursiveCall();
        return NULL;
    }
    nd = PyMem_Calloc(1, sizeof(Node));
    if (nd == NULL) {
        Py_LeaveRecursiveCall();
        PyErr_NoMemory();
        return NULL;
    }
    tag = PyTuple_GET_ITEM(plan, 0);
    size = PyTuple_GET_SIZE(plan);
#define IS(s) (PyUnicode_CompareWithASCIIString(tag, s) == 0)
    if (IS("int")) {
        nd->tag = N_INT;
        rc = build_int(nd, plan);
    } else if (IS("float")) {
        PyObject *name = size == 2 ? PyTuple_GET_ITEM(plan, 1) : NULL;
        nd->tag = N_FLOAT;
        if (name != NULL && PyUnicode_Check(name) &&
            PyUnicode_CompareWithASCIIString(name, "f32") == 0) {
            nd->kind = K_F32;
            nd->what = "f32";
        } else if (name != NULL && PyUnicode_Check(name) &&
                   PyUnicode_CompareWithASCIIString(name, "f64") == 0) {
            nd->kind = K_F64;
            nd->what = "f64";
        } else {
            rc = plan_error("float");
        }
    } else if (IS("bool")) {
        nd->tag = N_BOOL;
    } else if (IS("string")) {
        nd->tag = N_STRING;
    } else if (IS("bytes")) {
        nd->tag = N_BYTES;
    } else if (IS("list")) {
        nd->tag = N_LIST;
        rc = size == 2 && (nd->elem = build(b, PyTuple_GET_ITEM(plan, 1))) != NULL ? 0 : -1;
    } else if (IS("tuple")) {
        PyObject *elems = size == 2 ? PyTuple_GET_ITEM(plan, 1) : NULL;
        nd->tag = N_TUPLE;
        if (elems == NULL || !PyTuple_Check(elems)) {
            rc = plan_error("tuple");
        } else {
            nd->n = PyTuple_GET_SIZE(elems);
            nd->elems = PyMem_Calloc((size_t)(nd->n ? nd->n : 1), sizeof(Node *));
            if (nd->elems == NULL) {
                PyErr_NoMemory();
                rc = -1;
            }
            nd->all_strings = 1;
            for (i = 0; rc == 0 && i < nd->n; i++) {
                nd->elems[i] = build(b, PyTuple_GET_ITEM(elems, i));
                if (nd->elems[i] == NULL)
                    rc = -1;
                else if (nd->elems[i]->tag != N_STRING)
                    nd->all_strings = 0;
            }
        }
    } else if (IS("record")) {
        nd->tag = N_RECORD;
        rc = build_record(b, nd, plan);
    } else if (IS("option")) {
        nd->tag = N_OPTION;
        if (size != 3) {
            rc = plan_error("option");
        } else {
            nd->nested = PyObject_IsTrue(PyTuple_GET_ITEM(plan, 2));
            nd->elem = build(b, PyTuple_GET_ITEM(plan, 1));
            rc = nd->nested < 0 || nd->elem == NULL ? -1 : 0;
        }
    } else if (IS("result")) {
        nd->tag = N_RESULT;
        if (size != 3)
            rc = plan_error("result");
        else if (build_optional(b, PyTuple_GET_ITEM(plan, 1), &nd->ok) < 0 ||
                 build_optional(b, PyTuple_GET_ITEM(plan, 2), &nd->err) < 0)
            rc = -1;
    } else if (IS("variant")) {
        nd->tag = N_VARIANT;
        rc = build_variant(b, nd, plan);
    } else if (IS("py")) {
        nd->tag = N_PY;
        if (size != 3 || !PyCallable_Check(PyTuple_GET_ITEM(plan, 1)) ||
            !PyCallable_Check(PyTuple_GET_ITEM(plan, 2))) {
            rc = plan_error("py");
        } else {
            nd->py_lower = PyTuple_GET_ITEM(plan, 1);
            nd->py_lift = PyTuple_GET_ITEM(plan, 2);
        }
    } else {
        rc = plan_error("unknown tag");
    }
#undef IS
    Py_LeaveRecursiveCall();
    if (rc < 0) {
        free_node(nd);
        return NULL;
    }
    return nd;
}

/* ------------------------------------------------------------ Node objects */

typedef struct {
    PyObject_HEAD
    Node *root;
    PyObject *keep;
} NodeObject;

static PyTypeObject Node_Type;

static PyObject *Node_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    PyObject *plan;
    NodeObject *self;
    Build b;
    if (!PyArg_ParseTuple(args, "O:Node", &plan))
        return NULL;
    if (kwds != NULL && PyDict_GET_SIZE(kwds)) {
        PyErr_SetString(PyExc_TypeError, "Node takes no keyword arguments");
        return NULL;
    }
    self = (NodeObject *)type->tp_alloc(type, 0);
    if (self == NULL)
        return NULL;
    self->keep = b.keep = PyList_New(0);
    if (self->keep == NULL) {
        Py_DECREF(self);
        return NULL;
    }
    self->root = build(&b, plan);
    if (self->root == NULL) {
        Py_DECREF(self);
        return NULL;
    }
    return (PyObject *)self;
}

static void Node_dealloc(NodeObject *self)
{
    free_node(self->root);
    Py_XDECREF(self->keep);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int lw_begin(Lw *w, PyObject *arena)
{
    w->arena = arena;
    return lw_load(w);
}

static PyObject *Node_lower(NodeObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    Lw w;
    char *a;
    int rc;
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "lower(value, addr, arena)");
        return NULL;
    }
    a = (char *)PyLong_AsVoidPtr(args[1]);
    if (PyErr_Occurred() || lw_begin(&w, args[2]) < 0)
        return NULL;
    rc = lower(self->root, args[0], a, &w);
    if (lw_store(&w) < 0 || rc < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *Node_lift(NodeObject *self, PyObject *addr)
{
    const char *a = (const char *)PyLong_AsVoidPtr(addr);
    if (PyErr_Occurred())
        return NULL;
    return lift(self->root, a);
}

static PyMethodDef Node_methods[] = {
    {"lower", (PyCFunction)(void (*)(void))Node_lower, METH_FASTCALL,
     "lower(value, addr, arena): write `value` as the val at `addr`."},
    {"lift", (PyCFunction)Node_lift, METH_O, "lift(addr): read the val at `addr`."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject Node_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "dataflare.bindgen._fastc.Node",
    .tp_basicsize = sizeof(NodeObject),
    .tp_dealloc = (destructor)Node_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A codec plan compiled into a C tree: lower(value, addr, arena), lift(addr).",
    .tp_methods = Node_methods,
    .tp_new = Node_new,
};

/* ------------------------------------------------------------ Caller objects */

typedef struct {
    PyObject_HEAD
    vectorcallfunc vectorcall;
    const void *func;
    PyObject *params; /* tuple of Node */
    PyObject *result; /* Node or None */
    char *res;        /* the result slot */
    PyObject *on_error;
    PyObject *owner; /* what func and res point into */
} CallerObject;

static PyTypeObject Caller_Type;
static PyObject *Caller_call(CallerObject *self, PyObject *const *args, size_t nargsf,
                             PyObject *kwnames);

static PyObject *Caller_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kw[] = {"func", "params", "result", "result_addr", "on_error", "owner", NULL};
    PyObject *func, *params, *result, *res, *on_error, *owner;
    CallerObject *self;
    Py_ssize_t i;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OO!OOOO:Caller", kw, &func, &PyTuple_Type,
                                     &params, &result, &res, &on_error, &owner))
        return NULL;
    for (i = 0; i < PyTuple_GET_SIZE(params); i++) {
        if (!Py_IS_TYPE(PyTuple_GET_ITEM(params, i), &Node_Type)) {
            PyErr_SetString(PyExc_TypeError, "params must be Node objects");
            return NULL;
        }
    }
    if (result != Py_None && !Py_IS_TYPE(result, &Node_Type)) {
        PyErr_SetString(PyExc_TypeError, "result must be a Node or None");
        return NULL;
    }
    if (!PyCallable_Check(on_error)) {
        PyErr_SetString(PyExc_TypeError, "on_error must be callable");
        return NULL;
    }
    self = (CallerObject *)type->tp_alloc(type, 0);
    if (self == NULL)
        return NULL;
    self->vectorcall = (vectorcallfunc)Caller_call;
    self->func = PyLong_AsVoidPtr(func);
    self->res = (char *)PyLong_AsVoidPtr(res);
    if (PyErr_Occurred()) {
        Py_DECREF(self);
        return NULL;
    }
    Py_INCREF(params);
    self->params = params;
    Py_INCREF(result);
    self->result = result;
    Py_INCREF(on_error);
    self->on_error = on_error;
    Py_INCREF(owner);
    self->owner = owner;
    return (PyObject *)self;
}

static void Caller_dealloc(CallerObject *self)
{
    Py_XDECREF(self->params);
    Py_XDECREF(self->result);
    Py_XDECREF(self->on_error);
    Py_XDECREF(self->owner);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* The wasm error `err`: on_error raises it (GuestTrap, or a host callback's
 * exception). */
static PyObject *raise_call_error(CallerObject *self, void *err)
{
    PyObject *e = PyLong_FromVoidPtr(err), *r;
    if (e == NULL)
        return NULL;
    r = PyObject_CallOneArg(self->on_error, e);
    Py_DECREF(e);
    if (r != NULL) {
        Py_DECREF(r);
        PyErr_SetString(PyExc_SystemError, "on_error returned instead of raising");
    }
    return NULL;
}

static PyObject *Caller_call(CallerObject *self, PyObject *const *args, size_t nargsf,
                             PyObject *kwnames)
{
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf), n, i;
    void *ctx, *err;
    PyObject *values, *out;
    char *params = NULL;
    int has_result = self->result != Py_None;
    Lw w;
    if (nargs != 3 || (kwnames != NULL && PyTuple_GET_SIZE(kwnames))) {
        PyErr_SetString(PyExc_TypeError, "caller(ctx_addr, args, arena)");
        return NULL;
    }
    if (api_func_call == NULL || api_val_delete == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "_fastc.setup() was not called");
        return NULL;
    }
    ctx = PyLong_AsVoidPtr(args[0]);
    if (ctx == NULL && PyErr_Occurred())
        return NULL;
    values = args[1];
    n = PyTuple_GET_SIZE(self->params);
    if (!PyTuple_Check(values) || PyTuple_GET_SIZE(values) != n) {
        PyErr_Format(PyExc_TypeError, "expected %zd arguments", n);
        return NULL;
    }
    if (lw_begin(&w, args[2]) < 0)
        return NULL;
    if (n) {
        params = lw_alloc_vals(&w, n, VAL);
        if (params == NULL)
            goto lower_failed;
    }
    for (i = 0; i < n; i++) {
        NodeObject *nd = (NodeObject *)PyTuple_GET_ITEM(self->params, i);
        if (lower(nd->root, PyTuple_GET_ITEM(values, i), params + i * VAL, &w) < 0)
            goto lower_failed;
    }
    if (lw_store(&w) < 0)
        return NULL;
    Py_BEGIN_ALLOW_THREADS
    err = api_func_call(self->func, ctx, params, (size_t)n, has_result ? self->res : NULL,
                        has_result ? 1 : 0);
    Py_END_ALLOW_THREADS
    if (err != NULL)
        return raise_call_error(self, err);
    if (!has_result)
        Py_RETURN_NONE;
    out = lift(((NodeObject *)self->result)->root, self->res);
    /* the result tree is wasmtime's: freed whatever lifting did, and the slot
     * left holding a plain value, since wasmtime drops a slot's old contents */
    api_val_delete(self->res);
    memset(self->res, 0, VAL);
    return out;
lower_failed:
    {
        PyObject *type, *value, *tb;
        PyErr_Fetch(&type, &value, &tb);
        (void)lw_store(&w);
        PyErr_Restore(type, value, tb);
    }
    return NULL;
}

static PyTypeObject Caller_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "dataflare.bindgen._fastc.Caller",
    .tp_basicsize = sizeof(CallerObject),
    .tp_dealloc = (destructor)Caller_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_doc = "An export bound to its nodes: caller(ctx_addr, args, arena) is one call.",
    .tp_call = PyVectorcall_Call,
    .tp_vectorcall_offset = offsetof(CallerObject, vectorcall),
    .tp_new = Caller_new,
};

/* ------------------------------------------------------------ module */

static PyObject *fastc_setup(PyObject *module, PyObject *args)
{
    PyObject *func_call, *val_delete, *ok, *err, *some, *ok_d, *err_d, *some_d;
    Build b;
    if (!PyArg_ParseTuple(args, "OOOOOOOO:setup", &func_call, &val_delete, &ok, &err, &some,
                          &ok_d, &err_d, &some_d))
        return NULL;
    b.keep = PyObject_GetAttrString(module, "_kept");
    if (b.keep == NULL)
        return NULL;
    Py_DECREF(b.keep); /* the module holds it */
    if (build_ctor(&b, &ctor_ok, ok, ok_d, 1) < 0 || build_ctor(&b, &ctor_err, err, err_d, 1) < 0 ||
        build_ctor(&b, &ctor_some, some, some_d, 1) < 0)
        return NULL;
    cls_ok = ok;
    cls_err = err;
    cls_some = some;
    api_func_call = (func_call_t)PyLong_AsVoidPtr(func_call);
    api_val_delete = (val_delete_t)PyLong_AsVoidPtr(val_delete);
    if (PyErr_Occurred())
        return NULL;
    Py_RETURN_NONE;
}

static PyMethodDef fastc_methods[] = {
    {"setup", fastc_setup, METH_VARARGS,
     "setup(func_call, val_delete, Ok, Err, Some, ok_slots, err_slots, some_slots)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef fastc_module = {
    PyModuleDef_HEAD_INIT, "dataflare.bindgen._fastc",
    "C lowering and lifting of typed WIT values for fast guest calls.", -1, fastc_methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__fastc(void)
{
    PyObject *m;
    s_pos = PyUnicode_InternFromString("pos");
    s_end = PyUnicode_InternFromString("end");
    s_alloc = PyUnicode_InternFromString("alloc");
    s_value = PyUnicode_InternFromString("value");
    empty_tuple = PyTuple_New(0);
    empty_str = PyUnicode_New(0, 0);
    empty_bytes = PyBytes_FromStringAndSize(NULL, 0);
    if (!s_pos || !s_end || !s_alloc || !s_value || !empty_tuple || !empty_str || !empty_bytes)
        return NULL;
    if (PyType_Ready(&Node_Type) < 0 || PyType_Ready(&Caller_Type) < 0)
        return NULL;
    m = PyModule_Create(&fastc_module);
    if (m == NULL)
        return NULL;
    if (PyModule_AddObject(m, "_kept", PyList_New(0)) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    Py_INCREF(&Node_Type);
    Py_INCREF(&Caller_Type);
    if (PyModule_AddObject(m, "Node", (PyObject *)&Node_Type) < 0 ||
        PyModule_AddObject(m, "Caller", (PyObject *)&Caller_Type) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    PyModule_AddIntConstant(m, "VAL", VAL);
    return m;
}
