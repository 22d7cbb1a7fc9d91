"""A title that names a length says the session's own (issue 18, item 6)."""

from __future__ import annotations

from server.sessions.titles import title_for_length


def test_a_title_names_the_sessions_length() -> None:
    title = "Quick exam: two questions in 20 minutes"
    assert title_for_length(title, 10) == "Quick exam: two questions in 10 minutes"
    assert title_for_length(title, 1) == "Quick exam: two questions in 1 minute"
    assert title_for_length(title, 2.5) == "Quick exam: two questions in 2.5 minutes"
    assert title_for_length(title, 20) == title
    assert title_for_length("Smoke test: two tiny questions", 5) == "Smoke test: two tiny questions"
    assert title_for_length("A 20-minute drill", 15) == "A 15-minute drill"
