"""Codecs for variant-like WIT types: variant, option, result, and resource handles.

The one subtle part is wasmtime-py's untagged form: it lowers an untagged
value by trying each case in order with `isinstance`, so a later case whose
Python class subclasses an earlier case's class (bool after int, anything
after an `option`) would silently be sent as the earlier case. Such values
are rejected with a `TypeError` instead of being corrupted.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from wasmtime.component import ResourceAny, ResourceHost, Variant

from dataflare.abi.codec import Codec, Err, Ok, Some

__all__ = ["nested_option", "option", "resource", "result", "variant"]

T = TypeVar("T")

# (wit tag, payload codec or None) in WIT order
_Case = tuple[str, Codec[Any] | None]
_NONE_CLASSES = frozenset({object})


def _payload_spec(codec: Codec[Any] | None) -> tuple[Any, ...] | None:
    # None: the case has no payload
    return None if codec is None else codec.spec


def _case_classes(codec: Codec[Any] | None) -> frozenset[type]:
    return _NONE_CLASSES if codec is None else codec.classes


def _is_tagged(cases: Sequence[_Case]) -> bool:
    seen: set[type] = set()
    for _, codec in cases:
        classes = _case_classes(codec)
        if seen & classes:
            return True
        seen |= classes
    return False


def _classes(cases: Sequence[_Case], tagged: bool) -> frozenset[type]:
    if tagged:
        return frozenset({Variant})
    return frozenset().union(*(_case_classes(c) for _, c in cases))


def _claims(earlier: Codec[Any] | None, mine: tuple[type, ...], theirs: tuple[type, ...]) -> bool:
    if earlier is None:
        return object in theirs
    return any(issubclass(b, a) for a in mine for b in theirs)


class _Shape:
    """How wasmtime represents one variant-like type, precomputed once."""

    def __init__(self, cases: Sequence[_Case]) -> None:
        self.cases = tuple(cases)
        self.tagged = _is_tagged(self.cases)
        self.classes = _classes(self.cases, self.tagged)
        # untagged lift: exact Python type -> case index; None/other -> object case
        self.tests = tuple(tuple(_case_classes(c)) for _, c in self.cases)
        # a case needs wasmtime's routing re-checked when an earlier case could claim it
        self.risky = tuple(
            any(_claims(self.cases[i][1], self.tests[i], self.tests[j]) for i in range(j))
            for j in range(len(self.cases))
        )
        self.by_type: dict[type, int] = {}
        self.fallback: int | None = None
        for i, (_, codec) in enumerate(self.cases):
            for cls in _case_classes(codec):
                if cls is object:
                    self.fallback = i
                else:
                    self.by_type[cls] = i

    def lower(self, index: int, payload: Any, cx: Any) -> Any:
        tag, codec = self.cases[index]
        raw = None if codec is None else codec.lower(payload, cx)
        if self.tagged:
            return Variant(tag) if codec is None else Variant(tag, raw)
        if self.risky[index] and self._routes_to(raw) != index:
            raise TypeError(
                f"wasmtime-py cannot pass {raw!r} as case {tag!r}: it would be taken for case "
                f"{self.cases[self._routes_to(raw)][0]!r}"
            )
        return raw

    def _routes_to(self, raw: Any) -> int:
        # wasmtime-py's own case choice for an untagged value (VariantLikeType._lower)
        for i, (_, codec) in enumerate(self.cases):
            if codec is None:
                if raw is None:
                    return i
            elif isinstance(raw, self.tests[i]):
                return i
        return -1

    def lift(self, raw: Any, cx: Any) -> tuple[int, Any]:
        if self.tagged:
            index = self.tag_index(raw.tag)
            codec = self.cases[index][1]
            return index, None if codec is None else codec.lift(raw.payload, cx)
        found = self.by_type.get(type(raw), self.fallback)
        if found is None:
            raise TypeError(f"no case matches {raw!r}")
        codec = self.cases[found][1]
        return found, None if codec is None else codec.lift(raw, cx)

    def tag_index(self, tag: str) -> int:
        for i, (name, _) in enumerate(self.cases):
            if name == tag:
                return i
        raise ValueError(f"unknown case {tag!r}")


def variant(cases: Sequence[tuple[str, type, Codec[Any] | None]]) -> Codec[Any]:
    """A WIT variant: `cases` are (wit tag, case dataclass, payload codec or None).

    A case class with a payload has a single `value` field.
    """
    shape = _Shape([(tag, codec) for tag, _, codec in cases])
    index_of = {cls: i for i, (_, cls, _) in enumerate(cases)}
    classes = [cls for _, cls, _ in cases]
    has_payload = [codec is not None for _, _, codec in cases]

    def lower(v: Any, cx: Any) -> Any:
        i = index_of.get(type(v))
        if i is None:
            names = ", ".join(c.__name__ for c in classes)
            raise TypeError(f"expected one of {names}, got {type(v).__name__}")
        return shape.lower(i, v.value if has_payload[i] else None, cx)

    def lift(raw: Any, cx: Any) -> Any:
        i, payload = shape.lift(raw, cx)
        return classes[i](payload) if has_payload[i] else classes[i]()

    spec = ("variant", tuple((tag, cls, _payload_spec(codec)) for tag, cls, codec in cases))
    return Codec(lower, lift, shape.classes, spec)


def option(inner: Codec[T]) -> Codec[T | None]:
    """`option<T>` as `T | None` (T itself is never None here)."""
    shape = _Shape([("none", None), ("some", inner)])

    def lower(v: T | None, cx: Any) -> Any:
        return shape.lower(0, None, cx) if v is None else shape.lower(1, v, cx)

    def lift(raw: Any, cx: Any) -> T | None:
        return shape.lift(raw, cx)[1]  # type: ignore[no-any-return]

    spec = ("option", inner.spec)
    return Codec(lower, lift, shape.classes, spec)


def nested_option(inner: Codec[T]) -> Codec[Some[T] | None]:
    """`option<option<...>>`: the outer present value is wrapped in `Some`."""
    shape = _Shape([("none", None), ("some", inner)])

    def lower(v: Some[T] | None, cx: Any) -> Any:
        if v is None:
            return shape.lower(0, None, cx)
        if not isinstance(v, Some):
            raise TypeError(f"expected Some(...) or None, got {v!r}")
        return shape.lower(1, v.value, cx)

    def lift(raw: Any, cx: Any) -> Some[T] | None:
        index, payload = shape.lift(raw, cx)
        return None if index == 0 else Some(payload)

    spec = ("nested_option", inner.spec)
    return Codec(lower, lift, shape.classes, spec)


def result(ok: Codec[Any] | None, err: Codec[Any] | None) -> Codec[Any]:
    """`result<T, E>` as `Ok(T) | Err(E)`; a missing side carries None."""
    shape = _Shape([("ok", ok), ("err", err)])

    def lower(v: Any, cx: Any) -> Any:
        if isinstance(v, Ok):
            return shape.lower(0, v.value, cx)
        if isinstance(v, Err):
            return shape.lower(1, v.value, cx)
        raise TypeError(f"expected Ok(...) or Err(...), got {v!r}")

    def lift(raw: Any, cx: Any) -> Any:
        index, payload = shape.lift(raw, cx)
        return Ok(payload) if index == 0 else Err(payload)

    spec = ("result", _payload_spec(ok), _payload_spec(err))
    return Codec(lower, lift, shape.classes, spec)


def resource(
    lower: Callable[[Any, Any], Any],
    lift: Callable[[Any, Any], Any],
    spec: tuple[Any, ...],
) -> Codec[Any]:
    """A resource handle; `lower`/`lift` map wrapper objects to wasmtime handles."""
    return Codec(lower, lift, frozenset({ResourceAny, ResourceHost}), spec)
