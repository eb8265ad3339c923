"""`POST /v1/feedback`: a channel reports the user's thumbs up or down on one turn.

    {"session_id": "web-42", "message_id": "m-7", "rating": "down", "comment": "틀렸어요"}

The turn is named by `turn` (its number in the session, as `GET /v1/sessions/{id}` lists it) or
by the `message_id` the channel sent with it, never both. A second rating of the same turn
replaces the first. Needs a chat key when the server requires one, like `/v1/chat`, and an
admin key for the session of a channel (`kakao:`, `mobile:`, ...: `assistant.namespaces`). The admin
console lists conversations with a thumbs-down, shows the ratings beside each turn, counts them
by day and offers thumbs-down questions to active learning.
"""

# No `from __future__ import annotations`: FastAPI reads the annotations of the route below.

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import JSONResponse

from assistant.api.auth import may_read, requires
from assistant.api.errors import ErrorResponse, FieldProblem, error_response
from assistant.errors import InputError
from assistant.store.feedback import FeedbackStore, UnknownTurn

__all__ = ["FeedbackRequest", "FeedbackResponse", "feedback_router"]

RATINGS = {"up": 1, "down": -1}
#: Turn numbers are stored as 32-bit integers: a larger one names no turn (and would overflow).
MAX_TURN = 2**31 - 1


class FeedbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    session_id: str = Field(min_length=1, max_length=128)
    turn: int | None = Field(
        default=None, ge=1, le=MAX_TURN, description="The turn's number in the session."
    )
    message_id: str | None = Field(
        default=None, min_length=1, max_length=128, description="The message id of the turn."
    )
    rating: Literal["up", "down"]
    comment: str | None = Field(default=None, max_length=2000)
    channel: str = Field(default="rest", min_length=1, max_length=64)


class FeedbackResponse(BaseModel):
    session_id: str
    turn: int
    rating: Literal["up", "down"]
    comment: str | None
    at: datetime


def feedback_router() -> APIRouter:
    router = APIRouter()

    @router.post(
        "/v1/feedback",
        status_code=201,
        response_model=FeedbackResponse,
        responses={404: {"model": ErrorResponse}, 422: {"model": ErrorResponse}},
        dependencies=[requires("chat")],
    )
    async def feedback(body: FeedbackRequest, request: Request) -> FeedbackResponse | JSONResponse:
        """Record the user's thumbs up or down on one turn of a conversation (a channel's
        session, such as `kakao:...`, with an admin key)."""
        may_read(request.state.caller, body.session_id)
        if (body.turn is None) == (body.message_id is None):
            field = "turn" if body.turn is None else "message_id"
            raise InputError(field, "name the turn by exactly one of turn or message_id")
        store = FeedbackStore(request.app.state.assistant.store.engine)
        try:
            saved = await store.record(
                body.session_id,
                rating=RATINGS[body.rating],
                turn=body.turn,
                message_id=body.message_id,
                comment=body.comment or None,
                channel=body.channel,
            )
        except UnknownTurn as e:
            return error_response(
                404, "not_found", [FieldProblem(field=e.field, problem=e.problem)]
            )
        return FeedbackResponse(
            session_id=saved.session_id,
            turn=saved.turn,
            rating=body.rating,
            comment=saved.comment,
            at=saved.at,
        )

    return router
