"""Webhook delivery after the target was down (loopback only, bounded).

Starts a server, registers a webhook whose receiver is not listening yet, sends `--messages`
turns through `/connectors/webhooks/messages`, optionally `kill -9`s and restarts the server
while the target is still down, brings the receiver up after `--down` seconds, and reports how
long the deliveries took to arrive, how many arrived (once each, by delivery id), duplicates,
and whether every signature checked out.

    python bench/webhook_outage.py --down 240 --messages 20 --restart
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from connectors.webhooks import DELIVERY_HEADER, verify_signature

ADMIN_KEY = "outage-admin-key-0123456789"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(port: int, database: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "ASSISTANT_DATABASE_URL": f"sqlite:///{database}",
        "OMP_NUM_THREADS": "1",
        "ASSISTANT_ADMIN_API_KEY": ADMIN_KEY,  # managing webhooks needs the admin scope
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "assistant", "serve", "--port", str(port), "--log-level", "warning"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 600  # the demo bot embeds its FAQ at start
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    proc.kill()
    raise RuntimeError("server did not become ready")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--down", type=float, default=180.0, help="seconds the target stays down")
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument(
        "--restart", action="store_true", help="kill -9 and restart the server meanwhile"
    )
    parser.add_argument("--max-wait", type=float, default=900.0, help="give up after this long")
    args = parser.parse_args()
    if not 0 < args.down <= 3600 or not 0 < args.messages <= 1000:
        raise SystemExit("--down must be at most 3600 s and --messages at most 1000")

    tmp = Path(tempfile.mkdtemp(prefix="webhook-outage-"))
    port, target = free_port(), free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_server(port, str(tmp / "store.db"))
    arrivals: dict[str, float] = {}
    duplicates = 0
    bad_signatures = 0
    secret = "outage-secret-0123456789"
    lock = threading.Lock()

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            nonlocal duplicates, bad_signatures
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            with lock:
                if not verify_signature(secret, body, dict(self.headers.items())):
                    bad_signatures += 1
                delivery = self.headers.get(DELIVERY_HEADER, "")
                if delivery in arrivals:
                    duplicates += 1
                else:
                    arrivals[delivery] = time.monotonic()
            self.send_response(204)
            self.end_headers()

        def log_message(self, *_: object) -> None:
            pass

    report: dict[str, object] = {
        "messages": args.messages,
        "down_s": args.down,
        "restart": args.restart,
    }
    receiver: ThreadingHTTPServer | None = None
    try:
        hook = httpx.post(
            f"{base}/connectors/webhooks",
            json={
                "url": f"http://127.0.0.1:{target}/hook",
                "session_id": "outage",
                "secret": secret,
            },
            headers={"Authorization": f"Bearer {ADMIN_KEY}"},
            timeout=30,
        )
        hook.raise_for_status()
        down_since = time.monotonic()
        for i in range(args.messages):
            r = httpx.post(
                f"{base}/connectors/webhooks/messages",
                json={"session_id": "outage", "text": f"메시지 {i}", "message_id": f"o-{i}"},
                timeout=30,
            )
            r.raise_for_status()
        if args.restart:
            time.sleep(min(5.0, args.down / 3))
            server.send_signal(signal.SIGKILL)
            server.wait()
            server = start_server(port, str(tmp / "store.db"))
        time.sleep(max(0.0, args.down - (time.monotonic() - down_since)))
        receiver = ThreadingHTTPServer(("127.0.0.1", target), Receiver)
        threading.Thread(target=receiver.serve_forever, daemon=True).start()
        up_at = time.monotonic()
        while len(arrivals) < args.messages and time.monotonic() - up_at < args.max_wait:
            time.sleep(0.5)
        times = sorted(t - up_at for t in arrivals.values())
        report.update(
            delivered=len(arrivals),
            lost=args.messages - len(arrivals),
            duplicates=duplicates,
            bad_signatures=bad_signatures,
            first_after_up_s=round(times[0], 1) if times else None,
            all_after_up_s=round(times[-1], 1) if len(times) == args.messages else None,
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
        if receiver is not None:
            receiver.shutdown()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
