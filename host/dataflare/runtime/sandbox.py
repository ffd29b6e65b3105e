"""The deny-by-default sandbox a plugin runs in, and its two ways to talk.

A plugin gets WASI p2 with no files, environment, arguments, network or
inherited stdio. It reports through the host `log` import, which lands in
Python `logging` under ``dataflare.plugin.<plugin>`` with a ``stage``
attribute; anything it prints to stdout/stderr is captured the same way,
bounded per call. Host callbacks never raise into the guest: an exception
there would trap and kill the instance for a logging hiccup.

`new_store` is the only place stores are made, because a store used with
`add_wasip2` but without `set_wasi` aborts the process on the first WASI call.
"""

from __future__ import annotations

import enum
import logging

import wasmtime
from wasmtime.component import Linker

from dataflare.model import PluginKind
from dataflare.runtime.capabilities import DENY_ALL, Capabilities, apply_capabilities
from dataflare.runtime.worlds import world_imports

__all__ = [
    "MAX_LOG_PER_CALL",
    "OOM_MARKERS",
    "TRACE",
    "GuestOutput",
    "PluginLog",
    "build_linker",
    "new_store",
    "plugin_logger",
    "sandbox_wasi",
]

TRACE = 5
"""Python logging level for WIT `level.trace` (below DEBUG)."""
if logging.getLevelName(TRACE) == f"Level {TRACE}":
    logging.addLevelName(TRACE, "TRACE")

