"""The JSON error body every HTTP refusal uses, naming the field and the problem:

{"error": {"code": "invalid_request", "message": "text: must not be empty",
           "fields": [{"field": "text", "problem": "must not be empty"}]}}
"""

from __future__ import annotations

from pydantic import BaseModel, Field
from starlette.responses import JSONResponse


class FieldProblem(BaseModel):
    field: str
    problem: str


class ErrorBody(BaseModel):
    code: str
    message: str
    fields: list[FieldProblem] = Field(default_factory=list)


class ErrorResponse(BaseModel):
    error: ErrorBody


def error_response(
    status: int,
    code: str,
    problems: list[FieldProblem],
    message: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    text = message or "; ".join(f"{p.field}: {p.problem}" for p in problems)
    body = ErrorResponse(error=ErrorBody(code=code, message=text, fields=problems))
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)
