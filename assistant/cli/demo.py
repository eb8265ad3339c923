"""`assistant demo car|bluetooth --url URL`: short sessions against a running server, to see
the in-vehicle and Bluetooth connectors at work.

    assistant serve &                                # the demo bot, in another terminal
    assistant demo car --url http://127.0.0.1:8000
    assistant demo bluetooth --url http://127.0.0.1:8000

`car` plays a conversation through `POST /connectors/car/turns` (the same question parked and
moving, an n-best list whose first hypothesis is misheard, the demo bot's car tasks) and then
a voice session of several turns over the WebSocket `/connectors/car/voice`. `bluetooth` runs
the edge bridge (`connectors.bluetooth`) here, on a socket pair, with a simulated hands-free
unit: the HFP setup, a voice session whose turns go through the server's car connector, a bad
command, and a link that drops while a reply is on its way.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import uuid
from dataclasses import dataclass
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console

app = typer.Typer(
    rich_markup_mode=None, help="Short sessions against a running server (car voice, Bluetooth)."
)

UrlOption = Annotated[str, typer.Option("--url", metavar="URL", help="The running server.")]
KeyOption = Annotated[
    str | None,
    typer.Option(
        "--api-key",
        metavar="KEY",
        help="A chat API key, when the server requires one ($ASSISTANT_API_KEY).",
    ),
]

PARKED: dict[str, Any] = {
    "state": "parked",
    "speed_kmh": 0,
    "location": {"lat": 37.5172, "lon": 127.0473},
    "capabilities": ["screen", "navigation", "climate", "media", "phone"],
}
MOVING: dict[str, Any] = {**PARKED, "state": "moving", "speed_kmh": 62}


@dataclass(frozen=True, slots=True)
class CarTurn:
    """One turn of the demo: what the recognizer heard (best first) and the car's state."""

    note: str
    hypotheses: tuple[tuple[str, float | None], ...]
    vehicle: dict[str, Any]
    trigger: str = "wake_word"


#: The car conversation, as data.
CAR_TURNS = (
    CarTurn("parked: the whole answer", (("서비스센터 영업시간이 어떻게 되나요?", 0.93),), PARKED),
    CarTurn(
        "moving at 62 km/h: the same question, the essential sentence, no card",
        (("서비스센터 영업시간이 어떻게 되나요?", 0.91),),
        MOVING,
    ),
    CarTurn(
        "the recognizer's first hypothesis is misheard: the one understood best is answered",
        (
            ("정비 얘약 어떻게 해", 0.58),
            ("정비 예약 어떻게 해", 0.31),
            ("정비 여약 어떻게 해", None),
        ),
        MOVING,
        "push_to_talk",
    ),
    CarTurn("a car task: navigation", (("강남역으로 안내해 줘", 0.9),), MOVING),
    CarTurn("a car task: climate", (("에어컨 22도로 맞춰 줘", 0.88),), MOVING),
    CarTurn("a car task: media", (("아이유 노래 틀어 줘", 0.86),), MOVING),
)
#: The voice session over the WebSocket: several turns, one session.
VOICE_TURNS = (
    ("엄마한테 전화해 줘", MOVING),
    ("정비 예약하고 싶어", MOVING),
    ("엔진오일 교체", MOVING),
    ("다음 주 월요일", PARKED),
    ("오후 3시", PARKED),
    ("네", PARKED),
)


def _headers(api_key: str | None) -> dict[str, str]:
    key = api_key or os.environ.get("ASSISTANT_API_KEY")
    return {"authorization": f"Bearer {key}"} if key else {}


