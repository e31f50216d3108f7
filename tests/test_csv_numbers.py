"""Phone numbers from the CSV files spreadsheets and contact managers export
(``textdesk broadcast FILE.csv``, ``textdesk subscribers add --csv``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.api.csvnumbers import read_numbers

ANN, BO = "+15550000001", "+1 (555) 000-0002"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # The header spelled as people write it, not only as one word.
        ("Name,Phone Number\nAnn,+15550000001\nBo,+1 (555) 000-0002\n", [ANN, BO]),
        ("Name,Mobile Phone\nAnn,+15550000001\n", [ANN]),
        ("First name,Last name,Cell #\nAnn,Lee,+15550000001\n", [ANN]),
        ("name,Telephone\nAnn,+15550000001\n", [ANN]),
        # Google Contacts: "Phone 1 - Value" (after "Phone 1 - Type"); a header with a digit.
        ("Name,Given Name,Phone 1 - Type,Phone 1 - Value\nAnn Lee,Ann,Mobile,+15550000001\n"
         "Bo Day,Bo,Home,+1 (555) 000-0002\n", [ANN, BO]),
        # No header: names first, numbers second. The first row is data, not a header.
        ("Ann,+15550000001\nBo,+1 (555) 000-0002\n", [ANN, BO]),
        # European Excel saves "CSV" with semicolons (the comma is the decimal mark there).
        ("Name;Phone\nAnn;+15550000001\nBo;+1 (555) 000-0002\n", [ANN, BO]),
        ("sep=;\nName;Phone\nAnn;+15550000001\n", [ANN]),
        ("Name\tPhone\nAnn\t+15550000001\n", [ANN]),
        ("Name;Phone\nLee, Ann;+15550000001\n", [ANN]),
        # What worked before still does.
        ("+15550000001\n+1 (555) 000-0002\n", [ANN, BO]),
        ("numbers\n+15550000001\n", [ANN]),
        ("name,Mobile\nAnn,+15550000001\nBo,\n\n", [ANN]),
        ("to\n5550000001\n", ["5550000001"]),  # national numbers, for --region
        ("phone,notes\n+15550000001,\"call after 5; not Sundays\"\n", [ANN]),
        # A number too short is data (the server refuses it by name), never taken for a header.
        ("12345\n+15550000001\n", ["12345", ANN]),
    ],
    ids=["phone-number", "mobile-phone", "cell-hash", "telephone", "google-contacts", "no-header-names-first",
         "semicolons", "excel-sep-line", "tabs", "semicolons-comma-in-cell", "plain", "unnamed-header", "named",
         "national", "comma-file-semicolon-in-cell", "short-first-number"],
)
def test_numbers_are_found_in_the_files_people_export(tmp_path: Path, text: str, expected: list[str]) -> None:
    sheet = tmp_path / "list.csv"
    sheet.write_text(text, encoding="utf-8")
    assert read_numbers(sheet) == expected
