"""The Bluetooth edge bridge: the HFP exchange and a voice session over a socket pair, bad
commands answered ERROR on a link that stays usable, reconnecting without losing a reply, the
BLE transport's MTU frames, and turns through a running server's car connector."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from assistant.dialogue import Assistant
from assistant.types import TextPart
from connectors.bluetooth import (
    AudioGateway,
    BleTransport,
    BluetoothUnavailable,
    CarAnswerer,
    CoreAnswerer,
    DeviceReply,
    EdgeBridge,
    HandsFreeUnit,
    LineBuffer,
    LinkClosed,
    RfcommTransport,
    SocketPairTransport,
    reply_frames,
)

from .helpers import ADMIN, ReplySkill, car_skills, demo_skills, make_assistant, served

SETUP = [
    "+BRSF: 4",
    "OK",
    '+CIND: ("service",(0,1)),("call",(0,1)),("callsetup",(0-3)),("callheld",(0-2)),'
    '("signal",(0-5)),("roam",(0,1)),("battchg",(0-5))',
    "OK",
    "+CIND: 1,0,0,0,5,0,5",
    "OK",
    "OK",
]


class TestAudioGateway:
    def test_the_setup_exchange_then_voice_recognition(self) -> None:
        ag = AudioGateway()
        seen: list[str] = []
        for command in ("AT+BRSF=191", "AT+CIND=?", "AT+CIND?", "AT+CMER=3,0,0,1"):
            seen += ag.handle(command).lines
        assert seen == SETUP and ag.slc and ag.hf_features == 191 and ag.events_enabled
        started = ag.handle("AT+BVRA=1")
        assert started.lines == ["OK"] and started.event is not None and started.event.value is True
        assert ag.handle("AT+BVRA=1").event is None  # no change, nothing to do
        stopped = ag.handle("at+bvra=0")  # commands are case-insensitive
        assert (
            stopped.lines == ["OK"] and stopped.event is not None and stopped.event.value is False
        )

    def test_voice_recognition_needs_the_service_level_connection(self) -> None:
        ag = AudioGateway()
        assert ag.handle("AT+BVRA=1").lines == ["ERROR"]
        ag.handle("AT+BRSF=0")
        assert ag.handle("AT+CMER=3,0,0,1").lines == ["ERROR"]  # CIND first
        assert not ag.slc

    def test_a_gateway_without_voice_recognition_refuses_it(self) -> None:
        ag = AudioGateway(features=0)
        for command in ("AT+BRSF=191", "AT+CIND=?", "AT+CIND?", "AT+CMER=3,0,0,1"):
            ag.handle(command)
        assert ag.handle("AT+BVRA=1").lines == ["ERROR"]

    @pytest.mark.parametrize(
        "line",
        [
            "AT+BVRA=",
            "AT+BVRA=2",
            "AT+BVRA=1x",
            "AT+BR",
            "AT+BRSF=abc",
            "AT+BRSF=99999999999",
            "AT+CMER=3,0,0",
            "AT+CMER=1,0,0,1",
            "AT+CIND",
            "AT+VGS=99",
            "AT+XTXT=",
            "AT+XBTN=Bad Name!",
            "AT+XACK=not-an-id",
            "ATD1234;",
            "HELLO",
        ],
    )
    def test_garbage_and_truncated_commands_answer_error(self, line: str) -> None:
        assert AudioGateway().handle(line).lines == ["ERROR"]


def test_lines_are_cut_at_cr_or_lf_and_overlong_ones_refused() -> None:
    buffer = LineBuffer(limit=16)
    assert buffer.feed(b"AT+BRSF=1") == []
    assert buffer.feed(b"91\r\nAT\r") == [b"AT+BRSF=191", b"AT"]
    assert buffer.feed(b"AT+XTXT=" + b"x" * 20) == [None]
    assert buffer.feed(b"more of it\rAT\n") == [b"AT"]  # the rest of the long line is dropped


def test_reply_frames_are_short_and_numbered() -> None:
    text = "한빛모터스 서비스센터는 평일 오전 8시 30분부터 운영합니다. 토요일은 낮 12시 30분까지 엽니다."
    frames = reply_frames("ab12", text, frame_chars=20, max_chars=600)
    assert len(frames) == 4 and frames[0].startswith("+XTXT: ab12,1/4,")
    assert all(len(f.split(",", 2)[2]) <= 20 for f in frames)
    assert " ".join(f.split(",", 2)[2] for f in frames) == text
    assert reply_frames("ab12", "a\r\nb", frame_chars=30, max_chars=600) == ["+XTXT: ab12,1/1,a b"]


# --- the bridge over a socket pair -----------------------------------------------------------


def bt_skills() -> list[ReplySkill]:
    ask_back = ReplySkill("task", "예약", [TextPart(text="몇 시로 예약할까요?")])
    ask_back.reply = ask_back.reply.model_copy(update={"expects_reply": True})
    at_three = ReplySkill("booking", "세 시", [TextPart(text="오후 세 시로 예약했어요.")])
    return [*demo_skills(), ask_back, at_three]


@pytest.fixture
async def core(tmp_path: Path) -> AsyncIterator[Assistant]:
    a = await make_assistant(tmp_path, bt_skills())
    yield a
    await a.close()


@dataclass
class Running:
    bridge: EdgeBridge
    transport: SocketPairTransport
    task: asyncio.Task[None]

    async def unit(self) -> HandsFreeUnit:
        return HandsFreeUnit(*await self.transport.device())


@pytest.fixture
async def running(core: Assistant) -> AsyncIterator[Callable[..., Any]]:
    started: list[Running] = []

    async def start(**options: Any) -> Running:
        transport = SocketPairTransport()
        bridge = EdgeBridge(
            transport,
            options.pop("answerer", None) or CoreAnswerer(core),
            session_id="bt-headset-1",
            retry_base_s=0.05,
            **options,
        )
        run = Running(bridge, transport, asyncio.create_task(bridge.run()))
        started.append(run)
        return run

    yield start
    for run in started:
        await run.bridge.stop()
        await asyncio.wait_for(run.task, 10)
        await run.transport.close()


async def test_the_hfp_exchange_and_a_voice_session(running: Any, core: Assistant) -> None:
    run = await running(frame_chars=12)
    unit = await run.unit()
    assert await unit.setup() == SETUP
    assert await unit.command("AT+BVRA=1") == ["OK"]
    assert await unit.command("AT+XTXT=영업시간 알려줘") == ["OK"]
    # the reply in short frames, then the gateway ends the session: no answer is expected
    frames = [await unit.next_unsolicited()]
    while not frames[-1].startswith("+BVRA"):
        frames.append(await unit.next_unsolicited())
    *texts, end = frames
    assert end == "+BVRA: 0"
    assert [f.split(",")[1] for f in texts] == [f"{i}/5" for i in range(1, 6)]
    assert all(len(f.split(",", 2)[2]) <= 12 for f in texts)
    assert " ".join(f.split(",", 2)[2] for f in texts) == (
        "평일 오전 9시부터 오후 6시까지 운영합니다. - 상담원 연결 - 주말 영업"
    )
    reply_id = frames[0].split(":")[1].split(",")[0].strip()
    assert await unit.command(f"AT+XACK={reply_id}") == ["OK"]
    assert run.bridge.pending == {}
    view = await core.store.get_session("bt-headset-1")
    assert view is not None and view.channel == "bluetooth" and view.turn_count == 1
    await unit.close()


async def test_a_voice_session_stays_open_while_the_assistant_asks(running: Any) -> None:
    run = await running()
    unit = await run.unit()
    await unit.setup()
    assert await unit.command("AT+BVRA=1") == ["OK"]
    await unit.command("AT+XTXT=정비 예약해 줘")
    assert await unit.reply() == "몇 시로 예약할까요?"
    assert run.bridge.gateway.voice  # still listening for the answer
    await unit.command("AT+XTXT=세 시")
    assert await unit.reply() == "오후 세 시로 예약했어요."
    assert await unit.next_unsolicited() == "+BVRA: 0"
    assert not run.bridge.gateway.voice
    await unit.close()


async def test_bad_input_answers_error_and_the_link_stays_usable(running: Any) -> None:
    run = await running()
    unit = await run.unit()
    assert await unit.command(b"\xff\xfe\xfd") == ["ERROR"]  # not UTF-8
    assert await unit.command("HELLO") == ["ERROR"]
    assert await unit.command("AT+BVR") == ["ERROR"]  # truncated
    assert await unit.command(b"AT+XTXT=" + "가".encode() * 400) == ["ERROR"]  # too long
    assert await unit.command("AT+BVRA=1") == ["ERROR"]  # before the setup
    assert await unit.setup() == SETUP
    assert await unit.command("AT+BVRA=1") == ["OK"]
    await unit.command("AT+XTXT=매장 어디 있어요?")
    assert (await unit.reply()).startswith("강남점")
    assert run.bridge.links == 1
    await unit.close()


async def test_buttons_start_turns_and_voice(running: Any) -> None:
    run = await running(buttons={"hours": "영업시간 알려줘"})
    unit = await run.unit()
    await unit.setup()
    assert await unit.command("AT+XBTN=hours") == ["OK"]
    assert (await unit.reply()).startswith("평일 오전 9시")
    assert await unit.command("AT+XBTN=eject") == ["ERROR"]
    assert await unit.command("AT+XBTN=voice") == ["OK"]
    assert await unit.next_unsolicited() == "+BVRA: 1"  # the gateway started it
    assert await unit.command("AT+XBTN=voice") == ["OK"]
    assert await unit.next_unsolicited() == "+BVRA: 0"
    await unit.close()


async def test_voice_recognition_ends_after_silence(running: Any) -> None:
    run = await running(voice_timeout_s=0.2)
    unit = await run.unit()
    await unit.setup()
    assert await unit.command("AT+BVRA=1") == ["OK"]
    assert await unit.next_unsolicited(timeout_s=5) == "+BVRA: 0"
    assert not run.bridge.gateway.voice
    await unit.close()


async def test_a_reply_in_flight_survives_a_dropped_link(running: Any) -> None:
    run = await running()
    unit = await run.unit()
    await unit.setup()
    assert await unit.command("AT+BVRA=1") == ["OK"]
    assert await unit.command("AT+XTXT=느리게 알려줘") == ["OK"]  # the answer takes 1 s
    run.transport.refuse = 2  # the device goes out of range twice before it comes back
    await unit.close()  # the link drops while the turn runs
    again = await run.unit()  # the bridge reconnects, with backoff
    await asyncio.wait_for(run.bridge.connected.wait(), 5)
    assert run.transport.attempts == 4 and run.bridge.links == 2
    assert await again.setup() == SETUP  # the reply waits for the setup, then comes
    assert await again.reply() == "천천히 찾은 답이에요."
    assert run.bridge.pending == {}
    await again.close()


async def test_an_unacknowledged_reply_is_sent_again_on_the_next_link(running: Any) -> None:
    run = await running(frame_chars=12)
    unit = await run.unit()
    await unit.setup()
    await unit.command("AT+XTXT=영업시간 알려줘")
    first = await unit.next_unsolicited()  # one frame of five arrives, then the link drops
    assert first.endswith(",1/5,평일 오전 9시부터")
    await unit.close()
    again = await run.unit()
    await again.setup()
    assert (
        await again.reply()
        == "평일 오전 9시부터 오후 6시까지 운영합니다. - 상담원 연결 - 주말 영업"
    )
    assert run.bridge.pending == {}
    await again.close()


async def test_without_acks_a_written_reply_is_done(running: Any) -> None:
    run = await running(acks=False)
    unit = await run.unit()
    await unit.command("AT+XTXT=영업시간")  # a gadget without HFP: no setup needed
    assert (await unit.reply(ack=False)).startswith("평일")
    await asyncio.sleep(0)  # the flush loop clears the reply right after writing
    assert run.bridge.pending == {}
    await unit.close()


async def test_a_failed_turn_still_answers(running: Any) -> None:
    class Broken:
        async def ask(self, text: str, **_: Any) -> DeviceReply:
            raise RuntimeError("no route to the server")

    run = await running(answerer=Broken())
    unit = await run.unit()
    await unit.command("AT+XTXT=안녕")
    assert "잠시 후 다시" in await unit.reply()
    await unit.close()


# --- transports ------------------------------------------------------------------------------


async def test_rfcomm_needs_bluetooth_sockets() -> None:
    transport = RfcommTransport("00:11:22:33:44:55", channel=3)
    if RfcommTransport.available():  # a CPython built with BlueZ: the radio may be absent
        pytest.skip("this Python has Bluetooth sockets; the refusal cannot be shown here")
    assert not hasattr(socket, "AF_BLUETOOTH")
    with pytest.raises(BluetoothUnavailable, match="BlueZ"):
        await transport.connect()
    bridge = EdgeBridge(transport, CoreAnswerer(None), session_id="s")
    with pytest.raises(BluetoothUnavailable):  # not retried: it will never work here
        await asyncio.wait_for(bridge.run(), 5)
    with pytest.raises(ValueError, match="1 to 30"):
        RfcommTransport("00:11:22:33:44:55", channel=31)


async def test_stop_while_waiting_for_a_device(core: Assistant) -> None:
    class Listening:  # a gateway waiting for a headset that never comes
        async def connect(self) -> Any:
            await asyncio.Event().wait()

    bridge = EdgeBridge(Listening(), CoreAnswerer(core), session_id="s")
    task = asyncio.create_task(bridge.run())
    await asyncio.sleep(0)
    await bridge.stop()
    await asyncio.wait_for(task, 5)


@dataclass
class FakeGattDevice:
    """A BLE peripheral behind a fake `BleakClient`: it records the writes, answers each
    complete command line through `on_line`, and notifies in chunks of `notify_size`."""

    mtu: int = 23
    notify_size: int = 7
    writes: list[bytes] = field(default_factory=list)
    clients: list[FakeGattClient] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def until(self, condition: Callable[[], bool]) -> None:
        while not condition():
            self.changed.clear()
            await self.changed.wait()

    def factory(self, address: str, dropped: Callable[[Any], None]) -> FakeGattClient:
        client = FakeGattClient(self, dropped)
        self.clients.append(client)
        return client


class FakeGattClient:
    def __init__(self, device: FakeGattDevice, dropped: Callable[[Any], None]) -> None:
        self.device = device
        self.dropped = dropped
        self.callback: Callable[[Any, bytearray], None] | None = None
        self.connected = False

    @property
    def mtu_size(self) -> int:
        return self.device.mtu

    async def connect(self) -> bool:
        self.connected = True
        return True

    async def disconnect(self) -> bool:
        self.connected = False
        return True

    async def start_notify(self, char_specifier: Any, callback: Any) -> None:
        assert char_specifier == "notify-uuid"
        self.callback = callback
        self.device.changed.set()

    async def write_gatt_char(self, char_specifier: Any, data: Any, response: bool = True) -> None:
        assert char_specifier == "write-uuid" and response
        self.device.writes.append(bytes(data))
        self.device.changed.set()

    def notify(self, data: bytes) -> None:
        assert self.callback is not None
        size = self.device.notify_size
        for start in range(0, len(data), size):
            self.callback("notify-uuid", bytearray(data[start : start + size]))

    def drop(self) -> None:
        self.connected = False
        self.dropped(self)


async def test_ble_frames_fit_the_mtu_and_a_drop_reconnects(core: Assistant) -> None:
    device = FakeGattDevice()
    transport = BleTransport(
        "AA:BB:CC:DD:EE:FF",
        write_char="write-uuid",
        notify_char="notify-uuid",
        client_factory=device.factory,
    )
    bridge = EdgeBridge(transport, CoreAnswerer(core), session_id="ble-1", retry_base_s=0.05)
    task = asyncio.create_task(bridge.run())
    try:
        await asyncio.wait_for(bridge.connected.wait(), 5)
        # a command split over notifications mid-character (7-byte chunks of UTF-8)
        device.clients[0].notify("AT+XTXT=영업시간 알려줘\r".encode())

        def written() -> str:
            return b"".join(device.writes).decode("utf-8", "replace")

        await asyncio.wait_for(
            device.until(lambda: "+XTXT:" in written() and written().endswith("\r\n")), 10
        )
        text = written()
        assert all(len(w) <= device.mtu - 3 for w in device.writes)
        assert len(device.writes) > 3  # the reply needed several ATT writes
        assert text.startswith("\r\nOK\r\n\r\n+XTXT: ")
        assert "평일 오전 9시부터 오후 6시까지 운영합니다." in text

        device.clients[0].drop()
        await asyncio.wait_for(device.until(lambda: len(device.clients) == 2), 5)
        await asyncio.wait_for(bridge.connected.wait(), 5)
        device.writes.clear()
        device.clients[1].notify(b"AT\r")
        await asyncio.wait_for(device.until(lambda: written().startswith("\r\nOK")), 5)
    finally:
        await bridge.stop()
        await asyncio.wait_for(task, 5)


async def test_ble_without_bleak_says_how_to_get_it() -> None:
    pytest.importorskip("pytest")  # keep the signature of a normal test
    try:
        import bleak  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("bleak is installed here")
    transport = BleTransport("AA:BB:CC:DD:EE:FF", write_char="w", notify_char="n")
    with pytest.raises(BluetoothUnavailable, match=r"\[bluetooth\]"):
        await transport.connect()


async def test_a_link_closed_by_the_device_is_reported() -> None:
    transport = SocketPairTransport()
    link = await transport.connect()
    _, writer = await transport.device()
    writer.close()
    with pytest.raises(LinkClosed):
        await link.read()
    await link.close()
    await transport.close()


# --- through a running server's car connector ------------------------------------------------


async def test_a_voice_session_through_the_car_connector(tmp_path: Path) -> None:
    async with served(tmp_path, car_skills) as base:
        answerer = CarAnswerer(
            base, vehicle={"state": "moving", "speed_kmh": 50, "capabilities": []}
        )
        transport = SocketPairTransport()
        bridge = EdgeBridge(transport, answerer, session_id="bt-carkit-1")
        task = asyncio.create_task(bridge.run())
        try:
            unit = HandsFreeUnit(*await transport.device())
            await unit.setup()
            assert await unit.command("AT+BVRA=1") == ["OK"]
            await unit.command("AT+XTXT=서비스센터 몇 시까지 해")
            said = await unit.reply()
            # moving: the essential sentence and the first options, not the whole answer
            assert said.startswith(
                "한빛모터스 서비스센터는 평일 오전 8시 30분부터 오후 5시 30분까지 운영합니다."
            )
            assert "토요일은 낮" not in said
            await unit.close()
        finally:
            await bridge.stop()
            await asyncio.wait_for(task, 5)
            await transport.close()
            await answerer.aclose()
        async with httpx.AsyncClient(base_url=base) as http:
            session = (await http.get("/v1/sessions/car:bt-carkit-1", headers=ADMIN)).json()
        assert session["channel"] == "car" and session["turn_count"] == 1


async def test_the_car_answerer_retries_with_the_same_message_id() -> None:
    seen: list[dict[str, Any]] = []
    statuses = [503, 200]

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content))
        status = statuses.pop(0)
        if status != 200:
            return httpx.Response(status)
        answer = {"speech": {"text": "네"}, "keep_listening": False, "route": "smalltalk"}
        return httpx.Response(200, json=answer)

    answerer = CarAnswerer(
        "http://server", vehicle={"state": "parked"}, transport=httpx.MockTransport(handler)
    )
    reply = await answerer.ask("안녕", session_id="s", message_id="bt-1", voice=True)
    await answerer.aclose()
    assert reply == DeviceReply("네", False, "smalltalk")
    assert [b["message_id"] for b in seen] == ["bt-1", "bt-1"]
    assert seen[0]["trigger"] == "push_to_talk" and seen[0]["hypotheses"] == [{"text": "안녕"}]