_LEVELS = {
    "trace": TRACE,
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warn": logging.WARNING,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}
MAX_MESSAGE = 16 * 1024
"""Longer log messages from a guest are cut to this many characters."""
MAX_LOG_PER_CALL = 64 * 1024
"""Characters of `log` messages kept per guest call (like stdout's byte budget)."""

_internal = logging.getLogger(__name__)

OOM_MARKERS = (b"MemoryError", b"memory allocation of", b"out of memory")
"""What Python, Rust and C guests print when an allocation fails before they trap.

wasmtime reports a refused `memory.grow` to the guest, not to the host, so
this is how a trap is told apart as the memory limit at work.
"""


def plugin_logger(plugin: str) -> logging.Logger:
    """The logger a plugin's log lines and output go to."""
    return logging.getLogger(f"dataflare.plugin.{plugin}")


def _level_number(level: object) -> int:
    name = level.name if isinstance(level, enum.Enum) else str(level)
    return _LEVELS.get(name.lower(), logging.INFO)


class PluginLog:
    """The host side of the WIT `log` interface (satisfies the generated `LogHost`).

    At most `max_chars` characters of messages are emitted per guest call:
    a guest logging in a loop would otherwise fill the disk (1M calls wrote
    87 MB). `flush`, called by the instance after each call, reports how
    many lines were dropped and starts a new budget.
    """

    def __init__(
        self, plugin: str, stage: str | None = None, *, max_chars: int = MAX_LOG_PER_CALL
    ) -> None:
        self.logger = plugin_logger(plugin)
        self.extra = {"plugin": plugin, "stage": stage}
        self._max_chars = max_chars
        self._used = 0
        self._dropped_lines = 0
        self._dropped_chars = 0

    def log(self, level: object, message: str) -> None:
        """Emit one guest log line, within budget; never raises (a raise would trap the guest)."""
        try:
            text = str(message)
            if len(text) > MAX_MESSAGE:
                text = f"{text[:MAX_MESSAGE]}... [{len(text) - MAX_MESSAGE} chars cut]"
            if self._used + len(text) > self._max_chars:
                self._dropped_lines += 1
                self._dropped_chars += len(text)
                return
            self._used += len(text)
            self.logger.log(_level_number(level), "%s", text, extra=self.extra)
        except Exception:
            _internal.exception("dropping a log line from plugin %s", self.extra["plugin"])

    def flush(self) -> None:
        """Report the lines dropped over budget since the last flush; start a new budget."""
        if self._dropped_lines:
            self.logger.warning(
                "%d log lines (%d chars) dropped (limit %d chars of log messages per call)",
                self._dropped_lines,
                self._dropped_chars,
                self._max_chars,
                extra=self.extra,
            )
        self._used = self._dropped_lines = self._dropped_chars = 0


class GuestOutput:
    """A guest's stdout or stderr, turned into log lines; at most `max_bytes` per call.

    WASI hands over arbitrary byte chunks, so partial lines are held until a
    newline, `max_line` bytes, or `flush` (which the instance calls after each
    guest call and which also resets the byte budget).
    `allowed=False` (a plugin without the stdout capability) discards every
    byte and only reports how many per call.
    """

    def __init__(
        self,
        log: PluginLog,
        stream: str,
        level: int,
        *,
        max_line: int = 4096,
        max_bytes: int = 64 * 1024,
        allowed: bool = True,
    ) -> None:
        self._log = log
        self._allowed = allowed
        self._extra = {**log.extra, "stream": stream}
        self._level = level
        self._max_line = max_line
        self._max_bytes = max_bytes
        self._pending = bytearray()
        self._used = 0
        self._dropped = 0
        self.saw_oom = False
        """Whether this call's output reported a failed allocation (see `OOM_MARKERS`)."""

    def write(self, chunk: bytes) -> None:
        """WASI callback: accept every byte (dropping over-budget ones); never raises."""
        try:
            if not self.saw_oom and any(m in chunk for m in OOM_MARKERS):
                self.saw_oom = True
            if not self._allowed:
                self._dropped += len(chunk)
                return
            room = self._max_bytes - self._used
            if len(chunk) > room:
                self._dropped += len(chunk) - max(room, 0)
                chunk = chunk[: max(room, 0)]
            self._used += len(chunk)
            self._pending += chunk
            while True:
                cut = self._pending.find(b"\n")
                if cut < 0 and len(self._pending) < self._max_line:
                    break
                end = cut if 0 <= cut < self._max_line else self._max_line
                self._emit(bytes(self._pending[:end]))
                del self._pending[: end + 1 if end == cut else end]
        except Exception:
            _internal.exception("dropping output from plugin %s", self._log.extra["plugin"])

    def flush(self) -> None:
        """Emit any partial line and any truncation note; start a new budget."""
        if self._pending:
            self._emit(bytes(self._pending))
            self._pending.clear()
        if self._dropped and not self._allowed:
            self._log.logger.warning(
                "%d bytes of %s output discarded (not allowed; grant `allow: {stdout: true}`)",
                self._dropped,
                self._extra["stream"],
                extra=self._extra,
            )
        elif self._dropped:
            self._log.logger.warning(
                "%d bytes of %s output dropped (limit %d bytes per call)",
                self._dropped,
                self._extra["stream"],
                self._max_bytes,
                extra=self._extra,
            )
        self._used = self._dropped = 0
        self.saw_oom = False

    def _emit(self, line: bytes) -> None:
        text = line.decode("utf-8", errors="replace").rstrip("\r")
        self._log.logger.log(self._level, "%s", text, extra=self._extra)


def sandbox_wasi(
    stdout: GuestOutput, stderr: GuestOutput, caps: Capabilities = DENY_ALL
) -> wasmtime.WasiConfig:
    """A WASI config granting only `caps`: never args, stdin or network."""
    wasi = wasmtime.WasiConfig()
    wasi.stdout_custom = stdout.write
    wasi.stderr_custom = stderr.write
    apply_capabilities(wasi, caps)
    return wasi


def new_store(engine: wasmtime.Engine, wasi: wasmtime.WasiConfig) -> wasmtime.Store:
    """A store with WASI set (always: see the module docstring)."""
    store = wasmtime.Store(engine)
    store.set_wasi(wasi)
    return store


def build_linker(
    engine: wasmtime.Engine, kind: PluginKind, log: PluginLog, version: str | None = None
) -> Linker:
    """A linker providing WASI p2 and `kind`'s own imports (`log`, served by `log`).

    The generated linking defines `log` at the host's version that serves
    `version` (default: the current one); wasmtime matches semver-compatible
    imports (e.g. a component built for 0.1.7).
    """
    linker = Linker(engine)
    linker.add_wasip2()
    world_imports(kind, version)(linker, log=log)
    return linker
