# ruff: noqa: E501  (YAML fixtures read best on one line)
"""The admin API: /status shape, /metrics parsed by prometheus-client, hot plug by POST, auth and bind rules."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import hotplug_plugins
import pytest
from dataflare.cli import main
from dataflare.pipeline import Executor, load_plan
from dataflare.pipeline.admin import (
    AdminRefused,
    AdminServer,
    check_bind,
    is_loopback,
    parse_address,
)
from dfpipe_plugins import LogSink
from hotplug_plugins import VERSION_KEY
from prometheus_client.parser import text_string_to_metric_families

PIPELINE = """
batch_size: 10
sources:
  - id: numbers
    type: plugin
    config: {{plugin_type: source, plugin_name: test_range, params: {{count: "{count}", delay_ms: "{delay}"}}}}
processors:
  - id: even
    type: plugin
    config: {{plugin_type: filter, plugin_name: test_even}}
  - id: tag
    type: plugin
    config: {{plugin_type: transform, plugin_name: test_tagger}}
sinks:
  - {{id: out, type: plugin, config: {{plugin_type: sink, plugin_name: test_log}}}}
"""


def call(
    url: str, method: str = "GET", body: Any = None, token: str | None = None
) -> tuple[int, str, str]:
    """(status, content type, body text) of one request."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.headers["Content-Type"], answer.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], exc.read().decode()


@pytest.fixture
def finished(write_yaml) -> Iterator[Executor]:
    """An executor whose run of 100 numbers is over."""
    executor = Executor(load_plan(write_yaml(PIPELINE.format(count=100, delay=0))))
    executor.run()
    yield executor


def test_status_reports_every_stage(finished):
    with AdminServer(finished, "127.0.0.1", 0) as admin:
        code, kind, text = call(admin.url + "/status")
    assert code == 200 and kind == "application/json"
    doc = json.loads(text)
    assert doc["pipeline"] == "pipeline" and doc["state"] == "finished"
    assert doc["records_read"] == 100
    stages = {s["id"]: s for s in doc["stages"]}
    assert list(stages) == ["numbers", "even", "tag", "out"]
    even = stages["even"]
    assert even["kind"] == "filter" and even["role"] == "processor"
    assert even["plugin"] == {
        "name": "test_even",
        "version": "0.1.0",
        "source": "native",
        "path": None,
        "sha256": None,
    }
    assert even["counts"] == {
        "in": 100,
        "out": 50,
        "errored": 0,
        "dropped": 50,
        "traps": 0,
        "limits": 0,
    }
    assert even["state"] == "finished" and even["reload"] == "off" and even["last_swap"] is None
    assert stages["out"]["counts"]["out"] == 50


def test_metrics_parse_as_prometheus_text(finished):
    with AdminServer(finished, "127.0.0.1", 0) as admin:
        code, kind, text = call(admin.url + "/metrics")
    assert code == 200 and kind.startswith("text/plain; version=0.0.4")
    families = {f.name: f for f in text_string_to_metric_families(text)}
    assert {
        "dataflare_records_in",
        "dataflare_records_out",
        "dataflare_records_errored",
        "dataflare_records_dropped",
        "dataflare_traps",
        "dataflare_limits_hit",
        "dataflare_swaps",
        "dataflare_batch_seconds",
        "dataflare_run_seconds",
    } <= set(families)
    out = {
        s.labels["stage"]: s.value
        for s in families["dataflare_records_out"].samples
        if s.name == "dataflare_records_out_total"
    }
    assert out == {"numbers": 100, "even": 50, "tag": 50, "out": 50}
    batches = families["dataflare_batch_seconds"]
    [count] = [s.value for s in batches.samples if s.name == "dataflare_batch_seconds_count"]
    [inf] = [s.value for s in batches.samples if s.labels.get("le") == "+Inf"]
    assert count == inf == 10  # 100 numbers in batches of 10


def test_a_post_swaps_a_running_stage(write_yaml, tmp_path):
    plan = load_plan(write_yaml(PIPELINE.format(count=10**9, delay=1)))
    executor = Executor(plan, hotplug_loader=hotplug_plugins.loader)
    (tmp_path / "tag-2.0.0.plug").write_text("v2")
    runner = threading.Thread(target=executor.run)
    runner.start()
    try:
        while not executor.stats.stages["out"].records_out:
            time.sleep(0.001)  # v1 must have written something for the prefix to show
        with AdminServer(executor, "127.0.0.1", 0) as admin:
            code, _, text = call(
                admin.url + "/stages/tag/plugin", "POST", {"path": "tag-2.0.0.plug"}
            )
            assert code == 200, text
            swapped = json.loads(text)
            assert swapped["ok"] and swapped["plugin"] == "tagger 2.0.0"
            assert swapped["path"] == str(tmp_path / "tag-2.0.0.plug")
            code, _, text = call(admin.url + "/stages/tag/plugin", "POST", {"path": "keep-1.plug"})
            assert code == 409 and "cannot read the plugin file" in json.loads(text)["reason"]
            status = json.loads(call(admin.url + "/status")[2])
            [tag] = [s for s in status["stages"] if s["id"] == "tag"]
            assert tag["plugin"]["version"] == "2.0.0" and not tag["last_swap"]["ok"]
    finally:
        executor.stop.set()
        runner.join()
    tags = [r.metadata[VERSION_KEY] for r in LogSink.RECEIVED]
    first = tags.index("2.0.0")
    assert set(tags[:first]) == {"1.0.0"} and set(tags[first:]) == {"2.0.0"}


