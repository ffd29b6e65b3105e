# ruff: noqa: E501  (YAML fixtures and expected messages read best on one line)
"""Validation of pipeline files: every problem at once, each with file:line:col, id and expectation."""

from __future__ import annotations

import os
import re
import sqlite3
from pathlib import Path

import pytest
from dataflare.errors import ConfigFileError
from dataflare.pipeline import load_plan
from hypothesis import given
from hypothesis import strategies as st

GOOD_TAIL = """
        sinks:
          - id: out
            type: jsonl
            config: {path: out.jsonl}
        """


def problems_of(path: Path) -> list[str]:
    with pytest.raises(ConfigFileError) as info:
        load_plan(path).close()
    assert info.value.problems, "a ConfigFileError must list its problems"
    assert str(path) in str(info.value)
    return info.value.problems


def only(problems: list[str]) -> str:
    assert len(problems) == 1, problems
    return problems[0]


def test_malformed_yaml_names_line_and_column(write_yaml):
    path = write_yaml(
        """
        sources:
          - id: a
            type: [jsonl
        """
    )
    message = only(problems_of(path))
    assert re.match(rf"{re.escape(str(path))}:\d+:\d+: pipeline: malformed YAML", message), message


def test_unclosed_quote_points_at_the_line(write_yaml):
    path = write_yaml('sources:\n  - id: "a\n    type: jsonl\n')
    message = only(problems_of(path))
    assert "malformed YAML" in message
    assert message.startswith(f"{path}:")


def test_not_a_mapping(write_yaml):
    path = write_yaml("- just\n- a list\n")
    assert only(problems_of(path)) == (
        f"{path}:1:1: pipeline: expected a mapping with keys sources, processors, sinks; got a list"
    )


def test_empty_file(write_yaml):
    path = write_yaml("")
    assert "got an empty file" in only(problems_of(path))


def test_unknown_top_level_key_suggests(write_yaml):
    path = write_yaml(
        """
        sources:
          - {id: a, type: jsonl, config: {path: in.jsonl}}
        sink:
          - {id: out, type: jsonl, config: {path: out.jsonl}}
        """
    )
    (path.parent / "in.jsonl").write_text("{}\n")
    problems = problems_of(path)
    assert (
        f"{path}:3:1: pipeline: unknown key 'sink'; expected one of: name, batch_size, state, sources, processors, sinks (did you mean 'sinks'?)"
        in problems
    )
    assert (
        f"{path}:1:1: pipeline: missing `sinks`: expected a list of entries {{id, type, config}}"
        in problems
    )


def test_unknown_entry_key_names_the_entry(write_yaml):
    path = write_yaml(
        """
        sources:
          - id: src
            type: jsonl
            confg: {path: in.jsonl}
        """
        + GOOD_TAIL
    )
    message = only(problems_of(path))
    assert message == (
        f"{path}:4:5: sources entry 'src': unknown key 'confg'; expected one of: id, type, config, "
        "on_error, dead_letter, limits, allow, workers, reload (did you mean 'config'?)"
    )


def test_wrong_types_each_reported(write_yaml, tmp_path):
    (tmp_path / "in.jsonl").write_text("{}\n")
    path = write_yaml(
        """
        batch_size: lots
        sources:
          - id: 5
            type: jsonl
            config: {path: in.jsonl}
        processors:
          - id: f
            type: plugin
            config:
              plugin_type: filter
              plugin_name: json_filter
              params: {field: [a, b], value: x}
          - id: g
            type: plugin
            on_error: explode
            config: {plugin_type: filter, plugin_name: json_filter, params: {field: a, value: b}}
        """
        + GOOD_TAIL
    )
    problems = problems_of(path)
    assert (
        f"{path}:1:13: pipeline: `batch_size`: expected a positive integer, got a string 'lots'"
        in problems
    )
    assert f"{path}:3:9: sources[0]: `id`: expected a non-empty string, got an integer" in problems
    assert (
        f"{path}:12:23: processors entry 'f': `params.field`: expected a string, number or boolean, got a list"
        in problems
    )
    assert (
        f"{path}:15:15: processors entry 'g': `on_error` must be one of fail, skip, dead_letter; got 'explode'"
        in problems
    )
    assert len(problems) == 4, problems


