"""The flow registry: a real folder of flow files, which flow answers which business number.

Every test builds ``flows/`` in a temporary folder (with a real PNG in ``flows/media/``)
and runs from there, so findings read as in a deploy log: ``flows/shop.yaml:1:1: ...``.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest

from bot.flows import FlowLoadError, FlowSet, flow_files, load_flows
from bot.flows.lint import lint_flow_set
from bot.reload import snapshot

ROOT = Path(__file__).resolve().parent.parent


def png_bytes() -> bytes:
    """A real 1x1 RGB PNG."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
        + chunk(b"IEND", b"")
    )


@pytest.fixture(autouse=True)
def flows_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "flows" / "media").mkdir(parents=True)
    (tmp_path / "flows" / "media" / "logo.png").write_bytes(png_bytes())
    return tmp_path / "flows"


def flow(name: str | None = None, default: bool | None = None, numbers: tuple[str, ...] = (), say: str = "Hi") -> str:
    """A valid one-state flow; the first line is ``flow:`` (or ``start:`` without a name)."""
    lines = []
    if name is not None:
        lines.append(f"flow: {name}")
    lines.append("start: menu")
    if default is not None:
        lines.append(f"default: {'true' if default else 'false'}")
    if numbers:
        lines.append("numbers: [" + ", ".join(f'"{n}"' for n in numbers) + "]")
    lines += ["states:", "  menu:", f"    say: {say}", "    media: [logo.png]", "    final: true"]
    return "\n".join(lines) + "\n"


def put(name: str, text: str) -> Path:
    path = Path("flows") / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def rejected(folder: str = "flows") -> list[str]:
    with pytest.raises(FlowLoadError) as info:
        load_flows(folder)
    lines = [str(f) for f in info.value.findings]
    assert str(info.value) == "\n".join(lines)
    return lines


# --- routing ----------------------------------------------------------------------------------


def test_several_flows_one_default_and_routing_by_number() -> None:
    put("retail.yaml", flow("retail", default=True, numbers=("+15555550100",), say="Retail here"))
    put("repairs.yaml", flow("repairs", numbers=("+15555550101", "+15555550102"), say="Repairs here"))
    put("rentals.yml", flow("rentals", default=False, numbers=("+1 555-555-0103",), say="Rentals here"))

    flows = load_flows("flows")

    assert isinstance(flows, FlowSet)
    assert sorted(flows.flows) == ["rentals", "repairs", "retail"]
    assert flows.default.name == "retail"
    assert {number: f.name for number, f in flows.by_number.items()} == {
        "+15555550100": "retail",
        "+15555550101": "repairs",
        "+15555550102": "repairs",
        "+15555550103": "rentals",
    }
    assert flows.for_number("+15555550100").name == "retail"
    assert flows.for_number("+15555550101").name == "repairs"
    assert flows.for_number("+15555550102").name == "repairs"
    assert flows.for_number("+15555550103").name == "rentals"
    assert flows.for_number("+15555559999").name == "retail"  # nobody lists it: the default
    assert flows.for_number("").name == "retail"
    assert flows.for_number("+15555550103").states["menu"].say == "Rentals here"
    assert [f.name for f in flows] == ["rentals", "repairs", "retail"]  # file order: rentals.yml, repairs, retail
    assert flows.warnings == ()
    assert flows.flows["repairs"].path == "flows/repairs.yaml"
    assert flows.flows["repairs"].states["menu"].media == ("logo.png",)


def test_single_flow_is_the_default_without_saying_so() -> None:
    put("shop.yaml", flow("shop", numbers=("+15555550100",)))
    flows = load_flows("flows")
    assert list(flows.flows) == ["shop"]
    assert flows.default.name == "shop"
    assert flows.default.default is False  # as written; the registry makes it the default
    assert flows.for_number("+15555550100").name == "shop"
    assert flows.for_number("+15555550199").name == "shop"


def test_single_flow_saying_default_false_is_still_the_default() -> None:
    put("shop.yaml", flow("shop", default=False))
    assert load_flows("flows").default.name == "shop"


def test_flow_name_defaults_to_the_file_name() -> None:
    put("bike-shop.yaml", flow(None, default=True))
    put("cafe.yaml", flow("espresso-bar"))
    flows = load_flows("flows")
    assert sorted(flows.flows) == ["bike-shop", "espresso-bar"]
    assert flows.default.name == "bike-shop"


def test_bundled_flows_folder_loads() -> None:
    flows = load_flows(ROOT / "flows")
    assert list(flows.flows) == ["retail"]
    assert flows.default.name == "retail"
    assert flows.for_number("+15555550100").name == "retail"
    assert flows.by_number == {"+15555550100": flows.flows["retail"]}
    assert len(flows.default.faqs) == 31


# --- folder rules -----------------------------------------------------------------------------


