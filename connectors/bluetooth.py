"""Bluetooth devices at the edge: headsets, car kits and gadgets that start a conversation.

A backend cannot reach a user's Bluetooth device, so this module runs where the radio is (a
phone, a head unit, a gateway box) and owns the link: `EdgeBridge` connects through a
`Transport`, answers the device's AT commands, turns its button presses and text frames into
assistant turns (through an `Answerer`: the core in-process, or a running server's car
connector over HTTP), sends the reply back in short text frames, and reconnects with backoff
when the link drops, without losing a reply in flight.

Transports (each `connect()` opens a fresh `Link` of bytes):

- `RfcommTransport`: RFCOMM over `socket.AF_BLUETOOTH` (CPython built with BlueZ headers only;
  elsewhere it raises `BluetoothUnavailable`), connecting to a device or accepting one.
- `BleTransport`: BLE GATT on `bleak` (extra `bluetooth`): writes to one characteristic,
  notifications from another, frames cut to the MTU.
- `SocketPairTransport`: a local socket pair per connection, for tests and demos; its
  `device()` gives the other end.

The link speaks the Hands-Free Profile's AT commands (lines ending in CR; results framed by
CR LF), as the audio gateway:

    AT+BRSF=<features>    +BRSF: 4 / OK            the gateway supports voice recognition (0x04)
    AT+CIND=?             +CIND: ("service",(0,1)),("call",(0,1)),... / OK
    AT+CIND?              +CIND: 1,0,0,0,5,0,5 / OK
    AT+CMER=3,0,0,1       OK                       the service level connection is up
    AT+BVRA=1 | AT+BVRA=0 OK (ERROR before the service level connection)
                          +BVRA: 0 / +BVRA: 1      when the gateway ends or starts a session

and vendor commands (HFP leaves `AT+X...` to vendors) for what HFP does not carry:

    AT+XTXT=<text>        OK, then the reply in frames   text typed, or recognized by the device
    AT+XBTN=<name>        OK                             a button press (`voice` or configured)
    +XTXT: <reply id>,<i>/<n>,<text>                     one frame of a reply (i of n)
    AT+XACK=<reply id>    OK                             the device has the whole reply

A reply is kept until the device acknowledges it: when the link drops before, the next link
gets it again, whole (the device keeps a frame it already has once, by id and position). With
`acks=False`, for devices that do not acknowledge, a reply is done once its frames were written.

Anything else, a truncated or garbled command, a line that is not UTF-8 or longer than
`MAX_LINE` bytes answers `ERROR`, and the link stays usable.

    bridge = EdgeBridge(RfcommTransport("00:11:22:33:44:55", channel=3),
                        CarAnswerer("http://127.0.0.1:8000", vehicle={"state": "parked"}),
                        session_id="bt-00:11:22:33:44:55")
    await bridge.run()            # until bridge.stop()
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import socket
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from assistant.types import DeviceContext, Reply, SpeechPart, Utterance
from connectors.errors import ConnectorError
from connectors.text import shorten, split
from connectors.webhooks import backoff

log = logging.getLogger("connector.bluetooth")

#: The longest command line accepted, in bytes (HFP's are far shorter; text frames fit).
MAX_LINE = 1024

# --- errors ----------------------------------------------------------------------------------


class LinkClosed(ConnectorError):
    """The Bluetooth link dropped (or was closed)."""


class BluetoothUnavailable(ConnectorError):
    """This machine cannot open the transport (no Bluetooth sockets, `bleak` not installed)."""


# --- transports ------------------------------------------------------------------------------


class Link(Protocol):
    """An open connection to the device: bytes in, bytes out."""

    async def read(self) -> bytes:
        """The next bytes from the device; raises `LinkClosed` when the link is gone."""
        ...

    async def write(self, data: bytes) -> None:
        """Send `data`; raises `LinkClosed` when the link is gone."""
        ...

    async def close(self) -> None: ...


class Transport(Protocol):
    """Opens links to the device, again after each drop."""

    async def connect(self) -> Link: ...


class StreamLink:
    """A link over a connected stream socket (RFCOMM, a socket pair, TCP)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def over(cls, sock: socket.socket) -> StreamLink:
        reader, writer = await asyncio.open_connection(sock=sock)
        return cls(reader, writer)

    async def read(self) -> bytes:
        try:
            data = await self.reader.read(4096)
        except OSError as e:
            raise LinkClosed(f"read failed: {e}") from e
        if not data:
            raise LinkClosed("the device closed the link")
        return data

    async def write(self, data: bytes) -> None:
        if self.writer.is_closing():
            raise LinkClosed("the link is closed")
        try:
            self.writer.write(data)
            await self.writer.drain()
        except OSError as e:
            raise LinkClosed(f"write failed: {e}") from e

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(OSError):
            await self.writer.wait_closed()