def _show_answer(console: Console, answer: dict[str, Any]) -> None:
    if answer.get("understood"):
        console.print(f"  [dim]understood:[/] {answer['understood']}")
    console.print(f"  [bold green]says:[/] {answer['speech']['text']}")
    display = answer.get("display")
    if display:
        if display["text"]:
            console.print(f"  [bold]screen:[/] {display['text']}")
        for card in display["cards"]:
            console.print(f"  [bold]card:[/] {card['title']} — {card['description']}")
        if display["options"]:
            console.print(
                f"  [bold]options:[/] {' | '.join(o['label'] for o in display['options'])}"
            )
    for directive in answer["directives"]:
        payload = json.dumps(directive["payload"], ensure_ascii=False)
        console.print(f"  [bold magenta]directive:[/] {directive['name']} {payload}")
    mic = "open" if answer["keep_listening"] else "closed"
    console.print(
        f"  [dim]route={answer['route']} confidence={answer['confidence']:.2f} "
        f"restricted={answer['restricted']} microphone={mic}[/]"
    )


@app.command()
def car(url: UrlOption = "http://127.0.0.1:8000", api_key: KeyOption = None) -> None:
    """A car conversation over HTTP, then a voice session over the WebSocket."""
    console = Console(highlight=False)
    try:
        asyncio.run(_car(console, url.rstrip("/"), _headers(api_key)))
    except (httpx.HTTPError, OSError) as e:
        _fail(console, url, e)


async def _car(console: Console, base: str, headers: dict[str, str]) -> None:
    from websockets.asyncio.client import connect

    session = f"demo-car-{uuid.uuid4().hex[:6]}"
    console.print(f"[bold]In-vehicle voice[/] · {base} · session {session}", style="dim")
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as http:
        for i, turn in enumerate(CAR_TURNS, 1):
            body = {
                "session_id": session,
                "message_id": f"{session}-{i}",
                "trigger": turn.trigger,
                "locale": "ko-KR",
                "hypotheses": [
                    {"text": text, "confidence": conf if conf is not None else -1}
                    for text, conf in turn.hypotheses
                ],
                "vehicle": turn.vehicle,
            }
            console.print(f"\n[dim]{i}. {turn.note}[/]")
            heard = " | ".join(
                f"{t} ({c:.2f})" if c is not None else f"{t} (?)" for t, c in turn.hypotheses
            )
            console.print(f"[bold cyan]driver>[/] {heard}")
            response = await http.post("/connectors/car/turns", json=body)
            if response.status_code != 200:
                console.print(f"  [red]HTTP {response.status_code}:[/] {response.text[:300]}")
                continue
            _show_answer(console, response.json())

    voice = f"{session}-voice"
    ws_url = base.replace("https://", "wss://").replace("http://", "ws://")
    console.print(f"\n[bold]Voice session over a WebSocket[/] · session {voice}", style="dim")
    async with connect(
        f"{ws_url}/connectors/car/voice", additional_headers=headers, open_timeout=10
    ) as ws:

        async def exchange(message: dict[str, Any]) -> dict[str, Any]:
            await ws.send(json.dumps(message, ensure_ascii=False))
            while True:
                event = json.loads(await asyncio.wait_for(ws.recv(), 30))
                if event["type"] != "thinking":
                    return dict(event)

        ready = await exchange({"type": "start", "session_id": voice, "vehicle": MOVING})
        console.print(f"[dim]server: {ready['type']}[/]")
        trigger = "wake_word"
        for text, vehicle in VOICE_TURNS:
            console.print(
                f"\n[bold cyan]driver>[/] {text}  [dim]({vehicle['state']}, {trigger})[/]"
            )
            answer = await exchange(
                {
                    "type": "turn",
                    "trigger": trigger,
                    "hypotheses": [{"text": text, "confidence": 0.9}],
                    "vehicle": vehicle,
                }
            )
            if answer["type"] == "error":
                console.print(f"  [red]{answer['error']['message']}[/]")
                continue
            _show_answer(console, answer)
            trigger = "follow_up" if answer["keep_listening"] else "wake_word"
        bad = await exchange({"type": "turn", "hypotheses": [{"text": "a", "confidence": 3}]})
        console.print(f"\n[dim]a malformed turn:[/] [red]{bad['error']['message']}[/]")
        ended = await exchange({"type": "end"})
        console.print(f"[dim]server: {ended['type']}[/]")