def test_plugin_type_must_fit_the_section(write_yaml, tmp_path):
    (tmp_path / "in.jsonl").write_text("{}\n")
    path = write_yaml(
        """
        sources:
          - {id: a, type: jsonl, config: {path: in.jsonl}}
        processors:
          - id: p
            type: plugin
            config: {plugin_type: sink, plugin_name: jsonl}
        """
        + GOOD_TAIL
    )
    assert only(problems_of(path)) == (
        f"{path}:6:27: processors entry 'p': `plugin_type` 'sink' is not allowed in `processors`: "
        "expected filter or transform or aggregate"
    )


def test_unknown_plugin_name_lists_available(write_yaml, tmp_path):
    (tmp_path / "in.jsonl").write_text("{}\n")
    path = write_yaml(
        """
        sources:
          - {id: a, type: jsonl, config: {path: in.jsonl}}
        processors:
          - id: user_filter
            type: plugin
            config: {plugin_type: filter, plugin_name: jsn_filter}
        """
        + GOOD_TAIL
    )
    message = only(problems_of(path))
    assert message.startswith(
        f"{path}:6:48: processors entry 'user_filter': no filter plugin named 'jsn_filter'; available: "
    )
    assert "json_filter" in message


def test_unknown_direct_type_lists_connectors(write_yaml):
    path = write_yaml(
        """
        sources:
          - {id: a, type: jsnl, config: {path: in.jsonl}}
        """
        + GOOD_TAIL
    )
    message = only(problems_of(path))
    assert message.startswith(
        f"{path}:2:19: sources entry 'a': unknown `type` 'jsnl': expected 'plugin' or a built-in connector: "
    )
    assert "csv, jsonl, postgres, redis, sqlite, stdin" in message
    assert "(did you mean 'jsonl'?)" in message


def test_missing_files(write_yaml):
    path = write_yaml(
        """
        sources:
          - {id: a, type: jsonl, config: {path: nowhere.jsonl}}
        processors:
          - id: w
            type: plugin
            config: {plugin_type: filter, plugin_source: wasm, plugin_path: plugins/missing.wasm}
        """
        + GOOD_TAIL
    )
    problems = problems_of(path)
    assert (
        f"{path}:6:69: processors entry 'w': `plugin_path`: file not found: {path.parent / 'plugins/missing.wasm'}"
        in problems
    )
    # a parameter a plugin blames in configure is pointed at, not the whole config
    assert (
        f"{path}:2:35: sources entry 'a': configure failed (configuration): plugin 'jsonl': "
        f"input file not found: {path.parent / 'nowhere.jsonl'}"
    ) in problems


def test_missing_pipeline_file(tmp_path):
    path = tmp_path / "absent.yaml"
    assert only(problems_of(path)) == f"{path}:1:1: pipeline: file not found: {path}"


def test_unknown_and_missing_params_point_at_keys(write_yaml, tmp_path):
    (tmp_path / "in.jsonl").write_text("{}\n")
    path = write_yaml(
        """
        sources:
          - {id: a, type: jsonl, config: {path: in.jsonl}}
        processors:
          - id: f
            type: plugin
            config:
              plugin_type: filter
              plugin_name: json_filter
              params:
                feild: status
        """
        + GOOD_TAIL
    )
    problems = problems_of(path)
    assert any(
        p.startswith(
            f"{path}:10:9: processors entry 'f': unknown parameter 'feild' for plugin 'json_filter'; its parameters: field"
        )
        for p in problems
    ), problems
    assert any(
        "missing required parameter 'field'" in p and p.startswith(f"{path}:7:7:") for p in problems
    ), problems


def test_params_and_connection_may_not_repeat_a_name(write_yaml):
    path = write_yaml(
        """
        sources:
          - id: pg
            type: plugin
            config:
              plugin_type: source
              plugin_name: postgres
              connection: {host: localhost}
              params: {host: elsewhere, table: t}
        """
        + GOOD_TAIL
    )
    assert only(problems_of(path)) == (
        f"{path}:7:20: sources entry 'pg': parameter 'host' is given twice (in params and connection); give it once"
    )


