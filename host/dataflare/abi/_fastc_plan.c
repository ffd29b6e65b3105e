/* Compiling a plan (c_ext.plan) into a Node tree, and freeing it. */
#include "_fastc.h"
#include <structmember.h>

/* ------------------------------------------------------------ compiling a plan */


static PyObject *kept(Build *b, PyObject *obj)
{
    if (obj == NULL || PyList_Append(b->keep, obj) < 0)
        return NULL;
    return obj;
}


static void free_ctor(Ctor *c) { PyMem_Free(c->offsets); }

void fc_free_node(Node *nd)
{
    Py_ssize_t i;
    if (nd == NULL)
        return;
    fc_free_node(nd->elem);
    fc_free_node(nd->ok);
    fc_free_node(nd->err);
    if (nd->elems != NULL) {
        for (i = 0; i < nd->n; i++)
            fc_free_node(nd->elems[i]);
        PyMem_Free(nd->elems);
    }
    if (nd->names != NULL) {
        for (i = 0; i < nd->n; i++)
            PyMem_Free(nd->names[i]);
        PyMem_Free(nd->names);
    }
    if (nd->cases != NULL) {
        for (i = 0; i < nd->n; i++) {
            fc_free_node(nd->cases[i].payload);
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

/* n zeroed items of `size` bytes (at least one item), or NULL with MemoryError */
static void *calloc_n(Py_ssize_t n, size_t size)
{
    void *p = PyMem_Calloc((size_t)(n > 0 ? n : 1), size);
    if (p == NULL)
        PyErr_NoMemory();
    return p;
}

static int plan_error(const char *msg)
{
    PyErr_Format(PyExc_ValueError, "bad fast codec plan: %s", msg);
    return -1;
}

/* `descrs`: None (call the class) or one member descriptor per field, each
 * a writable object slot of exactly `cls` (native checks the class). */
int fc_build_ctor(Build *b, Ctor *c, PyObject *cls, PyObject *descrs, Py_ssize_t n)
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
    c->offsets = calloc_n(n, sizeof(Py_ssize_t));
    if (c->offsets == NULL)
        return -1;
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


/* a payload plan or None (no payload): 0, or -1 on error */
static int build_optional(Build *b, PyObject *plan, Node **out)
{
    *out = NULL;
    if (plan == Py_None)
        return 0;
    *out = fc_build(b, plan);
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
    if (fc_build_ctor(b, &nd->ctor, nd->cls, PyTuple_GET_ITEM(plan, 3), n) < 0)
        return -1;
    nd->cls_name = kept(b, PyType_GetName((PyTypeObject *)nd->cls));
    if (nd->cls_name == NULL)
        return -1;
    Py_DECREF(nd->cls_name); /* the keep list holds it */
    if ((nd->elems = calloc_n(n, sizeof(Node *))) == NULL ||
        (nd->attrs = calloc_n(n, sizeof(PyObject *))) == NULL ||
        (nd->names = calloc_n(n, sizeof(char *))) == NULL || (nd->tpl = calloc_n(n, ENTRY)) == NULL)
        return -1;
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
        nd->elems[i] = fc_build(b, PyTuple_GET_ITEM(f, 2));
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
    nd->cases = calloc_n(n, sizeof(Case));
    if (nd->cases == NULL)
        return -1;
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
        if (fc_build_ctor(b, &k->ctor, k->cls, PyTuple_GET_ITEM(c, 3), k->payload ? 1 : 0) < 0)
            return -1;
    }
    return 0;
}

Node *fc_build(Build *b, PyObject *plan)
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
    } else if (IS("utf8")) {
        nd->tag = N_UTF8;
    } else if (IS("bytes")) {
        nd->tag = N_BYTES;
    } else if (IS("list")) {
        nd->tag = N_LIST;
        rc = size == 2 && (nd->elem = fc_build(b, PyTuple_GET_ITEM(plan, 1))) != NULL ? 0 : -1;
    } else if (IS("tuple")) {
        PyObject *elems = size == 2 ? PyTuple_GET_ITEM(plan, 1) : NULL;
        nd->tag = N_TUPLE;
        if (elems == NULL || !PyTuple_Check(elems)) {
            rc = plan_error("tuple");
        } else {
            nd->n = PyTuple_GET_SIZE(elems);
            nd->elems = calloc_n(nd->n, sizeof(Node *));
            if (nd->elems == NULL)
                rc = -1;
            nd->all_strings = 1;
            for (i = 0; rc == 0 && i < nd->n; i++) {
                nd->elems[i] = fc_build(b, PyTuple_GET_ITEM(elems, i));
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
            nd->elem = fc_build(b, PyTuple_GET_ITEM(plan, 1));
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
        fc_free_node(nd);
        return NULL;
    }
    return nd;
}
