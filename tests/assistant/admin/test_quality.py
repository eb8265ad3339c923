"""Quality views: rates by day, evaluation runs (from the console or `assistant eval faq
--save`), their confusion view with its cells, and the comparison of two runs."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from assistant.admin.console import Console

from .conftest import ConsoleClient

QUERIES = [
    {"text": "서비스센터 몇 시까지 해요?", "expected_id": "hours"},
    {"text": "앞유리 김서림 제거 방법", "expected_id": "defog"},
    {"text": "무상 보증 몇 년이에요?", "expected_id": "warranty"},
    {"text": "세차는 어디서 할 수 있나요?", "expected_id": None},
    {"text": "오늘 점심 뭐 먹지", "expected_id": None},
    {"text": "트렁크 여는 법", "expected_id": "bluetooth"},  # wrong whatever the index does
]
JSONL = "".join(json.dumps(q, ensure_ascii=False) + "\n" for q in QUERIES)


async def evaluate(console: ConsoleClient, name: str) -> dict[str, Any]:
    r = await console.api(
        "POST", "/admin/api/eval/runs", json={"name": name, "content": JSONL, "filename": "q.jsonl"}
    )
    assert r.status_code == 202, r.text
    state: Console = console.app.state.console
    job = await state.jobs.wait(r.json()["job"]["id"])
    assert job is not None and job.state == "done", job and job.error
    run = await console.api("GET", f"/admin/api/eval/runs/{job.result['run']}")
    body: dict[str, Any] = run.json()
    return body


async def test_rates_by_day(console: ConsoleClient) -> None:
    outcomes = {"answered": 0, "clarified": 0, "fallbacks": 0}
    texts = [
        "서비스센터 몇 시까지 해요?",
        "오늘 점심 뭐 먹지",
        "앞유리 김서림 제거 방법",
        "안녕하세요",
    ]
    for n, text in enumerate(texts):
        route = (await console.chat(text, f"s{n}"))["route"]
        outcome = {"clarify": "clarified", "fallback": "fallbacks"}.get(route, "answered")
        outcomes[outcome] += 1
    rates = (await console.api("GET", "/admin/api/quality/rates")).json()
    assert rates["timezone"] == "Asia/Seoul" and len(rates["days"]) == 14
    assert rates["totals"] == {**outcomes, "turns": 4, "handoffs": 1, "negative": 0}
    today = rates["days"][-1]
    assert today["answered_rate"] == outcomes["answered"] / 4
    assert (today["fallbacks_rate"], today["handoffs_rate"]) == (0.25, 0.25)
    until = date.today() + timedelta(days=1)
    wrong = await console.api(
        "GET",
        "/admin/api/quality/rates",
        params={"since": until.isoformat(), "until": (until - timedelta(days=5)).isoformat()},
    )
    assert wrong.status_code == 422
    page = await console.client.get("/admin/quality")
    assert page.status_code == 200 and page.text.count("<polyline") == 4


async def test_a_run_its_confusion_cells_and_a_comparison(console: ConsoleClient) -> None:
    before = await evaluate(console, "before")
    metrics = before["metrics"]
    assert metrics["queries"] == 6 and metrics["entries"] == 10
    confusion = before["confusion"]
    assert confusion["right"] + confusion["wrong"] == 6 and confusion["wrong"] >= 1
    labels = confusion["labels"]
    for pair in confusion["pairs"]:  # every off-diagonal cell opens the queries behind it
        expected, predicted = pair["expected"], pair["predicted"]
        cell = await console.api(
            "GET",
            f"/admin/api/eval/runs/{before['id']}/cell",
            params={"expected": expected, "predicted": predicted},
        )
        found = cell.json()["rows"]
        assert len(found) == pair["count"]
        assert all(
            (r["expected_id"] or "-", r["predicted_id"] or "-") == (expected, predicted)
            for r in found
        )
        row, col = labels.index(expected), labels.index(predicted)
        assert confusion["matrix"][row][col] == pair["count"]
    trunk = [p for p in confusion["pairs"] if p["expected"] == "bluetooth"]
    assert len(trunk) == 1  # the query that cannot be right is an error in the view

    # a change that breaks a query: its entry is deleted
    assert (await console.api("DELETE", "/admin/api/faq/entries/warranty")).status_code == 204
    after = await evaluate(console, "after")
    compared = (
        await console.api(
            "GET", "/admin/api/eval/compare", params={"a": before["id"], "b": after["id"]}
        )
    ).json()
    assert compared["shared"] == 6
    (broken,) = compared["changes"]["broken"]
    assert (broken["text"], broken["a"]) == ("무상 보증 몇 년이에요?", "warranty")
    assert compared["changes"]["fixed"] == []
    delta = {m["name"]: m["delta"] for m in compared["metrics"]}
    assert round(delta["end_to_end_accuracy"], 6) == round(-1 / 6, 6)  # one query of six
    names = [m["name"] for m in compared["metrics"]]
    assert names[:3] == ["accuracy_at_1", "mrr_at_10", "end_to_end_accuracy"]
    listed = (await console.api("GET", "/admin/api/eval/runs")).json()["runs"]
    assert [r["name"] for r in listed] == ["after", "before"]

    for path in (
        f"/admin/quality/runs/{before['id']}",
        f"/admin/quality/runs/{before['id']}/cell?expected=bluetooth&predicted=-",
        f"/admin/quality/compare?a={before['id']}&b={after['id']}",
    ):
        page = await console.client.get(path)
        assert page.status_code == 200, path
    matrix_page = await console.client.get(f"/admin/quality/runs/{before['id']}")
    first = confusion["pairs"][0]
    link = f"/admin/quality/runs/{before['id']}/cell?expected={first['expected']}&predicted={first['predicted']}"
    assert link in matrix_page.text

    assert (await console.api("DELETE", f"/admin/api/eval/runs/{before['id']}")).status_code == 204
    assert (await console.api("GET", f"/admin/api/eval/runs/{before['id']}")).status_code == 404


async def test_bad_query_files_are_refused_with_the_line(console: ConsoleClient) -> None:
    r = await console.api(
        "POST", "/admin/api/eval/runs", json={"content": '{"text": "a"}\nnot json\n'}
    )
    assert r.status_code == 422 and "line 2" in r.json()["error"]["message"]
    r = await console.api("POST", "/admin/api/eval/runs", json={"content": "\n\n"})
    assert r.status_code == 422
