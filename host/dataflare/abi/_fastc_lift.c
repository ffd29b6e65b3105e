/* Lifting: val_t trees (wasmtime's results) read into Python values; every
 * node's kind byte checked, pointers followed only from checked nodes. */
#include "_fastc.h"

static int kind_error(const char *a, const char *what)
{
    PyErr_Format(PyExc_TypeError, "guest returned value kind %d where %s was expected",
                 (int)(unsigned char)a[0], what);
    return -1;
}

/* cls(*values); steals the references in `values` (even on failure) */
static PyObject *construct(const Ctor *ctor, PyObject **values, Py_ssize_t n)
{
    PyObject *out;
    Py_ssize_t i;
    if (ctor->offsets != NULL) {
        out = ctor->cls->tp_new(ctor->cls, fc_empty_tuple, NULL);
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

/* ------------------------------------------------------------ lifting */


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

/* A (size, pointer) node of `kind` (string, list): its size and pointer,
 * or -1 with an exception for another kind or a size that cannot fit
 * `each`-byte items in memory. */
static int read_head(const char *a, unsigned char kind, const char *what, size_t each,
                     Py_ssize_t *n, const char **p)
{
    uint64_t size;
    if ((unsigned char)a[0] != kind)
        return kind_error(a, what);
    size = get_u64(a + 8);
    if (size > (uint64_t)(PY_SSIZE_T_MAX / each)) {
        PyErr_NoMemory();
        return -1;
    }
    *n = (Py_ssize_t)size;
    *p = (const char *)(uintptr_t)get_u64(a + 16);
    return 0;
}

static PyObject *lift_string(const char *a)
{
    Py_ssize_t n;
    const char *p;
    if (read_head(a, K_STRING, "string", 1, &n, &p) < 0)
        return NULL;
    if (!n) {
        Py_INCREF(fc_empty_str);
        return fc_empty_str;
    }
    return PyUnicode_DecodeUTF8(p, n, NULL);
}

/* a string as its UTF-8 bytes (codec UTF8): one copy, no decoding */
static PyObject *lift_utf8(const char *a)
{
    Py_ssize_t n;
    const char *p;
    if (read_head(a, K_STRING, "string", 1, &n, &p) < 0)
        return NULL;
    if (!n) {
        Py_INCREF(fc_empty_bytes);
        return fc_empty_bytes;
    }
    return PyBytes_FromStringAndSize(p, n);
}

static PyObject *lift_bytes(const char *a)
{
    Py_ssize_t n, i;
    const char *p;
    PyObject *out;
    char *d;
    if (read_head(a, K_LIST, "list<u8>", VAL, &n, &p) < 0)
        return NULL;
    if (!n) {
        Py_INCREF(fc_empty_bytes);
        return fc_empty_bytes;
    }
    out = PyBytes_FromStringAndSize(NULL, n);
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

/* New list or tuple `out` filled with the n vals at p, read by `elem` each or
 * by elems[i]; NULL (and `out` released) on failure */
static PyObject *fill(PyObject *out, const Node *elem, Node *const *elems, const char *p,
                      Py_ssize_t n)
{
    Py_ssize_t i;
    if (out == NULL)
        return NULL;
    for (i = 0; i < n; i++) {
        PyObject *x = fc_lift(elem != NULL ? elem : elems[i], p + i * VAL);
        if (x == NULL) {
            Py_DECREF(out);
            return NULL;
        }
        if (PyList_CheckExact(out))
            PyList_SET_ITEM(out, i, x);
        else
            PyTuple_SET_ITEM(out, i, x);
    }
    return out;
}

static PyObject *lift_list(const Node *nd, const char *a)
{
    Py_ssize_t n;
    const char *p;
    if (read_head(a, K_LIST, "list", VAL, &n, &p) < 0)
        return NULL;
    return fill(PyList_New(n), nd->elem, NULL, p, n);
}

static PyObject *lift_tuple(const Node *nd, const char *a)
{
    uint64_t size = get_u64(a + 8);
    if ((unsigned char)a[0] != K_TUPLE || size != (uint64_t)nd->n) {
        PyErr_Format(PyExc_TypeError,
                     "guest returned kind %d (size %llu) where a %zd-tuple was expected",
                     (int)(unsigned char)a[0], (unsigned long long)size, nd->n);
        return NULL;
    }
    return fill(PyTuple_New(nd->n), NULL, nd->elems, (const char *)(uintptr_t)get_u64(a + 16),
                nd->n);
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
        values[i] = fc_lift(nd->elems[i], p + i * ENTRY + ENTRY_VAL_OFFSET);
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
    x = fc_lift(nd->elem, p);
    if (x == NULL || !nd->nested)
        return x;
    return construct1(&fc_ctor_some, x);
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
        x = fc_lift(payload, p);
        if (x == NULL)
            return NULL;
    }
    return construct1(is_ok ? &fc_ctor_ok : &fc_ctor_err, x);
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
        PyObject *x = fc_lift(c->payload, p);
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

PyObject *fc_lift(const Node *nd, const char *a)
{
    switch (nd->tag) {
    case N_INT: return lift_int(nd, a);
    case N_FLOAT: return lift_float(nd, a);
    case N_BOOL: return lift_bool(a);
    case N_STRING: return lift_string(a);
    case N_UTF8: return lift_utf8(a);
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
