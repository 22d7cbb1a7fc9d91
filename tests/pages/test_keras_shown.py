"""Which Keras a session runs is said where the learner looks: the exam page, the report page and
`tfexam doctor` inside the project. A Keras 3 session shown as "Keras 2" would send the learner
hunting for exam-era bugs that are really Keras 3 changes, so each place is read for its own
element's text (not a substring anywhere in the page), for a default session and a Keras 3 one,
from a real service over HTTP."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import httpx

from tests.plugin_bridge.test_cli_project_live import doctor_rows, learner_env, tfexam
from tests.support.live_server import LiveServer


class _ElementText(HTMLParser):
    """The text of every element carrying `attribute="value"` (nested tags included)."""

    def __init__(self, attribute: str, value: str) -> None:
        super().__init__()
        self.attribute, self.value = attribute, value
        self.found: list[str] = []
        self._depth = 0  # > 0 while inside a matching element

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._depth:
            self._depth += 1
        elif (self.attribute, self.value) in attrs:
            self._depth = 1
            self.found.append("")

    def handle_endtag(self, tag: str) -> None:
        if self._depth:
            self._depth -= 1

    def handle_data(self, data: str) -> None:
        if self._depth:
            self.found[-1] += data


def element_text(page: str, attribute: str, value: str) -> str:
    """The whitespace-normalised text of the page's one element with that attribute."""
    parser = _ElementText(attribute, value)
    parser.feed(page)
    assert len(parser.found) == 1, f"expected one [{attribute}={value!r}], found {parser.found}"
    return " ".join(parser.found[0].split())


def fetch_page(server: LiveServer, path: str) -> str:
    """A page as the browser gets it: with the token cookie set by the address `serve` printed."""
    cookie = server.cookie()
    answer = httpx.get(server.url + path, cookies={cookie["name"]: cookie["value"]}, timeout=30)
    assert answer.status_code == 200, (path, answer.status_code, answer.text[:500])
    return answer.text


def test_exam_page_report_and_doctor_name_the_sessions_keras(server: LiveServer,
                                                               tmp_path: Path) -> None:
    started: dict[str, tuple[str, Path]] = {}
    for keras, extra in (("2", {}), ("3", {"keras": "3"})):  # "2" by default, as in the real exam
        project = tmp_path / f"exam-keras{keras}"
        answer = server.post("/api/sessions", {"exam": "smoke", "workspace": str(project),
                                               "minutes": 30, **extra})
        assert answer.status_code == 201, answer.text
        started[keras] = (answer.json()["session"], project)

    for keras, (session, project) in started.items():
        exam = fetch_page(server, f"/sessions/{session}")
        assert element_text(exam, "data-field", "keras") == f"Keras {keras}", keras

        rows = doctor_rows(tfexam("doctor", cwd=project, env=learner_env(tmp_path)).stdout)
        assert re.fullmatch(rf"ok \w+, Keras {keras}", rows.get("Session", "")), (keras, rows)

        assert server.post(f"/api/sessions/{session}/finish").status_code == 200
        report = element_text(fetch_page(server, f"/sessions/{session}/report"),
                              "data-testid", "keras")
        legacy = "1" if keras == "2" else "0"
        assert report.startswith(f"Keras {keras} (") and f"TF_USE_LEGACY_KERAS={legacy}" in report, (
            keras, report)
