"""``textdesk faq export -o`` names the bad output path itself, not the temporary file beside it."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from tests.conftest import FLOWS


@pytest.mark.parametrize(("output", "message"), [
    ("", "--output should name the CSV file to write, got ''"),
    ("{tmp}", "--output should name the CSV file to write, got '{tmp}'"),
    ("{tmp}/nowhere/faqs.csv", "--output {tmp}/nowhere/faqs.csv: no folder '{tmp}/nowhere' to write it in"),
])
def test_output_that_cannot_be_written(output: str, message: str, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    output = output.format(tmp=tmp_path)
    assert main(["faq", "export", "--flow", str(FLOWS / "retail.yaml"), "-o", output]) == 2
    err = capsys.readouterr().err
    assert err == f"textdesk faq export: error: {message.format(tmp=tmp_path)}\n"
    assert ".tmp" not in err.replace(str(tmp_path), "")
