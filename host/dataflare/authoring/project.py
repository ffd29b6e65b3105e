"""A plugin project's manifest, ``dataflare.toml``: what it is and where its parts are."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from dataflare.errors import ProjectError

__all__ = [
    "KINDS",
    "LANGS",
    "MANIFEST",
    "NAME_PATTERN",
    "Project",
    "check_name",
    "find_project",
    "load_project",
    "project_here",
]

MANIFEST = "dataflare.toml"
KINDS = ("filter", "transform", "aggregate", "source", "sink")
LANGS = ("python", "rust", "js")
NAME_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,62}")
"""A plugin name: also a Python module, a Rust crate and a file name, so it stays this plain."""


def check_name(name: str) -> str | None:
    """Why `name` cannot name a plugin, or None when it can."""
    if NAME_PATTERN.fullmatch(name):
        return None
    return (
        f"plugin name {name!r} must start with a lowercase letter and hold only "
        "lowercase letters, digits and '_' (at most 63): it is also a module, "
        "a crate and a file name"
    )


@dataclass(frozen=True)
class Project:
    """A plugin project: its folder, and the manifest's name, kind, language and WIT version."""

    root: Path
    name: str
    kind: str
    lang: str
    wit_version: str

    @property
    def wit_dir(self) -> Path:
        """The WIT the project targets, copied and pinned by `dataflare new`."""
        return self.root / "wit"

    @property
    def build_dir(self) -> Path:
        """Where `dataflare build` writes."""
        return self.root / "build"

    @property
    def component(self) -> Path:
        """The built component, ``build/NAME.wasm``."""
        return self.build_dir / f"{self.name}.wasm"

    @property
    def world(self) -> str:
        """The WIT world the plugin targets (the kind's name)."""
        return self.kind


def load_project(root: Path) -> Project:
    """Read ``root/dataflare.toml``; errors name the file and the field."""
    import tomllib  # on use: the CLI imports this module at start-up, for KINDS and LANGS

    path = root / MANIFEST
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ProjectError(
            f"{path}: not found; a plugin project has a {MANIFEST} "
            "(`dataflare new KIND NAME --lang LANG` makes one)"
        ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProjectError(f"{path}: {exc}") from None
    plugin = data.get("plugin")
    if not isinstance(plugin, dict):
        raise ProjectError(f"{path}: missing the [plugin] table")

    def field(key: str, allowed: tuple[str, ...] | None = None) -> str:
        value = plugin.get(key)
        if not isinstance(value, str) or not value:
            raise ProjectError(f"{path}: [plugin] {key} must be a non-empty string")
        if allowed is not None and value not in allowed:
            raise ProjectError(
                f"{path}: [plugin] {key} = {value!r}; expected one of {', '.join(allowed)}"
            )
        return value

    name = field("name")
    if (why := check_name(name)) is not None:
        raise ProjectError(f"{path}: [plugin] name: {why}")
    return Project(
        root=root.resolve(),
        name=name,
        kind=field("kind", KINDS),
        lang=field("lang", LANGS),
        wit_version=field("wit"),
    )


def find_project(start: Path) -> Project | None:
    """The project whose folder is `start` or holds it, or None outside any project."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / MANIFEST).is_file():
            return load_project(folder)
    return None


def project_here(advice: str, *, lead: str = "") -> Project:
    """The project of the current folder or one above it.

    Outside any project, a `ProjectError`: `lead`, then where no manifest was
    found, then `advice` (what to do instead).
    """
    project = find_project(Path.cwd())
    if project is None:
        raise ProjectError(f"{lead}no {MANIFEST} in {Path.cwd()} or above it: {advice}")
    return project
