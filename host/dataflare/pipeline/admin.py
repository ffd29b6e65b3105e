"""The admin API of a running pipeline (``dataflare run --admin HOST:PORT``).

* ``GET /status``: JSON: the run's state and, per stage, its kind, plugin
  (name, version, file and sha256), counts, state and last swap;
* ``GET /metrics``: the Prometheus text format (`dataflare.pipeline.metrics`);
* ``POST /stages/{id}/reload``: hot plug the stage's plugin file again;
* ``POST /stages/{id}/plugin`` with ``{"path": "..."}``: hot plug another file
  (a relative path is taken from the pipeline file's folder).

A POST answers once the swap is applied (200) or refused (409, with the
reason), or 202 if it is not applied within `SWAP_WAIT` (it still may be:
swaps apply between batches, and a source may have nothing for a while).

It listens on loopback only, unless a token is given: a bind to any other
address without one is refused (`AdminRefused`). With a token, every POST
needs ``Authorization: Bearer TOKEN``, else 401. Reading (GET) needs none.
The server is a stdlib `ThreadingHTTPServer` on a daemon thread: requests
never run on the executor's thread, and only read what it writes.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
import re
import socket
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dataflare.errors import AdminRefused
from dataflare.pipeline.metrics import CONTENT_TYPE, metrics_text

if TYPE_CHECKING:
    from dataflare.pipeline.executor import Executor

__all__ = [
    "SWAP_WAIT",
    "AdminRefused",
    "AdminServer",
    "check_bind",
    "is_loopback",
    "parse_address",
    "status",
]

SWAP_WAIT = 60.0
"""Seconds a POST waits for its swap before answering 202."""

MAX_BODY = 64 * 1024

_log = logging.getLogger("dataflare.admin")
_STAGE_POST = re.compile(r"^/stages/([^/]+)/(reload|plugin)$")


def parse_address(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:PORT`` for IPv6) as (host, port); `AdminRefused` if malformed."""
    host, colon, port = text.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not colon or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise AdminRefused(f"--admin {text!r}: expected HOST:PORT, e.g. 127.0.0.1:9464")
    return host, int(port)


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name other than localhost may resolve anywhere


def check_bind(host: str, token: str | None) -> None:
    """Refuse (`AdminRefused`) to listen beyond loopback without a token."""
    if not token and not is_loopback(host):
        raise AdminRefused(
            f"the admin API may listen on {host} only with a token (--admin-token): "
            "without one it listens on loopback only (127.0.0.1, ::1, localhost)"
        )


def status(executor: Executor) -> dict[str, Any]:
    """What ``GET /status`` answers."""
    plan = executor.plan
    stats = executor.stats
    hotplug = executor.hotplug
    stages = []
    for stage in plan.stages:
        counts = stats.stages[stage.id]
        path, sha = hotplug.running(stage.id)
        last = hotplug.last_swap(stage.id)
        stages.append(
            {
                "id": stage.id,
                "role": counts.role,
                "kind": stage.kind.value,
                "plugin": {
                    "name": stage.info.name,
                    "version": stage.info.version,
                    "source": "wasm" if stage.config.plugin.wasm_path is not None else "native",
                    "path": None if path is None else str(path),
                    "sha256": sha,
                },
                "counts": {
                    "in": counts.records_in,
                    "out": counts.records_out,
                    "errored": counts.errors,
                    "dropped": counts.dropped,
                    "traps": counts.traps,
                    "limits": counts.limits,
                },
                "state": "swapping" if hotplug.swapping(stage.id) else executor.state,
                "reload": "watch" if stage.config.reload else "off",
                "last_swap": None if last is None else last.as_json(),
            }
        )
    return {
        "pipeline": plan.config.name,
        "state": executor.state,
        "elapsed_s": round(stats.elapsed, 3),
        "records_read": stats.records_read,
        "stages": stages,
    }


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    admin: AdminServer


