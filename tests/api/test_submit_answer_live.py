""""Submit and Test" answers over HTTP when there is nothing it can grade: no model saved yet, a
file still being written, an exam already submitted. Each is a refusal with its own sentence,
never a silent click. Real service on loopback; no grading is needed, so no worker is awaited."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.live_server import LiveServer

pytestmark = pytest.mark.slow


def test_submit_with_nothing_to_grade_answers_with_what_to_do(server: LiveServer,
                                                              tmp_path: Path) -> None:
    started = server.start_session(tmp_path / "ws", minutes=30)
    session, project = started["session"], Path(started["project_dir"])
    press = f"/api/sessions/{session}/questions/Q1/submit"

    nothing = server.post(press)
    assert nothing.status_code == 409, nothing.text
    assert nothing.json()["detail"] == (
        f"There is no model in {project / 'Q1'}: run the starter so that it saves mymodel.h5 "
        "there (or mymodel.keras, or a SavedModel folder mymodel/), then submit.")

    (project / "Q1" / "mymodel.h5").write_bytes(b"\x89HDF\r\n\x1a\npartial")  # a save under way
    writing = server.post(press)
    assert writing.status_code == 409, writing.text
    assert writing.json()["detail"] == (
        "mymodel.h5 is still being written or is not a complete model file: wait for the save "
        "to finish, or save it again, then submit.")

    assert server.post(f"/api/sessions/{session}/finish").status_code == 200
    closed = server.post(press)
    assert closed.status_code == 409, closed.text
    assert closed.json()["detail"] == (f"Session {session} was already submitted; its report is "
                                       "final.")
