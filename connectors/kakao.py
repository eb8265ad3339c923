"""KakaoTalk channel: Kakao i Open Builder skill server, version 2.0 (parse and render).

Kakao POSTs a skill request; `parse` turns it into an `Utterance`, `render` turns our `Reply`
into a skill response that Kakao accepts: at most 3 outputs and 10 quick replies, labels of 14
characters, texts of 1,000, cards of 50/230, https images only. What Kakao cannot show is said in
text (`fallback_text`); long text is split over outputs, or shortened when no output is left.

    >>> request = read_model(KakaoRequest, {
    ...     "userRequest": {"utterance": "영업시간 알려줘", "user": {"id": "u-1"}},
    ...     "bot": {"id": "5f1a"}, "action": {"params": {"branch": "강남"}}})
    >>> utterance = parse(request)
    >>> utterance.session_id, utterance.text, utterance.metadata["params"]
    ('kakao:5f1a:u-1', '영업시간 알려줘', {'branch': '강남'})
    >>> reply = Reply(parts=(TextPart(text="9시부터 6시까지예요."),), route="faq:hours")
    >>> render(reply)["template"]["outputs"]
    [{'simpleText': {'text': '9시부터 6시까지예요.'}}]

The transport (time budget, `useCallback`, the callback POST, the shared secret) is in
`connectors.kakao_skill`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from assistant.namespaces import session_in
from assistant.types import (
    Button,
    CardPart,
    DeviceContext,
    DirectivePart,
    HandoffPart,
    ImagePart,
    NamedContext,
    QuickRepliesPart,
    QuickReply,
    Reply,
    SpeechPart,
    TextPart,
    Utterance,
)
from connectors.payload import read_model
from connectors.text import shorten, split

log = logging.getLogger("connector.kakao")

CHANNEL = "kakao"
#: Where the core's field names are found in a Kakao request, for error messages.
FIELDS = {
    "text": "userRequest.utterance",
    "session_id": "userRequest.user.id",
    "locale": "userRequest.lang",
}


@dataclass(frozen=True, slots=True)
class KakaoLimits:
    """Kakao's limits on a skill response (Open Builder skill server v2.0)."""

    outputs: int = 3
    quick_replies: int = 10
    label: int = 14
    text: int = 1000
    card_title: int = 50
    card_description: int = 230
    card_buttons: int = 3
    carousel_items: int = 10
    context_lifespan: int = 100
    context_ttl: int = 86_400


LIMITS = KakaoLimits()

# --- request ---------------------------------------------------------------------------------


class _Lenient(BaseModel):
    # Kakao adds keys over time; unknown ones are kept, never refused.
    model_config = ConfigDict(extra="allow")


class KakaoUser(_Lenient):
    id: str = Field(min_length=1)
    type: str = "botUserKey"
    properties: dict[str, Any] = Field(default_factory=dict)


class KakaoBlock(_Lenient):
    id: str = ""
    name: str = ""


class KakaoUserRequest(_Lenient):
    utterance: str
    user: KakaoUser
    timezone: str | None = None
    lang: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    block: KakaoBlock | None = None
    callbackUrl: str | None = None


class KakaoBot(_Lenient):
    id: str = ""
    name: str = ""


class KakaoIntent(_Lenient):
    id: str = ""
    name: str = ""
    extra: dict[str, Any] = Field(default_factory=dict)


class KakaoAction(_Lenient):
    id: str = ""
    name: str = ""
    params: dict[str, Any] = Field(default_factory=dict)
    detailParams: dict[str, Any] = Field(default_factory=dict)
    clientExtra: dict[str, Any] | None = None


class KakaoContext(_Lenient):
    name: str
    lifeSpan: int | None = None
    params: dict[str, Any] = Field(default_factory=dict)


class KakaoRequest(_Lenient):
    """A skill request from Kakao i Open Builder."""

    userRequest: KakaoUserRequest
    intent: KakaoIntent = KakaoIntent()
    bot: KakaoBot = KakaoBot()
    action: KakaoAction = KakaoAction()
    contexts: list[KakaoContext] = Field(default_factory=list)


_LOCALES = {"kr": "ko", "ko": "ko", "en": "en"}


