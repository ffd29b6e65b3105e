"""Every guest example in guest-examples/ passes `dataflare check` (the CI gate of issue 5).

The examples are discovered from each language's Makefile (`GUESTS := ...`),
so a new example is checked without touching this file; one that needs
parameters gets them from `PARAMS`. Each runs through the real CLI with
`--format json`, and the JSON must follow the documented schema.
"""

from __future__ import annotations

import json
import re

import pytest
from dataflare.cli import main
from support.guests import ROOT, built_guest

from conformance.conftest import EXAMPLES
from conformance.schema import validate

PARAMS: dict[str, dict[str, str]] = {
    "json_filter": {"field": "status", "value": "active"},
    "count_sum": {"group_by": "user", "sum_field": "amount"},
    "jsonl_sink": {"path": "/out/records.jsonl"},
    "echo": {"tag": "x"},
}


def _examples() -> list[tuple[str, str]]:
    found = []
    for makefile in sorted(ROOT.glob("guest-examples/*/Makefile")):
        match = re.search(r"^GUESTS\s*:=\s*(.+)$", makefile.read_text(), re.MULTILINE)
        if match:
            found += [(makefile.parent.name, name) for name in match[1].split()]
    return found


EXAMPLE_IDS = [f"{lang}/{name}" for lang, name in _examples()]


def test_examples_are_discovered_in_every_language():
    langs = {lang for lang, _ in _examples()}
    assert {"python", "rust"} <= langs
    assert ("rust", "json_filter") in _examples()


@pytest.mark.guests
@pytest.mark.parametrize(("lang", "name"), _examples(), ids=EXAMPLE_IDS)
def test_guest_example_passes_check(lang, name, capsys):
    path = built_guest(lang, name)
    args = ["check", str(path), "--format", "json", "--examples", str(EXAMPLES), "--seed", "1"]
    for key, value in PARAMS.get(name, {}).items():
        args += ["--param", f"{key}={value}"]
    code = main(args)
    document = json.loads(capsys.readouterr().out)
    validate(document)
    failed = {c["name"]: c for c in document["checks"] if c["status"] == "fail"}
    assert failed == {}, json.dumps(failed, indent=2, ensure_ascii=False)
    assert code == 0
    assert document["passed"] is True
    by_name = {c["name"]: c for c in document["checks"]}
    assert by_name["world"]["metrics"]["world"] == document["kind"]
    budget = by_name["resource-budget"]["metrics"]
    assert 0 < budget["peak_memory_bytes"] <= budget["memory_bytes"]
    assert 0 < budget["fuel_per_record_max"] <= budget["fuel_base"]