@app.command()
def bluetooth(
    url: UrlOption = "http://127.0.0.1:8000",
    api_key: KeyOption = None,
    moving: Annotated[bool, typer.Option(help="Pretend the car kit's car is moving.")] = True,
) -> None:
    """The edge bridge on a socket pair with a simulated hands-free unit; turns go through
    the server's car connector."""
    console = Console(highlight=False)
    # the bridge logs each dropped link as a warning; here the dropped link is the show
    logging.getLogger("connector.bluetooth").setLevel(logging.ERROR)
    try:
        asyncio.run(_bluetooth(console, url.rstrip("/"), api_key, moving))
    except (httpx.HTTPError, OSError) as e:
        _fail(console, url, e)


async def _bluetooth(console: Console, base: str, api_key: str | None, moving: bool) -> None:
    from connectors.bluetooth import CarAnswerer, EdgeBridge, HandsFreeUnit, SocketPairTransport

    def echo(side: str, line: str) -> None:
        style = "cyan" if side == "HF" else "green"
        console.print(f"  [{style}]{side}[/] {line}")

    key = api_key or os.environ.get("ASSISTANT_API_KEY")
    vehicle = {"state": "moving" if moving else "parked", "speed_kmh": 50 if moving else 0}
    answerer = CarAnswerer(base, vehicle=vehicle, api_key=key, locale="ko-KR")
    transport = SocketPairTransport()
    session = f"demo-bt-{uuid.uuid4().hex[:6]}"
    bridge = EdgeBridge(transport, answerer, session_id=session, frame_chars=40, retry_base_s=0.2)
    running = asyncio.create_task(bridge.run())
    console.print(
        f"[bold]Bluetooth hands-free session[/] · via {base} · session {session}", style="dim"
    )
    try:
        unit = HandsFreeUnit(*await transport.device(), echo=echo)
        console.print("\n[dim]1. the service level connection[/]")
        await unit.setup()
        console.print(
            "\n[dim]2. the headset's button starts voice recognition; the phone heard a question[/]"
        )
        await unit.command("AT+BVRA=1")
        await unit.command("AT+XTXT=서비스센터 영업시간이 어떻게 되나요?")
        said = await unit.reply(timeout_s=30)
        console.print(f"  [bold]reply:[/] {said}")
        if bridge.gateway.voice:
            await unit.command("AT+BVRA=0")
        else:
            await unit.next_unsolicited(timeout_s=5)  # +BVRA: 0, the gateway ended it
        console.print("\n[dim]3. a garbled command: ERROR, and the link stays up[/]")
        await unit.command("AT+BVRA=7")
        await unit.command("AT")
        console.print(
            "\n[dim]4. the link drops while a reply is on its way; the bridge reconnects[/]"
        )
        await unit.command("AT+BVRA=1")
        await unit.command("AT+XTXT=정비 예약은 어떻게 해요?")
        await unit.close()
        console.print("  [red]link dropped[/]")
        unit = HandsFreeUnit(*await transport.device(timeout_s=30), echo=echo)
        await asyncio.wait_for(bridge.connected.wait(), 10)
        console.print(f"  [dim]reconnected (link {bridge.links})[/]")
        await unit.setup()
        said = await unit.reply(timeout_s=30)
        console.print(f"  [bold]reply, after the drop:[/] {said}")
        await unit.close()
    finally:
        await bridge.stop()
        await asyncio.wait_for(running, 10)
        await transport.close()
        await answerer.aclose()


def _fail(console: Console, url: str, error: Exception) -> None:
    console.print(
        f"[red]error:[/] could not talk to the server at {url} ({type(error).__name__}: {error}); "
        "is `assistant serve` running there?",
        soft_wrap=True,
    )
    raise typer.Exit(code=2)