def test_dead_letter_rules(write_yaml, tmp_path):
    (tmp_path / "in.jsonl").write_text("{}\n")
    path = write_yaml(
        """
        sources:
          - {id: a, type: jsonl, config: {path: in.jsonl}}
        processors:
          - id: f
            type: plugin
            on_error: dead_letter
            config: {plugin_type: filter, plugin_name: json_filter, params: {field: a, value: b}}
          - id: g
            type: plugin
            on_error: skip
            dead_letter: out
            config: {plugin_type: filter, plugin_name: json_filter, params: {field: a, value: b}}
          - id: h
            type: plugin
            on_error: dead_letter
            dead_letter: nowhere
            config: {plugin_type: filter, plugin_name: json_filter, params: {field: a, value: b}}
        """
        + GOOD_TAIL
    )
    problems = problems_of(path)
    assert (
        f"{path}:6:15: processors entry 'f': `on_error: dead_letter` needs `dead_letter: <sink id>`"
        in problems
    )
    assert (
        f"{path}:11:18: processors entry 'g': `dead_letter` is only allowed with `on_error: dead_letter`"
        in problems
    )
    assert (
        f"{path}:13:5: processors entry 'h': `dead_letter` 'nowhere' is not a sink id; sinks: out"
        in problems
    )
    assert len(problems) == 3


def test_every_sink_a_dead_letter_sink_is_rejected(write_yaml, tmp_path):
    (tmp_path / "in.jsonl").write_text("{}\n")
    path = write_yaml(
        """
        sources:
          - {id: a, type: jsonl, config: {path: in.jsonl}}
        processors:
          - id: f
            type: plugin
            on_error: dead_letter
            dead_letter: out
            config: {plugin_type: filter, plugin_name: json_filter, params: {field: a, value: b}}
        """
        + GOOD_TAIL
    )
    assert "every sink is a dead-letter sink" in only(problems_of(path))


def test_duplicate_ids(write_yaml, tmp_path):
    (tmp_path / "in.jsonl").write_text("{}\n")
    path = write_yaml(
        """
        sources:
          - {id: out, type: jsonl, config: {path: in.jsonl}}
        """
        + GOOD_TAIL
    )
    assert (
        only(problems_of(path))
        == f"{path}:5:5: sinks entry 'out': duplicate id 'out' (first used at {path}:2:5)"
    )


def test_sandbox_keys_on_a_native_stage_are_rejected_clearly(write_yaml, tmp_path):
    (tmp_path / "in.jsonl").write_text("{}\n")
    path = write_yaml(
        """
        sources:
          - id: a
            type: jsonl
            limits: {memory_mb: 10}
            config: {path: in.jsonl}
        """
        + GOOD_TAIL
    )
    assert only(problems_of(path)) == (
        f"{path}:4:5: sources entry 'a': `limits` applies to WASM plugins only "
        "(`plugin_source: wasm`); native plugins run as trusted host code"
    )


def test_a_native_source_may_skip_or_divert_what_it_cannot_decode(write_yaml, tmp_path):
    (tmp_path / "in.jsonl").write_text("{}\n")
    path = write_yaml(
        """
        sources:
          - {id: a, type: jsonl, on_error: skip, config: {path: in.jsonl}}
          - {id: b, type: jsonl, on_error: dead_letter, dead_letter: rej, config: {path: in.jsonl}}
        sinks:
          - {id: out, type: jsonl, config: {path: out.jsonl}}
          - {id: rej, type: jsonl, config: {path: rej.jsonl, format: record}}
        """
    )
    plan = load_plan(path)
    try:
        assert [s.config.on_error for s in plan.sources] == ["skip", "dead_letter"]
    finally:
        plan.close()


def test_a_wasm_source_policy_must_be_fail(write_yaml, tmp_path):
    (tmp_path / "src.wasm").write_bytes(b"\0asm")
    path = write_yaml(
        """
        sources:
          - id: a
            type: plugin
            on_error: skip
            config: {plugin_type: source, plugin_source: wasm, plugin_path: src.wasm}
        """
        + GOOD_TAIL
    )
    assert (
        f"{path}:4:15: sources entry 'a': `on_error` of a WASM source can only be `fail`: its "
        "read succeeds or fails whole, so there is no record to skip or divert"
    ) == only(problems_of(path))


def test_alias_bomb_is_refused(write_yaml):
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 9):
        refs = ", ".join([f"*a{i - 1}"] * 10)
        lines.append(f"a{i}: &a{i} [{refs}]")
    lines.append("sources: *a8")
    path = write_yaml("\n".join(lines) + "\n")
    message = only(problems_of(path))
    assert "expands to more than 100000 values" in message
    assert "alias bomb" in message


