"""The public names of `dataflare.bindgen` and of `rt`, which generated code imports."""

from __future__ import annotations

import re
from pathlib import Path

import dataflare.bindgen
from abi.conftest import ROOT
from dataflare.abi import rt
from dataflare.bindgen.builder import natural


def test_bindgen_exports_generate_and_check() -> None:
    assert dataflare.bindgen.__all__ == ["check", "generate"]
    assert callable(dataflare.bindgen.generate)
    assert callable(dataflare.bindgen.check)


def test_rt_all_is_sorted_and_resolvable() -> None:
    def key(name: str) -> tuple[int, list[object]]:
        # ruff's RUF022 order: CONSTANTS, Classes, others; natural within each
        return (0 if name.isupper() else 1 if name[:1].isupper() else 2, natural(name))

    assert rt.__all__ == sorted(rt.__all__, key=key)
    for name in rt.__all__:
        assert hasattr(rt, name), name


def test_every_rt_name_generated_code_uses_is_public() -> None:
    generated = [
        *Path(__file__).parent.glob("cases/*/expected/*.py"),
        *(ROOT / "host" / "dataflare" / "_wit").glob("*.py"),
    ]
    used = {m for p in generated for m in re.findall(r"\brt\.([A-Za-z_]\w*)", p.read_text())}
    assert used, "no generated code found"
    assert used <= set(rt.__all__), used - set(rt.__all__)


def test_seeded_names_keep_their_fields() -> None:
    spec = rt.WorldSpec(package="p:k", name="w", version="1", exports=("e",), imports=())
    assert (spec.package, spec.name, spec.version, spec.exports, spec.imports) == (
        "p:k",
        "w",
        "1",
        ("e",),
        (),
    )
    assert rt.Ok(1).value == 1
    assert rt.Err("e").value == "e"
