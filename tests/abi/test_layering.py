"""The runtime half (`dataflare.abi`) never imports the generator (`dataflare.bindgen`)."""

from __future__ import annotations

import subprocess
import sys


def _imported_after(code: str) -> set[str]:
    probe = f"{code}\nimport sys\nprint('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    return set(out.split())


def test_bindings_and_pipelines_do_not_import_the_generator() -> None:
    loaded = _imported_after(
        "import dataflare._wit.filter, dataflare.plugins.wasm, dataflare.pipeline"
    )
    assert not {m for m in loaded if m.startswith("dataflare.bindgen")}
    assert "jinja2" not in loaded
