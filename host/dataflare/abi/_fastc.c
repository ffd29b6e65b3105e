/* The C accelerator for fast typed calls (see c_ext.py for the Python side).
 *
 * A `Node` is a codec spec compiled into a C tree (from the plan that
 * c_ext.plan() builds); it writes and reads wasmtime_component_val_t
 * trees exactly as the Python fast path does (val_scalars, val_containers,
 * val_variants): same checks, same exception types and messages,
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
#include "_fastc.h"

typedef void *(*func_call_t)(const void *func, void *ctx, const void *args, size_t nargs,
                             void *results, size_t nresults);
typedef void (*val_delete_t)(void *val);

static func_call_t api_func_call = NULL;
static val_delete_t api_val_delete = NULL;

PyObject *fc_s_pos, *fc_s_end, *fc_s_alloc, *fc_s_value;
PyObject *fc_empty_tuple, *fc_empty_str, *fc_empty_bytes;
Ctor fc_ctor_ok, fc_ctor_err, fc_ctor_some;
PyObject *fc_cls_ok, *fc_cls_err, *fc_cls_some;

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
    self->root = fc_build(&b, plan);
    if (self->root == NULL) {
        Py_DECREF(self);
        return NULL;
    }
    return (PyObject *)self;
}

static void Node_dealloc(NodeObject *self)
{
    fc_free_node(self->root);
    Py_XDECREF(self->keep);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int lw_begin(Lw *w, PyObject *arena)
{
    w->arena = arena;
    return fc_lw_load(w);
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
    rc = fc_lower(self->root, args[0], a, &w);
    if (fc_lw_store(&w) < 0 || rc < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *Node_lift(NodeObject *self, PyObject *addr)
{
    const char *a = (const char *)PyLong_AsVoidPtr(addr);
    if (PyErr_Occurred())
        return NULL;
    return fc_lift(self->root, a);
}

static PyMethodDef Node_methods[] = {
    {"lower", (PyCFunction)(void (*)(void))Node_lower, METH_FASTCALL,
     "lower(value, addr, arena): write `value` as the val at `addr`."},
    {"lift", (PyCFunction)Node_lift, METH_O, "lift(addr): read the val at `addr`."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject Node_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "dataflare.abi._fastc.Node",
    .tp_basicsize = sizeof(NodeObject),
    .tp_dealloc = (destructor)Node_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A codec plan compiled into a C tree: fc_lower(value, addr, arena), fc_lift(addr).",
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
        params = fc_lw_alloc_vals(&w, n, VAL);
        if (params == NULL)
            goto lower_failed;
    }
    for (i = 0; i < n; i++) {
        NodeObject *nd = (NodeObject *)PyTuple_GET_ITEM(self->params, i);
        if (fc_lower(nd->root, PyTuple_GET_ITEM(values, i), params + i * VAL, &w) < 0)
            goto lower_failed;
    }
    if (fc_lw_store(&w) < 0)
        return NULL;
    Py_BEGIN_ALLOW_THREADS
    err = api_func_call(self->func, ctx, params, (size_t)n, has_result ? self->res : NULL,
                        has_result ? 1 : 0);
    Py_END_ALLOW_THREADS
    if (err != NULL)
        return raise_call_error(self, err);
    if (!has_result)
        Py_RETURN_NONE;
    out = fc_lift(((NodeObject *)self->result)->root, self->res);
    /* the result tree is wasmtime's: freed whatever lifting did, and the slot
     * left holding a plain value, since wasmtime drops a slot's old contents */
    api_val_delete(self->res);
    memset(self->res, 0, VAL);
    return out;
lower_failed:
    {
        PyObject *type, *value, *tb;
        PyErr_Fetch(&type, &value, &tb);
        (void)fc_lw_store(&w);
        PyErr_Restore(type, value, tb);
    }
    return NULL;
}

static PyTypeObject Caller_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "dataflare.abi._fastc.Caller",
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
    if (fc_build_ctor(&b, &fc_ctor_ok, ok, ok_d, 1) < 0 || fc_build_ctor(&b, &fc_ctor_err, err, err_d, 1) < 0 ||
        fc_build_ctor(&b, &fc_ctor_some, some, some_d, 1) < 0)
        return NULL;
    fc_cls_ok = ok;
    fc_cls_err = err;
    fc_cls_some = some;
    api_func_call = (func_call_t)PyLong_AsVoidPtr(func_call);
    api_val_delete = (val_delete_t)PyLong_AsVoidPtr(val_delete);
    if (PyErr_Occurred())
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *fastc_utf8_error(PyObject *self, PyObject *arg)
{
    Py_buffer view;
    Py_ssize_t bad;
    (void)self;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0)
        return NULL;
    Py_BEGIN_ALLOW_THREADS
    bad = fc_utf8_error((const unsigned char *)view.buf, view.len);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    return PyLong_FromSsize_t(bad);
}

static PyMethodDef fastc_methods[] = {
    {"utf8_error", fastc_utf8_error, METH_O,
     "utf8_error(buffer): the offset where strict UTF-8 first fails, or -1."},
    {"setup", fastc_setup, METH_VARARGS,
     "setup(func_call, val_delete, Ok, Err, Some, ok_slots, err_slots, some_slots)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef fastc_module = {
    PyModuleDef_HEAD_INIT, "dataflare.abi._fastc",
    "C lowering and lifting of typed WIT values for fast guest calls.", -1, fastc_methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__fastc(void)
{
    PyObject *m;
    fc_s_pos = PyUnicode_InternFromString("pos");
    fc_s_end = PyUnicode_InternFromString("end");
    fc_s_alloc = PyUnicode_InternFromString("alloc");
    fc_s_value = PyUnicode_InternFromString("value");
    fc_empty_tuple = PyTuple_New(0);
    fc_empty_str = PyUnicode_New(0, 0);
    fc_empty_bytes = PyBytes_FromStringAndSize(NULL, 0);
    if (!fc_s_pos || !fc_s_end || !fc_s_alloc || !fc_s_value || !fc_empty_tuple || !fc_empty_str || !fc_empty_bytes)
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
    {
        PyObject *layout = Py_BuildValue(
            "{s:i,s:i,s:i,s:i}", "VAL", VAL, "PAYLOAD_OFFSET", PAYLOAD_OFFSET, "ENTRY", ENTRY,
            "ENTRY_VAL_OFFSET", ENTRY_VAL_OFFSET);
        if (layout == NULL || PyModule_AddObject(m, "LAYOUT", layout) < 0) {
            Py_XDECREF(layout);
            Py_DECREF(m);
            return NULL;
        }
    }
    return m;
}