def test_two_defaults_is_an_error() -> None:
    put("a.yaml", flow("alpha", default=True))
    put("b.yaml", flow("beta", default=True))
    put("c.yaml", flow("gamma"))
    assert rejected() == ["flows:1:1: error: exactly one flow must say 'default: true' (found: alpha, beta)"]


def test_zero_defaults_with_two_flows_is_an_error() -> None:
    put("a.yaml", flow("alpha", numbers=("+15555550100",)))
    put("b.yaml", flow("beta", default=False, numbers=("+15555550101",)))
    assert rejected() == ["flows:1:1: error: exactly one flow must say 'default: true' (found: none)"]


def test_a_number_claimed_by_two_flows_is_an_error() -> None:
    put("a.yaml", flow("alpha", default=True, numbers=("+15555550100", "+15555550101")))
    put("b.yaml", flow("beta", numbers=("+15555550102", "+1 555 555 0101")))
    assert rejected() == [
        "flows/b.yaml:1:1: error: number +15555550101 is also answered by flow 'alpha'; a number belongs to one flow"
    ]


def test_duplicate_flow_names_are_an_error() -> None:
    put("a.yaml", "# the shop\n" + flow("shop", default=True))
    put("b.yaml", "# the other shop\n" + flow("shop"))
    assert rejected() == ["flows/b.yaml:2:1: error: flow name 'shop' is also used by flows/a.yaml"]


def test_same_name_from_file_names_is_a_duplicate() -> None:
    put("shop.yaml", flow(None, default=True))
    put("shop.yml", flow(None))
    assert rejected() == ["flows/shop.yml:1:1: error: flow name 'shop' is also used by flows/shop.yaml"]


def test_every_folder_problem_is_reported_at_once() -> None:
    put("a.yaml", flow("shop", numbers=("+15555550100",)))
    put("b.yaml", flow("shop"))
    put("c.yaml", flow("cafe", numbers=("+15555550100",)))
    # Sorted by file, line, column: the folder's own finding ("flows") comes first.
    assert rejected() == [
        "flows:1:1: error: exactly one flow must say 'default: true' (found: none)",
        "flows/b.yaml:1:1: error: flow name 'shop' is also used by flows/a.yaml",
        "flows/c.yaml:1:1: error: number +15555550100 is also answered by flow 'shop'; a number belongs to one flow",
    ]


# --- which files count ---------------------------------------------------------------------------


def test_subfolders_and_other_files_are_ignored() -> None:
    put("shop.yaml", flow("shop"))
    put("tests/shop_test.yaml", "this: [is not a flow\n")  # broken, but not a flow: never read
    put("media/notes.yaml", "- nor is this\n")
    put("drafts/next.yaml", flow("next", default=True))
    put("README.md", "# Writing flows\n")
    put("shop.yaml.bak", "broken: [\n")
    put("notes.txt", "not yaml\n")
    (Path("flows") / "folder.yaml").mkdir()

    assert flow_files("flows") == [Path("flows/shop.yaml")]
    flows = load_flows("flows")
    assert list(flows.flows) == ["shop"]
    assert flows.default.name == "shop"


# What macOS, editors and sync tools leave beside a file: never flows. The
# AppleDouble file is binary (not UTF-8), so reading it would reject the folder.
LITTER = {
    "._shop.yaml": b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        \xff\xfe",
    ".#shop.yaml": b"user@host.1234:1700000000",  # Emacs lock
    ".shop.yaml": b"broken: [\n",  # hidden
    "shop.yaml~": b"broken: [\n",  # Emacs and gedit backup
    "#shop.yaml#": b"broken: [\n",  # Emacs auto-save
    "~$shop.yaml": b"broken: [\n",  # office-suite lock
}


def test_hidden_and_editor_files_are_not_flows() -> None:
    put("shop.yaml", flow("shop"))
    for name, data in LITTER.items():
        (Path("flows") / name).write_bytes(data)
    assert flow_files("flows") == [Path("flows/shop.yaml")]
    assert list(load_flows("flows").flows) == ["shop"]
    assert lint_flow_set("flows") == []


def test_flow_files_are_sorted_yaml_and_yml() -> None:
    for name in ("b.yml", "a.yaml", "c.yaml"):
        put(name, flow(name.split(".")[0]))
    assert flow_files("flows") == [Path("flows/a.yaml"), Path("flows/b.yml"), Path("flows/c.yaml")]


