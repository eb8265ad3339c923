"""Settings of the channels, read from the environment (secrets never come from the repository).

| variable | default | meaning |
|---|---|---|
| `ASSISTANT_KAKAO_SECRETS` | (none) | `BOTID=secret,...`; `*=secret` for every bot. Once set, every request must carry its bot's secret, and bots without one are refused |
| `ASSISTANT_KAKAO_SECRET_HEADER` | `X-Skill-Secret` | the header Open Builder is configured to send the secret in |
| `ASSISTANT_KAKAO_TIME_BUDGET` | `3.5` | seconds a turn may take before a request with `callbackUrl` is answered `useCallback` |
| `ASSISTANT_KAKAO_CALLBACK_HOSTS` | `kakao.com,kakaoenterprise.com` | hosts (and their subdomains) a `callbackUrl` may point to; `*` for any. Others are not called: the turn is answered directly |
| `ASSISTANT_RASA_CALLBACK_URL` | (none) | where the Rasa callback channel POSTs bot messages; the channel is off without it |
| `ASSISTANT_RASA_TOKEN` | (none) | the token the Rasa REST, callback and socket.io channels require (`?token=`, as Rasa's `--auth-token`; a Bearer header; socket.io `auth: {"token"}`); a chat API key also passes |
| `ASSISTANT_SOCKETIO_CORS` | (same origin) | origins allowed to open socket.io connections: `*` or a comma-separated list |
| `ASSISTANT_CHAT_FRAME_ANCESTORS` | (same origin) | origins whose pages may show `/chat` in a frame (comma-separated); no others can |
| `ASSISTANT_CAR_TIME_BUDGET` | `1.5` | seconds a car turn's skills may take; slower ones are left out of the answer |
| `ASSISTANT_WEBHOOK_RETRY_BASE` | `1.0` | seconds before the first retry of a webhook delivery; doubled each time |
| `ASSISTANT_WEBHOOK_RETRY_MAX` | `600` | the longest wait between two attempts |
| `ASSISTANT_WEBHOOK_MAX_ATTEMPTS` | `20` | attempts before a delivery is given up and kept as `dead` (about 1.6 hours with the defaults) |
| `ASSISTANT_WEBHOOK_ALLOW_NETWORKS` | (none) | networks webhooks may reach besides public addresses (`10.0.0.0/8,127.0.0.1/32`), or `*` for any; loopback, link-local (the cloud metadata service), private and reserved addresses are refused otherwise |

    >>> config = ConnectorConfig.from_env({"ASSISTANT_KAKAO_SECRETS": "BOT1=s3cret"})
    >>> config.kakao_secret("BOT1"), config.kakao_secret("BOT2")
    ('s3cret', None)
    >>> config.kakao_callback_allowed("https://bot-api.kakao.com/v1/callback/abc")
    True
    >>> config.kakao_callback_allowed("http://10.0.0.1/internal")
    False
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from connectors.targets import TargetPolicy


@dataclass(frozen=True, slots=True)
class ConnectorConfig:
    kakao_secrets: Mapping[str, str] = field(default_factory=dict)
    kakao_secret_header: str = "X-Skill-Secret"
    kakao_time_budget_s: float = 3.5
    #: Kakao keeps a callback URL valid for one minute from its request.
    kakao_callback_validity_s: float = 60.0
    kakao_wait_text: str = "답변을 준비하고 있어요. 잠시만 기다려 주세요."
    #: A request could name any URL as its callback: only these hosts are POSTed to.
    kakao_callback_hosts: tuple[str, ...] = ("kakao.com", "kakaoenterprise.com")
    rasa_callback_url: str | None = None
    rasa_token: str | None = field(default=None, repr=False)  # a secret: never printed
    car_time_budget_s: float = 1.5
    #: Seconds between keep-alive comments of a mobile event stream while its turn runs.
    mobile_keepalive_s: float = 15.0
    socketio_cors: str | list[str] | None = None
    chat_frame_ancestors: tuple[str, ...] = ()
    webhook_retry_base_s: float = 1.0
    webhook_retry_max_s: float = 600.0
    webhook_max_attempts: int = 20
    #: What webhook targets may be: public addresses, plus what the operator allows.
    webhook_targets: TargetPolicy = field(default_factory=TargetPolicy)
    webhook_timeout_s: float = 10.0
    webhook_poll_s: float = 5.0
    outbound_timeout_s: float = 10.0

    @property
    def car_time_budget_ms(self) -> int:
        return max(1, round(self.car_time_budget_s * 1000))

    def kakao_secret(self, bot_id: str) -> str | None:
        """The secret a request of `bot_id` must carry (its own, else the `*` one), or None
        when the bot has none: such a bot is refused once any secret is set."""
        return self.kakao_secrets.get(bot_id) or self.kakao_secrets.get("*")

    def kakao_callback_allowed(self, url: str) -> bool:
        """True when `url` is http(s) on one of `kakao_callback_hosts` or their subdomains."""
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if parts.scheme not in ("http", "https") or not host:
            return False
        return any(
            allowed == "*" or host == allowed or host.endswith("." + allowed)
            for allowed in self.kakao_callback_hosts
        )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ConnectorConfig:
        env = os.environ if environ is None else environ
        secrets: dict[str, str] = {}
        for item in env.get("ASSISTANT_KAKAO_SECRETS", "").split(","):
            bot, sep, secret = item.strip().partition("=")
            if sep and bot and secret:
                secrets[bot] = secret
        cors_env = env.get("ASSISTANT_SOCKETIO_CORS", "").strip()
        cors: str | list[str] | None = None
        if cors_env == "*":
            cors = "*"
        elif cors_env:
            cors = [o.strip() for o in cors_env.split(",") if o.strip()]
        hosts = env.get("ASSISTANT_KAKAO_CALLBACK_HOSTS", "kakao.com,kakaoenterprise.com")
        return cls(
            kakao_secrets=secrets,
            kakao_callback_hosts=tuple(h.strip().lower() for h in hosts.split(",") if h.strip()),
            kakao_secret_header=env.get("ASSISTANT_KAKAO_SECRET_HEADER", "X-Skill-Secret"),
            kakao_time_budget_s=float(env.get("ASSISTANT_KAKAO_TIME_BUDGET", 3.5)),
            rasa_callback_url=env.get("ASSISTANT_RASA_CALLBACK_URL") or None,
            rasa_token=env.get("ASSISTANT_RASA_TOKEN") or None,
            car_time_budget_s=float(env.get("ASSISTANT_CAR_TIME_BUDGET", 1.5)),
            socketio_cors=cors,
            chat_frame_ancestors=tuple(
                o.strip()
                for o in env.get("ASSISTANT_CHAT_FRAME_ANCESTORS", "").split(",")
                if o.strip()
            ),
            webhook_retry_base_s=float(env.get("ASSISTANT_WEBHOOK_RETRY_BASE", 1.0)),
            webhook_retry_max_s=float(env.get("ASSISTANT_WEBHOOK_RETRY_MAX", 600.0)),
            webhook_max_attempts=int(env.get("ASSISTANT_WEBHOOK_MAX_ATTEMPTS", 20)),
            webhook_targets=TargetPolicy.parse(env.get("ASSISTANT_WEBHOOK_ALLOW_NETWORKS", "")),
        )


__all__ = ["ConnectorConfig"]
