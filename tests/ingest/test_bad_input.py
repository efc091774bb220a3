"""Bad input never stops ingestion; every line is counted; --strict names file:line."""

import pytest

from analyzer import formats
from analyzer.api import analyze, load_events
from analyzer.errors import BadLineError, InputError, UnknownFormatError
from tests.conftest import FIXTURES

BAD = FIXTURES / "bad"


def test_malformed_lines_are_rejected_with_reasons_and_the_rest_parsed():
    events, (t,) = load_events([BAD / "malformed.jsonl"])
    assert t.format == "workhorse_json"
    assert (t.lines, t.events, t.rejected, t.skipped) == (8, 3, 4, 1)
    reasons = dict(t.reject_examples)
    assert reasons[2] == "not a JSON object"
    assert reasons[3] == "not a JSON object"
    assert reasons[5] == "timestamp missing or unreadable"
    assert reasons[7] == "malformed JSON"
    # A value of an unexpected type does not lose the line (status of line 6 is an object).
    assert sorted(events["line"].to_list()) == [1, 6, 8]


def test_truncated_last_line_is_rejected():
    _, (t,) = load_events([BAD / "truncated.json"])
    assert (t.lines, t.events, t.rejected) == (4, 3, 1)
    assert t.reject_examples == ((4, "malformed JSON"),)


def test_empty_binary_unknown_files_do_not_stop_the_others():
    result = analyze([BAD / "empty.log", BAD / "binary.bin", BAD / "unknown.txt", BAD / "crlf.log"])
    by_name = {t.path.rsplit("/", 1)[1]: t for t in result.inputs}
    assert by_name["empty.log"].format == "empty" and by_name["empty.log"].lines == 0
    assert by_name["binary.bin"].format == "unknown"
    assert "binary data" in by_name["binary.bin"].notes[-1]
    unknown = by_name["unknown.txt"]
    assert (unknown.format, unknown.lines, unknown.rejected, unknown.skipped) == (
        "unknown",
        4,
        3,
        1,
    )
    tried = unknown.notes[-1].split("tried: ")[1].split(". ")[0].split(", ")
    assert set(tried) == {s.name for s in formats.builtin() if s.standalone}
    assert by_name["crlf.log"].events == 3 and by_name["crlf.log"].rejected == 0
    assert all(t.reconciles for t in result.inputs)


def test_invalid_utf8_line_is_kept_with_replacement():
    events, (t,) = load_events([BAD / "invalid_utf8.log"], year=2024)
    assert t.reconciles and t.events == 3
    assert any("robust parser" in n and "utf8" in n.lower() for n in t.notes)
    assert "\ufffd" in events.filter(events["line"] == 2)["detail"].item()


def test_strict_raises_on_first_rejected_line_with_file_and_line():
    with pytest.raises(BadLineError) as err:
        load_events([BAD / "malformed.jsonl"], strict=True)
    assert err.value.line == 2
    assert str(err.value).startswith(f"{BAD / 'malformed.jsonl'}:2: not a JSON object")
    assert "this is not json" in str(err.value)


def test_strict_unknown_format_names_file_and_formats_tried():
    with pytest.raises(UnknownFormatError, match=r"unknown.txt: no known log format; tried: "):
        load_events([BAD / "unknown.txt"], strict=True)


def test_gzip_and_directories(tmp_path):
    import gzip
    import shutil

    sub = tmp_path / "nested" / "deeper"
    sub.mkdir(parents=True)
    with (
        (FIXTURES / "workhorse_json" / "current.log").open("rb") as src,
        gzip.open(sub / "wh.log.gz", "wb") as dst,
    ):
        shutil.copyfileobj(src, dst)
    events, (t,) = load_events([tmp_path])
    assert t.format == "workhorse_json" and t.events == 7