def test_post_errors(finished, tmp_path):
    with AdminServer(finished, "127.0.0.1", 0) as admin:
        assert call(admin.url + "/stages/nope/reload", "POST")[0] == 404
        assert call(admin.url + "/nothing")[0] == 404
        code, _, text = call(admin.url + "/stages/tag/plugin", "POST", {"file": "x"})
        assert code == 400 and '{"path"' in json.loads(text)["error"]
        code, _, text = call(admin.url + "/stages/out/reload", "POST")
        assert code == 409 and "a sink stage does not hot plug" in json.loads(text)["reason"]


def test_with_a_token_every_post_needs_it(finished):
    with AdminServer(finished, "127.0.0.1", 0, token="s3cret") as admin:
        url = admin.url + "/stages/tag/reload"
        assert call(url, "POST")[0] == 401
        assert call(url, "POST", token="wrong")[0] == 401
        assert call(url, "POST", token="s3cret")[0] == 409  # past auth: the run has ended
        assert call(admin.url + "/status")[0] == 200  # reading needs no token


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "::", "example.com"])
def test_beyond_loopback_needs_a_token(host):
    assert not is_loopback(host)
    with pytest.raises(AdminRefused, match="only with a token"):
        check_bind(host, None)
    check_bind(host, "t")


@pytest.mark.parametrize("host", ["127.0.0.1", "127.3.2.1", "::1", "localhost"])
def test_loopback_needs_no_token(host):
    assert is_loopback(host)
    check_bind(host, None)


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("127.0.0.1:9464", ("127.0.0.1", 9464)),
        ("[::1]:0", ("::1", 0)),
        ("localhost:80", ("localhost", 80)),
    ],
)
def test_parse_address(text, address):
    assert parse_address(text) == address


@pytest.mark.parametrize("text", ["9464", "host:", ":80", "h:99999", "h:x"])
def test_a_malformed_address_is_refused(text):
    with pytest.raises(AdminRefused, match="expected HOST:PORT"):
        parse_address(text)


def test_the_cli_refuses_a_public_bind_without_a_token(write_yaml, capsys, monkeypatch):
    monkeypatch.delenv("DATAFLARE_ADMIN_TOKEN", raising=False)
    path = write_yaml(PIPELINE.format(count=5, delay=0))
    assert main(["run", str(path), "--admin", "0.0.0.0:0", "-q"]) == 2
    assert "only with a token" in capsys.readouterr().err
    assert LogSink.RECEIVED == []  # nothing ran


def test_the_cli_serves_the_admin_api_during_the_run(write_yaml, capsys):
    path = write_yaml(PIPELINE.format(count=5, delay=0))
    assert main(["run", str(path), "--admin", "127.0.0.1:0", "-q"]) == 0
    assert "admin API on http://127.0.0.1:" in capsys.readouterr().err
    assert len(LogSink.RECEIVED) == 3


LIMITED = """
batch_size: 10
sources:
  - {id: numbers, type: plugin, config: {plugin_type: source, plugin_name: test_range, params: {count: "30"}}}
processors:
  - {id: lim, type: plugin, on_error: skip, config: {plugin_type: transform, plugin_name: test_limited}}
sinks:
  - {id: out, type: plugin, config: {plugin_type: sink, plugin_name: test_log}}
"""


def test_records_failed_on_a_limit_are_counted(write_yaml):
    executor = Executor(load_plan(write_yaml(LIMITED)))
    executor.run()
    with AdminServer(executor, "127.0.0.1", 0) as admin:
        text = call(admin.url + "/metrics")[2]
        doc = json.loads(call(admin.url + "/status")[2])
    families = {f.name: f for f in text_string_to_metric_families(text)}
    hit = {s.labels["stage"]: s.value for s in families["dataflare_limits_hit"].samples}
    assert hit["lim"] == 5  # n = 0, 7, 14, 21, 28
    [lim] = [s for s in doc["stages"] if s["id"] == "lim"]
    assert lim["counts"]["limits"] == lim["counts"]["errored"] == 5
