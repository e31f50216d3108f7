"""``textdesk faq import|export``: a real flow and real CSV files in a temporary folder, via the CLI.

Every test copies ``flows/retail.yaml`` and ``flows/media/`` into a temporary folder and
runs from there, so messages read as a content editor sees them (``faqs.csv:7: answer is
empty``). CSV files are written the way Excel writes them unless a test says otherwise:
CRLF line ends, quotes only where needed.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import threading
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.cli import main
from bot.flows import Flow, load_flow, load_flow_text
from bot.flows.faq_csv import plan_import
from bot.flows.faq_csv import read_csv as parse_csv

ROOT = Path(__file__).resolve().parent.parent
FLOW = Path("flows/retail.yaml")
CSV = Path("faqs.csv")
HEADER = ["id", "question", "alternates", "answer", "media"]
Rows = list[list[str]]


@pytest.fixture(autouse=True)
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(ROOT / "flows" / "media", tmp_path / "flows" / "media")
    shutil.copy(ROOT / "flows" / "retail.yaml", tmp_path / "flows" / "retail.yaml")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def faq(*argv: str | Path) -> int:
    return main(["faq", *(str(a) for a in argv)])


def write_csv(rows: Rows, path: Path = CSV, *, bom: bool = False, newline: str = "\r\n", delimiter: str = ",") -> None:
    out = io.StringIO()
    csv.writer(out, lineterminator=newline, delimiter=delimiter).writerows(rows)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + out.getvalue().encode("utf-8"))


def read_csv(path: Path = CSV) -> Rows:
    return list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"), newline="")))


def exported(capsys: pytest.CaptureFixture[str]) -> Rows:
    """The flow's FAQs as ``textdesk faq export -o faqs.csv`` writes them."""
    assert faq("export", "-o", CSV) == 0
    capsys.readouterr()
    return read_csv()


def row_of(rows: Rows, faq_id: str) -> list[str]:
    return next(r for r in rows if r[0] == faq_id)


def line_of(text: str, needle: str) -> int:
    return text.split("\n").index(needle) + 1


def loaded() -> Flow:
    return load_flow(FLOW)


def comments(text: str) -> list[str]:
    return [line for line in text.split("\n") if line.strip().startswith("#")]


# --- export ---------------------------------------------------------------------------------------


def test_export_writes_every_faq_to_stdout_in_file_order(capsys: pytest.CaptureFixture[str]) -> None:
    assert faq("export") == 0
    out = capsys.readouterr().out
    assert not out.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == HEADER
    assert [r[0] for r in rows[1:]] == [f.faq_id for f in loaded().faqs]
    assert row_of(rows, "shipping-cost")[:3] == [
        "shipping-cost",
        "How much is shipping?",
        "shipping cost|do you have free shipping|how much to ship|is shipping free|how much is delivery",
    ]
    assert row_of(rows, "size-guide")[4] == "size-chart.png"
    assert row_of(rows, "parking")[4] == ""


def test_export_to_a_file_is_utf8_with_bom_and_crlf_for_excel(capsys: pytest.CaptureFixture[str]) -> None:
    assert faq("export", "-o", CSV) == 0
    assert "wrote 31 FAQs to faqs.csv" in capsys.readouterr().err
    data = CSV.read_bytes()
    assert data.startswith(b"\xef\xbb\xbfid,question,alternates,answer,media\r\n")
    assert data.count(b"\r\n") == 32 and data.count(b"\n") == 32
    umask = os.umask(0)
    os.umask(umask)
    assert CSV.stat().st_mode & 0o777 == 0o666 & ~umask  # like any new file, not mkstemp's 0600


def test_export_refuses_text_the_csv_cannot_carry(capsys: pytest.CaptureFixture[str]) -> None:
    text = FLOW.read_text().replace("      - shipping cost\n", "      - shipping cost | delivery cost\n")
    FLOW.write_text(text)
    assert faq("export") == 1
    err = capsys.readouterr().err
    line = line_of(text, "  - id: shipping-cost")
    assert f"flows/retail.yaml:{line}: FAQ 'shipping-cost': alternate 'shipping cost | delivery cost' has a '|'" in err


# --- import: round trip and minimal edits ---------------------------------------------------------


