"""Who may run turns on each channel, and who they are for the rate limits.

| channel | credential | when |
|---|---|---|
| KakaoTalk | the bot's shared secret in `X-Skill-Secret` (`ASSISTANT_KAKAO_SECRETS`) | on every request once any secret is set; a bot without a secret is refused |
| Rasa REST, callback, socket.io | the channel token (`ASSISTANT_RASA_TOKEN`) as `?token=`, `Authorization: Bearer` or socket.io's `auth: {"token"}`, or a chat API key | once the token is set, or keys are required |
| car, mobile, outbound-webhook messages | a chat API key (`Authorization: Bearer`) | when keys are required (`ASSISTANT_REQUIRE_API_KEY=1`) |

With `ASSISTANT_REQUIRE_API_KEY=1` nothing runs a turn without a credential: the Kakao channel
is off until its secrets are set, the Rasa channels take a chat key or their token.

Each check returns the caller's rate-limit bucket (`assistant.api.auth.Caller.bucket`): the key
or the channel credential it proved, else its address.

    >>> config = ConnectorConfig(kakao_secrets={"BOT1": "s3cret"})
    >>> kakao_caller(config, {"bot": {"id": "BOT1"}}, {"X-Skill-Secret": "s3cret"},
    ...              keys_required=False, address="10.0.0.1")
    'kakao:BOT1'
    >>> kakao_caller(config, {"bot": {"id": "OTHER"}}, {}, keys_required=False, address="10.0.0.1")
    Traceback (most recent call last):
    ...
    connectors.errors.Unauthorized: bot.id: 'OTHER' is not a bot this server answers for
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Any

from assistant.api.auth import Auth, AuthError, Caller
from connectors.config import ConnectorConfig
from connectors.errors import Unauthorized

__all__ = ["kakao_caller", "token_caller"]


def kakao_caller(
    config: ConnectorConfig,
    payload: Any,
    headers: Mapping[str, str],
    *,
    keys_required: bool,
    address: str,
) -> str:
    """The bucket of a Kakao skill request; `Unauthorized` when it may not run a turn."""
    header = config.kakao_secret_header
    if not config.kakao_secrets:
        if keys_required:
            raise Unauthorized(
                "ASSISTANT_KAKAO_SECRETS",
                "is not set: with API keys required, the Kakao channel answers only bots "
                "configured with a shared secret",
                status=403,
                code="channel_disabled",
            )
        return f"addr:{address}"
    bot = payload.get("bot") if isinstance(payload, dict) else None
    bot_id = bot.get("id") if isinstance(bot, dict) else None
    if not isinstance(bot_id, str) or not bot_id:
        raise Unauthorized("bot.id", "is required: this server answers configured bots only")
    secret = config.kakao_secret(bot_id)
    if secret is None:
        raise Unauthorized(
            "bot.id", f"{bot_id!r} is not a bot this server answers for", status=403,
            code="forbidden",
        )  # fmt: skip
    given = headers.get(header)
    if given is None:
        raise Unauthorized(header, "is required: this bot is configured with a shared secret")
    if not hmac.compare_digest(given.encode(), secret.encode()):
        raise Unauthorized(header, "does not match the secret configured for this bot")
    return f"kakao:{bot_id}"


async def token_caller(
    auth: Auth | None,
    config: ConnectorConfig,
    *,
    token: str | None,
    address: str,
) -> str:
    """The bucket of a Rasa channel's request or connection that sent `token` (from `?token=`,
    a Bearer header or socket.io's `auth`); `Unauthorized` when it may not run turns."""
    if (
        token
        and config.rasa_token
        and hmac.compare_digest(token.encode(), config.rasa_token.encode())
    ):
        return "rasa-token"
    keys_required = auth is not None and auth.required("chat")
    if auth is not None and token:
        try:
            caller = await auth.caller(f"Bearer {token}", "chat", address=address)
        except AuthError as e:
            if config.rasa_token or keys_required:
                raise _token_refused(config, e.problem) from e
        else:
            if caller.key is not None or caller.admin:
                return caller.bucket
    if config.rasa_token or keys_required:
        raise _token_refused(config, "missing" if not token else "unknown or wrong")
    return Caller(address=address).bucket


def _token_refused(config: ConnectorConfig, problem: str) -> Unauthorized:
    wanted = "the channel token (ASSISTANT_RASA_TOKEN)" if config.rasa_token else "a chat API key"
    return Unauthorized("token", f"{problem}: send {wanted} as ?token=... or a Bearer header")
