"""FAQ changes through the admin API reach every server process and survive restarts."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from .test_server_process import serving

ADMIN = {"Authorization": "Bearer sync-admin-key-0123"}

FAQ = """\
entries:
- id: hours
  question: 서비스센터 운영 시간이 어떻게 되나요?
  answer: 평일 오전 8시 30분부터 오후 5시 30분까지 운영합니다.
  locale: ko
- id: warranty
  question: 차량 보증 기간은 얼마나 되나요?
  answer: 일반 부품은 3년 또는 6만 km까지 보증합니다.
  locale: ko
"""


def faq_bot(directory: Path) -> str:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "faq.yaml").write_text(FAQ, encoding="utf-8")
    (directory / "bot.yaml").write_text(
        "name: sync\n"
        "skills:\n"
        "  - type: faq\n"
        "    options: {entries: [faq.yaml], encoder: none, calibration: default}\n",
        encoding="utf-8",
    )
    return str(directory)


def wait_for(check: object, seconds: float = 20.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return True
        time.sleep(0.2)
    return False


def test_an_entry_added_through_one_server_is_answered_by_the_other(
    postgres_url: str, tmp_path: Path
) -> None:
    bot = faq_bot(tmp_path / "bot")
    env = {
        "ASSISTANT_ADMIN_API_KEY": ADMIN["Authorization"].split()[1],
        "ASSISTANT_CONTENT_POLL": "0.5",
    }
    entry = {
        "id": "towing",
        "question": "견인 서비스는 어떻게 부르나요?",
        "alternatives": ["차가 멈췄어요 견인 불러 주세요"],
        "answer": "긴급출동 1588-0001로 전화하시면 견인차를 보내 드립니다.",
        "locale": "ko",
    }

    def answer_from(base: str) -> str:
        r = httpx.post(
            f"{base}/v1/chat",
            json={"session_id": f"s-{time.monotonic()}", "text": "견인 서비스는 어떻게 부르나요?"},
            timeout=30,
        )
        return str(r.json()["route"])

    with (
        serving(postgres_url, "--bot", bot, env=env) as a,
        serving(postgres_url, "--bot", bot, env=env) as b,
    ):
        assert answer_from(b) != "faq:towing"
        created = httpx.post(f"{a}/v1/admin/faq/entries", json=entry, headers=ADMIN, timeout=30)
        assert created.status_code == 201, created.text
        assert answer_from(a) == "faq:towing"  # at once where it was made
        assert wait_for(lambda: answer_from(b) == "faq:towing")  # soon on the other process
        # a delete made on b reaches a too
        assert (
            httpx.delete(
                f"{b}/v1/admin/faq/entries/warranty", headers=ADMIN, timeout=30
            ).status_code
            == 204
        )
        assert wait_for(
            lambda: (
                httpx.get(
                    f"{a}/v1/admin/faq/entries/warranty", headers=ADMIN, timeout=30
                ).status_code
                == 404
            )
        )
        # both changing at once: both changes land
        for base, new_id in ((a, "x1"), (b, "x2")):
            r = httpx.post(
                f"{base}/v1/admin/faq/entries",
                json={**entry, "id": new_id, "question": f"질문 {new_id}"},
                headers=ADMIN,
                timeout=30,
            )
            assert r.status_code == 201
        duplicate = httpx.post(f"{b}/v1/admin/faq/entries", json=entry, headers=ADMIN, timeout=30)
        assert duplicate.status_code == 409

    with serving(postgres_url, "--bot", bot, env=env) as c:  # a restart keeps the changes
        ids = {
            e["id"]
            for e in httpx.get(f"{c}/v1/admin/faq/entries", headers=ADMIN, timeout=30).json()[
                "entries"
            ]
        }
        assert ids == {"hours", "towing", "x1", "x2"}
        assert answer_from(c) == "faq:towing"