def parse(request: KakaoRequest) -> Utterance:
    """The user's turn: session `kakao:<bot id>:<userRequest.user.id>` (no bot meets another
    bot's sessions), `action.params` and `clientExtra` (the `extra` of the pressed button or
    quick reply) in the metadata, for the skills."""
    user_request = request.userRequest
    lang = (user_request.lang or "").lower()
    metadata: dict[str, Any] = {
        "params": dict(request.action.params),
        "client_extra": dict(request.action.clientExtra or {}),
        "kakao": {
            "bot": {"id": request.bot.id, "name": request.bot.name},
            # `extra.knowledge` holds Kakao's own answers when its knowledge base (지식+) matched
            "intent": {
                "id": request.intent.id,
                "name": request.intent.name,
                "extra": request.intent.extra,
            },
            "block": user_request.block.model_dump() if user_request.block else None,
            "detail_params": request.action.detailParams,
            "request_params": user_request.params,
            "user_properties": user_request.user.properties,
            "contexts": [c.model_dump() for c in request.contexts],
        },
    }
    return Utterance(
        text=user_request.utterance,
        session_id=session_in(CHANNEL, request.bot.id, user_request.user.id),
        channel=CHANNEL,
        locale=_LOCALES.get(lang),
        device=DeviceContext(max_text_length=LIMITS.text, timezone=user_request.timezone),
        metadata=metadata,
    )


# --- response --------------------------------------------------------------------------------


@dataclass(slots=True)
class _Block:
    """One output in the making: plain text (may still be merged or split) or a Kakao output."""

    text: str
    output: dict[str, Any] | None = None
    card_type: str | None = None  # basicCard / textCard: neighbours may form a carousel


def render(
    reply: Reply,
    *,
    contexts: Sequence[NamedContext] = (),
    forget: Sequence[str] = (),
    locale: str = "ko",
    limits: KakaoLimits = LIMITS,
) -> dict[str, Any]:
    """A skill response (`version` 2.0) for `reply`, within Kakao's `limits`.

    `contexts` become `context.values`; names in `forget` are sent with `lifeSpan` 0, which
    deletes them on Kakao's side.
    """
    blocks: list[_Block] = []
    quick: list[QuickReply] = []
    has_text = any(isinstance(p, TextPart) for p in reply.parts)
    for part in reply.parts:
        if isinstance(part, TextPart | DirectivePart):
            blocks.append(_Block(part.fallback_text()))
        elif isinstance(part, SpeechPart):
            if not has_text:  # a written answer says the same; do not say it twice
                blocks.append(_Block(part.text))
        elif isinstance(part, QuickRepliesPart):
            if part.title:
                blocks.append(_Block(part.title))
            # Kakao refuses a quick reply without a label: such an option is left out
            quick.extend(o for o in part.options if o.label.strip() and o.message.strip())
        elif isinstance(part, CardPart):
            card, overflow = _card(part, limits)
            blocks.append(card)
            quick.extend(overflow)
        elif isinstance(part, ImagePart):
            blocks.append(_image(part))
        elif isinstance(part, HandoffPart):
            blocks.append(_handoff(part, locale, limits))
    outputs = _fit(blocks, limits)
    if not outputs:  # Kakao refuses a template without outputs
        outputs = [_simple_text(_CHOOSE.get(locale, _CHOOSE["ko"]) if quick else "…", limits)]
    template: dict[str, Any] = {"outputs": outputs}
    if quick:
        if len(quick) > limits.quick_replies:
            log.warning(
                "connector.kakao.quick_replies_dropped",
                extra={"route": reply.route, "dropped": len(quick) - limits.quick_replies},
            )
        template["quickReplies"] = [_quick_reply(q, limits) for q in quick[: limits.quick_replies]]
    response: dict[str, Any] = {"version": "2.0", "template": template}
    values = [_context_value(c, limits) for c in contexts]
    values += [{"name": name, "lifeSpan": 0, "params": {}} for name in forget]
    if values:
        response["context"] = {"values": values}
    response["data"] = {
        "route": reply.route,
        "confidence": f"{reply.confidence:.2f}",
        "text": shorten(reply.plain_text(), limits.text),
    }
    return response


def callback_ack(text: str) -> dict[str, Any]:
    """The immediate answer to a request whose real response will be POSTed to `callbackUrl`."""
    return {"version": "2.0", "useCallback": True, "data": {"text": text}}


_CHOOSE = {"ko": "아래에서 골라 주세요.", "en": "Please choose one below."}
_AGENT = {"ko": "상담원 연결", "en": "Talk to an agent"}


def _simple_text(text: str, limits: KakaoLimits) -> dict[str, Any]:
    return {"simpleText": {"text": shorten(text, limits.text)}}


