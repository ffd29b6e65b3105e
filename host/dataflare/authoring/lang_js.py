"""JavaScript plugin projects: the SDK vendored into ``dataflare/``, built with componentize-js.

The project pins componentize-js in its own ``package.json`` and
``package-lock.json``; `build` installs it into the project's
``node_modules`` on the first build (``npm ci``, fast from npm's own cache
after the first project) and runs the project's ``build.mjs``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from dataflare.authoring.project import Project
from dataflare.authoring.shipped import copy_shipped
from dataflare.errors import BuildFailedError, ToolchainMissingError

__all__ = ["BUILD_TOOLS", "SDK_DIR", "SOURCE_FILE", "build", "vendor"]

SOURCE_FILE = "plugin.js"
BUILD_TOOLS = "node and npm (apt-get install nodejs npm); componentize-js is pinned in package.json"
SDK_DIR = "dataflare"
"""Where `vendor` puts the SDK in a project; the plugin imports ``./dataflare/index.js``."""

NODE_HINT = "node not found; install it with: apt-get install nodejs npm"
NPM_HINT = "npm not found; install it with: apt-get install npm"
COMPONENTIZE_JS = Path("node_modules", "@bytecodealliance", "componentize-js", "package.json")
_TAIL = 40
"""Lines of a failed tool's output kept in the error: the end says what went wrong."""


def vendor(root: Path) -> None:
    """Copy the SDK shipped in the package into ``root/dataflare``."""
    copy_shipped("sdk/js", ".js", root / SDK_DIR)


def build(project: Project, say: Callable[[str], None]) -> Path:
    """Build ``project.component`` with the project's pinned componentize-js."""
    node = _tool("node", NODE_HINT)
    root = project.root
    if not (root / COMPONENTIZE_JS).is_file():
        npm = _tool("npm", NPM_HINT)
        say("installing componentize-js into node_modules (first build only, about 10-30 s)")
        # `npm ci` installs exactly the lock file; without one, npm resolves
        # package.json. --prefer-offline: npm's cache serves what it holds
        # without asking the registry again, so later projects install fast.
        verb = "ci" if (root / "package-lock.json").is_file() else "install"
        argv = [npm, verb, "--no-audit", "--no-fund", "--include=dev", "--prefer-offline"]
        _run(argv, root, "npm " + verb)
        if not (root / COMPONENTIZE_JS).is_file():
            raise BuildFailedError(f"npm {verb} did not install componentize-js in {root}")
    project.build_dir.mkdir(parents=True, exist_ok=True)
    say(f"building {project.name} with componentize-js")
    _run(
        [
            node,
            str(root / "build.mjs"),
            str(root / SOURCE_FILE),
            str(project.wit_dir),
            project.world,
            str(project.component),
        ],
        root,
        "node build.mjs",
    )
    if not project.component.is_file():
        raise BuildFailedError(f"componentize-js wrote no {project.component}")
    return project.component


def _tool(name: str, hint: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise ToolchainMissingError(hint)
    return path


def _run(argv: list[str], cwd: Path, what: str) -> None:
    """Run `argv` in `cwd`; a failure raises BuildFailedError with the end of its output."""
    env = {**os.environ, "NO_COLOR": "1", "NODE_DISABLE_COLORS": "1"}
    proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise BuildFailedError(_failure(what, proc.stdout, proc.stderr))


def _failure(what: str, stdout: str, stderr: str) -> str:
    """The part of a failed tool's output that says what went wrong."""
    lines = (stderr.strip() or stdout.strip()).splitlines()
    kept: list[str] = []
    skipping = False
    for line in lines:
        # Node shows where an exception was thrown (a file:line inside
        # node_modules, its source line and a caret, up to a blank line),
        # then a stack and its version: about the tools, not the plugin.
        if re.match(r"(file://)?\S*node_modules\S*:\d+$", line):
            skipping = True
        if skipping:
            skipping = line.strip() != ""
            continue
        if re.match(r"\s+at |Node\.js v\d", line):
            continue
        kept.append(line)
    text = "\n".join(kept[-_TAIL:]).strip()
    return f"{what} failed:\n{text}" if text else f"{what} failed with no output"
