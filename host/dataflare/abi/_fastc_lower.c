/* Lowering: Python values written as wasmtime_component_val_t trees into the
 * caller's arena, with the checks and messages of val_scalars. */
#include "_fastc.h"

static PyObject *type_name(PyObject *v)
{
    return PyType_GetName(Py_TYPE(v));
}

/* TypeError "<what> expects <type>, got <type(v).__name__>" */
static int expects_error(const char *what, const char *type, PyObject *v)
{
    PyObject *name = type_name(v);
    if (name == NULL)
        return -1;
    PyErr_Format(PyExc_TypeError, "%s expects %s, got %U", what, type, name);
    Py_DECREF(name);
    return -1;
}

/* isinstance(v, (types[0], ..., types[n - 1])) */
static int instance_of_any(PyObject *v, PyTypeObject *const *types, int n)
{
    int i, r = 0;
    for (i = 0; i < n && r == 0; i++)
        r = PyObject_IsInstance(v, (PyObject *)types[i]);
    return r;
}

/* convert(v) (int(v), float(v)) when v is an instance of `types` but not a
 * bool, else TypeError "<what> expects <type>, ..." */
static PyObject *coerce(PyObject *v, PyTypeObject *const *types, int n, const char *what,
                        const char *type, PyObject *(*convert)(PyObject *))
{
    int is_bool = PyObject_IsInstance(v, (PyObject *)&PyBool_Type);
    int ok = is_bool == 0 ? instance_of_any(v, types, n) : 0;
    if (is_bool < 0 || ok < 0)
        return NULL;
    if (is_bool || !ok) {
        expects_error(what, type, v);
        return NULL;
    }
    return convert(v);
}

/* isinstance(v, cls), with the exact-type case first */
static int is_instance(PyObject *v, PyObject *cls)
{
    if ((PyObject *)Py_TYPE(v) == cls)
        return 1;
    return PyObject_IsInstance(v, cls);
}

/* getattr(v, name), read straight from slot i when v's type is exactly the
 * class whose slots `ctor` knows */
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

/* ------------------------------------------------------------ the arena */

static int read_addr(PyObject *obj, PyObject *name, char **out)
{
    PyObject *v = PyObject_GetAttr(obj, name);
    if (v == NULL)
        return -1;
    *out = (char *)PyLong_AsVoidPtr(v);
    Py_DECREF(v);
    return PyErr_Occurred() ? -1 : 0;
}

int fc_lw_load(Lw *w)
{
    if (read_addr(w->arena, fc_s_pos, &w->pos) < 0)
        return -1;
    return read_addr(w->arena, fc_s_end, &w->end);
}

int fc_lw_store(Lw *w)
{
    PyObject *v = PyLong_FromVoidPtr(w->pos);
    int rc;
    if (v == NULL)
        return -1;
    rc = PyObject_SetAttr(w->arena, fc_s_pos, v);
    Py_DECREF(v);
    return rc;
}

static char *lw_alloc_slow(Lw *w, size_t n)
{
    PyObject *r, *size;
    char *p;
    if (fc_lw_store(w) < 0)
        return NULL;
    size = PyLong_FromSize_t(n);
    if (size == NULL)
        return NULL;
    r = PyObject_CallMethodOneArg(w->arena, fc_s_alloc, size);
    Py_DECREF(size);
    if (r == NULL)
        return NULL;
    p = (char *)PyLong_AsVoidPtr(r);
    Py_DECREF(r);
    if (PyErr_Occurred() || fc_lw_load(w) < 0)
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
    if (w->pos <= w->end && (size_t)(w->end - w->pos) >= size) {
        char *p = w->pos;
        w->pos += size;
        return p;
    }
    return lw_alloc_slow(w, n);
}

char *fc_lw_alloc_vals(Lw *w, Py_ssize_t n, size_t each)
{
    if ((size_t)n > PY_SSIZE_T_MAX / each) {
        PyErr_NoMemory();
        return NULL;
    }
    return lw_alloc(w, (size_t)n * each);
}

/* ------------------------------------------------------------ lowering */