def _fit(blocks: list[_Block], limits: KakaoLimits) -> list[dict[str, Any]]:
    """Merge neighbouring texts and cards, split long texts, and keep within the output limit:
    whatever does not fit is said in the last output's text, shortened when it must be."""
    merged: list[_Block] = []
    for block in blocks:
        if not block.text and block.output is None:
            continue
        last = merged[-1] if merged else None
        if last is not None and last.output is None and block.output is None:
            joined = f"{last.text}\n{block.text}"
            if len(joined) <= limits.text:
                last.text = joined
                continue
        if (
            last is not None
            and block.card_type is not None
            and last.card_type == block.card_type
            and last.output is not None
            and block.output is not None
        ):
            items = last.output.get("carousel", {}).get("items")
            if items is None:
                items = [last.output[block.card_type]]
                last.output = {"carousel": {"type": block.card_type, "items": items}}
            if len(items) < limits.carousel_items:
                items.append(block.output[block.card_type])
                last.text = f"{last.text}\n{block.text}"
                continue
        merged.append(block)
    pieces: list[_Block] = []
    for block in merged:
        if block.output is None:
            pieces.extend(_Block(t) for t in split(block.text, limits.text))
        else:
            pieces.append(block)
    if len(pieces) > limits.outputs:
        kept, rest = pieces[: limits.outputs - 1], pieces[limits.outputs - 1 :]
        log.info("connector.kakao.outputs_merged", extra={"merged": len(rest)})
        pieces = [*kept, _Block("\n".join(b.text for b in rest if b.text))]
    return [b.output if b.output is not None else _simple_text(b.text, limits) for b in pieces]


def _card(part: CardPart, limits: KakaoLimits) -> tuple[_Block, list[QuickReply]]:
    usable = [b for b in part.buttons if b.label.strip()]  # Kakao refuses unlabelled buttons
    buttons = [_button(b, limits) for b in usable[: limits.card_buttons]]
    # Buttons past Kakao's three per card are offered as quick replies when they send a message.
    overflow = [
        QuickReply(label=b.label, text=b.text or b.label, payload=b.payload)
        for b in usable[limits.card_buttons :]
        if b.url is None
    ]
    body: dict[str, Any] = {
        "title": shorten(part.title, limits.card_title),
        "description": shorten(part.description, limits.card_description),
    }
    if buttons:
        body["buttons"] = buttons
    if part.image_url and _https(part.image_url):
        body["thumbnail"] = {"imageUrl": part.image_url}
        kind = "basicCard"
    else:
        kind = "textCard"
    return _Block(part.fallback_text(), {kind: body}, kind), overflow


def _button(button: Button, limits: KakaoLimits) -> dict[str, Any]:
    label = shorten(button.label, limits.label)
    if button.url is not None:
        return {"action": "webLink", "label": label, "webLinkUrl": button.url}
    phone = button.payload.get("phone")
    if isinstance(phone, str):
        return {"action": "phone", "label": label, "phoneNumber": phone}
    out: dict[str, Any] = {"action": "message", "label": label}
    out["messageText"] = button.text or button.label
    if button.payload:
        out["extra"] = button.payload
    return out


def _image(part: ImagePart) -> _Block:
    if not _https(part.url):  # Kakao shows https images only: say what it was instead
        return _Block(part.fallback_text())
    alt = part.alt_text or "이미지"
    return _Block(part.fallback_text(), {"simpleImage": {"imageUrl": part.url, "altText": alt}})


def _handoff(part: HandoffPart, locale: str, limits: KakaoLimits) -> _Block:
    button = {
        "action": "operator",
        "label": shorten(_AGENT.get(locale, _AGENT["ko"]), limits.label),
    }
    body: dict[str, Any] = {
        "description": shorten(part.text, limits.card_description),
        "buttons": [button],
    }
    return _Block(part.fallback_text(), {"textCard": body})


def _quick_reply(option: QuickReply, limits: KakaoLimits) -> dict[str, Any]:
    label = shorten(option.label, limits.label)
    payload = dict(option.payload)
    block_id = payload.pop("block_id", None) or payload.pop("blockId", None)
    if isinstance(block_id, str) and block_id:
        out: dict[str, Any] = {"action": "block", "label": label, "blockId": block_id}
        out["messageText"] = shorten(option.message, limits.text)
    else:
        out = {"action": "message", "label": label, "messageText": option.message}
    if payload:
        out["extra"] = payload
    return out


def _context_value(context: NamedContext, limits: KakaoLimits) -> dict[str, Any]:
    value: dict[str, Any] = {
        "name": context.name,
        "lifeSpan": max(0, min(context.lifespan, limits.context_lifespan)),
        "params": {
            k: v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)
            for k, v in context.params.items()
        },
    }
    if context.ttl is not None:
        value["ttl"] = max(1, min(int(context.ttl), limits.context_ttl))
    return value


def _https(url: str) -> bool:
    return url.lower().startswith("https://")


__all__ = [
    "CHANNEL",
    "FIELDS",
    "LIMITS",
    "KakaoLimits",
    "KakaoRequest",
    "callback_ack",
    "parse",
    "read_model",
    "render",
]
