"""Straight-line Python source for the fast codecs of composite types.

`fastnodes` composes one closure per WIT type node; for a record in a list
that is a dozen Python calls per record. This module writes, once per
composite spec (list, record, option, tuple, result), one Python function
whose body inlines its scalar, string, option, record and list nodes, and
calls the `fastnodes` closures only for the rest (bytes, variants, enums,
flags, chars, floats). Semantics, checks and messages are those of the
closures it replaces; the equivalence tests run the generated code.
"""

from __future__ import annotations

import itertools
import struct
from typing import Any

from dataflare.abi import fastmem as fc
from dataflare.abi.codec import Err, Ok
from dataflare.abi.fastnodes import compile_spec

__all__ = ["generate"]

_INLINE = {"int", "bool", "string", "bytes", "option", "record", "list", "tuple", "result"}


class _Gen:
    """Source lines plus the namespace the generated function runs in."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.ns: dict[str, Any] = {
            "M": fc.MEM,
            "HEAD": fc._HEAD.pack_into,
            "HEAD_U": fc._HEAD.unpack_from,
            "OPT": fc._OPT.pack_into,
            "OPT_U": fc._OPT.unpack_from,
            "RES": fc._RES.pack_into,
            "RES_U": fc._RES.unpack_from,
            "BOOL": fc._BOOL.pack_into,
            "BOOL_U": fc._BOOL.unpack_from,
            "CK": fc._check_kind,
            "Ok": Ok,
            "Err": Err,
            "U8K": fc.u8_kinds,
            "U8V": fc._U8_VALS,
        }
        self._ids = itertools.count()

    def name(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids)}"

    def const(self, value: Any, prefix: str = "C") -> str:
        n = self.name(prefix)
        self.ns[n] = value
        return n

    def emit(self, indent: int, line: str) -> None:
        self.lines.append("    " * indent + line)

    def alloc(self, ind: int, p: str, size: str) -> None:
        """`p = ar.alloc(size)`, inlined on local copies of the arena's bump pointer.

        `_pos`/`_end` mirror `ar.pos`/`ar.end` inside a generated lowering;
        they are written back before anything else allocates from `ar`.
        """
        self.emit(ind, f"{p} = _pos")
        self.emit(ind, f"_pos += ({size} + 7) & -8")
        self.emit(ind, "if _pos > _end:")
        self.emit(ind + 1, f"ar.pos = {p}")
        self.emit(ind + 1, f"{p} = ar.alloc({size})")
        self.emit(ind + 1, "_pos = ar.pos")
        self.emit(ind + 1, "_end = ar.end")

    # ------------------------------------------------------------ lowering

    def lower(self, spec: tuple[Any, ...], v: str, addr: str, ind: int) -> None:
        """Lines writing value `v` as a val_t at address expression `addr`."""
        tag = spec[0]
        if tag not in _INLINE:
            fn = self.const(compile_spec(spec)[0], "L")
            self.emit(ind, "ar.pos = _pos")
            self.emit(ind, f"{fn}({v}, {addr}, ar)")
            self.emit(ind, "_pos = ar.pos")
            self.emit(ind, "_end = ar.end")
            return
        getattr(self, "_lower_" + tag)(spec, v, addr, ind)

    def _lower_int(self, spec: tuple[Any, ...], v: str, addr: str, ind: int) -> None:
        name, lo, hi = spec[1], spec[2], spec[3]
        kind, code = fc._INT_KINDS[name]
        pack = self.const(struct.Struct("<B7x" + code).pack_into, "P")
        e = ind
        self.emit(e, f"if type({v}) is not int:")
        self.emit(e + 1, f"if isinstance({v}, bool) or not isinstance({v}, int):")
        self.emit(e + 2, f"raise TypeError(f'{name} expects int, got {{type({v}).__name__}}')")
        self.emit(e + 1, f"{v} = int({v})")
        self.emit(e, f"if not {lo} <= {v} <= {hi}:")
        self.emit(e + 1, f"raise OverflowError(f'{{{v}}} is out of range for {name} [{lo}, {hi}]')")
        self.emit(e, f"{pack}(M, {addr}, {kind}, {v})")

    def _lower_bool(self, spec: tuple[Any, ...], v: str, addr: str, ind: int) -> None:
        self.emit(ind, f"if type({v}) is not bool:")
        self.emit(ind + 1, f"raise TypeError(f'bool expects bool, got {{type({v}).__name__}}')")
        self.emit(ind, f"BOOL(M, {addr}, {fc.K_BOOL}, {v})")

    def _lower_string(self, spec: tuple[Any, ...], v: str, addr: str, ind: int) -> None:
        d, n, p = (self.name(x) for x in "dnp")
        self.emit(ind, f"if type({v}) is not str:")
        self.emit(ind + 1, f"raise TypeError(f'string expects str, got {{type({v}).__name__}}')")
        self.emit(ind, f"{d} = {v}.encode()")
        self.emit(ind, f"{n} = len({d})")
        self.alloc(ind, p, n)
        self.emit(ind, f"M[{p} : {p} + {n}] = {d}")
        self.emit(ind, f"HEAD(M, {addr}, {fc.K_STRING}, {n}, {p})")

    def _lower_bytes(self, spec: tuple[Any, ...], v: str, addr: str, ind: int) -> None:
        n, sz, p = (self.name(x) for x in ("n", "sz", "p"))
        self.emit(ind, f"if type({v}) is not bytes:")
        self.emit(ind + 1, f"if not isinstance({v}, bytes | bytearray | memoryview):")
        self.emit(
            ind + 2, f"raise TypeError(f'list<u8> expects bytes, got {{type({v}).__name__}}')"
        )
        self.emit(ind + 1, f"{v} = bytes({v})")
        self.emit(ind, f"{n} = len({v})")
        self.emit(ind, f"{sz} = {n} * {fc.VAL}")
        self.alloc(ind, p, sz)
        self.emit(ind, f"if {n}:")
        self.emit(ind + 1, f"if {sz} <= {fc.U8_VALS_MAX}:")
        self.emit(ind + 2, f"M[{p} : {p} + {sz}] = U8V[:{sz}]")
        self.emit(ind + 1, "else:")
        self.emit(ind + 2, f"M[{p} : {p} + {sz} : {fc.VAL}] = U8K({n})")
        self.emit(ind + 1, f"M[{p} + 8 : {p} + 8 + {sz} : {fc.VAL}] = {v}")
        self.emit(ind, f"HEAD(M, {addr}, {fc.K_LIST}, {n}, {p})")

    def _lower_option(self, spec: tuple[Any, ...], v: str, addr: str, ind: int) -> None:
        p, x = self.name("p"), self.name("x")
        self.emit(ind, f"if {v} is None:")
        self.emit(ind + 1, f"OPT(M, {addr}, {fc.K_OPTION}, 0)")
        self.emit(ind, "else:")
        self.alloc(ind + 1, p, f"{fc.VAL}")
        self.emit(ind + 1, f"{x} = {v}")
        self.lower(spec[1], x, p, ind + 1)
        self.emit(ind + 1, f"OPT(M, {addr}, {fc.K_OPTION}, {p})")

    def _lower_record(self, spec: tuple[Any, ...], v: str, addr: str, ind: int) -> None:
        cls, fields = spec[1], spec[2]
        template = bytearray(len(fields) * fc.ENTRY)
        for i, (_, wit, _) in enumerate(fields):
            name = wit.encode()
            fc._WORDS.pack_into(template, i * fc.ENTRY, len(name), fc._static(name))
        tpl = self.const(bytes(template), "T")
        c = self.const(cls, "K")
        p = self.name("p")
        size = len(template)
        self.emit(ind, f"if not isinstance({v}, {c}):")
        self.emit(
            ind + 1,
            f"raise TypeError(f'expected {cls.__name__}, got {{type({v}).__name__}}')",
        )
        self.alloc(ind, p, f"{size}")
        self.emit(ind, f"M[{p} : {p} + {size}] = {tpl}")
        for i, (py, _, fspec) in enumerate(fields):
            x = self.name("x")
            self.emit(ind, f"{x} = {v}.{py}")
            self.lower(fspec, x, f"{p} + {i * fc.ENTRY + 16}", ind)
        self.emit(ind, f"HEAD(M, {addr}, {fc.K_RECORD}, {len(fields)}, {p})")

    def _lower_list(self, spec: tuple[Any, ...], v: str, addr: str, ind: int) -> None:
        n, p, a, x = (self.name(s) for s in "npax")
        self.emit(ind, f"if not isinstance({v}, list | tuple):")
        self.emit(ind + 1, f"raise TypeError(f'list expects list, got {{type({v}).__name__}}')")
        self.emit(ind, f"{n} = len({v})")
        self.alloc(ind, p, f"{n} * {fc.VAL}")
        self.emit(ind, f"{a} = {p}")
        self.emit(ind, f"for {x} in {v}:")
        self.lower(spec[1], x, a, ind + 1)
        self.emit(ind + 1, f"{a} += {fc.VAL}")
        self.emit(ind, f"HEAD(M, {addr}, {fc.K_LIST}, {n}, {p})")

    def _lower_tuple(self, spec: tuple[Any, ...], v: str, addr: str, ind: int) -> None:
        elems = spec[1]
        n, p = len(elems), self.name("p")
        self.emit(ind, f"if not isinstance({v}, tuple) or len({v}) != {n}:")
        self.emit(ind + 1, f"raise TypeError(f'expected a tuple of {n} items, got {{{v}!r}}')")
        if n and all(e[0] == "string" for e in elems):
            self._lower_strings(n, v, p, ind)
        else:
            self.alloc(ind, p, f"{n * fc.VAL}")
            for i, e in enumerate(elems):
                x = self.name("x")
                self.emit(ind, f"{x} = {v}[{i}]")
                self.lower(e, x, f"{p} + {i * fc.VAL}", ind)
        self.emit(ind, f"HEAD(M, {addr}, {fc.K_TUPLE}, {n}, {p})")

    def _lower_strings(self, n: int, v: str, p: str, ind: int) -> None:
        """A tuple of strings (metadata and config pairs): one allocation, one pack.

        Every element's type is checked before any is encoded, as the stock
        path does (it encodes only after all checks).
        """
        xs = [self.name("s") for _ in range(n)]
        ds = [self.name("d") for _ in range(n)]
        ns = [self.name("n") for _ in range(n)]
        q = self.name("q")
        for i, x in enumerate(xs):
            self.emit(ind, f"{x} = {v}[{i}]")
            self.emit(ind, f"if type({x}) is not str:")
            self.emit(
                ind + 1, f"raise TypeError(f'string expects str, got {{type({x}).__name__}}')"
            )
        for x, d, k in zip(xs, ds, ns, strict=True):
            self.emit(ind, f"{d} = {x}.encode()")
            self.emit(ind, f"{k} = len({d})")
        head = n * fc.VAL
        self.alloc(ind, p, f"{head} + {' + '.join(ns)}")
        self.emit(ind, f"{q} = {p} + {head}")
        self.emit(ind, f"M[{q} : {q} + {' + '.join(ns)}] = {' + '.join(ds)}")
        pack = self.const(struct.Struct("<" + "B7xQQ8x" * n).pack_into, "S")
        args, offset = [], q
        for k in ns:
            args.append(f"{fc.K_STRING}, {k}, {offset}")
            offset = f"{offset} + {k}"
        self.emit(ind, f"{pack}(M, {p}, {', '.join(args)})")

    def _lower_result(self, spec: tuple[Any, ...], v: str, addr: str, ind: int) -> None:
        p, x = self.name("p"), self.name("x")
        self.emit(ind, f"{p} = 0")
        for i, (cls, payload) in enumerate((("Ok", spec[1]), ("Err", spec[2]))):
            head = "if" if i == 0 else "elif"
            self.emit(ind, f"{head} isinstance({v}, {cls}):")
            if payload is not None:
                self.alloc(ind + 1, p, f"{fc.VAL}")
                self.emit(ind + 1, f"{x} = {v}.value")
                self.lower(payload, x, p, ind + 1)
            self.emit(ind + 1, f"RES(M, {addr}, {fc.K_RESULT}, {i == 0}, {p})")
        self.emit(ind, "else:")
        self.emit(ind + 1, f"raise TypeError(f'expected Ok(...) or Err(...), got {{{v}!r}}')")

    # ------------------------------------------------------------ lifting

    def lift(self, spec: tuple[Any, ...], a: str, r: str, ind: int) -> None:
        """Lines reading the val_t at address expression `a` into variable `r`."""
        tag = spec[0]
        if tag not in _INLINE:
            fn = self.const(compile_spec(spec)[1], "F")
            self.emit(ind, f"{r} = {fn}({a})")
            return
        getattr(self, "_lift_" + tag)(spec, a, r, ind)

    def _lift_int(self, spec: tuple[Any, ...], a: str, r: str, ind: int) -> None:
        kind, code = fc._INT_KINDS[spec[1]]
        unpack = self.const(struct.Struct("<B7x" + code).unpack_from, "U")
        k = self.name("k")
        self.emit(ind, f"{k}, {r} = {unpack}(M, {a})")
        self.emit(ind, f"if {k} != {kind}:")
        self.emit(ind + 1, f"CK({a}, {kind}, {spec[1]!r})")

    def _lift_bool(self, spec: tuple[Any, ...], a: str, r: str, ind: int) -> None:
        k = self.name("k")
        self.emit(ind, f"{k}, {r} = BOOL_U(M, {a})")
        self.emit(ind, f"if {k} != {fc.K_BOOL}:")
        self.emit(ind + 1, f"CK({a}, {fc.K_BOOL}, 'bool')")

    def _lift_string(self, spec: tuple[Any, ...], a: str, r: str, ind: int) -> None:
        k, n, p = (self.name(s) for s in "knp")
        self.emit(ind, f"{k}, {n}, {p} = HEAD_U(M, {a})")
        self.emit(ind, f"if {k} != {fc.K_STRING}:")
        self.emit(ind + 1, f"CK({a}, {fc.K_STRING}, 'string')")
        self.emit(ind, f"{r} = str(M[{p} : {p} + {n}], 'utf-8') if {n} else ''")

    def _lift_bytes(self, spec: tuple[Any, ...], a: str, r: str, ind: int) -> None:
        k, n, p, e = (self.name(s) for s in "knpe")
        self.emit(ind, f"{k}, {n}, {p} = HEAD_U(M, {a})")
        self.emit(ind, f"if {k} != {fc.K_LIST}:")
        self.emit(ind + 1, f"CK({a}, {fc.K_LIST}, 'list<u8>')")
        # No per-element kind check here (the closure keeps one): the function
        # type was checked once, and reading byte 8 of each element of an
        # array whose length wasmtime gave stays inside that array anyway.
        self.emit(ind, f"if {n}:")
        self.emit(ind + 1, f"{e} = {p} + {n} * {fc.VAL}")
        self.emit(ind + 1, f"{r} = bytes(M[{p} + 8 : {e} + 8 : {fc.VAL}])")
        self.emit(ind, "else:")
        self.emit(ind + 1, f"{r} = b''")

    def _lift_option(self, spec: tuple[Any, ...], a: str, r: str, ind: int) -> None:
        k, p = self.name("k"), self.name("p")
        self.emit(ind, f"{k}, {p} = OPT_U(M, {a})")
        self.emit(ind, f"if {k} != {fc.K_OPTION}:")
        self.emit(ind + 1, f"CK({a}, {fc.K_OPTION}, 'option')")
        self.emit(ind, f"if {p}:")
        self.lift(spec[1], p, r, ind + 1)
        self.emit(ind, "else:")
        self.emit(ind + 1, f"{r} = None")

    def _lift_record(self, spec: tuple[Any, ...], a: str, r: str, ind: int) -> None:
        cls, fields = spec[1], spec[2]
        c = self.const(cls, "K")
        k, n, p = (self.name(s) for s in "knp")
        self.emit(ind, f"{k}, {n}, {p} = HEAD_U(M, {a})")
        self.emit(ind, f"if {k} != {fc.K_RECORD} or {n} != {len(fields)}:")
        msg = f"where record {cls.__name__} was expected"
        self.emit(
            ind + 1, f"raise TypeError(f'guest returned kind {{{k}}} ({{{n}}} fields) {msg}')"
        )
        names = []
        for i, (_, _, fspec) in enumerate(fields):
            x = self.name("f")
            self.lift(fspec, f"{p} + {i * fc.ENTRY + 16}", x, ind)
            names.append(x)
        self.emit(ind, f"{r} = {c}({', '.join(names)})")

    def _lift_list(self, spec: tuple[Any, ...], a: str, r: str, ind: int) -> None:
        k, n, p, e, x, app = (self.name(s) for s in ("k", "n", "p", "e", "x", "app"))
        self.emit(ind, f"{k}, {n}, {p} = HEAD_U(M, {a})")
        self.emit(ind, f"if {k} != {fc.K_LIST}:")
        self.emit(ind + 1, f"CK({a}, {fc.K_LIST}, 'list')")
        self.emit(ind, f"{r} = []")
        self.emit(ind, f"{app} = {r}.append")
        self.emit(ind, f"for {e} in range({p}, {p} + {n} * {fc.VAL}, {fc.VAL}):")
        self.lift(spec[1], e, x, ind + 1)
        self.emit(ind + 1, f"{app}({x})")

    def _lift_tuple(self, spec: tuple[Any, ...], a: str, r: str, ind: int) -> None:
        elems = spec[1]
        k, n, p = (self.name(s) for s in "knp")
        self.emit(ind, f"{k}, {n}, {p} = HEAD_U(M, {a})")
        self.emit(ind, f"if {k} != {fc.K_TUPLE} or {n} != {len(elems)}:")
        self.emit(
            ind + 1,
            f"raise TypeError(f'guest returned kind {{{k}}} (size {{{n}}}) where a"
            f" {len(elems)}-tuple was expected')",
        )
        names = []
        for i, e in enumerate(elems):
            x = self.name("t")
            self.lift(e, f"{p} + {i * fc.VAL}", x, ind)
            names.append(x)
        self.emit(ind, f"{r} = ({', '.join(names)},)" if names else f"{r} = ()")

    def _lift_result(self, spec: tuple[Any, ...], a: str, r: str, ind: int) -> None:
        k, ok, p, x = (self.name(s) for s in ("k", "ok", "p", "x"))
        self.emit(ind, f"{k}, {ok}, {p} = RES_U(M, {a})")
        self.emit(ind, f"if {k} != {fc.K_RESULT}:")
        self.emit(ind + 1, f"CK({a}, {fc.K_RESULT}, 'result')")
        bad = "raise TypeError('guest returned a result whose payload does not match its type')"
        for i, (cls, payload) in enumerate((("Ok", spec[1]), ("Err", spec[2]))):
            self.emit(ind, f"if {ok}:" if i == 0 else "else:")
            if payload is None:
                self.emit(ind + 1, f"if {p}:")
                self.emit(ind + 2, bad)
                self.emit(ind + 1, f"{r} = {cls}(None)")
            else:
                self.emit(ind + 1, f"if not {p}:")
                self.emit(ind + 2, bad)
                self.lift(payload, p, x, ind + 1)
                self.emit(ind + 1, f"{r} = {cls}({x})")


def generate(spec: tuple[Any, ...]) -> tuple[fc._Lower, fc._Lift]:
    """The generated (lower, lift) functions for composite `spec`."""
    g = _Gen()
    g.emit(0, "def lower(v, addr, ar):")
    g.emit(1, "_pos = ar.pos")
    g.emit(1, "_end = ar.end")
    g.lower(spec, "v", "addr", 1)
    g.emit(1, "ar.pos = _pos")
    g.emit(0, "def lift(a):")
    g.lift(spec, "a", "r", 1)
    g.emit(1, "return r")
    source = "\n".join(g.lines) + "\n"
    code = compile(source, f"<fastcodec {spec[0]}>", "exec")
    exec(code, g.ns)  # our own source, generated from WIT types
    return g.ns["lower"], g.ns["lift"]