static int lower_int(const Node *nd, PyObject *v, char *a)
{
    PyObject *x = v;
    int overflow = 0;
    uint64_t bits = 0;
    if (!PyLong_CheckExact(v)) {
        static PyTypeObject *const ints[] = {&PyLong_Type};
        x = coerce(v, ints, 1, nd->what, "int", PyNumber_Long);
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
        static PyTypeObject *const numbers[] = {&PyLong_Type, &PyFloat_Type};
        PyObject *f = coerce(v, numbers, 2, nd->what, "float", PyNumber_Float);
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
        return expects_error("bool", "bool", v);
    put_u64(a, K_BOOL);
    put_u64(a + 8, v == Py_True);
    return 0;
}

/* The UTF-8 of str `v`: its own buffer when ASCII, else a new bytes object
 * (`*owner`), as str.encode() would raise for lone surrogates. */
static const char *utf8_of(PyObject *v, Py_ssize_t *n, PyObject **owner)
{
    *owner = NULL;
#if PY_VERSION_HEX < 0x030C0000
    if (PyUnicode_READY(v) < 0)
        return NULL;
#endif
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
        return expects_error("string", "str", v);
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

/* The offset of the first byte of the first sequence that is not strict
 * UTF-8 (what CPython's decoder reports as `start`), or -1 if all of `s` is.
 * Overlong forms, surrogates and code points past U+10FFFF are invalid. */
Py_ssize_t fc_utf8_error(const unsigned char *s, Py_ssize_t n)
{
    Py_ssize_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        Py_ssize_t need, k;
        unsigned char lo = 0x80, hi = 0xBF;
        if (c < 0x80) {
            /* ASCII runs eight bytes at a time */
            while (i + 8 <= n) {
                uint64_t w;
                memcpy(&w, s + i, 8);
                if (w & 0x8080808080808080ULL)
                    break;
                i += 8;
            }
            if (i < n && s[i] < 0x80)
                i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            need = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            need = 2;
            if (c == 0xE0)
                lo = 0xA0;
            else if (c == 0xED)
                hi = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            need = 3;
            if (c == 0xF0)
                lo = 0x90;
            else if (c == 0xF4)
                hi = 0x8F;
        } else {
            return i;
        }
        if (i + need >= n)
            return i;
        if (s[i + 1] < lo || s[i + 1] > hi)
            return i;
        for (k = 2; k <= need; k++)
            if ((s[i + k] & 0xC0) != 0x80)
                return i;
        i += need + 1;
    }
    return -1;
}

/* a string from bytes the caller knows are UTF-8 (codec UTF8): bytes, a
 * bytearray or a C-contiguous memoryview, copied once into the arena */
static int lower_utf8(PyObject *v, char *a, Lw *w)
{
    Py_buffer view;
    char *p;
    if (!PyBytes_CheckExact(v)) {
        static PyTypeObject *const buffers[] = {&PyBytes_Type, &PyByteArray_Type,
                                                &PyMemoryView_Type};
        int ok = instance_of_any(v, buffers, 3);
        if (ok < 0)
            return -1;
        if (!ok)
            return expects_error("string", "UTF-8 bytes", v);
        if (PyMemoryView_Check(v) && !PyBuffer_IsContiguous(PyMemoryView_GET_BUFFER(v), 'C')) {
            PyErr_SetString(PyExc_TypeError,
                            "string expects UTF-8 bytes, got a non-contiguous memoryview");
            return -1;
        }
    }
    if (PyObject_GetBuffer(v, &view, PyBUF_SIMPLE) < 0)
        return -1;
    {
        /* wasmtime aborts the process on a string that is not UTF-8 */
        Py_ssize_t bad = fc_utf8_error((const unsigned char *)view.buf, view.len);
        if (bad >= 0) {
            PyBuffer_Release(&view);
            PyErr_Format(PyExc_ValueError, "string expects UTF-8 bytes: invalid at byte %zd",
                         bad);
            return -1;
        }
    }
    p = lw_alloc(w, (size_t)view.len);
    if (p == NULL) {
        PyBuffer_Release(&view);
        return -1;
    }
    if (view.len)
        memcpy(p, view.buf, (size_t)view.len);
    put_head(a, K_STRING, (uint64_t)view.len, (uint64_t)(uintptr_t)p);
    PyBuffer_Release(&view);
    return 0;
}

static int lower_bytes(PyObject *v, char *a, Lw *w)
{
    PyObject *b = v;
    const unsigned char *data;
    Py_ssize_t n, i;
    char *p;
    if (!PyBytes_CheckExact(v)) {
        static PyTypeObject *const buffers[] = {&PyBytes_Type, &PyByteArray_Type,
                                                &PyMemoryView_Type};
        int ok = instance_of_any(v, buffers, 3);
        if (ok < 0)
            return -1;
        if (!ok)
            return expects_error("list<u8>", "bytes", v);
        b = PyObject_CallOneArg((PyObject *)&PyBytes_Type, v);
        if (b == NULL)
            return -1;
    } else {
        Py_INCREF(b);
    }
    n = PyBytes_GET_SIZE(b);
    p = fc_lw_alloc_vals(w, n, VAL);
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
        static PyTypeObject *const sequences[] = {&PyList_Type, &PyTuple_Type};
        int ok = instance_of_any(v, sequences, 2);
        if (ok < 0)
            return -1;
        if (!ok)
            return expects_error("list", "list", v);
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
    p = fc_lw_alloc_vals(w, n, VAL);
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
        if (fc_lower(nd->elem, x, p + i * VAL, w) < 0) {
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
            expects_error("string", "str", items[i]);
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
        p = fc_lw_alloc_vals(w, n, VAL);
        if (p == NULL)
            return -1;
        for (i = 0; i < n; i++) {
            PyObject *x = tuple_item(v, i);
            int rc;
            if (x == NULL)
                return -1;
            rc = fc_lower(nd->elems[i], x, p + i * VAL, w);
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
    p = fc_lw_alloc_vals(w, nd->n, ENTRY);
    if (p == NULL)
        return -1;
    if (nd->n)
        memcpy(p, nd->tpl, (size_t)(nd->n * ENTRY));
    for (i = 0; i < nd->n; i++) {
        PyObject *x = get_field(v, &nd->ctor, i, nd->attrs[i]);
        int rc;
        if (x == NULL)
            return -1;
        rc = fc_lower(nd->elems[i], x, p + i * ENTRY + ENTRY_VAL_OFFSET, w);
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
    x = get_field(holder, ctor, 0, fc_s_value);
    if (x == NULL)
        return -1;
    rc = fc_lower(payload, x, p, w);
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
        int ok = is_instance(v, fc_cls_some);
        if (ok < 0)
            return -1;
        if (!ok) {
            PyErr_Format(PyExc_TypeError, "expected Some(...) or None, got %R", v);
            return -1;
        }
        if (lower_payload(nd->elem, v, &fc_ctor_some, &p, w) < 0)
            return -1;
    } else {
        p = lw_alloc(w, VAL);
        if (p == NULL || fc_lower(nd->elem, v, p, w) < 0)
            return -1;
    }
    put_u64(a, K_OPTION);
    put_u64(a + 8, (uint64_t)(uintptr_t)p);
    return 0;
}

static int lower_result(const Node *nd, PyObject *v, char *a, Lw *w)
{
    char *p = NULL;
    int is_ok = is_instance(v, fc_cls_ok);
    const Node *payload;
    if (is_ok < 0)
        return -1;
    if (!is_ok) {
        int is_err = is_instance(v, fc_cls_err);
        if (is_err < 0)
            return -1;
        if (!is_err) {
            PyErr_Format(PyExc_TypeError, "expected Ok(...) or Err(...), got %R", v);
            return -1;
        }
    }
    payload = is_ok ? nd->ok : nd->err;
    if (payload != NULL &&
        lower_payload(payload, v, is_ok ? &fc_ctor_ok : &fc_ctor_err, &p, w) < 0)
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
    if (fc_lw_store(w) < 0)
        return -1;
    addr = PyLong_FromVoidPtr(a);
    if (addr == NULL)
        return -1;
    r = PyObject_CallFunctionObjArgs(nd->py_lower, v, addr, w->arena, NULL);
    Py_DECREF(addr);
    if (r == NULL)
        return -1;
    Py_DECREF(r);
    return fc_lw_load(w);
}

int fc_lower(const Node *nd, PyObject *v, char *a, Lw *w)
{
    switch (nd->tag) {
    case N_INT: return lower_int(nd, v, a);
    case N_FLOAT: return lower_float(nd, v, a);
    case N_BOOL: return lower_bool(v, a);
    case N_STRING: return lower_string(v, a, w);
    case N_UTF8: return lower_utf8(v, a, w);
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
