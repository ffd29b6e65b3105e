"""Partitions of file sources, derived pipelines and the executor's fold/seed hooks (no cluster)."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from dataflare.connectors._file_partitions import file_partitions, line_ranges
from dataflare.connectors.csvfile import CsvSource
from dataflare.connectors.jsonl import JsonlSource
from dataflare.errors import ConfigurationError, PipelineError
from dataflare.pipeline import Executor, load_plan
from dataflare.pipeline.partitions import source_partitions
from dataflare.scaleout.coordinator import plan_for_dask
from dataflare.scaleout.derive import part_path, partition_pipeline
from hypothesis import given
from hypothesis import strategies as st

LINES = st.lists(st.binary(max_size=30).map(lambda b: b.replace(b"\n", b"")), max_size=40)


def _read_all(params: dict[str, str]) -> list[bytes]:
    source = JsonlSource()
    source.configure(params)
    source.connect()
    values: list[bytes] = []
    try:
        while True:
            read = source.read_columns_batch(7)
            assert not isinstance(read, type(None))
            batch = read.batch  # type: ignore[union-attr]
            if not batch.num_rows:
                return values
            values.extend(batch.column("value").to_pylist())
    finally:
        source.close()


@given(lines=LINES, split=st.integers(1, 200), crlf=st.booleans())
def test_line_ranges_cover_the_file_and_start_after_newlines(
    tmp_path_factory: pytest.TempPathFactory, lines: list[bytes], split: int, crlf: bool
) -> None:
    path = tmp_path_factory.mktemp("ranges") / "in.txt"
    end = b"\r\n" if crlf else b"\n"
    data = b"".join(line + end for line in lines)
    path.write_bytes(data)
    ranges = line_ranges(str(path), split)
    assert ranges[0][0] == 0 and ranges[-1][1] == len(data)
    for (_, end_a, _), (start_b, _, lines_b) in itertools.pairwise(ranges):
        assert end_a == start_b
        assert data[start_b - 1 : start_b] == b"\n"
        assert lines_b == data[:start_b].count(b"\n")


@given(count=st.integers(0, 60), split=st.integers(1, 400))
def test_byte_ranges_read_every_line_once_in_order(
    tmp_path_factory: pytest.TempPathFactory, count: int, split: int
) -> None:
    path = tmp_path_factory.mktemp("split") / "in.jsonl"
    docs = [json.dumps({"n": n, "pad": "x" * (n % 7)}).encode() for n in range(count)]
    path.write_bytes(b"".join(d + b"\n" for d in docs))
    parts = file_partitions(str(path), split, ranges=True)
    got: list[bytes] = []
    for part in parts:
        got.extend(_read_all(part))
    assert got == docs


def test_a_range_numbers_its_lines_as_the_file_does(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_bytes(b'{"a": 1}\n{"a": 2}\nnot json\n{"a": 4}\n')
    source = JsonlSource()
    source.configure({"path": str(path), "byte_range": "18-36:2", "resume": "true"})
    source.connect()
    read = source.read_columns_batch(10)
    assert [f.error.message for f in read.failures] == [  # type: ignore[union-attr]
        f"{path}:3: invalid JSON: Expecting value: line 1 column 1 (char 0)"
    ]
    position = json.loads(source.checkpoint())
    assert (position["offset"], position["line"]) == (36, 4)
    source.close()


def test_a_range_resumes_inside_itself_and_stops_at_its_end(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_bytes(b"".join(f'{{"n": {n}}}\n'.encode() for n in range(10)))
    start, end = 9 * 2, 9 * 6  # each line is 9 bytes: lines 2..5
    params = {"path": str(path), "byte_range": f"{start}-{end}:2", "resume": "true"}
    first = JsonlSource()
    first.configure(params)
    first.connect()
    first.read_columns_batch(1)
    saved = first.checkpoint()
    first.close()
    again = JsonlSource()
    again.configure(params)
    again.connect()
    again.restore(saved)
    rest = again.read_columns_batch(100).batch.column("value").to_pylist()  # type: ignore[union-attr]
    again.close()
    assert rest == [b'{"n": 3}', b'{"n": 4}', b'{"n": 5}']


def test_a_glob_gives_one_partition_per_file_and_a_range_refuses_a_glob(tmp_path: Path) -> None:
    for name in ("b.jsonl", "a.jsonl", "c[1].jsonl"):
        (tmp_path / name).write_text('{"x": 1}\n')
    source = JsonlSource()
    source.configure({"path": str(tmp_path / "*.jsonl")})
    parts = source.partitions()
    assert [Path(p["path"]).name for p in parts] == ["a.jsonl", "b.jsonl", "c[[]1].jsonl"]
    assert all(len(_read_all(p)) == 1 for p in parts)  # an escaped name matches only itself
    with pytest.raises(ConfigurationError, match="byte_range"):
        JsonlSource().configure({"path": str(tmp_path / "*.jsonl"), "byte_range": "0-5"})


def test_csv_splits_by_file_only(tmp_path: Path) -> None:
    for name in ("1.csv", "2.csv"):
        (tmp_path / name).write_text("a,b\n1,2\n" * 1, encoding="utf-8")
    source = CsvSource()
    source.configure({"path": str(tmp_path / "*.csv")})
    assert [Path(p["path"]).name for p in source.partitions()] == ["1.csv", "2.csv"]
    assert all("byte_range" not in p for p in source.partitions())


def test_part_paths_keep_the_suffix_last() -> None:
    assert part_path("/x/out.jsonl", 3) == "/x/out.part-00003.jsonl"
    assert part_path("rows.csv", 12) == "rows.part-00012.csv"


def test_a_partition_pipeline_changes_only_what_a_partition_needs(tmp_path: Path) -> None:
    raw = {
        "name": "p",
        "sources": [
            {"id": "a", "type": "jsonl", "config": {"path": "in-*.jsonl"}},
            {"id": "b", "type": "csv", "config": {"path": "x.csv"}},
        ],
        "processors": [{"id": "f", "type": "plugin", "config": {"plugin_name": "json_filter"}}],
        "sinks": [
            {"id": "out", "type": "jsonl", "config": {"path": "out.jsonl", "mode": "append"}},
            {"id": "db", "type": "sqlite", "config": {"path": "x.db", "table": "t"}},
        ],
    }
    derived = partition_pipeline(
        raw, source="a", overrides={"path": "/d/in-1.jsonl"}, index=2, state=tmp_path / "s"
    )
    assert [s["id"] for s in derived["sources"]] == ["a"]
    assert derived["sources"][0]["config"] == {"path": "/d/in-1.jsonl"}
    exact = partition_pipeline(raw, source="a", overrides={}, index=2, state=tmp_path / "s",
                               positions=True)  # fmt: skip
    assert exact["sources"][0]["config"] == {"path": "in-*.jsonl", "resume": "true"}
    assert derived["sinks"][0]["config"] == {"path": "out.part-00002.jsonl", "mode": "overwrite"}
    assert derived["sinks"][1] == raw["sinks"][1]  # a SQL sink is shared by every partition
    assert derived["processors"] == raw["processors"]
    assert derived["state"] == str(tmp_path / "s")
    assert raw["sinks"][0]["config"]["path"] == "out.jsonl"  # the original is untouched


AGGREGATE = """
name: agg
sources:
  - id: in
    type: jsonl
    config: {{path: {path}, split_bytes: {split}}}
