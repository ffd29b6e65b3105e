"""`dataflare new`: a standalone plugin project from the templates shipped in the package.

The templates live in ``dataflare/templates``:

* ``common/``: every project (README, .gitignore, the pytest tests);
* ``kinds/KIND/``: every language's project of that kind (example records, the
  pipeline, the golden outputs). The five templates behave the same in every
  language, so one golden file serves all three;
* ``LANG/project/``: that language's build configuration;
* ``LANG/KIND/``: the plugin source.

Text files are rendered by replacing the ``{{placeholder}}`` names below, in
their contents and their paths; a trailing ``.tmpl`` is dropped (it keeps
template Python out of the package's own lint and type checks), and a leading
``dot-`` becomes ``.`` (``dot-gitignore``: packaging tools may leave dotfiles
out of a wheel). The WIT
the host supports best is copied into ``wit/``, pinned to the project.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from dataflare.authoring.languages import language
from dataflare.authoring.project import KINDS, LANGS, MANIFEST, Project, check_name
from dataflare.authoring.shipped import copy_shipped
from dataflare.errors import ProjectError

__all__ = ["WIT_VERSION", "new_project", "placeholders"]

WIT_VERSION = "0.2.0"
"""The `dataflare:plugin` version new projects target: the newest this host runs."""


def placeholders(name: str, kind: str, lang: str) -> dict[str, str]:
    """The values templates may use, by placeholder name."""
    import dataflare

    support = language(lang)
    return {
        "name": name,
        "Name": "".join(part.capitalize() for part in name.split("_")),
        "kind": kind,
        "lang": lang,
        "wit_version": WIT_VERSION,
        "dataflare_version": dataflare.__version__,
        "source_file": support.SOURCE_FILE,
        "build_tools": support.BUILD_TOOLS,
    }


def new_project(kind: str, name: str, lang: str, dest: Path) -> Project:
    """Write a project for plugin `name` of `kind` in `lang` into `dest` (new or empty)."""
    if kind not in KINDS:
        raise ProjectError(f"unknown plugin kind {kind!r}; expected one of {', '.join(KINDS)}")
    if lang not in LANGS:
        raise ProjectError(f"unknown language {lang!r}; expected one of {', '.join(LANGS)}")
    if (why := check_name(name)) is not None:
        raise ProjectError(why)
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise ProjectError(f"{dest}: already exists and is not an empty folder")
    values = placeholders(name, kind, lang)
    templates = resources.files("dataflare") / "templates"
    layers = [templates / "common", templates / "kinds" / kind]
    layers += [templates / lang / "project", templates / lang / kind]
    dest.mkdir(parents=True, exist_ok=True)
    for layer in layers:
        for relative, source in _walk(layer):
            target = dest / _target_name(_render(relative, values))
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(_render_bytes(source.read_bytes(), values))
    copy_shipped("wit", ".wit", dest / "wit")  # the newest WIT, not the versions below it
    (dest / MANIFEST).write_text(_manifest(values), encoding="utf-8")
    language(lang).vendor(dest)
    return Project(root=dest.resolve(), name=name, kind=kind, lang=lang, wit_version=WIT_VERSION)


def _walk(folder: Traversable, prefix: str = "") -> Iterator[tuple[str, Traversable]]:
    """Every file under `folder` as (relative path, file); nothing when it does not exist."""
    if not folder.is_dir():
        return
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name == "__pycache__":
            continue
        relative = f"{prefix}{entry.name}"
        if entry.is_dir():
            yield from _walk(entry, f"{relative}/")
        else:
            yield relative, entry


def _target_name(relative: str) -> str:
    folder, _, name = relative.rpartition("/")
    if name.startswith("dot-"):
        name = "." + name.removeprefix("dot-")
    name = name.removesuffix(".tmpl")
    return f"{folder}/{name}" if folder else name


def _render(text: str, values: Mapping[str, str]) -> str:
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", value)
    return text


def _render_bytes(data: bytes, values: Mapping[str, str]) -> bytes:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return data  # binary files are copied as they are
    return _render(text, values).encode("utf-8")


def _manifest(values: Mapping[str, str]) -> str:
    return (
        f"# A DataFlare plugin project (made by dataflare {values['dataflare_version']}).\n"
        "[plugin]\n"
        f'name = "{values["name"]}"\n'
        f'kind = "{values["kind"]}"\n'
        f'lang = "{values["lang"]}"\n'
        "# the dataflare:plugin version of the WIT in wit/\n"
        f'wit = "{values["wit_version"]}"\n'
    )
