"""The API's manners against a real service: every refusal is a 4xx with a sentence, never a
500, and the local-only guard refuses foreign Host headers and cross-origin writes."""

from __future__ import annotations

from pathlib import Path

from tests.support.live_server import LiveServer


def test_bad_requests_get_a_sentence_not_a_500(server: LiveServer, tmp_path: Path) -> None:
    unknown = server.post("/api/sessions", {"exam": "nope", "workspace": str(tmp_path / "a")})
    assert unknown.status_code == 404
    assert "no exam called 'nope'" in unknown.json()["detail"]

    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "keep.txt").write_text("x")
    taken = server.post("/api/sessions", {"exam": "smoke", "workspace": str(busy)})
    assert taken.status_code == 409 and "not empty" in taken.json()["detail"]

    import httpx

    broken = httpx.post(server.url + "/api/sessions", content=b'{"exam": "smoke", ',
                        headers={"content-type": "application/json", **server.headers})
    assert broken.status_code == 422 and "not valid JSON" in broken.json()["detail"]

    missing = server.post("/api/sessions", {"exam": "smoke"})
    assert missing.status_code == 422 and "'workspace' is required" in missing.json()["detail"]

    negative = server.post("/api/sessions", {"exam": "smoke", "workspace": str(tmp_path / "b"),
                                             "minutes": -1})
    assert negative.status_code == 422 and negative.json()["detail"].endswith(".")

    nobody = httpx.get(server.url + "/api/sessions/doesnotexist", headers=server.headers)
    assert nobody.status_code == 404 and "no session" in nobody.json()["detail"]


def test_foreign_host_and_cross_origin_writes_are_refused(server: LiveServer, tmp_path: Path):
    import httpx

    rebinding = httpx.get(server.url + "/api/exams",
                          headers={"host": "evil.example:80", **server.headers})
    assert rebinding.status_code == 403
    cross = httpx.post(server.url + "/api/sessions",
                       headers={"origin": "http://evil.example", **server.headers},
                       json={"exam": "smoke", "workspace": str(tmp_path / "ws")})
    assert cross.status_code == 403
    assert not (tmp_path / "ws").exists()
    assert httpx.get(server.url + "/docs").status_code == 200


def test_a_configured_token_is_required_for_the_api(tmp_path: Path, keras_home: Path) -> None:
    import httpx

    live = LiveServer(tmp_path / "home", env={"TFEXAM_TOKEN": "s3cret"}).start()
    try:
        refused = httpx.get(live.url + "/api/exams")
        assert refused.status_code == 401 and "Bearer" in refused.json()["detail"]
        assert httpx.get(live.url + "/api/exams", headers={"authorization": "Bearer wrong"}
                         ).status_code == 401
        allowed = httpx.get(live.url + "/api/exams", headers={"authorization": "Bearer s3cret"})
        assert allowed.status_code == 200 and any(e["id"] == "smoke" for e in allowed.json())
    finally:
        live.stop()