def test_recursive_alias_is_refused(write_yaml):
    path = write_yaml("sources: &x [*x]\n")
    assert "recursive alias" in only(problems_of(path))


def test_python_tags_are_refused(write_yaml):
    path = write_yaml("sources: !!python/object/apply:os.system ['true']\n")
    message = only(problems_of(path))
    assert message.startswith(f"{path}:1:10: pipeline:")


def test_all_problems_reported_at_once(write_yaml):
    path = write_yaml(
        """
        sources:
          - {id: a, type: nope}
        processors:
          - {id: b, type: plugin, config: {plugin_type: filter}}
        sinks:
          - {type: jsonl}
        """
    )
    problems = problems_of(path)
    assert len(problems) == 3, problems
    assert [p.split(": ")[0] for p in problems] == [f"{path}:2:19", f"{path}:4:35", f"{path}:6:5"]


def test_example_format_validates(write_yaml, tmp_path):
    (tmp_path / "in.jsonl").write_text("{}\n")
    path = write_yaml(
        """
        sources:
          - {id: src, type: plugin, config: {plugin_type: source, plugin_name: jsonl, params: {path: in.jsonl}}}
        processors:
          - {id: user_filter, type: plugin, config: {plugin_type: filter, plugin_name: json_filter, params: {field: status, value: active}}}
        """
        + GOOD_TAIL
    )
    plan = load_plan(path)
    try:
        assert [s.id for s in plan.stages] == ["src", "user_filter", "out"]
        assert plan.processors[0].config.params == {"field": "status", "value": "active"}
        assert plan.sources[0].config.params == {"path": str(tmp_path / "in.jsonl")}
    finally:
        plan.close()


scalars = st.one_of(
    st.booleans(),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=20),
)


@given(
    values=st.dictionaries(
        st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True), scalars, max_size=6
    )
)
def test_scalar_params_become_strings(tmp_path_factory, values):
    import yaml
    from dataflare.model import PluginKind
    from dataflare.pipeline.config import load_config

    folder = tmp_path_factory.mktemp("cfg")
    doc = {
        "sources": [
            {
                "id": "s",
                "type": "plugin",
                "config": {"plugin_type": "source", "plugin_name": "x", "params": values},
            }
        ],
        "sinks": [{"id": "k", "type": "jsonl", "config": {"path": "o.jsonl"}}],
    }
    path = folder / "p.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    config = load_config(
        path, direct_types=lambda kind: ["jsonl"] if kind is PluginKind.SINK else []
    )
    expected = {
        k: (
            str(folder / ("true" if v is True else "false" if v is False else str(v)))
            if k == "path" or k.endswith("_path")
            else "true"
            if v is True
            else "false"
            if v is False
            else str(v)
        )
        for k, v in values.items()
    }
    assert config.sources[0].params == expected


@given(text=st.text(max_size=200))
def test_arbitrary_text_fails_only_with_config_file_error(tmp_path_factory, text):
    from dataflare.model import PluginKind
    from dataflare.pipeline.config import load_config

    path = tmp_path_factory.mktemp("junk") / "p.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        load_config(path, direct_types=lambda kind: ["jsonl"] if kind is PluginKind.SINK else [])
    except ConfigFileError as exc:
        assert exc.problems
        for problem in exc.problems:
            assert re.match(rf"{re.escape(str(path))}:\d+:\d+: ", problem), problem


def test_boolean_looking_keys_must_be_quoted(write_yaml):
    path = write_yaml("sources:\n  - id: a\n    on: 5\n")
    assert (
        only(problems_of(path))
        == f"{path}:3:5: pipeline: key 'on' reads as a YAML boolean; quote it: \"on\""
    )


stage_ids = st.lists(
    st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True), min_size=3, max_size=9, unique=True
)


