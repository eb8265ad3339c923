"""Conversations in the console: filtered lists and every turn with its candidates."""

from __future__ import annotations

from .conftest import ConsoleClient


async def talk(console: ConsoleClient) -> dict[str, str]:
    """Two conversations; the route of each turn by (session, text)."""
    routes = {}
    for session, text in [
        ("kakao-1", "서비스센터 몇 시까지 해요?"),  # answered by the FAQ
        ("kakao-1", "오늘 점심 뭐 먹지"),  # fallback (and a hand-off part)
        ("web-1", "앞유리 김서림 제거 방법"),  # near the FAQ: clarified or answered
        ("web-1", "안녕하세요"),  # small talk
    ]:
        routes[text] = (await console.chat(text, session))["route"]
    assert routes["서비스센터 몇 시까지 해요?"] == "faq:hours"
    assert routes["오늘 점심 뭐 먹지"] == "fallback"
    assert routes["안녕하세요"] == "smalltalk"
    r = await console.client.post(
        "/v1/feedback",
        json={"session_id": "web-1", "turn": 2, "rating": "down", "comment": "엉뚱해요"},
    )
    assert r.status_code == 201
    return routes


async def ids(console: ConsoleClient, **params: object) -> list[str]:
    r = await console.api("GET", "/admin/api/conversations", params=params)
    assert r.status_code == 200, r.text
    return [s["session_id"] for s in r.json()["sessions"]]


async def test_filters(console: ConsoleClient) -> None:
    routes = await talk(console)
    near = routes["앞유리 김서림 제거 방법"]
    assert await ids(console) == ["web-1", "kakao-1"]
    assert await ids(console, fallback=True) == ["kakao-1"]
    assert await ids(console, handoff=True) == ["kakao-1"]
    assert await ids(console, negative=True) == ["web-1"]
    assert await ids(console, route=near) == ["web-1"]
    both_faq = near.startswith("faq:")
    assert await ids(console, route="faq:*") == (["web-1", "kakao-1"] if both_faq else ["kakao-1"])
    assert await ids(console, route="smalltalk") == ["web-1"]
    assert await ids(console, below=0.3) == ["kakao-1"]  # the fallback's 0
    assert await ids(console, channel="nowhere") == []
    assert await ids(console, since="2000-01-01", until="2000-01-02") == []
    listed = (await console.api("GET", "/admin/api/conversations")).json()
    assert listed["channels"] == ["rest"] and "fallback" in listed["routes"]
    web = next(s for s in listed["sessions"] if s["session_id"] == "web-1")
    assert (web["turns"], web["negative"], web["first_text"]) == (2, 1, "앞유리 김서림 제거 방법")
    bad = await console.api("GET", "/admin/api/conversations", params={"below": 3})
    assert bad.status_code == 422 and bad.json()["error"]["fields"][0]["field"] == "query.below"


async def test_a_session_shows_every_turn_with_candidates_and_feedback(
    console: ConsoleClient,
) -> None:
    routes = await talk(console)
    view = (await console.api("GET", "/admin/api/conversations/web-1")).json()
    first, second = view["turns"]
    assert first["route"] == routes["앞유리 김서림 제거 방법"]
    faq = [c for c in first["candidates"] if c["skill"] == "faq"]
    assert faq and faq[0]["suggestion"] and faq[0]["details"]["decision"] in ("suggest", "answer")
    assert [s["skill"] for s in first["skills"]] == ["smalltalk", "faq", "mrc"]
    assert second["route"] == "smalltalk"
    assert second["feedback"] == {"rating": "down", "comment": "엉뚱해요"}
    assert first["feedback"] is None
    assert (await console.api("GET", "/admin/api/conversations/nobody")).status_code == 404
    page = await console.client.get("/admin/conversations/web-1")
    assert (
        page.status_code == 200
        and "앞유리 김서림 제거 방법" in page.text
        and "엉뚱해요" in page.text
    )


async def test_the_list_page_keeps_its_filters(console: ConsoleClient) -> None:
    await talk(console)
    page = await console.client.get("/admin/conversations", params={"fallback": "1", "lang": "en"})
    assert page.status_code == 200
    assert "kakao-1" in page.text and "web-1" not in page.text
    assert 'name="fallback" value="1" checked' in page.text
    bad = await console.client.get("/admin/conversations", params={"since": "yesterday"})
    assert bad.status_code == 422 and "since" in bad.text
