/* Lifting: val_t trees (wasmtime's results) read into Python values; every
 * node's kind byte checked, pointers followed only from checked nodes. */
#include "_fastc.h"

/* kind byte, seven zero bytes, then two payload words (the Python _HEAD) */

static int kind_error(const char *a, const char *what)
{
    PyErr_Format(PyExc_TypeError, "guest returned value kind %d where %s was expected",
                 (int)(unsigned char)a[0], what);
    return -1;
}

/* isinstance(v, cls), with the exact-type case first */

/* getattr(v, name) where `offset` is the slot of `name` in exact type `cls` */

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

static PyObject *lift_string(const char *a)
{
    uint64_t n;
    if ((unsigned char)a[0] != K_STRING) {
        kind_error(a, "string");
        return NULL;
    }
    n = get_u64(a + 8);
    if (!n) {
        Py_INCREF(fc_empty_str);
        return fc_empty_str;
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
        Py_INCREF(fc_empty_bytes);
        return fc_empty_bytes;
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
        PyObject *x = fc_lift(nd->elem, p + i * VAL);
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
        PyObject *x = fc_lift(nd->elems[i], p + i * VAL);
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
        values[i] = fc_lift(nd->elems[i], p + i * ENTRY + 16);
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