@given(ids=stage_ids, data=st.data())
def test_valid_pipelines_keep_ids_order_and_policies(tmp_path_factory, ids, data):
    import yaml
    from dataflare.model import PluginKind
    from dataflare.pipeline.config import load_config

    n_src = data.draw(st.integers(1, len(ids) - 2))
    n_sink = data.draw(st.integers(1, len(ids) - n_src - 1))
    sources, rest = ids[:n_src], ids[n_src:]
    sinks, processors = rest[:n_sink], rest[n_sink:]
    policies = [data.draw(st.sampled_from(["fail", "skip", None])) for _ in processors]
    doc = {
        "sources": [{"id": i, "type": "jsonl", "config": {"path": f"{i}.jsonl"}} for i in sources],
        "processors": [
            {
                "id": i,
                "type": "plugin",
                **({"on_error": p} if p else {}),
                "config": {"plugin_type": "filter", "plugin_name": "f", "params": {"n": k}},
            }
            for k, (i, p) in enumerate(zip(processors, policies, strict=True))
        ],
        "sinks": [
            {
                "id": i,
                "type": "plugin",
                "config": {
                    "plugin_type": "sink",
                    "plugin_name": "jsonl",
                    "connection": {"host": i},
                },
            }
            for i in sinks
        ],
    }
    path = tmp_path_factory.mktemp("cfg") / "p.yaml"
    path.write_text(yaml.safe_dump(doc, default_flow_style=data.draw(st.booleans())))
    config = load_config(path, direct_types=lambda kind: ["jsonl"])
    assert [s.id for s in config.stages] == sources + processors + sinks
    assert [s.on_error for s in config.processors] == [p or "fail" for p in policies]
    assert [s.params for s in config.processors] == [{"n": str(k)} for k in range(len(processors))]
    assert [s.params for s in config.sinks] == [{"host": i} for i in sinks]
    assert all(
        s.plugin.kind is PluginKind.SOURCE
        and s.params == {"path": str(path.parent / f"{s.id}.jsonl")}
        for s in config.sources
    )


def test_config_that_is_not_a_mapping_is_located(write_yaml):
    path = write_yaml(
        """
        sources:
          - id: a
            type: jsonl
            config: [path, in.jsonl]
        """
        + GOOD_TAIL
    )
    assert (
        f"{path}:4:13: sources entry 'a': `config`: expected a mapping, got a list"
        in problems_of(path)
    )


# --- issue 11: nesting depth, numeric ranges, a source and a sink on one file ---

FLAT_TAIL = "sinks:\n  - {id: out, type: jsonl, config: {path: out.jsonl}}\n"


@pytest.mark.parametrize(
    "text",
    [
        "sources: " + "[" * 500 + "]" * 500 + "\n",
        "sources: " + "{a: " * 500 + "1" + "}" * 500 + "\n",
        "".join("  " * i + "a:\n" for i in range(500)),
        "sources:\n" + "".join("  " * i + "- \n" for i in range(1, 500)),
    ],
    ids=["flow-seq", "flow-map", "block-map", "block-seq"],
)
def test_deep_nesting_is_a_located_error_not_a_recursion_error(write_yaml, text):
    path = write_yaml(text)
    message = only(problems_of(path))
    assert re.match(rf"{re.escape(str(path))}:\d+:\d+: pipeline: nested more than 64 levels deep", message), message


def test_aliases_cannot_chain_nesting_past_the_limit(write_yaml):
    lines = ["x0: &x0 1"] + [f"x{i}: &x{i} " + "[" * 50 + f"*x{i - 1}" + "]" * 50 for i in range(1, 40)]
    path = write_yaml("\n".join([*lines, "sources: *x39", ""]))
    assert "nested more than 64 levels deep (through aliases)" in only(problems_of(path))


def test_nesting_within_the_limit_is_fine(write_yaml, tmp_path):
    (tmp_path / "in.jsonl").write_text("{}\n")
    deep = "[" * 60 + "]" * 60
    path = write_yaml(f"name: {deep!r}\nsources:\n  - {{id: a, type: jsonl, config: {{path: in.jsonl}}}}\n" + FLAT_TAIL)
    load_plan(path).close()


@pytest.mark.parametrize("value", [2**32, 2**64, 10**30])
def test_batch_size_must_fit_a_u32(write_yaml, tmp_path, value):
    (tmp_path / "in.jsonl").write_text("{}\n")
    path = write_yaml(f"batch_size: {value}\nsources:\n  - {{id: a, type: jsonl, config: {{path: in.jsonl}}}}\n" + FLAT_TAIL)
    assert only(problems_of(path)) == (
        f"{path}:1:13: pipeline: `batch_size`: expected a positive integer of at most 4294967295, got an integer {value}"
    )


