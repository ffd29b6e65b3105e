"""Followed and globbed files: tailing, rotation by rename, resuming by file identity."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pytest
from dataflare.columns import PENDING
from dataflare.connectors import CsvSource, JsonlSource
from dataflare.connectors._file_series import FilePosition
from dataflare.errors import ConfigurationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

VALUES = st.lists(st.integers(0, 10**6).map(lambda n: json.dumps({"n": n})), max_size=30)
PLAIN = {}
KEYED = {"key_field": "n"}  # line by line, not in chunks
MODES = st.sampled_from([PLAIN, KEYED])
FRESH = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def followed(path: Path | str, **params: str) -> JsonlSource:
    source = JsonlSource()
    source.configure({"path": str(path), "follow": "true", **params})
    source.connect()
    return source


def drain(source: JsonlSource, size: int = 7) -> list[str]:
    """Everything readable now, up to the first PENDING."""
    out: list[str] = []
    while True:
        read = source.read_columns_batch(size)
        if read is PENDING:
            return out
        assert not read.empty, "a followed source never ends"
        assert not read.failures, read.failures
        out += [v.decode() for v in read.batch.column("value").to_pylist()]


def cuts(data: bytes) -> st.SearchStrategy[list[bytes]]:
    """`data` split into consecutive pieces anywhere, partial lines included."""
    return st.lists(st.integers(0, len(data)), max_size=6).map(
        lambda points: [
            data[a:b]
            for a, b in zip([0, *sorted(points)], [*sorted(points), len(data)], strict=True)
        ]
    )


def fresh(tmp_path: Path) -> Path:
    """A new folder per hypothesis example (the fixture's is shared by all of them)."""
    return Path(tempfile.mkdtemp(dir=tmp_path))


def lines(values: list[str]) -> bytes:
    return "".join(v + "\n" for v in values).encode()


@FRESH
@given(data=st.data(), values=VALUES, mode=MODES)
def test_follow_reads_appended_lines_and_waits_for_a_partial_lines_end(
    tmp_path, data, values, mode
):
    path = fresh(tmp_path) / "in.jsonl"
    path.write_bytes(b"")
    source = followed(path, **mode)
    got: list[str] = []
    written = b""
    try:
        for piece in data.draw(cuts(lines(values))):
            with open(path, "ab") as file:
                file.write(piece)
            written += piece
            got += drain(source)
            # only whole lines come out: an unfinished one waits for its newline
            assert got == [v.decode() for v in written.split(b"\n")[:-1]]
        assert source.read_columns_batch(5) is PENDING
    finally:
        source.close()
    assert got == values


@FRESH
@given(data=st.data(), old=VALUES, tail=VALUES, new=VALUES, unfinished=st.booleans())
def test_rotation_by_rename_reads_the_old_file_to_its_end_then_the_new_one(
    tmp_path, data, old, tail, new, unfinished
):
    folder = fresh(tmp_path)
    path = folder / "app.jsonl"
    path.write_bytes(lines(old))
    source = followed(path)
    try:
        got = drain(source)
        os.rename(path, folder / "app.jsonl.1")
        end = lines(tail)
        if unfinished and tail:
            end = end[:-1]  # the writer left its last line without an end
        with open(folder / "app.jsonl.1", "ab") as file:  # still written after the rename
            file.write(end)
        got += drain(source)  # no new file yet: the old one goes on
        path.write_bytes(lines(new))
        got += drain(source)
    finally:
        source.close()
    assert got == old + tail + new


def test_restart_resumes_exactly_once_in_a_file_rotated_while_stopped(tmp_path):
    path = tmp_path / "app.jsonl"
    path.write_bytes(lines(["1", "2", "3"]))
    first = followed(path)
    assert first.read_columns_batch(2).batch.num_rows == 2
    saved = first.checkpoint()
    first.close()
    assert FilePosition.decode(saved, "jsonl").path == str(path)
    # while stopped: more lines, a rotation, a new file
    with open(path, "ab") as file:
        file.write(lines(["4"]))
    os.rename(path, tmp_path / "app.jsonl.1")
    path.write_bytes(lines(["5", "6"]))
    again = followed(path)
    again.restore(saved)
    try:
        assert drain(again) == ["3", "4", "5", "6"]
        resumed = FilePosition.decode(again.checkpoint(), "jsonl")
        assert (resumed.offset, resumed.line) == (path.stat().st_size, 2)
    finally:
        again.close()


def test_a_file_gone_while_stopped_is_skipped_with_a_warning(tmp_path, caplog):
    path = tmp_path / "app.jsonl"
    path.write_bytes(lines(["1", "2"]))
    first = followed(path)
    first.read_columns_batch(1)
    saved = first.checkpoint()
    first.close()
    path.unlink()
    path.write_bytes(lines(["9"]))
    again = followed(path)
    again.restore(saved)
    try:
        assert drain(again) == ["9"]
    finally:
        again.close()
    assert "is gone" in caplog.text


def test_a_file_truncated_in_place_is_read_again_from_its_start(tmp_path):
    path = tmp_path / "app.jsonl"
    path.write_bytes(lines(["1", "2"]))
    source = followed(path)
    try:
        assert drain(source) == ["1", "2"]
        path.write_bytes(lines(["7"]))  # copytruncate: same file, shorter
        assert drain(source) == ["7"]
    finally:
        source.close()


def test_follow_implies_resume_unless_resume_is_false(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_bytes(b"")
    for params, resumes in [({}, True), ({"resume": "false"}, False)]:
        source = followed(path, **params)
        assert bool(source.checkpoint()) is resumes
        source.close()


@pytest.mark.parametrize(
    ("params", "blamed"),
    [
        ({"path": "in.jsonl", "follow": "yes"}, "follow"),
        ({"path": "none-*.jsonl"}, "path"),
        ({"path": "absent.jsonl", "follow": "true"}, "path"),
    ],
)
def test_bad_follow_and_glob_parameters_blame_their_key(tmp_path, params, blamed):
    (tmp_path / "in.jsonl").write_bytes(b"")
    source = JsonlSource()
    params = {k: str(tmp_path / v) if k == "path" else v for k, v in params.items()}
    with pytest.raises(ConfigurationError) as info:
        source.configure(params)
    assert info.value.param == blamed


def read_glob(source: JsonlSource | CsvSource, size: int) -> list[bytes]:
    out: list[bytes] = []
    while True:
        read = source.read_batch(size)
        if not read.records and not read.failures:
            return out
        out += [r.value for r in read.records]


@FRESH
@given(
    data=st.data(),
    files=st.lists(VALUES, min_size=1, max_size=5),
    size=st.integers(1, 9),
    stop_after=st.integers(0, 40),
)
def test_glob_reads_in_name_order_and_resumes_in_the_file_it_names(
    tmp_path, data, files, size, stop_after
):
    folder = fresh(tmp_path)
    names = data.draw(st.permutations([f"in-{i:02}.jsonl" for i in range(len(files))]))
    for index, values in enumerate(files):
        (folder / f"in-{index:02}.jsonl").write_bytes(lines(values))
    (folder / "other.jsonl").write_bytes(lines(["not matched"]))
    assert sorted(names) == [f"in-{i:02}.jsonl" for i in range(len(files))]
    expected = [v.encode() for values in files for v in values]
    params = {"path": str(folder / "in-*.jsonl"), "resume": "true"}
    first = JsonlSource()
    first.configure(params)
    first.connect()
    got: list[bytes] = []
    while len(got) < stop_after:
        read = first.read_batch(size)
        if not read.records:
            break
        got += [r.value for r in read.records]
    saved = first.checkpoint()
    first.close()
    assert json.loads(saved)["path"].startswith(str(folder))
    again = JsonlSource()
    again.configure(params)
    again.connect()
    again.restore(saved)
    try:
        got += read_glob(again, size)
    finally:
        again.close()
    assert got == expected


def test_followed_glob_picks_up_files_that_appear_later(tmp_path):
    source = followed(tmp_path / "in-*.jsonl")  # none yet
    try:
        assert source.read_columns_batch(5) is PENDING
        (tmp_path / "in-1.jsonl").write_bytes(b'"a"\n"b"')
        assert drain(source) == ['"a"']
        (tmp_path / "in-2.jsonl").write_bytes(b'"c"\n')
        # a later file took over: the first one's unfinished line is its last
        assert drain(source) == ['"b"', '"c"']
        (tmp_path / "in-0.jsonl").write_bytes(b'"too late"\n')  # sorts before: not read
        with open(tmp_path / "in-2.jsonl", "ab") as file:
            file.write(b'"d"\n')
        assert drain(source) == ['"d"']
    finally:
        source.close()


@FRESH
@given(
    data=st.data(),
    files=st.lists(st.lists(st.integers(0, 999), max_size=8), min_size=1, max_size=4),
    size=st.integers(1, 5),
    stop_after=st.integers(0, 30),
)
def test_csv_glob_reads_in_name_order_and_resumes_in_the_file_it_names(
    tmp_path, data, files, size, stop_after
):
    folder = fresh(tmp_path)
    for index, numbers in enumerate(files):
        # a quoted cell across lines: offsets are of rows, not lines
        rows = "".join(f'{n},"x\ny"\n' for n in numbers)
        (folder / f"part-{index}.csv").write_text(f"n,s\n{rows}", encoding="utf-8")
    expected = [n for numbers in files for n in numbers]
    params = {"path": str(folder / "part-*.csv"), "resume": "true"}
    first = CsvSource()
    first.configure(params)
    first.connect()
    got: list[int] = []
    while len(got) < stop_after:
        records = first.read(size)
        if not records:
            break
        got += [json.loads(r.value)["n"] for r in records]
    saved = first.checkpoint()
    first.close()
    again = CsvSource()
    again.configure(params)
    again.connect()
    again.restore(saved)
    try:
        got += [json.loads(v)["n"] for v in read_glob(again, size)]
    finally:
        again.close()
    assert got == expected


def test_csv_errors_name_the_globbed_file_and_line(tmp_path):
    (tmp_path / "a.csv").write_text("n\n1\n", encoding="utf-8")
    (tmp_path / "b.csv").write_text("n\n2\n3,4\n", encoding="utf-8")
    source = CsvSource()
    source.configure({"path": str(tmp_path / "*.csv")})
    source.connect()
    try:
        assert [r.value for r in source.read_batch(5).records] == [b'{"n": 1}']
        second = source.read_batch(5)
    finally:
        source.close()
    assert [r.value for r in second.records] == [b'{"n": 2}']
    assert f"{tmp_path / 'b.csv'}:3:" in str(second.failures[0].error)
