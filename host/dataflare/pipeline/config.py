"""The pipeline file: its schema, and validation that reports every problem at once.

A pipeline file has three lists, ``sources``, ``processors`` (optional) and
``sinks``, of entries::

    - id: user_filter            # unique across the file
      type: plugin               # or a built-in connector name (sources/sinks)
      on_error: dead_letter      # fail (default) | skip | dead_letter
      dead_letter: rejects       # a sink id, only with on_error: dead_letter
      config:
        plugin_type: filter      # source | sink | filter | transform | aggregate
        plugin_name: json_filter # a native plugin from the registry, or:
        # plugin_source: wasm
        # plugin_path: plugins/filter.wasm   (relative to this file)
        params: {field: status, value: active}
        connection: {host: localhost}        # sources and sinks only

Optional top-level keys: ``name`` (defaults to the file name),
``batch_size`` (records per source read, default 500) and ``state`` (the
checkpoint file, relative to this file; default
``.dataflare/<file stem>.state.json`` next to it).

Rules worth knowing:

* ``params`` and ``connection`` are merged into the one string map
  `configure` receives; a name given in both is an error, never a silent
  override. Scalars become strings (``true``/``false`` for booleans).
* A built-in connector named directly (``type: jsonl``) may take its
  parameters flat: ``config: {path: out.jsonl}`` means
  ``config: {params: {path: out.jsonl}}``.
* A parameter named ``path`` or ending in ``_path`` is a file path: when
  relative it is resolved against the folder of the pipeline file (not for
  WASM plugins, whose paths are guest paths).
* A sink named by some stage's ``dead_letter`` receives only dead letters,
  not the main flow.
* WASM stages take ``limits`` (`dataflare.pipeline.stage_limits`, defaults applied
  when absent) and ``allow: {dirs: [{host, guest, mode}], env, stdout}``
  (default: nothing granted); native stages reject both.
* A WASM filter or transform stage may take ``workers: N`` (or ``auto``, the
  number of cores): N instances of the plugin, each batch split across them
  in order. A plugin that keeps state across records sees only its
  instance's share. Aggregates, sources, sinks and native stages reject it.
* A WASM filter, transform or aggregate stage may take ``reload: watch``:
  when its ``plugin_path`` file changes, the plugin is hot plugged
  (`dataflare.pipeline.hotplug`). ``off`` (the default) swaps only on request.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from dataflare.errors import ConfigFileError
from dataflare.model import PluginKind
from dataflare.pipeline._checks import type_name
from dataflare.pipeline._schema import (
    DEFAULT_BATCH_SIZE,
    OnError,
    PipelineConfig,
    PluginRef,
    Problems,
    Section,
    StageConfig,
)
from dataflare.pipeline._validate import Validator
from dataflare.pipeline._yaml import Mark, YamlLoadError, load_located, parse_located

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "OnError",
    "PipelineConfig",
    "PluginRef",
    "Problems",
    "Section",
    "StageConfig",
    "load_config",
    "parse_config",
]


def load_config(
    path: Path | str, *, direct_types: Callable[[PluginKind], Sequence[str]]
) -> PipelineConfig:
    """Read and validate a pipeline file; raises `ConfigFileError` listing every problem.

    `direct_types(kind)` lists the connector names allowed directly as
    ``type`` for sources or sinks. Plugin names are checked later, when the
    plan resolves them.
    """
    config, problems = parse_config(path, direct_types=direct_types)
    problems.raise_if_any()
    return config


def parse_config(
    path: Path | str,
    *,
    direct_types: Callable[[PluginKind], Sequence[str]],
    text: str | None = None,
    display: str | None = None,
) -> tuple[PipelineConfig, Problems]:
    """Like `load_config`, but returns the problems with the entries that are valid.

    Raises `ConfigFileError` only when the file cannot be read as YAML at all;
    otherwise the caller can go on checking the valid entries (the plan does)
    and report everything together. With `text`, that YAML is read instead of
    the file, as if it were at `path` (relative paths, the state file);
    `display` names it in messages (default: `path`).
    """
    path = Path(path)
    display = display or str(path)
    problems = Problems(display)
    origin = Mark(display, 1, 1)
    try:
        root = load_located(path, display) if text is None else parse_located(text, display)
    except FileNotFoundError:
        raise ConfigFileError(
            display, [f"{origin}: pipeline: file not found: {path.resolve()}"]
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigFileError(
            display, [f"{origin}: pipeline: cannot read the file: {exc}"]
        ) from None
    except YamlLoadError as exc:
        raise ConfigFileError(display, [f"{exc.mark}: pipeline: {exc.message}"]) from None
    if root is None or not isinstance(root.value, dict):
        got = "an empty file" if root is None else type_name(root.value)
        where = origin if root is None else root.mark
        problems.add(
            where,
            "pipeline",
            f"expected a mapping with keys sources, processors, sinks; got {got}",
        )
        problems.raise_if_any()
    assert root is not None
    return Validator(path.resolve().parent, problems, direct_types).pipeline(path, root), problems