def test_the_largest_u32_batch_size_is_accepted(write_yaml, tmp_path):
    (tmp_path / "in.jsonl").write_text("{}\n")
    path = write_yaml(f"batch_size: {2**32 - 1}\nsources:\n  - {{id: a, type: jsonl, config: {{path: in.jsonl}}}}\n" + FLAT_TAIL)
    plan = load_plan(path)
    plan.close()
    assert plan.config.batch_size == 2**32 - 1


@pytest.mark.parametrize(
    ("key", "value", "most"),
    [
        ("fuel_per_record", 2**64 + 5, 2**62),
        ("timeout_ms_per_batch", 2**64, 2**32 - 1),
        ("max_record_bytes", 2**32, 2**32 - 1),
        ("memory_mb", 2**40, None),
    ],
)
def test_limits_past_what_the_runtime_takes_are_located(write_yaml, tmp_path, key, value, most):
    (tmp_path / "p.wasm").write_bytes(b"\0asm")
    path = write_yaml(
        f"""
        sources:
          - {{id: a, type: jsonl, config: {{path: in.jsonl}}}}
        processors:
          - id: w
            type: plugin
            limits: {{{key}: {value}}}
            config: {{plugin_type: filter, plugin_source: wasm, plugin_path: p.wasm}}
        """
        + GOOD_TAIL
    )
    (tmp_path / "in.jsonl").write_text("{}\n")
    message = only(problems_of(path))
    column = len("    limits: {") + len(f"{key}: ") + 1
    assert message.startswith(f"{path}:6:{column}: processors entry 'w': `limits.{key}`: "), message
    if most is not None:
        assert f"expected a positive integer of at most {most}, got an integer {value}" in message
    else:
        assert "at most 4096" in message


def test_a_batch_fuel_past_u64_saturates_instead_of_wrapping():
    import wasmtime
    from dataflare.runtime.engine import EngineConfig
    from dataflare.runtime.limits import UNLIMITED, Limits, arm_call

    config = wasmtime.Config()
    config.consume_fuel = True
    config.epoch_interruption = True
    store = wasmtime.Store(wasmtime.Engine(config))
    arm_call(store, Limits(fuel_per_call=2**64 + 5, timeout=2.0**70), EngineConfig(fuel=True, epoch=True))
    assert store.get_fuel() == UNLIMITED  # not 5


@pytest.mark.parametrize("value", ["4294967296", "²", "99999999999999999999999", "0", "-1"])
def test_max_line_bytes_is_bounded(write_yaml, tmp_path, value):
    (tmp_path / "in.jsonl").write_text("{}\n")
    path = write_yaml(f"sources:\n  - {{id: a, type: jsonl, config: {{path: in.jsonl, max_line_bytes: {value!r}}}}}\n" + FLAT_TAIL)
    message = only(problems_of(path))
    assert "max_line_bytes must be an integer from 1 to 4294967295" in message
    assert message.startswith(f"{path}:2:")


def _same_file_pipeline(write_yaml, tmp_path, source_path: str, sink: str) -> Path:
    (tmp_path / "in.jsonl").write_text('{"a": 1}\n')
    return write_yaml(
        f"""
        sources:
          - {{id: src, type: jsonl, config: {{path: {source_path}}}}}
        sinks:
          - {sink}
        """
    )


@pytest.mark.parametrize(
    "sink",
    [
        "{id: out, type: jsonl, config: {path: in.jsonl, mode: append}}",
        "{id: out, type: jsonl, config: {path: in.jsonl}}",
        "{id: out, type: jsonl, config: {path: ./sub/../in.jsonl}}",
        "{id: out, type: csv, config: {path: in.jsonl}}",
        "{id: out, type: plugin, config: {plugin_type: sink, plugin_name: jsonl, params: {path: in.jsonl}}}",
        "{id: out, type: jsonl, config: {path: link.jsonl}}",
        "{id: out, type: jsonl, config: {path: hard.jsonl}}",
        "{id: out, type: sqlite, config: {path: in.jsonl, table: t}}",
    ],
    ids=["append", "overwrite", "dotdot", "csv", "plugin", "symlink", "hardlink", "sqlite-on-jsonl"],
)
def test_a_sink_on_the_file_its_source_reads_is_refused(write_yaml, tmp_path, sink):
    (tmp_path / "sub").mkdir()
    (tmp_path / "in.jsonl").write_text('{"a": 1}\n')
    (tmp_path / "link.jsonl").symlink_to(tmp_path / "in.jsonl")
    os.link(tmp_path / "in.jsonl", tmp_path / "hard.jsonl")
    path = _same_file_pipeline(write_yaml, tmp_path, "in.jsonl", sink)
    message = only(problems_of(path))
    assert message.startswith(f"{path}:4:"), message
    assert "sinks entry 'out': `path` " in message
    assert f"the same file that source 'src' reads (at {path}:2:" in message


