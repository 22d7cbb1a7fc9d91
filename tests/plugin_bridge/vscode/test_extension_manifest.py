"""The extension's commands as VS Code sees them: package.json declares what the palette offers,
src/ registers what runs. A command declared but not registered is "command not found" in the
palette; one registered but not declared cannot be found there at all. Both are silent in the
code-server test unless it happens to run that command, so they are checked here from the source.
"""

from __future__ import annotations

import json
import re

from tests.support.live_server import ROOT

EXTENSION = ROOT / "plugin_bridge" / "vscode"
# The learner's commands, as the exam's instructions name them.
PALETTE = {
    "tfexam.submitAndTest": "Submit and Test",
    "tfexam.finish": "Finish exam",
    "tfexam.openExamPage": "Open exam page",
    "tfexam.openReport": "Open report",
    "tfexam.reconnect": "Reconnect to the service",
}
# A string literal (kept: "**/*.h5" is no comment) or a comment (dropped), whichever starts first.
COMMENT_OR_STRING = re.compile(
    r'"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'|`(?:\\.|[^`\\])*`|//[^\n]*|/\*.*?\*/',
    re.DOTALL)


def _source() -> str:
    """The TypeScript of src/ without its comments: a commented-out call registers nothing."""
    text = "\n".join(path.read_text(encoding="utf-8")
                     for path in sorted((EXTENSION / "src").glob("*.ts")))
    return COMMENT_OR_STRING.sub(lambda m: "" if m.group(0)[0] == "/" else m.group(0), text)


def _manifest() -> dict:
    return json.loads((EXTENSION / "package.json").read_text(encoding="utf-8"))


def registered(source: str) -> set[str]:
    """Every command id src/ registers; a registration by a non-literal id fails the test, as it
    could not be checked."""
    ids = re.findall(r'registerCommand\(\s*"([^"]+)"', source)
    assert len(ids) == source.count("registerCommand("), "a command registered by a variable"
    return set(ids)


def test_every_declared_command_is_registered_and_the_other_way_round() -> None:
    source = _source()
    manifest = _manifest()
    declared = {c["command"]: c for c in manifest["contributes"]["commands"]}
    mine = registered(source)
    assert set(declared) - mine == set(), "declared in package.json but never registered"
    # The only undeclared commands are the ones the extension points its own items at (a tree
    # row, the status bar item): not for the palette, but they must still exist.
    pointed_at = set(re.findall(r'command\s*[:=]\s*"(tfexam\.[^"]+)"', source))
    assert mine - set(declared) <= pointed_at, "registered but neither declared nor used"
    assert pointed_at <= mine, "an item points at a command nobody registers"
    # Commands the code runs itself: its own must be registered (`<view>.focus` is VS Code's).
    views = {v["id"] for group in manifest["contributes"]["views"].values() for v in group}
    executed = set(re.findall(r'executeCommand\(\s*"(tfexam\.[^"]+)"', source))
    assert executed - {f"{v}.focus" for v in views} <= mine
    menus = {m["command"] for group in manifest["contributes"]["menus"].values() for m in group}
    assert menus <= set(declared), "a menu names an undeclared command"


def test_the_palette_offers_the_exam_commands() -> None:
    declared = {c["command"]: c for c in _manifest()["contributes"]["commands"]}
    for command, title in PALETTE.items():
        assert command in declared, command
        assert (declared[command]["category"], declared[command]["title"]) == ("TF Exam", title)
    assert set(PALETTE) <= registered(_source())