@pytest.mark.parametrize("prune", [False, True])
def test_export_then_import_changes_no_byte(capsys: pytest.CaptureFixture[str], prune: bool) -> None:
    before = FLOW.read_bytes()
    exported(capsys)
    assert faq("import", CSV, *(["--prune"] if prune else [])) == 0
    out = capsys.readouterr().out
    assert "flows/retail.yaml: 0 added, 0 updated, 0 removed, 31 unchanged\n" in out
    assert "nothing to write: flows/retail.yaml already matches faqs.csv" in out
    assert FLOW.read_bytes() == before


def test_import_updates_one_answer_and_touches_no_other_line(capsys: pytest.CaptureFixture[str]) -> None:
    before = FLOW.read_text()
    FLOW.chmod(0o640)
    rows = exported(capsys)
    row_of(rows, "shipping-cost")[3] = "Shipping is free on every US order."
    write_csv(rows)
    assert faq("import", CSV) == 0
    out = capsys.readouterr().out
    assert "0 added, 1 updated, 0 removed, 30 unchanged" in out
    assert "  updated: shipping-cost\n" in out
    assert "wrote flows/retail.yaml" in out
    after = FLOW.read_text()
    changed = [(a, b) for a, b in zip(before.split("\n"), after.split("\n"), strict=True) if a != b]
    assert changed == [(
        '    answer: "Standard shipping is free on US orders over $75 and $6.95 below that. Express '
        '(2 business days) is $14.95 and overnight is $24.95."',
        '    answer: "Shipping is free on every US order."',
    )]
    shipping = loaded().faq("shipping-cost")
    assert shipping is not None and shipping.answer == "Shipping is free on every US order."
    assert FLOW.stat().st_mode & 0o777 == 0o640  # a new file, with the old one's permissions