def test_a_source_symlink_onto_the_sink_is_refused(write_yaml, tmp_path):
    (tmp_path / "link.jsonl").symlink_to(tmp_path / "out.jsonl")
    path = _same_file_pipeline(write_yaml, tmp_path, "link.jsonl", "{id: out, type: jsonl, config: {path: out.jsonl}}")
    (tmp_path / "out.jsonl").write_text('{"a": 1}\n')
    assert "the same file that source 'src' reads" in only(problems_of(path))


def test_a_dead_letter_sink_on_the_input_or_on_another_sink_is_refused(write_yaml, tmp_path):
    (tmp_path / "in.jsonl").write_text('{"a": 1}\n')
    path = write_yaml(
        """
        sources:
          - {id: src, type: jsonl, config: {path: in.jsonl}}
        processors:
          - {id: f, type: plugin, on_error: dead_letter, dead_letter: dlq, config: {plugin_type: filter, plugin_name: json_filter, params: {field: a, value: "1"}}}
          - {id: g, type: plugin, on_error: dead_letter, dead_letter: dlq2, config: {plugin_type: filter, plugin_name: json_filter, params: {field: a, value: "1"}}}
        sinks:
          - {id: out, type: jsonl, config: {path: out.jsonl}}
          - {id: dlq, type: jsonl, config: {path: in.jsonl, format: record}}
          - {id: dlq2, type: jsonl, config: {path: out.jsonl, format: record}}
        """
    )
    problems = problems_of(path)
    assert len(problems) == 2, problems
    assert problems[0].startswith(f"{path}:8:") and "sinks entry 'dlq':" in problems[0]
    assert "source 'src' reads" in problems[0]
    assert problems[1].startswith(f"{path}:9:") and "sinks entry 'dlq2':" in problems[1]
    assert "sink 'out' writes" in problems[1]


def test_the_state_file_may_not_be_a_data_file(write_yaml, tmp_path):
    (tmp_path / "in.jsonl").write_text('{"a": 1}\n')
    path = write_yaml(
        """
        state: in.jsonl
        sources:
          - {id: src, type: jsonl, config: {path: in.jsonl}}
        sinks:
          - {id: out, type: jsonl, config: {path: out.jsonl}}
        """
    )
    message = only(problems_of(path))
    assert message.startswith(f"{path}:1:8: pipeline: `state` ")
    assert "source 'src' reads" in message


def test_sqlite_source_and_sink_on_one_database(write_yaml, tmp_path):
    db = tmp_path / "db.sqlite"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE t (a INTEGER)")
        conn.execute("CREATE TABLE u (a INTEGER)")
    body = """
        sources:
          - {{id: src, type: sqlite, config: {{path: db.sqlite, {source}}}}}
        sinks:
          - {{id: out, type: sqlite, config: {{path: db.sqlite, table: {table}}}}}
        """
    # Another table of the same database is legitimate.
    load_plan(write_yaml(body.format(source="table: t", table="other"), "ok.yaml")).close()
    load_plan(write_yaml(body.format(source="query: 'SELECT * FROM u'", table="t"), "ok2.yaml")).close()
    for source, table in [("table: t", "t"), ("table: t", "T"), ("query: 'SELECT a FROM \"u\" WHERE a > 1'", "u")]:
        path = write_yaml(body.format(source=source, table=table), "loop.yaml")
        message = only(problems_of(path))
        assert message.startswith(f"{path}:4:"), message
        assert f"writes table '{table.casefold()}' of the same file that source 'src' reads" in message
        assert "use another table" in message