class _Server6(_Server):
    address_family = socket.AF_INET6


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "dataflare-admin"

    def do_GET(self) -> None:
        admin = self.server.admin
        if self.path == "/status":
            self._json(HTTPStatus.OK, status(admin.executor))
        elif self.path == "/metrics":
            body = metrics_text(admin.executor.stats, admin.executor.hotplug)
            self._send(HTTPStatus.OK, CONTENT_TYPE, body)
        else:
            self._json(HTTPStatus.NOT_FOUND, {"error": f"no such resource: {self.path}"})

    def do_POST(self) -> None:
        admin = self.server.admin
        if not admin.authorized(self.headers.get("Authorization")):
            self._json(
                HTTPStatus.UNAUTHORIZED,
                {"error": "this admin API needs Authorization: Bearer <token>"},
                {"WWW-Authenticate": 'Bearer realm="dataflare"'},
            )
            return
        match = _STAGE_POST.match(self.path)
        if match is None:
            self._json(HTTPStatus.NOT_FOUND, {"error": f"no such resource: {self.path}"})
            return
        stage, action = match.groups()
        hotplug = admin.executor.hotplug
        if stage not in admin.executor.stats.stages:
            self._json(HTTPStatus.NOT_FOUND, {"error": f"no stage {stage!r}"})
            return
        path = None
        if action == "plugin":
            path = self._path_from_body()
            if path is None:
                return
        future = hotplug.request(stage, path)
        try:
            outcome = future.result(timeout=admin.swap_wait)
        except TimeoutError:
            self._json(
                HTTPStatus.ACCEPTED,
                {"state": "pending", "detail": "prepared swaps apply before the next batch"},
            )
            return
        code = HTTPStatus.OK if outcome.ok else HTTPStatus.CONFLICT
        self._json(code, {"stage": stage, **outcome.as_json()})

    def _path_from_body(self) -> Path | None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self._json(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"error": "body too large"})
            return None
        try:
            body = json.loads(self.rfile.read(length) or b"null")
        except ValueError:
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("path"), str) or not body["path"]:
            self._json(
                HTTPStatus.BAD_REQUEST, {"error": 'expected a JSON body {"path": "plugin.wasm"}'}
            )
            return None
        return Path(body["path"])

    def _json(
        self, code: HTTPStatus, doc: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        body = json.dumps(doc, indent=1).encode() + b"\n"
        self._send(code, "application/json", body, headers)

    def _send(
        self,
        code: HTTPStatus,
        content_type: str,
        body: bytes,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        _log.debug("%s " + format, self.address_string(), *args)


class AdminServer:
    """The admin API of `executor`, served from a daemon thread once `start` is called."""

    def __init__(
        self,
        executor: Executor,
        host: str,
        port: int,
        *,
        token: str | None = None,
        swap_wait: float = SWAP_WAIT,
    ) -> None:
        check_bind(host, token)
        self.executor = executor
        self.token = token or None
        self.swap_wait = swap_wait
        server_class = _Server6 if ":" in host else _Server
        try:
            self._server = server_class((host, port), _Handler)
        except OSError as exc:
            raise AdminRefused(f"the admin API cannot listen on {host}:{port}: {exc}") from exc
        self._server.admin = self
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> tuple[str, int]:
        """The host and port it listens on (the port chosen when 0 was asked)."""
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    @property
    def url(self) -> str:
        """``http://HOST:PORT``."""
        host, port = self.address
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    def authorized(self, header: str | None) -> bool:
        """True if a mutating request with this Authorization header may proceed."""
        if self.token is None:
            return True
        expected = f"Bearer {self.token}".encode()
        return header is not None and hmac.compare_digest(header.encode(), expected)

    def start(self) -> None:
        """Serve requests on a daemon thread."""
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="dataflare-admin", daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        """Stop serving and release the port."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
        self._server.server_close()

    def __enter__(self) -> AdminServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