def test_everything_outside_the_faqs_and_every_comment_survive_a_big_import(
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = FLOW.read_text()
    rows = exported(capsys)
    row_of(rows, "track-order")[2] = "where is my parcel|tracking number"  # one alternate replaced, others dropped
    row_of(rows, "size-guide")[4] = ""  # media removed
    row_of(rows, "parking")[4] = "size-chart.png"  # media added
    rows.append(["", "Do you rent tents?", "tent rental|camping gear", "Yes, from $20 a night.", ""])
    write_csv(rows)
    assert faq("import", CSV) == 0
    assert "1 added, 3 updated, 0 removed, 28 unchanged" in capsys.readouterr().out
    after = FLOW.read_text()
    head = before[: before.index("\nfaqs:\n")]
    assert after.startswith(head + "\nfaqs:\n  # Shipping and orders\n  - id: shipping-cost\n")
    assert comments(after) == comments(before)
    flow = loaded()
    assert [f.faq_id for f in flow.faqs][-2:] == ["contact-email", "do-you-rent-tents"]
    track = flow.faq("track-order")
    assert track is not None
    assert track.phrasings == ("How do I track my order?", "where is my parcel", "tracking number")
    size, parking = flow.faq("size-guide"), flow.faq("parking")
    assert size is not None and size.media == ()
    assert parking is not None and parking.media == ("size-chart.png",)
    # A new FAQ follows its neighbours: a blank line before it, the answer in double quotes.
    assert after.endswith(
        "Or reply AGENT and a person will text you back here.\"\n"
        "\n"
        "  - id: do-you-rent-tents\n"
        "    question: Do you rent tents?\n"
        "    also:\n"
        "      - tent rental\n"
        "      - camping gear\n"
        '    answer: "Yes, from $20 a night."\n'
    )


def test_words_yaml_would_read_as_booleans_or_numbers_stay_text(capsys: pytest.CaptureFixture[str]) -> None:
    tricky = ["yes", "No", "on", "OFF", "true", "null", "~", "1.5", "12:30", "2024-01-01", "0x1F"]
    write_csv([HEADER, ["2024", "y", "|".join(tricky), "no", ""]])
    assert faq("import", CSV) == 0
    text = FLOW.read_text()
    assert '  - id: "2024"\n    question: y\n    also:\n      - "yes"\n      - "No"\n' in text
    assert '    answer: "no"\n' in text
    data = yaml.safe_load(text)["faqs"][-1]  # read as YAML 1.1 does, with types
    assert data == {"id": "2024", "question": "y", "also": tricky, "answer": "no"}
    new = loaded().faq("2024")
    assert new is not None and new.phrasings == ("y", *tricky) and new.answer == "no"


def test_excel_csv_with_bom_crlf_and_quoted_commas_quotes_and_line_breaks(capsys: pytest.CaptureFixture[str]) -> None:
    answer = 'Reply with a number:\n1 Tents, "big" ones\n2 Stoves\n\n#camping'
    write_csv([HEADER, ["camping", "What camping gear do you sell?", "tents, stoves", answer, ""]], bom=True)
    assert CSV.read_bytes().startswith(b'\xef\xbb\xbfid,question,alternates,answer,media\r\ncamping,')
    assert faq("import", CSV) == 0
    assert '    answer: |\n      Reply with a number:\n      1 Tents, "big" ones\n' in FLOW.read_text()
    camping = loaded().faq("camping")
    assert camping is not None and camping.answer == answer and camping.phrasings[1:] == ("tents, stoves",)
    capsys.readouterr()
    before = FLOW.read_bytes()
    exported(capsys)
    assert faq("import", CSV) == 0
    assert FLOW.read_bytes() == before


def test_semicolon_separated_csv_from_a_european_excel(capsys: pytest.CaptureFixture[str]) -> None:
    write_csv([["question", "answer"], ["Do you sell stoves?", "Yes; in every store."]], delimiter=";", bom=True)
    assert faq("import", CSV) == 0
    stoves = loaded().faq("do-you-sell-stoves")
    assert stoves is not None and stoves.answer == "Yes; in every store."


def test_rows_without_ids_match_by_normalised_question_and_absent_columns_keep_values(
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = loaded()
    write_csv([["question", "answer"], ["HOW MUCH is shipping", "Free over $50."], ["Where is your size chart?",
               before.faqs[17].answer]])
    assert faq("import", CSV) == 0
    out = capsys.readouterr().out
    assert "0 added, 1 updated, 0 removed, 1 unchanged, 29 kept" in out
    assert "  kept (not in faqs.csv; --prune removes them): shipping-time, " in out
    after = loaded()
    shipping = after.faq("shipping-cost")
    assert shipping is not None and shipping.question == "HOW MUCH is shipping" and shipping.answer == "Free over $50."
    assert shipping.phrasings[1:] == before.faqs[0].phrasings[1:]  # no 'alternates' column: untouched
    size = after.faq("size-guide")
    assert size is not None and size.media == ("size-chart.png",)  # no 'media' column: untouched


def test_prune_removes_faqs_the_csv_does_not_list_and_keeps_the_headings(capsys: pytest.CaptureFixture[str]) -> None:
    before = FLOW.read_text()
    rows = exported(capsys)
    gone = {"damaged-item", "contact-email", "shipping-cost"}
    write_csv([r for r in rows if r[0] not in gone])
    assert faq("import", CSV) == 0
    assert "0 removed, 28 unchanged, 3 kept\n" in capsys.readouterr().out
    assert FLOW.read_bytes() == before.encode()  # without --prune, nothing to write
    assert faq("import", CSV, "--prune") == 0
    out = capsys.readouterr().out
    assert "0 added, 0 updated, 3 removed, 28 unchanged" in out
    assert "  removed: shipping-cost, damaged-item, contact-email\n" in out
    after = FLOW.read_text()
    assert comments(after) == comments(before)
    assert "faqs:\n  # Shipping and orders\n  - id: shipping-time\n" in after
    assert "a replacement or refund.\"\n\n  # Returns and money\n  - id: returns-window\n" in after
    assert after.endswith("about seasonal roles.\"\n")
    assert [f.faq_id for f in loaded().faqs] == [r[0] for r in rows[1:] if r[0] not in gone]


def test_dry_run_reports_and_writes_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    before = FLOW.read_bytes()
    write_csv([HEADER, ["tents", "Do you rent tents?", "", "Yes.", ""]])
    assert faq("import", CSV, "--dry-run") == 0
    out = capsys.readouterr().out
    assert "1 added, 0 updated, 0 removed, 0 unchanged, 31 kept" in out and "dry run" in out
    assert FLOW.read_bytes() == before


def test_an_update_keeps_the_comments_inside_the_faq(capsys: pytest.CaptureFixture[str]) -> None:
    text = FLOW.read_text().replace(
        "  - id: parking\n    question: Is there parking at the store?\n",
        "  - id: parking   # asked by the Denver store\n"
        "    # TODO: add Bend\n"
        "    question: Is there parking at the store?\n",
    )
    FLOW.write_text(text)
    rows = exported(capsys)
    row_of(rows, "parking")[3] = "Every store has free parking."
    write_csv(rows)
    assert faq("import", CSV) == 0
    after = FLOW.read_text()
    assert "  - id: parking   # asked by the Denver store\n    # TODO: add Bend\n" in after
    assert '      - do you validate parking\n    answer: "Every store has free parking."\n' in after


def test_an_faq_without_id_exports_an_empty_id_and_takes_the_one_the_sheet_gives(
    capsys: pytest.CaptureFixture[str],
) -> None:
    FLOW.write_text(FLOW.read_text().replace("  - id: parking\n    question:", "  - question:"))
    rows = exported(capsys)
    parking = next(r for r in rows if r[1] == "Is there parking at the store?")
    assert parking[0] == ""
    assert faq("import", CSV) == 0 and "31 unchanged" in capsys.readouterr().out
    parking[0] = "parking"
    write_csv(rows)
    assert faq("import", CSV) == 0
    assert "  updated: parking\n" in capsys.readouterr().out
    assert "  - id: parking\n    question: Is there parking at the store?\n" in FLOW.read_text()


def test_crlf_flow_files_keep_their_line_ends(capsys: pytest.CaptureFixture[str]) -> None:
    FLOW.write_bytes(FLOW.read_bytes().replace(b"\n", b"\r\n"))
    before = FLOW.read_bytes()
    rows = exported(capsys)
    row_of(rows, "careers")[3] = "We're hiring!"
    write_csv(rows)
    assert faq("import", CSV) == 0
    after = FLOW.read_bytes()
    assert after.count(b"\n") == after.count(b"\r\n") == before.count(b"\r\n")
    assert after.replace(b"We're hiring!", b"").count(b"careers") == 2


@pytest.mark.parametrize(
    ("faqs_part", "expected"),
    [
        ("", "    final: true\n\nfaqs:\n  - id: tents\n"),
        ("\nfaqs: []\n# the end\n", "    final: true\n\nfaqs:\n  - id: tents\n    question: Do you rent tents?\n"),
    ],
    ids=["no-section", "empty-list"],
)
def test_a_flow_without_faqs_gets_a_section(capsys: pytest.CaptureFixture[str], faqs_part: str, expected: str) -> None:
    tiny = Path("flows/tiny.yaml")
    tiny.write_text("flow: tiny\nstart: menu\nstates:\n  menu:\n    say: Hi\n    final: true\n" + faqs_part)
    write_csv([HEADER, ["tents", "Do you rent tents?", "tent rental", "Yes.", ""]])
    assert faq("import", CSV, "--flow", tiny) == 0
    text = tiny.read_text()
    assert expected in text
    assert text.endswith("# the end\n") == bool(faqs_part)
    flow = load_flow(tiny)
    assert [f.faq_id for f in flow.faqs] == ["tents"]
    assert flow.faqs[0].phrasings == ("Do you rent tents?", "tent rental")


SHOP = """\
flow: shop
start: menu
faqs:
# Orders
- id: hours
  question: When are you open?   # the top question
  also:
  - opening hours
  - "yes"
  answer: |
    Mon-Fri 9-5.
    #opening

- id: returns
  question: Can I return it?
  also: refunds
  answer: |
    Within 30 days.

# states follow
states:
  menu:
    say: Hi
    final: true
"""


def test_another_layout_is_followed_and_the_comment_before_the_next_key_stays_there(
    capsys: pytest.CaptureFixture[str],
) -> None:
    shop = Path("flows/shop.yaml")
    shop.write_text(SHOP)
    rows = [HEADER, ["hours", "When are you open?", "opening hours|yes|on", "Mon-Fri 9-5.\n#opening", ""],
            ["returns", "Can I return it?", "refunds|money back", "Within 30 days.", ""],
            ["stock", "Is it in stock?", "in stock", "Ask a store.", "size-chart.png"]]
    write_csv(rows)
    assert faq("import", CSV, "--flow", shop) == 0
    assert shop.read_text() == SHOP.replace('  - "yes"\n', '  - "yes"\n  - "on"\n').replace(
        "  also: refunds\n", "  also:\n  - refunds\n  - money back\n"
    ).replace(
        "    Within 30 days.\n\n",
        "    Within 30 days.\n\n- id: stock\n  question: Is it in stock?\n  also:\n  - in stock\n"
        "  answer: |\n    Ask a store.\n  media: [size-chart.png]\n\n",
    )
    capsys.readouterr()
    assert faq("export", "--flow", shop, "-o", CSV) == 0
    before = shop.read_bytes()
    assert faq("import", CSV, "--flow", shop) == 0
    assert shop.read_bytes() == before


@pytest.mark.parametrize(
    ("faqs_part", "message"),
    [
        ("faqs: [{id: a, question: Q, answer: A}]\n", "flows/shop.yaml:7: write 'faqs:' as a list of '- id: ...'"),
        ("faqs:\n  - id: a\n    question: Q\n    answer: *hi\n",
         "flows/shop.yaml:8: this FAQ uses a YAML alias (*name); write the text out"),
    ],
    ids=["flow-style", "alias"],
)
def test_layouts_an_import_cannot_edit_are_refused(
    capsys: pytest.CaptureFixture[str], faqs_part: str, message: str
) -> None:
    shop = Path("flows/shop.yaml")
    shop.write_text("flow: shop\nstart: menu\nstates:\n  menu:\n    say: &hi Hi\n    final: true\n" + faqs_part)
    before = shop.read_bytes()
    write_csv([HEADER, ["a", "Q", "", "New", ""]])
    assert faq("import", CSV, "--flow", shop) == 1
    assert capsys.readouterr().err.startswith(message)
    assert shop.read_bytes() == before


# Text an editor may type: YAML indicators, quotes, YAML 1.1 words, unicode, and line breaks
# (Unicode's own line separators included: YAML treats them as line breaks too).
_PIECES = st.sampled_from(
    ["yes", "no", "on", "null", "~", "1.5", "0x1F", ": ", " #", "# ", "- ", "? ", "'", '"', "\\", "{", "[", "&a",
     "*a", "!", "%", "@", "`", "|", ">", ",", "\t", "\n", "\r\n", "\x85", "\u2028", "\u2029", "\ufeff", "é",
     "🙂", "  "]
)
_TEXT = st.lists(_PIECES | st.text(st.characters(blacklist_categories=("Cs", "Cc", "Cn")), max_size=5), max_size=8)


TINY = "flow: tiny\nstart: a\nstates:\n  a:\n    say: Hi\n    final: true\nfaqs:\n  - {id: x, question: Q, answer: A}\n"


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(question=_TEXT, alternate=_TEXT, answer=_TEXT)
def test_any_text_reads_back_exactly_as_the_csv_says(question: list[str], alternate: list[str],
                                                     answer: list[str]) -> None:
    one_line = ["zq " + "".join(question).replace("\n", " ").replace("\r", " "),
                "za " + "".join(alternate).replace("\n", " ").replace("\r", " ").replace("|", " ")]
    out = io.StringIO()
    csv.writer(out).writerows([HEADER, ["new", *one_line, "".join(answer) + "!", ""]])
    rows = parse_csv(out.getvalue().encode("utf-8"), "faqs.csv")
    flow = load_flow_text(TINY, "flows/tiny.yaml", "flows/media")
    plan = plan_import(TINY, flow, rows, "faqs.csv")  # reads the result back itself; this checks again
    new = load_flow_text(plan.text, flow.path, flow.media_dir).faq("new")
    assert new is not None
    assert (new.question, new.phrasings[1:], new.answer) == (rows[0].question, rows[0].alternates, rows[0].answer)
    assert plan.text.startswith(TINY)


# --- import: bad rows are reported by row and nothing is written ----------------------------------

TENT = ["tents", "Do you rent tents?", "tent rental", "Yes, from $20 a night.", ""]


def cp1252_csv() -> bytes:
    return "question,answer\r\nDo you rent tents?,Yes.\r\nCafé?,Yes.\r\n".encode("cp1252")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ([HEADER, TENT, ["stoves", "Do you sell stoves?", "", "", ""]], ["faqs.csv:3: answer is empty"]),
        ([HEADER, ["stoves", "  ", "", "Yes.", ""]], ["faqs.csv:2: question is empty"]),
        ([["question", "anwser"], ["Q?", "A."]],
         ["faqs.csv:1: unknown column 'anwser' (did you mean 'answer'?); expected: id, question, alternates, answer, "
          "media"]),
        ([["question", "alternates"], ["Q?", "q"]],
         ["faqs.csv:1: missing column 'answer'; the header row needs at least: question, answer"]),
        (b"", ["faqs.csv:1: the file is empty; expected a header row: id,question,alternates,answer,media"]),
        (b"\xef\xbb\xbf\r\n", ["faqs.csv:1: the file is empty"]),
        ([HEADER], ["faqs.csv:2: no FAQ rows after the header"]),
        (cp1252_csv(),
         ["faqs.csv:3: the file is not UTF-8 text (byte 0xE9); save it from Excel as 'CSV UTF-8 (Comma delimited)'"]),
        ("question,answer\r\nQ?,A.\r\n".encode("utf-16"), ["faqs.csv:1: the file is UTF-16 text;"]),
        (b'question,answer\r\nQ?,A.\r\n"Tents" please,A.\r\n', ["faqs.csv:3: malformed CSV: "]),
        ([HEADER, TENT, ["stoves", "Do you sell stoves?", "", "Yes.", ""], [*TENT[:1], "Tents?", "", "Yes.", ""]],
         ["faqs.csv:4: id 'tents' is also used by row 2"]),
        ([HEADER, TENT, ["", "do you rent TENTS", "", "Yes.", ""]],
         ["faqs.csv:3: question 'do you rent TENTS' is also a question or alternate of row 2"]),
        ([HEADER, TENT, ["stoves", "Do you sell stoves?", "Tent rental!", "Yes.", ""]],
         ["faqs.csv:3: alternate 'Tent rental!' is also a question or alternate of row 2"]),
        ([HEADER, ["tents", "Do you rent tents?", "Shipping cost?", "Yes.", ""]],
         ["faqs.csv:2: alternate 'Shipping cost?' is also a question or alternate of FAQ 'shipping-cost' "
          "(flows/retail.yaml:{shipping_cost}), which the CSV does not list; change one of them, or remove "
          "that FAQ with --prune"]),
        ([HEADER, ["tents", "Do you rent tents?", "tent rental|do you rent tents", "Yes.", ""]],
         ["faqs.csv:2: alternate 'do you rent tents' repeats the question"]),
        ([HEADER, ["big tents", "Do you rent tents?", "", "Yes.", ""]],
         ["faqs.csv:2: id 'big tents' should use only letters, digits, '_' and '-'"]),
        ([["question", "answer"], ["Do you rent tents?", "Yes", " from $20", ""]],
         ["faqs.csv:2: the row has 4 cells but the header has 2; is a comma missing its quotes?"]),
        ([HEADER, [*TENT[:4], "tent.png"]], ["faqs.csv:2: media file 'tent.png' not found in "]),
        ([HEADER, ["shipping-cost", "How much is shipping?", "", "Free.", ""],
          ["", "HOW MUCH IS SHIPPING", "", "$5", ""]],
         ["faqs.csv:3: updates the same FAQ 'shipping-cost' as row 2"]),
        ([HEADER, ["", "", "", "", ""], ["a b", "Q?\nreally?", "x|X!", "", ""], TENT],
         ["faqs.csv:3: id 'a b' should use only", "faqs.csv:3: question has a line break",
          "faqs.csv:3: alternate 'X!' repeats alternate 'x'", "faqs.csv:3: answer is empty"]),
    ],
    ids=[
        "answer-empty", "question-empty", "unknown-column", "missing-column", "empty-file", "blank-file",
        "header-only", "cp1252", "utf16", "malformed", "duplicate-id", "duplicate-question",
        "alternate-of-another-row", "alternate-of-a-kept-faq", "alternate-repeats-question", "bad-id",
        "too-many-cells", "missing-media", "two-rows-one-faq", "several-at-once",
    ],
)
def test_bad_rows_are_reported_by_row_and_nothing_is_written(
    capsys: pytest.CaptureFixture[str], content: Rows | bytes, expected: list[str]
) -> None:
    if isinstance(content, bytes):
        CSV.write_bytes(content)
    else:
        write_csv(content)
    before = FLOW.read_bytes()
    assert faq("import", CSV) == 1
    out, err = capsys.readouterr()
    lines = err.splitlines()
    assert len(lines) == len(expected) + 1, err
    shipping_cost = line_of(before.decode(), "  - id: shipping-cost")
    for line, start in zip(lines, expected, strict=False):
        assert line.startswith(start.replace("{shipping_cost}", str(shipping_cost))), err
    problems = f"{len(expected)} problem" + ("s" if len(expected) > 1 else "")
    assert lines[-1] == f"textdesk faq import: {problems}; nothing was written."
    assert out == ""
    assert FLOW.read_bytes() == before
    assert sorted(p.name for p in Path("flows").iterdir()) == ["media", "retail.yaml"]


