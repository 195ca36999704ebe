"""Log parsing: every supported format, translations, and malformed lines named by number."""

from __future__ import annotations

import json

import pytest

from pipeline.errors import ConfigError
from pipeline.evaluation.logs import LogEntry, LogFormatError, LogOptions, read_log, split_translation

LINE = ("DG90602601.mp4 00:02:22.205 - 00:02:41.861 BOTELLAS CON PRODUCTOS QUIMICOS EN EL LABORATORIO "
        "(BOTTLES WITH CHEMICALS IN THE LABORATORY)")


def write(tmp_path, name, text, encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_plain_line_with_translation(tmp_path):
    [entry] = read_log(write(tmp_path, "log.txt", LINE + "\n"))
    assert (entry.line, entry.video) == (1, "DG90602601.mp4")
    assert (entry.start_s, entry.end_s) == (pytest.approx(142.205), pytest.approx(161.861))
    assert entry.text == "BOTELLAS CON PRODUCTOS QUIMICOS EN EL LABORATORIO"
    assert entry.translation == "BOTTLES WITH CHEMICALS IN THE LABORATORY"


def test_plain_without_paren_translation_keeps_text(tmp_path):
    [entry] = read_log(write(tmp_path, "log.txt", LINE), LogOptions(paren_translation=False))
    assert entry.translation is None and entry.text.endswith("(BOTTLES WITH CHEMICALS IN THE LABORATORY)")


def test_plain_skips_comments_blank_lines_and_keeps_line_numbers(tmp_path):
    text = "# archive logs\n\nA B.mp4 0:00:01 - 0:00:03 UNO\nC.MOV 00:00:05,5 – 00:00:07 DOS (TWO)\n"
    first, second = read_log(write(tmp_path, "log.log", text))
    assert (first.line, first.video, first.start_s, first.end_s, first.text) == (3, "A B.mp4", 1.0, 3.0, "UNO")
    assert (second.line, second.video, second.start_s, second.translation) == (4, "C.MOV", 5.5, "TWO")


@pytest.mark.parametrize(("text", "expected"), [
    ("BOTELLAS (BOTTLES)", ("BOTELLAS", "BOTTLES")),
    ("PLAZA (MADRID) DE NOCHE (SQUARE (MADRID) AT NIGHT)", ("PLAZA (MADRID) DE NOCHE", "SQUARE (MADRID) AT NIGHT")),
    ("(ONLY PARENTHESES)", ("(ONLY PARENTHESES)", None)),
    ("NO TRANSLATION", ("NO TRANSLATION", None)),
    ("UNBALANCED)", ("UNBALANCED)", None)),
    ("EMPTY ()", ("EMPTY", None)),
])
def test_split_translation(text, expected):
    assert split_translation(text) == expected


def test_csv_with_header_in_any_order_and_seconds(tmp_path):
    text = "description,file,tc_in,tc_out,en\n\"UNO, DOS\",a.mp4,00:00:01.5,3,\"ONE, TWO\"\nTRES,b.mp4,4,5,\n"
    first, second = read_log(write(tmp_path, "log.csv", text))
    assert first == LogEntry(2, "a.mp4", 1.5, 3.0, "UNO, DOS", "ONE, TWO")
    assert second == LogEntry(3, "b.mp4", 4.0, 5.0, "TRES", None)


def test_csv_positional_without_header(tmp_path):
    [entry] = read_log(write(tmp_path, "log.csv", "a.mp4,00:00:01,00:00:02,UNO,ONE\n"))
    assert entry == LogEntry(1, "a.mp4", 1.0, 2.0, "UNO", "ONE")


def test_tsv(tmp_path):
    text = "video\tstart\tend\ttext\ttranslation\na.mp4\t00:01:00\t00:01:10.250\tMAR\tSEA\n"
    [entry] = read_log(write(tmp_path, "log.tsv", text))
    assert entry == LogEntry(2, "a.mp4", 60.0, 70.25, "MAR", "SEA")


def test_jsonl(tmp_path):
    rows = [{"video": "a.mp4", "start": "00:00:01", "end": 2.5, "text": "UNO", "translation": "ONE"},
            {"file": "b.mp4", "start": 3, "end": 4, "description": "DOS"}]
    text = "\n".join(json.dumps(r) for r in rows) + "\n"
    first, second = read_log(write(tmp_path, "log.jsonl", text))
    assert first == LogEntry(1, "a.mp4", 1.0, 2.5, "UNO", "ONE")
    assert second == LogEntry(2, "b.mp4", 3.0, 4.0, "DOS", None)


def test_format_flag_overrides_extension(tmp_path):
    [entry] = read_log(write(tmp_path, "log.txt", "a.mp4,1,2,UNO\n"), LogOptions(format="csv"))
    assert entry.video == "a.mp4"


@pytest.mark.parametrize(("name", "text", "bad_lines", "cause"), [
    ("log.txt", "a.mp4 00:00:01 - 00:00:02 OK\nrubbish line\na.mp4 00:00:05 - 00:00:03 BACKWARDS\n", [2, 3],
     "before start"),
    ("log.txt", "a.mp4 00:00:01 - 00:61:02 BAD MINUTES\n", [1], "below 60"),
    ("log.csv", "video,start,end,text\na.mp4,1,2,OK\na.mp4,x,2,BAD\nb.mp4,1,2\n", [3, 4], "not a time"),
    ("log.csv", "video,start,end,text\na.mp4,1,2,\n", [2], "empty description"),
    ("log.jsonl", '{"video": "a.mp4", "start": 1, "end": 2, "text": "OK"}\n{not json\n[1]\n', [2, 3], "not valid JSON"),
    ("log.jsonl", '{"video": "a.mp4", "start": -1, "end": 2, "text": "OK"}\n', [1], "non-negative"),
])
def test_malformed_lines_are_named(tmp_path, name, text, bad_lines, cause):
    path = write(tmp_path, name, text)
    with pytest.raises(LogFormatError) as info:
        read_log(path)
    err = info.value
    assert [n for n, _ in err.problems] == bad_lines and err.line == bad_lines[0]
    assert str(path) in str(err) and f"line {bad_lines[0]}:" in str(err) and cause in str(err)
    assert isinstance(err, ConfigError)


def test_header_without_text_column_is_an_error(tmp_path):
    with pytest.raises(LogFormatError, match="line 1: header lacks column"):
        read_log(write(tmp_path, "log.csv", "video,start,end\na.mp4,1,2\n"))


def test_windows_1252_logs_are_read(tmp_path):
    [entry] = read_log(write(tmp_path, "log.txt", "a.mp4 00:00:01 - 00:00:02 CAMIÓN EN LA ESTACIÓN\n", "cp1252"))
    assert entry.text == "CAMIÓN EN LA ESTACIÓN"


def test_empty_and_missing_files(tmp_path):
    with pytest.raises(ConfigError, match="no log entries"):
        read_log(write(tmp_path, "log.txt", "# nothing\n"))
    with pytest.raises(ConfigError, match="cannot be read"):
        read_log(tmp_path / "missing.txt")


def test_semicolon_csv_as_spanish_excel_saves_it(tmp_path):
    """Spanish Excel writes ';' between columns, a decimal comma, cp1252, and sometimes 'sep=;'."""
    text = ("vídeo;inicio;fin;descripción;traducción\r\n"
            "DG90602601.mp4;00:02:22,205;00:02:41,861;BOTELLAS CON PRODUCTOS QUÍMICOS, EN UN LABORATORIO;BOTTLES\r\n"
            "b.mp4;12,5;14;UNA CALLE;A STREET\r\n")
    first, second = read_log(write(tmp_path, "registro.csv", text, "cp1252"))
    assert first.video == "DG90602601.mp4" and (first.start_s, first.end_s) == pytest.approx((142.205, 161.861))
    assert first.text == "BOTELLAS CON PRODUCTOS QUÍMICOS, EN UN LABORATORIO" and first.translation == "BOTTLES"
    assert (second.start_s, second.end_s) == (12.5, 14.0)
    [entry] = read_log(write(tmp_path, "excel.csv", "sep=;\na.mp4;1;2;UNO, DOS\n"))
    assert entry.text == "UNO, DOS"
    [entry] = read_log(write(tmp_path, "comas.csv", "a.mp4,1.5,2,UNO; DOS\n"))  # commas still work
    assert (entry.start_s, entry.text) == (1.5, "UNO; DOS")


def test_frame_timecodes_wait_for_the_videos_frame_rate(tmp_path):
    [entry] = read_log(write(tmp_path, "log.txt", "a.mp4 00:02:22:05 - 00:02:41:24 BOTELLAS\n"))
    assert entry.needs_fps and (entry.start_s, entry.start_ff, entry.end_ff) == (142.0, 5, 24)
    pal = entry.at_fps(25.0)
    assert not pal.needs_fps and pal.start_s == pytest.approx(142.2) and pal.end_s == pytest.approx(161.96)
    assert entry.at_fps(30000 / 1001).start_s == pytest.approx(142 + 5 * 1001 / 30000)
    with pytest.raises(ValueError, match="frame 24 does not exist at 24 fps"):
        entry.at_fps(24.0)
    [drop] = read_log(write(tmp_path, "drop.txt", "a.mp4 00:00:01;29 - 00:00:02;00 NTSC\n"))  # drop-frame ';'
    assert (drop.start_s, drop.start_ff, drop.end_s, drop.end_ff) == (1.0, 29, 2.0, 0)


def test_a_lenient_read_skips_malformed_lines_and_keeps_the_rest(tmp_path):
    from pipeline.evaluation.logs import parse_log

    text = ("a.mp4 00:00:01 - 00:00:02 BIEN\nbasura\nb.mp4 00:00:05 - 00:00:03 AL REVES\n"
            "c.mp4 00:00:01:30 - 00:00:02:00 DEMASIADOS FOTOGRAMAS? NO: 30 < 120\n")
    parsed = parse_log(write(tmp_path, "log.txt", text))
    assert [e.video for e in parsed.entries] == ["a.mp4", "c.mp4"]
    assert [(p.line, p.code) for p in parsed.problems] == [(2, "plain"), (3, "end_before_start")]
    assert parsed.problems[1].params == {"start": "00:00:05", "end": "00:00:03"}
    with pytest.raises(LogFormatError) as info:  # nothing valid at all: refused, each line named
        parse_log(write(tmp_path, "bad.txt", "basura\n"))
    assert info.value.code == "log_malformed" and info.value.details[0].code == "plain"
