"""Whose session is it: every channel keeps its conversations under a namespace of its own, so
that no channel can name another's session.

A channel that takes session or user ids from its clients (`kakao:<bot>:<user>`, `rasa:<sender>`,
`socketio:<id>`, `car:<id>`, `mobile:<device>`) stores them under its namespace. The native API
(`/v1/chat`, `/v1/sessions`, `/v1/feedback`) uses the ids it is given as they are, and refuses
to run turns in a channel's namespace; reading or rating another channel's session there takes
an admin key.

    >>> session_in("kakao", "bot 1", "u:1")
    'kakao:bot%201:u:1'
    >>> owner("kakao:bot%201:u:1"), owner("demo-1"), owner("shop:42")
    ('kakao', None, None)
"""

from __future__ import annotations

from urllib.parse import quote

__all__ = ["CHANNELS", "owner", "session_in"]

#: The namespaces and the channels that own them.
CHANNELS = {
    "kakao": "the KakaoTalk channel",
    "rasa": "the Rasa REST channel",
    "callback": "the Rasa callback channel",
    "socketio": "the socket.io channel",
    "mobile": "the mobile app channel",
    "car": "the in-vehicle voice channel",
}


def session_in(channel: str, *parts: str) -> str:
    """The session id of `parts` under `channel`'s namespace. Every part but the last is
    percent-encoded, so `("a:b", "c")` and `("a", "b:c")` never meet."""
    if channel not in CHANNELS:
        raise ValueError(f"no channel namespace {channel!r}; known: {sorted(CHANNELS)}")
    *scopes, last = parts
    return ":".join([channel, *(quote(p, safe="") for p in scopes), last])


def owner(session_id: str) -> str | None:
    """The channel whose namespace `session_id` is in, or None for a native session."""
    prefix, sep, _ = session_id.partition(":")
    return prefix if sep and prefix in CHANNELS else None