class RfcommTransport:
    """RFCOMM through the standard `socket` module: connects to `address` on `channel`, or,
    with `listen=True`, accepts the next device that connects to this host's `channel`.

    Bluetooth sockets exist only in a CPython built with BlueZ headers (Linux); elsewhere
    `connect()` raises `BluetoothUnavailable`.
    """

    def __init__(self, address: str | None, channel: int, *, listen: bool = False) -> None:
        if not 1 <= channel <= 30:
            raise ValueError(f"RFCOMM channels are 1 to 30, got {channel}")
        if address is None and not listen:
            raise ValueError("an address is needed to connect (or listen=True to accept)")
        self.address = address
        self.channel = channel
        self.listen = listen
        self._server: socket.socket | None = None

    @staticmethod
    def available() -> bool:
        return hasattr(socket, "AF_BLUETOOTH") and hasattr(socket, "BTPROTO_RFCOMM")

    def _socket(self) -> socket.socket:
        family = getattr(socket, "AF_BLUETOOTH", None)
        protocol = getattr(socket, "BTPROTO_RFCOMM", None)
        if family is None or protocol is None:
            raise BluetoothUnavailable(
                "this Python has no Bluetooth sockets (CPython must be built with BlueZ "
                "headers); use BleTransport, or run the edge on a Linux Python with BlueZ"
            )
        sock = socket.socket(family, socket.SOCK_STREAM, protocol)
        sock.setblocking(False)
        return sock

    async def connect(self) -> Link:
        loop = asyncio.get_running_loop()
        if not self.listen:
            sock = self._socket()
            try:
                await loop.sock_connect(sock, (self.address, self.channel))
            except OSError:
                sock.close()
                raise
            return await StreamLink.over(sock)
        if self._server is None:
            server = self._socket()
            server.bind(
                (self.address or getattr(socket, "BDADDR_ANY", "00:00:00:00:00:00"), self.channel)
            )
            server.listen(1)
            self._server = server
        conn, _ = await loop.sock_accept(self._server)
        return await StreamLink.over(conn)

    def close(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None


class SocketPairTransport:
    """A fresh local socket pair for each link: the bridge gets one end, `device()` the other
    (an `asyncio` reader and writer), as a device would have it. For tests and demos.

        transport = SocketPairTransport()
        ...                                        # the bridge connects
        reader, writer = await transport.device()  # the device's end of the link
    """

    def __init__(self) -> None:
        self._ends: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = (
            asyncio.Queue()
        )
        self.refuse = 0  # refuse this many connection attempts (a device out of range)
        self.attempts = 0

    async def connect(self) -> Link:
        self.attempts += 1
        if self.refuse > 0:
            self.refuse -= 1
            raise ConnectionRefusedError("the device is out of range")
        ours, theirs = socket.socketpair()
        ours.setblocking(False)
        theirs.setblocking(False)
        self._ends.put_nowait(await asyncio.open_connection(sock=theirs))
        return await StreamLink.over(ours)

    async def device(
        self, timeout_s: float = 10.0
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """The device's end of the next link the bridge opens."""
        return await asyncio.wait_for(self._ends.get(), timeout_s)

    async def close(self) -> None:
        """Close the device ends nobody took (the bridge reconnects when a device leaves, so
        after the last one there is a link nobody will use)."""
        while not self._ends.empty():
            _, writer = self._ends.get_nowait()
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


class _GattClient(Protocol):
    """What `BleTransport` uses of `bleak.BleakClient`."""

    @property
    def mtu_size(self) -> int: ...

    async def connect(self) -> Any: ...

    async def disconnect(self) -> Any: ...

    async def start_notify(self, char_specifier: Any, callback: Any) -> None: ...

    async def write_gatt_char(
        self, char_specifier: Any, data: Any, response: bool = ...
    ) -> None: ...


class BleLink:
    """A link over two GATT characteristics: writes cut to the MTU, notifications read."""

    #: An ATT write carries the MTU less 3 bytes of header.
    ATT_HEADER = 3

    def __init__(self, client: _GattClient, write_char: str, *, mtu: int | None = None) -> None:
        self.client = client
        self.write_char = write_char
        self.mtu = mtu
        self.incoming: asyncio.Queue[bytes | None] = asyncio.Queue()
        self.closed = False

    def notified(self, _characteristic: Any, data: bytearray) -> None:
        self.incoming.put_nowait(bytes(data))

    def dropped(self, _client: Any = None) -> None:
        self.closed = True
        self.incoming.put_nowait(None)

    @property
    def frame_size(self) -> int:
        mtu = self.mtu or self.client.mtu_size
        return max(1, mtu - self.ATT_HEADER)

    async def read(self) -> bytes:
        data = await self.incoming.get()
        if data is None:
            raise LinkClosed("the device disconnected")
        return data

    async def write(self, data: bytes) -> None:
        if self.closed:
            raise LinkClosed("the device disconnected")
        size = self.frame_size
        for start in range(0, len(data), size):
            try:
                await self.client.write_gatt_char(
                    self.write_char, data[start : start + size], response=True
                )
            except (OSError, EOFError, TimeoutError) as e:
                raise LinkClosed(f"write failed: {e}") from e
            except Exception as e:  # bleak raises BleakError, which we do not import eagerly
                if type(e).__name__ in ("BleakError", "BleakDBusError"):
                    raise LinkClosed(f"write failed: {e}") from e
                raise

    async def close(self) -> None:
        if not self.closed:
            self.closed = True
            with contextlib.suppress(Exception):
                await self.client.disconnect()


class BleTransport:
    """BLE GATT with `bleak` (`pip install 'kakao-style-assistant[bluetooth]'`): the device's
    `write_char` takes our frames (cut to the negotiated MTU less 3), its `notify_char`
    notifies its own. `client_factory(address, disconnected_callback)` makes the client;
    the default is `bleak.BleakClient`, imported on first use."""

    def __init__(
        self,
        address: str,
        *,
        write_char: str,
        notify_char: str,
        mtu: int | None = None,
        client_factory: Callable[[str, Callable[[Any], None]], _GattClient] | None = None,
    ) -> None:
        self.address = address
        self.write_char = write_char
        self.notify_char = notify_char
        self.mtu = mtu
        self.client_factory = client_factory

    def _factory(self) -> Callable[[str, Callable[[Any], None]], _GattClient]:
        if self.client_factory is not None:
            return self.client_factory
        try:
            import bleak
        except ImportError as e:
            raise BluetoothUnavailable(
                "BLE needs the 'bleak' package: pip install 'kakao-style-assistant[bluetooth]'"
            ) from e

        def make(address: str, dropped: Callable[[Any], None]) -> _GattClient:
            client: _GattClient = bleak.BleakClient(address, disconnected_callback=dropped)
            return client

        return make

    async def connect(self) -> Link:
        holder: list[BleLink] = []

        def dropped(client: Any) -> None:
            if holder:
                holder[0].dropped(client)

        client = self._factory()(self.address, dropped)
        link = BleLink(client, self.write_char, mtu=self.mtu)
        holder.append(link)
        await client.connect()
        try:
            await client.start_notify(self.notify_char, link.notified)
        except Exception:
            await link.close()
            raise
        return link


# --- lines and the Hands-Free Profile --------------------------------------------------------


class LineBuffer:
    """Bytes from the link cut into command lines (at CR or LF). A line longer than `limit`
    bytes comes out as None (to be answered ERROR) and the rest of it is skipped.

    >>> buffer = LineBuffer()
    >>> buffer.feed(b"AT+BRSF=63\\rAT+CI"), buffer.feed(b"ND=?\\r\\n")
    ([b'AT+BRSF=63'], [b'AT+CIND=?'])
    """

    def __init__(self, limit: int = MAX_LINE) -> None:
        self.limit = limit
        self._pending = bytearray()
        self._skipping = False

    def feed(self, data: bytes) -> list[bytes | None]:
        lines: list[bytes | None] = []
        for chunk in re.split(rb"(\r|\n)", data):
            if chunk in (b"\r", b"\n"):
                if self._skipping:
                    self._skipping = False
                elif self._pending.strip():
                    lines.append(bytes(self._pending).strip())
                self._pending.clear()
                continue
            if self._skipping:
                continue
            self._pending += chunk
            if len(self._pending) > self.limit:
                lines.append(None)
                self._pending.clear()
                self._skipping = True
        return lines


#: Audio gateway feature bits (HFP 1.7, +BRSF): we offer voice recognition only.
AG_VOICE_RECOGNITION = 0x04
#: The indicators of HFP, with their ranges and the values we report.
INDICATORS = (
    ("service", "(0,1)", 1),
    ("call", "(0,1)", 0),
    ("callsetup", "(0-3)", 0),
    ("callheld", "(0-2)", 0),
    ("signal", "(0-5)", 5),
    ("roam", "(0,1)", 0),
    ("battchg", "(0-5)", 5),
)


@dataclass(frozen=True, slots=True)
class Event:
    """What a command asks of the bridge: `voice` (start/stop: True/False), `text`, `button`."""

    kind: str
    value: Any = None


@dataclass(slots=True)
class Answer:
    """The result lines of one command (without CR LF framing) and the event it raised."""

    lines: list[str]
    event: Event | None = None


_OK = ["OK"]
_ERROR = ["ERROR"]
_INT = re.compile(r"\d{1,10}")
_BUTTON = re.compile(r"[a-z0-9_]{1,32}")
_REPLY_ID = re.compile(r"[0-9a-f]{1,32}")


@dataclass(slots=True)
class AudioGateway:
    """The gateway's side of HFP for one link: the setup exchange, then voice recognition.

    >>> ag = AudioGateway()
    >>> ag.handle("AT+BVRA=1").lines                 # no service level connection yet
    ['ERROR']
    >>> for command in ("AT+BRSF=191", "AT+CIND=?", "AT+CIND?", "AT+CMER=3,0,0,1"):
    ...     _ = ag.handle(command)
    >>> answer = ag.handle("AT+BVRA=1")
    >>> answer.lines, answer.event
    (['OK'], Event(kind='voice', value=True))
    """

    features: int = AG_VOICE_RECOGNITION
    hf_features: int | None = None
    indicators_listed: bool = False
    indicators_read: bool = False
    events_enabled: bool = False
    slc: bool = False
    voice: bool = False

    def handle(self, line: str) -> Answer:
        command = line.strip()
        upper = command.upper()
        if upper == "AT":
            return Answer(_OK)
        if upper.startswith("AT+XTXT="):  # the text keeps its case
            text = command[len("AT+XTXT=") :].strip()
            return Answer(_OK, Event("text", text)) if text else Answer(_ERROR)
        if upper.startswith("AT+BRSF="):
            value = upper[len("AT+BRSF=") :]
            if not _INT.fullmatch(value) or int(value) >= 2**32:
                return Answer(_ERROR)
            self.hf_features = int(value)
            return Answer([f"+BRSF: {self.features}", "OK"])
        if upper == "AT+CIND=?":
            self.indicators_listed = True
            listed = ",".join(f'("{name}",{span})' for name, span, _ in INDICATORS)
            return Answer([f"+CIND: {listed}", "OK"])
        if upper == "AT+CIND?":
            self.indicators_read = True
            return Answer([f"+CIND: {','.join(str(v) for _, _, v in INDICATORS)}", "OK"])
        if upper.startswith("AT+CMER="):
            return self._cmer(upper[len("AT+CMER=") :])
        if upper.startswith("AT+BVRA="):
            return self._bvra(upper[len("AT+BVRA=") :])
        if upper.startswith(("AT+VGS=", "AT+VGM=")):
            value = upper[len("AT+VGS=") :]
            ok = _INT.fullmatch(value) is not None and int(value) <= 15
            return Answer(_OK if ok else _ERROR)
        if upper in ("AT+NREC=0", "AT+CMEE=1", "AT+CMEE=0") or upper.startswith("AT+BIA="):
            return Answer(_OK)
        if upper.startswith("AT+XACK="):
            reply_id = command[len("AT+XACK=") :].strip().lower()
            if not _REPLY_ID.fullmatch(reply_id):
                return Answer(_ERROR)
            return Answer(_OK, Event("ack", reply_id))
        if upper.startswith("AT+XBTN="):
            name = command[len("AT+XBTN=") :].strip().lower()
            return Answer(_OK, Event("button", name)) if _BUTTON.fullmatch(name) else Answer(_ERROR)
        return Answer(_ERROR)

    def _cmer(self, args: str) -> Answer:
        parts = args.split(",")
        if len(parts) != 4 or not all(_INT.fullmatch(p.strip()) for p in parts):
            return Answer(_ERROR)
        mode, _, _, indicators = (int(p) for p in parts)
        if mode != 3 or indicators not in (0, 1):
            return Answer(_ERROR)
        self.events_enabled = indicators == 1
        if self.hf_features is None or not self.indicators_listed or not self.indicators_read:
            return Answer(_ERROR)  # out of order: BRSF, CIND=?, CIND? come first
        self.slc = True
        return Answer(_OK)

    def _bvra(self, value: str) -> Answer:
        if value not in ("0", "1") or not self.slc:
            return Answer(_ERROR)
        if not self.features & AG_VOICE_RECOGNITION:
            return Answer(_ERROR)
        wanted = value == "1"
        changed = wanted != self.voice
        self.voice = wanted
        return Answer(_OK, Event("voice", wanted) if changed else None)


def result(line: str) -> bytes:
    """A result line framed as HFP has them: CR LF before and after."""
    return f"\r\n{line}\r\n".encode()


# --- answering -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DeviceReply:
    """A reply as a small device gets it: what to say or show, and whether to keep listening."""

    text: str
    keep_listening: bool = False
    route: str = ""


class Answerer(Protocol):
    """Turns one utterance of the device into a reply."""

    async def ask(
        self, text: str, *, session_id: str, message_id: str, voice: bool
    ) -> DeviceReply: ...


def device_text(reply: Reply) -> str:
    """What a voice device says of a reply: its speech parts, else its plain text."""
    spoken = [p.text for p in reply.parts if isinstance(p, SpeechPart)]
    return " ".join(spoken) if spoken else " ".join(reply.plain_text().split())


class CoreAnswerer:
    """Answers in-process through `Assistant.handle` (channel `bluetooth`, no screen)."""

    def __init__(self, assistant: Any, *, max_text_length: int = 600) -> None:
        self.assistant = assistant
        self.max_text_length = max_text_length

    async def ask(self, text: str, *, session_id: str, message_id: str, voice: bool) -> DeviceReply:
        utterance = Utterance(
            text=text,
            session_id=session_id,
            channel="bluetooth",
            device=DeviceContext(
                has_screen=False, has_voice=voice, max_text_length=self.max_text_length
            ),
            message_id=message_id,
        )
        reply: Reply = await self.assistant.handle(utterance)
        return DeviceReply(device_text(reply), reply.expects_reply, reply.route)


class CarAnswerer:
    """Answers through a running server's car connector (`POST /connectors/car/turns`), so a
    car kit's turns are shaped for driving. Network failures and 5xx answers are retried
    with backoff for `deadline_s`; the turn's message id makes a retry answer once."""

    def __init__(
        self,
        base_url: str,
        *,
        vehicle: Mapping[str, Any],
        api_key: str | None = None,
        locale: str | None = None,
        deadline_s: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.url = base_url.rstrip("/") + "/connectors/car/turns"
        self.vehicle = dict(vehicle)
        self.locale = locale
        self.deadline_s = deadline_s
        headers = {"authorization": f"Bearer {api_key}"} if api_key else {}
        self.client = httpx.AsyncClient(headers=headers, timeout=10.0, transport=transport)

    async def ask(self, text: str, *, session_id: str, message_id: str, voice: bool) -> DeviceReply:
        body: dict[str, Any] = {
            "session_id": session_id,
            "message_id": message_id,
            "trigger": "push_to_talk" if voice else "touch",
            "hypotheses": [{"text": text}],
            "vehicle": self.vehicle,
        }
        if self.locale:
            body["locale"] = self.locale
        deadline = time.monotonic() + self.deadline_s
        attempt = 0
        while True:
            attempt += 1
            try:
                response = await self.client.post(self.url, json=body)
            except httpx.TransportError as e:
                problem = f"{type(e).__name__}: {e}"
            else:
                if response.status_code < 400:
                    answer = response.json()
                    return DeviceReply(
                        answer["speech"]["text"], bool(answer["keep_listening"]), answer["route"]
                    )
                if response.status_code < 500 and response.status_code != 429:
                    raise ConnectorError(
                        f"the car connector refused the turn: HTTP {response.status_code} "
                        f"{response.text[:200]}"
                    )
                problem = f"HTTP {response.status_code}"
            wait = backoff(attempt, base_s=0.25, max_s=4.0)
            if time.monotonic() + wait > deadline:
                raise ConnectorError(f"the car connector did not answer in time ({problem})")
            log.warning("connector.bluetooth.server_retry", extra={"problem": problem})
            await asyncio.sleep(wait)

    async def aclose(self) -> None:
        await self.client.aclose()


# --- the bridge ------------------------------------------------------------------------------


def reply_frames(reply_id: str, text: str, *, frame_chars: int, max_chars: int) -> list[str]:
    """A reply in `+XTXT` frames of at most `frame_chars` characters of text each.

    >>> reply_frames("r1", "첫 문장입니다. 두 번째 문장입니다.", frame_chars=12, max_chars=100)
    ['+XTXT: r1,1/2,첫 문장입니다.', '+XTXT: r1,2/2,두 번째 문장입니다.']
    """
    flat = " ".join(text.split()) or "…"
    pieces = split(shorten(flat, max_chars), frame_chars)
    return [f"+XTXT: {reply_id},{i}/{len(pieces)},{p}" for i, p in enumerate(pieces, 1)]


@dataclass(slots=True)
class _Outgoing:
    """A line to write: a frame of a reply, or (with `link`) a result meant for one link only."""

    line: str
    reply_id: str = ""
    last: bool = False
    link: int | None = None


@dataclass
class EdgeBridge:
    """Owns the link to one device: see the module docstring.

    `buttons` maps a button's name (`AT+XBTN=<name>`) to what pressing it says (`{"home":
    "집으로 안내해 줘"}`); the `voice` button starts or ends voice recognition. A voice session
    ends (`+BVRA: 0`) after a reply that does not expect an answer, or after `voice_timeout_s`
    without speech.
    """

    transport: Transport
    answerer: Answerer
    session_id: str
    buttons: Mapping[str, str] = field(default_factory=dict)
    frame_chars: int = 120
    max_reply_chars: int = 600
    retry_base_s: float = 0.5
    retry_max_s: float = 30.0
    voice_timeout_s: float | None = 10.0
    features: int = AG_VOICE_RECOGNITION
    acks: bool = True

    def __post_init__(self) -> None:
        self.outbox: deque[_Outgoing] = deque()
        #: Replies the device has not acknowledged yet: reply id -> frames.
        self.pending: dict[str, list[str]] = {}
        self.gateway = AudioGateway(features=self.features)
        self.connected = asyncio.Event()
        self.links = 0  # links opened so far
        self.turns: list[asyncio.Task[None]] = []
        self._link: Link | None = None
        self._write_lock = asyncio.Lock()
        self._outbox_ready = asyncio.Event()
        self._stopping = asyncio.Event()
        self._hfp = False  # the device does the HFP setup: frames wait for it after a reconnect
        self._voice_timer: asyncio.Task[None] | None = None

    # --- running ---------------------------------------------------------------------------

    async def run(self) -> None:
        """Connect, serve the link, reconnect with backoff when it drops; until `stop()`."""
        failures = 0
        while not self._stopping.is_set():
            connecting = asyncio.ensure_future(self.transport.connect())
            stopping = asyncio.ensure_future(self._stopping.wait())
            await asyncio.wait({connecting, stopping}, return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            if not connecting.done():  # stopped while waiting for a device (listening)
                connecting.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await connecting
                return
            try:
                link = connecting.result()
            except BluetoothUnavailable:
                raise
            except (OSError, LinkClosed, TimeoutError) as e:
                failures += 1
                wait = backoff(failures, base_s=self.retry_base_s, max_s=self.retry_max_s)
                log.warning(
                    "connector.bluetooth.connect_failed",
                    extra={"problem": str(e), "attempt": failures, "retry_in_s": round(wait, 3)},
                )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), wait)
                continue
            failures = 0
            await self._serve(link)

    async def stop(self) -> None:
        """Stop serving: close the link; turns in flight are cancelled."""
        self._stopping.set()
        if self._link is not None:
            await self._link.close()
        for task in self.turns:
            task.cancel()
        if self._voice_timer is not None:
            self._voice_timer.cancel()

    async def _serve(self, link: Link) -> None:
        self._link = link
        self.links += 1
        self.gateway = AudioGateway(features=self.features)
        # what the last link did not deliver goes out on this one, oldest reply first
        self.outbox = deque(
            _Outgoing(line, reply_id, i == len(frames) - 1)
            for reply_id, frames in self.pending.items()
            for i, line in enumerate(frames)
        )
        if self.outbox:
            log.info("connector.bluetooth.resending", extra={"replies": len(self.pending)})
        self._outbox_ready.set()
        self.connected.set()
        log.info("connector.bluetooth.connected", extra={"links": self.links})
        lines = LineBuffer()
        flusher = asyncio.create_task(self._flush(link), name="bluetooth-flush")
        stopping = asyncio.create_task(self._stopping.wait())
        try:
            while True:
                reading = asyncio.create_task(link.read())
                done, _ = await asyncio.wait(
                    {reading, stopping}, return_when=asyncio.FIRST_COMPLETED
                )
                if reading not in done:
                    reading.cancel()
                    return
                data = reading.result()
                for line in lines.feed(data):
                    await self._command(link, line)
        except LinkClosed as e:
            log.warning("connector.bluetooth.link_dropped", extra={"problem": str(e)})
        finally:
            self.connected.clear()
            self._link = None
            flusher.cancel()
            stopping.cancel()
            with contextlib.suppress(asyncio.CancelledError, LinkClosed):
                await flusher
            await link.close()

    # --- commands ----------------------------------------------------------------------------

    async def _command(self, link: Link, raw: bytes | None) -> None:
        try:
            line = raw.decode("utf-8") if raw is not None else None
        except UnicodeDecodeError:
            line = None
        if line is None or not line.upper().startswith("AT"):
            log.info("connector.bluetooth.bad_command", extra={"bytes": len(raw or b"")})
            await self._send(link, ["ERROR"])
            return
        if line.upper().startswith("AT+BRSF"):
            self._hfp = True
        answer = self.gateway.handle(line)
        event = answer.event
        unknown_button = event is not None and event.kind == "button"
        if unknown_button and event is not None and event.value not in ("voice", *self.buttons):
            answer, event = Answer(_ERROR), None
        await self._send(link, answer.lines)
        if self.gateway.slc:
            self._outbox_ready.set()  # frames held for the setup may go now
        if event is not None:
            await self._act(event)

    async def _act(self, event: Event) -> None:
        if event.kind == "voice":
            self._voice(event.value, announce=False)
        elif event.kind == "ack":
            if self.pending.pop(event.value, None) is not None:
                self.outbox = deque(f for f in self.outbox if f.reply_id != event.value)
        elif event.kind == "text":
            self._start_turn(event.value)
        elif event.kind == "button":
            if event.value == "voice":
                await self.set_voice(not self.gateway.voice)
            else:
                self._start_turn(self.buttons[event.value])

    async def set_voice(self, active: bool) -> None:
        """Start or end voice recognition from the gateway's side, telling the device
        (`+BVRA: 1` / `+BVRA: 0`) when its service level connection is up."""
        if self.gateway.voice == active:
            return
        self.gateway.voice = active
        self._voice(active, announce=True)

    def _voice(self, active: bool, *, announce: bool) -> None:
        if self._voice_timer is not None:
            self._voice_timer.cancel()
            self._voice_timer = None
        if announce and self.gateway.slc and self._link is not None:
            # after the frames already queued (a reply, then the end of the session), and
            # only on this link: a new link starts without voice recognition
            self.outbox.append(_Outgoing(f"+BVRA: {int(active)}", link=self.links))
            self._outbox_ready.set()
        if active and self.voice_timeout_s is not None:
            self._voice_timer = asyncio.get_running_loop().create_task(self._voice_expiry())

    async def _voice_expiry(self) -> None:
        assert self.voice_timeout_s is not None
        await asyncio.sleep(self.voice_timeout_s)
        self._voice_timer = None
        if self.gateway.voice:
            log.info("connector.bluetooth.voice_timeout")
            self.gateway.voice = False
            self._voice(False, announce=True)

    async def hear(self, text: str) -> None:
        """Speech the gateway recognized itself (its own recognizer, during a voice session)."""
        self._start_turn(text)

    # --- turns -------------------------------------------------------------------------------

    def _start_turn(self, text: str) -> None:
        voice = self.gateway.voice
        if self._voice_timer is not None:  # speech came: no timeout while it is answered
            self._voice_timer.cancel()
            self._voice_timer = None
        task = asyncio.get_running_loop().create_task(
            self._turn(text, voice), name="bluetooth-turn"
        )
        self.turns.append(task)
        task.add_done_callback(self.turns.remove)

    async def _turn(self, text: str, voice: bool) -> None:
        reply_id = uuid.uuid4().hex[:8]
        message_id = f"bt-{reply_id}"
        try:
            reply = await self.answerer.ask(
                text, session_id=self.session_id, message_id=message_id, voice=voice
            )
        except Exception as e:
            log.exception("connector.bluetooth.turn_failed", extra={"problem": str(e)})
            reply = DeviceReply("죄송해요, 지금은 답할 수 없어요. 잠시 후 다시 말씀해 주세요.")
        frames = reply_frames(
            reply_id, reply.text, frame_chars=self.frame_chars, max_chars=self.max_reply_chars
        )
        self.pending[reply_id] = frames
        self.outbox.extend(
            _Outgoing(line, reply_id, i == len(frames) - 1) for i, line in enumerate(frames)
        )
        self._outbox_ready.set()
        if voice and self.gateway.voice:
            if reply.keep_listening:
                self._voice(True, announce=False)  # listening again: the timeout starts anew
            else:
                await self.set_voice(False)

    async def _flush(self, link: Link) -> None:
        """Write the outbox, oldest first. A reply stays pending until the device acknowledges
        it (or, with `acks=False`, until its last frame was written)."""
        while True:
            await self._outbox_ready.wait()
            held = self._hfp and not self.gateway.slc  # a new link's setup comes first
            if not self.outbox or held:
                self._outbox_ready.clear()
                continue
            frame = self.outbox[0]
            if frame.link is None or frame.link == self.links:
                await self._send(link, [frame.line])
            if self.outbox and self.outbox[0] is frame:
                self.outbox.popleft()
            if frame.last and not self.acks:
                self.pending.pop(frame.reply_id, None)

    async def _send(self, link: Link, lines: Sequence[str]) -> None:
        async with self._write_lock:
            await link.write(b"".join(result(line) for line in lines))


# --- a hands-free unit, for tests and demos --------------------------------------------------


class HandsFreeUnit:
    """The device's side of a link, as a headset or car kit would speak it: commands that wait
    for their final result, and the unsolicited results (`+BVRA`, `+XTXT`) kept apart.

        unit = HandsFreeUnit(*await transport.device())
        await unit.setup()                       # BRSF, CIND=?, CIND?, CMER
        assert await unit.command("AT+BVRA=1") == ["OK"]
        reply = await unit.reply()               # the text of the next whole reply
    """

    FINAL = ("OK", "ERROR")
    UNSOLICITED = ("+BVRA:", "+XTXT:")

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        echo: Callable[[str, str], None] | None = None,
    ) -> None:
        self.reader = reader
        self.writer = writer
        self.echo = echo  # echo("HF", line) for what it sends, echo("AG", line) for results
        self.unsolicited: asyncio.Queue[str] = asyncio.Queue()
        self._results: asyncio.Queue[str] = asyncio.Queue()
        self._reading = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        while True:
            raw = await self.reader.readline()
            if not raw:
                await self._results.put("")  # the link is gone
                return
            line = raw.decode("utf-8", "replace").strip()
            if not line:
                continue
            if self.echo is not None:
                self.echo("AG", line)
            if line.startswith(self.UNSOLICITED):
                await self.unsolicited.put(line)
            else:
                await self._results.put(line)

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def command(self, line: str | bytes, timeout_s: float = 10.0) -> list[str]:
        """Send one command (CR added) and the result lines up to its OK or ERROR."""
        raw = line.encode() if isinstance(line, str) else line
        if self.echo is not None:
            self.echo("HF", raw.decode("utf-8", "replace"))
        await self.send(raw + b"\r")
        lines: list[str] = []
        while True:
            got = await asyncio.wait_for(self._results.get(), timeout_s)
            if not got:
                raise LinkClosed("the gateway closed the link")
            lines.append(got)
            if got in self.FINAL:
                return lines

    async def setup(self, features: int = 0xBF) -> list[str]:
        """The HFP service level connection: every result line of the four commands."""
        seen: list[str] = []
        for command in (f"AT+BRSF={features}", "AT+CIND=?", "AT+CIND?", "AT+CMER=3,0,0,1"):
            seen += await self.command(command)
        return seen

    async def next_unsolicited(self, timeout_s: float = 10.0) -> str:
        return await asyncio.wait_for(self.unsolicited.get(), timeout_s)

    async def reply(self, timeout_s: float = 10.0, *, ack: bool = True) -> str:
        """The text of the next whole reply, put together from its `+XTXT` frames (a frame
        sent twice after a reconnect counts once), acknowledged with `AT+XACK` when `ack`."""
        parts: dict[int, str] = {}
        reply_id = None
        while True:
            line = await self.next_unsolicited(timeout_s)
            if not line.startswith("+XTXT:"):
                continue
            rid, position, text = line[len("+XTXT:") :].strip().split(",", 2)
            index, total = (int(x) for x in position.split("/"))
            if reply_id is not None and rid != reply_id:
                continue
            reply_id = rid
            parts[index] = text
            if len(parts) == total:
                if ack and await self.command(f"AT+XACK={rid}") != ["OK"]:
                    raise ConnectorError(f"the gateway refused the acknowledgement of {rid}")
                return " ".join(parts[i] for i in range(1, total + 1))

    async def close(self) -> None:
        self._reading.cancel()
        self.writer.close()
        with contextlib.suppress(OSError):
            await self.writer.wait_closed()


__all__ = [
    "AG_VOICE_RECOGNITION",
    "MAX_LINE",
    "Answer",
    "Answerer",
    "AudioGateway",
    "BleLink",
    "BleTransport",
    "BluetoothUnavailable",
    "CarAnswerer",
    "CoreAnswerer",
    "DeviceReply",
    "EdgeBridge",
    "Event",
    "HandsFreeUnit",
    "LineBuffer",
    "Link",
    "LinkClosed",
    "RfcommTransport",
    "SocketPairTransport",
    "StreamLink",
    "Transport",
    "device_text",
    "reply_frames",
    "result",
]