# --- the command line -----------------------------------------------------------------------------


def test_a_crash_while_writing_leaves_the_old_file_whole(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    before = FLOW.read_bytes()
    write_csv([HEADER, TENT])

    def crash(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", crash)
    assert faq("import", CSV) == 1
    assert "No space left on device" in capsys.readouterr().err
    assert FLOW.read_bytes() == before
    assert sorted(p.name for p in Path("flows").iterdir()) == ["media", "retail.yaml"]


def test_a_flow_with_errors_is_not_touched(capsys: pytest.CaptureFixture[str]) -> None:
    FLOW.write_text(FLOW.read_text().replace("    go: agent\n", "    go: agnet\n", 1))
    before = FLOW.read_bytes()
    write_csv([HEADER, TENT])
    assert faq("import", CSV) == 1
    err = capsys.readouterr().err
    assert "flows/retail.yaml:" in err and "state 'agnet' does not exist (did you mean 'agent'?)" in err
    assert "the flow has errors; fix them first. Nothing was written." in err
    assert FLOW.read_bytes() == before


def test_the_default_flow_is_used_and_ambiguity_needs_flow(capsys: pytest.CaptureFixture[str]) -> None:
    other = Path("flows/other.yaml")
    other.write_text("flow: other\nstart: a\nstates:\n  a:\n    say: Hi\n    final: true\n")
    write_csv([HEADER, TENT])
    assert faq("import", CSV, "--dry-run") == 0  # retail says 'default: true'
    assert capsys.readouterr().out.startswith("flows/retail.yaml: 1 added")
    other.write_text("default: true\n" + other.read_text())
    assert faq("import", CSV) == 2
    err = capsys.readouterr().err
    assert err.startswith("textdesk faq import: error: cannot tell which of other.yaml, retail.yaml is the default")
    assert err.rstrip().endswith("name the flow file with --flow")
    assert faq("import", CSV, "--flow", other) == 0
    assert [f.faq_id for f in load_flow(other).faqs] == ["tents"]


def test_bad_arguments_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert faq("import", "nowhere.csv") == 2
    assert capsys.readouterr().err == "textdesk faq import: error: nowhere.csv: no such file\n"
    assert faq("export", "--flow", "flows/nowhere.yaml") == 2
    assert "flows/nowhere.yaml: no such flow file" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        faq()
    assert exc.value.code == 2


def test_new_ids_for_questions_without_letters_or_digits_are_found() -> None:
    # "?" and "!" both give the id "faq"; numbering it ("faq-2", ...) would take
    # the loader's names for FAQs without an id, and once looped for ever.
    rows = parse_csv(b"question,answer\r\n?,A\r\n!,B\r\n", "faqs.csv")
    flow = load_flow_text(TINY, "flows/tiny.yaml", "flows/media")
    planned: list[str] = []
    worker = threading.Thread(target=lambda: planned.append(plan_import(TINY, flow, rows, "faqs.csv").text),
                              daemon=True)
    worker.start()
    worker.join(timeout=30)  # a guard against the old endless loop, not a timing
    assert not worker.is_alive(), "plan_import did not return"
    ids = [faq.faq_id for faq in load_flow_text(planned[0], flow.path, flow.media_dir).faqs]
    assert ids == ["x", "faq-question", "faq-question-2"]