def test_uppercase_extensions_are_flows_for_loading_lint_and_reload() -> None:
    # Windows and some exporters save 'Shop.YAML': once silently skipped, so a
    # deploy served the other flows and nobody learnt why this one was missing.
    put("Shop.YAML", flow(default=True, numbers=("+15555550100",)))
    put("deals.Yml", flow("deals", numbers=("+15555550101",), say="Hi {x}"))
    assert flow_files("flows") == [Path("flows/Shop.YAML"), Path("flows/deals.Yml")]
    assert [f"{f.pos.file}: {f.message}" for f in lint_flow_set("flows")] == [
        "flows/deals.Yml: '{x}' in the 'say' of state 'menu' is never set: no pattern in this flow has a group "
        "(?P<x>...)"
        " and 'variables:' does not declare it (declare it when the API gives it)"
    ]
    put("deals.Yml", flow("deals", numbers=("+15555550101",)))
    flows = load_flows("flows")
    assert sorted(flows.flows) == ["Shop", "deals"]  # named after the file, without its extension
    assert str(Path("flows/deals.Yml")) in snapshot(Path("flows"))  # an edit to it hot-reloads


def test_one_broken_file_rejects_the_whole_folder() -> None:
    put("a.yaml", flow("alpha", default=True, numbers=("+15555550100",)))
    put("b.yaml", flow("beta", numbers=("+15555550101",)).replace("start: menu", "start: mneu"))
    put("c.yaml", flow("gamma", numbers=("+15555550102",)))
    assert rejected() == ["flows/b.yaml:2:8: error: start state 'mneu' does not exist (did you mean 'menu'?)"]


def test_findings_of_every_broken_file_are_reported_together() -> None:
    media = (Path("flows") / "media").resolve()
    put("a.yaml", flow("alpha", default=True).replace("logo.png", "logo.jpg"))
    put("b.yaml", flow("beta", numbers=("555-0101",)))
    put("c.yaml", flow("gamma"))
    put("d.yaml", "flow: delta\nstart: menu\nstates:\n  menu:\n    say: Hi\n\tfinal: true\n")
    assert rejected() == [
        f"flows/a.yaml:7:13: error: media file 'logo.jpg' not found in {media} (did you mean 'logo.png'?)",
        "flows/b.yaml:3:11: error: '555-0101' is not a phone number in E.164 form like +15555550100",
        "flows/d.yaml:6:1: error: YAML syntax error: while scanning for the next token, "
        "found character '\\t' that cannot start any token (a tab: YAML takes spaces, not tabs; use spaces)",
    ]


def test_a_broken_file_does_not_hide_folder_rules() -> None:
    # The broken file's findings come with those about the files that did load.
    put("a.yaml", flow("alpha", default=True))
    put("b.yaml", flow("beta", default=True))
    put("c.yaml", "flow: gamma\n")
    assert rejected() == [
        "flows:1:1: error: exactly one flow must say 'default: true' (found: alpha, beta)",
        "flows/c.yaml:1:1: error: the flow has no 'start'; expected the name of the first state",
        "flows/c.yaml:1:1: error: the flow has no 'states'; expected at least the start state",
    ]


def test_folder_rules_are_not_judged_on_a_file_that_could_not_be_read() -> None:
    # c.yaml may well be the default: with it unreadable, "no flow says default"
    # would be a second error that fixing the first makes go away.
    put("a.yaml", flow("alpha", numbers=("+15555550100",)))
    put("b.yaml", flow("beta", numbers=("+15555550101",)))
    put("c.yaml", flow("gamma", default=True).replace("start: menu", "start: [menu"))
    put("d.yaml", flow("delta", numbers=("+15555550101",)).replace("say: Hi", "say: [Hi]"))
    assert rejected() == [
        "flows/c.yaml:3:8: error: YAML syntax error: while parsing a flow sequence started at line 2, column 8, "
        "expected ',' or ']', but got ':'",
        "flows/d.yaml:1:1: error: number +15555550101 is also answered by flow 'beta'; a number belongs to one flow",
        "flows/d.yaml:6:10: error: 'say' of state 'menu' should be text, got a list",
    ]


def test_not_utf8_file_rejects_the_folder() -> None:
    put("a.yaml", flow("alpha"))
    (Path("flows") / "b.yaml").write_bytes("flow: caf\xe9\n".encode("latin-1"))
    assert rejected() == ["flows/b.yaml:1:10: error: file is not UTF-8 text (byte 9); save it as UTF-8"]


def test_missing_folder() -> None:
    assert rejected("nowhere") == ["nowhere:1:1: error: flows folder not found; expected a directory"]


def test_folder_without_flows() -> None:
    put("tests/shop_test.yaml", flow("shop"))
    assert rejected() == ["flows:1:1: error: no flow files (*.yaml) in the flows folder"]


def test_media_folder_can_be_given(tmp_path: Path) -> None:
    shared = tmp_path / "shared-media"
    shared.mkdir()
    (shared / "banner.png").write_bytes(png_bytes())
    put("shop.yaml", flow("shop").replace("logo.png", "banner.png"))
    flows = load_flows("flows", media_dir=shared)
    assert flows.default.media_dir == str(shared)
    assert flows.default.states["menu"].media == ("banner.png",)
    media = (Path("flows") / "media").resolve()
    assert rejected() == [f"flows/shop.yaml:6:13: error: media file 'banner.png' not found in {media}"]