def test_truncated_gzip_keeps_what_decompresses(tmp_path):
    import gzip

    data = gzip.compress((FIXTURES / "workhorse_json" / "current.log").read_bytes() * 50)
    path = tmp_path / "cut.log.gz"
    path.write_bytes(data[: len(data) // 2])
    events, (t,) = load_events([path])
    assert t.reconciles and t.events > 0


def test_glob_characters_in_a_file_name_are_literal(write):
    # polars scans treat [ ] * ? as a pattern by default: the file would read as empty.
    path = write("logs [prod] *.log", '{"time":"2024-05-07T11:59:40Z","level":"info","msg":"a"}\n')
    events, (t,) = load_events([path])
    assert (t.lines, t.events) == (1, 1)
    assert events["file"].to_list() == [str(path)]


def test_a_byte_order_mark_and_crlf_are_not_part_of_the_line(write):
    path = write("bom.log", '\ufeff{"time":"2024-05-07T11:59:40Z","level":"info","msg":"a"}\r\n')
    events, (t,) = load_events([path])
    assert (t.format, t.events, t.rejected) == ("generic_json", 1, 0)
    assert events["raw"].to_list() == ['{"time":"2024-05-07T11:59:40Z","level":"info","msg":"a"}']


def test_absurdly_nested_json_is_one_rejected_line(write):
    good = '{"time":"2024-05-07T11:59:40Z","level":"info","msg":"a"}'
    path = write("deep.log", f"{good}\n{'[' * 100_000}{']' * 100_000}\n{good}\n")
    _, (t,) = load_events([path])
    assert (t.lines, t.events, t.rejected) == (3, 2, 1)


def test_json_that_only_shares_a_products_shape_is_generic(write):
    # `time` + `level` fit the Workhorse and Pages specs too; without their markers: generic.
    path = write("app.log", '{"time":"2024-05-07T11:59:40Z","level":"info","msg":"a"}\n')
    _, (t,) = load_events([path])
    assert t.format == "generic_json"


def test_an_unreadable_file_is_noted_and_the_rest_is_read():
    # /proc/self/mem is a regular file whose read fails with EIO (as root, chmod 000 would not).
    events, tallies = load_events(["/proc/self/mem", FIXTURES / "generic_json" / "app.log"])
    by_format = {t.format: t for t in tallies}
    assert "cannot read" in by_format["unreadable"].notes[0]
    assert by_format["generic_json"].events == events.height == 3
    with pytest.raises(InputError, match=r"/proc/self/mem: cannot read"):
        load_events(["/proc/self/mem"], strict=True)


def test_a_lone_surrogate_escape_does_not_stop_the_run(write):
    good = '{"time":"2024-05-07T11:59:40Z","level":"info","msg":"a"}'
    lone = '{"time":"2024-05-07T11:59:41Z","level":"info","msg":"\\udfff"}'
    path = write("surrogate.log", f"{good}\n{lone}\nnot json\n")
    events, (t,) = load_events([path])
    assert (t.lines, t.events, t.rejected) == (3, 2, 1)
    assert events.sort("line")["message"][1] == "?"


def test_damaged_gzip_keeps_what_decompresses(tmp_path):
    import gzip

    lines = "".join(
        f'{{"time":"2024-05-07T11:{i // 60:02d}:{i % 60:02d}Z","level":"info","msg":"m{i}"}}\n'
        for i in range(3000)
    )
    packed = gzip.compress(lines.encode(), compresslevel=1)
    (tmp_path / "cut.log.gz").write_bytes(packed[: len(packed) // 2])
    (tmp_path / "magic.log").write_bytes(b"\x1f\x8b not gzip at all")
    _, tallies = load_events([tmp_path])
    by_name = {t.path.rsplit("/", 1)[1]: t for t in tallies}
    cut = by_name["cut.log.gz"]
    assert 500 < cut.events < 3000 and cut.rejected <= 1 and cut.reconciles
    assert by_name["magic.log"].format == "empty" and "gzip" in by_name["magic.log"].notes[0]


def test_a_file_name_that_is_not_utf8_is_noted(tmp_path):
    import os

    (tmp_path / "ok.log").write_text('{"time":"2024-05-07T11:59:40Z","level":"info","msg":"a"}\n')
    with open(os.path.join(os.fsencode(tmp_path), b"bad\xffname.log"), "wb") as fh:
        fh.write(b"x\n")
    events, tallies = load_events([tmp_path])
    assert events.height == 1
    assert any("not valid UTF-8" in n for t in tallies for n in t.notes)


def test_a_time_outside_the_plausible_range_is_rejected_not_wrapped(write):
    lines = [
        '{"time":"2024-05-07T11:59:40Z","level":"info","msg":"a"}',
        '{"time":"9999-12-31T23:59:59Z","level":"info","msg":"b"}',  # would wrap to 1816
        '{"time":"1970-01-01T00:00:00Z","level":"info","msg":"c"}',
    ]
    events, (t,) = load_events([write("app.log", "\n".join(lines) + "\n")])
    assert (t.events, t.rejected) == (1, 2)
    assert dict(t.reject_examples)[2].startswith("timestamp out of range")