processors:
  - id: total
    type: plugin
    config:
      plugin_type: aggregate
      plugin_name: count_sum
      params: {{group_by: g, sum_field: v}}
sinks:
  - id: out
    type: jsonl
    config: {{path: out.jsonl}}
"""


def _events(path: Path, count: int) -> None:
    path.write_text(
        "".join(json.dumps({"g": "abc"[n % 3], "v": n}) + "\n" for n in range(count)),
        encoding="utf-8",
    )


def test_folding_partitions_and_merging_emits_what_one_fold_emits(tmp_path: Path) -> None:
    _events(tmp_path / "in.jsonl", 500)
    pipeline = tmp_path / "p.yaml"
    pipeline.write_text(AGGREGATE.format(path="in.jsonl", split=1000), encoding="utf-8")
    whole = load_plan(pipeline)
    Executor(whole).run()
    expected = (tmp_path / "out.jsonl").read_bytes()
    (tmp_path / "out.jsonl").unlink()

    plan = load_plan(pipeline)
    dask_plan = plan_for_dask(plan)
    assert len(dask_plan.partitions) > 2 and dask_plan.merges
    accs = []
    for part in dask_plan.partitions:
        one = load_plan(pipeline)
        one.sources[0].plugin.close()
        one.sources[0].plugin.configure({**one.sources[0].config.params, **part.overrides})
        runner = Executor(one, emit=False)
        runner.run()
        accs.append(runner.accumulators["total"])
    assert (tmp_path / "out.jsonl").read_bytes() == b""  # folding alone emits nothing
    aggregate = plan.processors[0].plugin
    merged = accs[0]
    for acc in accs[1:]:
        merged = aggregate.merge(merged, acc)  # type: ignore[attr-defined]
    plan.sources[0].plugin.close()
    plan.sources = []
    Executor(plan, accumulators={"total": merged}).run()
    assert (tmp_path / "out.jsonl").read_bytes() == expected


def test_the_plan_says_when_a_source_cannot_be_split(tmp_path: Path) -> None:
    _events(tmp_path / "in.jsonl", 10)
    pipeline = tmp_path / "p.yaml"
    text = AGGREGATE.format(path="in.jsonl", split=0)
    text = text.replace("in.jsonl, split_bytes: 0}", "in.jsonl, follow: true}")
    pipeline.write_text(text, encoding="utf-8")
    plan = load_plan(pipeline)
    try:
        split = source_partitions(plan.sources[0])
    finally:
        plan.close()
    assert not split.split
    assert split.note == "one partition: nothing to split it by"


@pytest.mark.parametrize(
    ("change", "refusal"),
    [
        (("type: jsonl\n    config: {path: in.jsonl, split_bytes: 0}", "type: stdin"), "standard"),
        (("type: jsonl\n    config: {path: out.jsonl}", "type: stdout"), "standard"),
        (("split_bytes: 0}", "follow: true}"), "never ends"),
    ],
)
def test_what_a_worker_cannot_do_is_refused_before_any_task(
    tmp_path: Path, change: tuple[str, str], refusal: str
) -> None:
    _events(tmp_path / "in.jsonl", 10)
    pipeline = tmp_path / "p.yaml"
    text = AGGREGATE.format(path="in.jsonl", split=0)
    assert change[0] in text
    pipeline.write_text(text.replace(*change), encoding="utf-8")
    plan = load_plan(pipeline)
    try:
        with pytest.raises(PipelineError, match=refusal):
            plan_for_dask(plan)
    finally:
        plan.close()


def test_the_plan_says_which_aggregate_is_merged(tmp_path: Path) -> None:
    _events(tmp_path / "in.jsonl", 10)
    pipeline = tmp_path / "p.yaml"
    pipeline.write_text(AGGREGATE.format(path="in.jsonl", split=0), encoding="utf-8")
    plan = load_plan(pipeline)
    try:
        described = plan_for_dask(plan).describe()
    finally:
        plan.close()
    assert "source in: one partition: nothing to split it by" in described
    assert "aggregate total: folded per partition, accumulators merged" in described


def _sqlite_rows(path: Path, count: int) -> None:
    import sqlite3

    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (id INTEGER, name TEXT)")
        conn.executemany("INSERT INTO t VALUES (?, ?)", [(n, f"n{n}") for n in range(count)])
        conn.execute("INSERT INTO t VALUES (NULL, 'no id')")


def _read_sql(params: dict[str, str]) -> list[bytes]:
    from dataflare.connectors.sqlite import SqliteSource

    source = SqliteSource()
    source.configure(params)
    source.connect()
    out: list[bytes] = []
    try:
        while records := source.read(13):
            out.extend(r.value for r in records)
    finally:
        source.close()
    return out


@given(count=st.integers(0, 120), parts=st.integers(2, 9))
def test_sql_key_ranges_read_every_row_once(
    tmp_path_factory: pytest.TempPathFactory, count: int, parts: int
) -> None:
    from dataflare.connectors.sqlite import SqliteSource

    db = tmp_path_factory.mktemp("sql") / "in.db"
    _sqlite_rows(db, count)
    params = {"path": str(db), "table": "t", "incremental_column": "id"}
    source = SqliteSource()
    source.configure({**params, "partitions": str(parts)})
    ranges = source.partitions()
    assert 1 <= len(ranges) <= parts
    got = [value for r in ranges for value in _read_sql({**params, **r})]
    assert sorted(got) == sorted(_read_sql(params))
    assert len(got) == count + 1  # the NULL row too, once (in the first range)


def test_sql_partitions_need_an_incremental_column(tmp_path: Path) -> None:
    from dataflare.connectors.sqlite import SqliteSource

    _sqlite_rows(tmp_path / "in.db", 3)
    with pytest.raises(ConfigurationError, match="incremental_column"):
        SqliteSource().configure({"path": str(tmp_path / "in.db"), "table": "t", "partitions": "2"})


ONE_SOURCE = """
import dataflare
from dataflare.plugins.base import SourceBase

@dataflare.register("source", "nothing")
class Nothing(SourceBase):
    def read(self, max_records):
        return []
"""


def test_the_plan_says_when_a_source_has_no_way_to_split(tmp_path: Path) -> None:
    (tmp_path / "one.py").write_text(ONE_SOURCE, encoding="utf-8")
    pipeline = tmp_path / "p.yaml"
    text = AGGREGATE.format(path="in.jsonl", split=0).replace(
        "type: jsonl\n    config: {path: in.jsonl, split_bytes: 0}",
        "type: plugin\n    config: {plugin_type: source, plugin_name: nothing, "
        "plugin_module: one.py}",
    )
    pipeline.write_text(text, encoding="utf-8")
    plan = load_plan(pipeline)
    try:
        described = plan_for_dask(plan).describe()
    finally:
        plan.close()
    assert "source in: one partition: this source cannot be split" in described
