"""``textdesk graph`` on flows too big for Mermaid's defaults: the diagram, and a warning why it may not draw.

Mermaid refuses a diagram of more than 500 edges or 50,000 characters (UTF-16
units) unless the viewer raises ``maxEdges``/``maxTextSize``, which a diagram's
own directive cannot (they are "secure" settings): the viewer shows "Edge limit
exceeded" or "Maximum text size in diagram exceeded" instead of the flow. DOT
has no such limits.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "flows").mkdir()
    return tmp_path


def chain(states: int, faqs: int = 0, question: str = "a question") -> None:
    """A flow of ``states`` states in a ring, one route each: ``states + 1`` edges with the start arrow."""
    lines = ["flow: big", "start: s0", "states:"]
    for i in range(states):
        lines += [f"  s{i}:", f"    say: state {i}", "    choices:", f'      - keywords: ["next{i}"]',
                  f"        go: s{(i + 1) % states}"]
    if faqs:
        lines.append("faqs:")
        for i in range(faqs):
            lines += [f"  - id: f{i}", f"    question: {question} {i}", f"    answer: answer {i}"]
    Path("flows/big.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_a_flow_of_500_edges_draws_without_a_word(capsys: pytest.CaptureFixture[str]) -> None:
    chain(499)
    assert main(["graph"]) == 0
    out, err = capsys.readouterr()
    assert out.count("-->") == 500
    assert err == ""


def test_more_edges_than_mermaid_draws_is_said_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    chain(500)
    assert main(["graph"]) == 0
    out, err = capsys.readouterr()
    assert out.count("-->") == 501  # the diagram is still printed whole
    assert err == (
        "textdesk graph: warning: this diagram has 501 edges; Mermaid draws at most 500 by default (its "
        "maxEdges setting), so most viewers show an error instead: use --format dot for a flow this size\n"
    )
    assert main(["graph", "--format", "dot"]) == 0
    assert capsys.readouterr().err == ""


def test_more_text_than_mermaid_draws_is_said_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    # Counted as JavaScript counts: an emoji is two units.
    chain(2, faqs=400, question="🚲" * 60)
    assert main(["graph"]) == 0
    out, err = capsys.readouterr()
    units = len(out.encode("utf-16-le")) // 2
    assert units > 50_000 and len(out) < 50_000
    assert err == (
        f"textdesk graph: warning: this diagram is {units:,} characters long; Mermaid draws at most 50,000 by "
        "default (its maxTextSize setting), so most viewers show an error instead: use --format dot for a flow "
        "this size\n"
    )
