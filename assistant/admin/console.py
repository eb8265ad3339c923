"""The console's state on the app (`app.state.console`), the guards of its pages and API, and
the bot's parts it manages: FAQ skills, MRC document libraries, small-talk rule files.

Errors of the console are `ConsoleError`s (status, code, field, problem); the API answers them
in the server's JSON error format, the pages with an error page in the same words.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import quote

from fastapi import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from assistant.admin.documents import DocumentLibrary, libraries_of
from assistant.admin.jobs import Jobs
from assistant.admin.security import CSRF_HEADER, SESSION_COOKIE, ConsoleSessions, Session
from assistant.api.auth import Auth, AuthError
from assistant.api.errors import FieldProblem, error_response
from assistant.api.middleware import RateLimiter
from assistant.dialogue import Assistant
from assistant.settings import Settings
from assistant.skills.faq import FaqSkill
from assistant.store.console_sessions import ConsoleSessionStore
from assistant.store.content import ContentStore
from assistant.store.keys import ApiKeyStore
from faq_index.faq import FaqIndex

__all__ = [
    "Console",
    "ConsoleError",
    "FaqHandle",
    "api_guard",
    "console_of",
    "page_guard",
]

ADMIN_KEY_ENV = "ASSISTANT_ADMIN_API_KEY"
DISABLED = (
    f"the admin console is disabled: set {ADMIN_KEY_ENV}, or make a key with "
    "'assistant keys create NAME --scope admin'"
)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class ConsoleError(Exception):
    """A console request refused: HTTP `status`, error `code`, the `field` and its problem."""

    def __init__(
        self,
        status: int,
        code: str,
        field: str,
        problem: str,
        *,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{field}: {problem}")
        self.status = status
        self.code = code
        self.field = field
        self.problem = problem
        self.headers = headers
        self.problems = [FieldProblem(field=field, problem=problem)]

    @classmethod
    def of(cls, status: int, code: str, problems: list[FieldProblem]) -> ConsoleError:
        error = cls(status, code, problems[0].field, problems[0].problem)
        error.problems = problems
        return error

    def json(self) -> JSONResponse:
        return error_response(self.status, self.code, self.problems, headers=self.headers)


class LoginRequired(Exception):
    """A page asked for without a session: the answer is a redirect to the login page."""

    def __init__(self, response: Response) -> None:
        self.response = response


@dataclass(frozen=True)
class FaqHandle:
    """One FAQ skill: read from `faq` (the live index); write through `writer`, which stores
    the change for every process first when the server shares content (`FaqSync`). The
    writer's methods block: call them in a worker thread."""

    name: str
    skill: FaqSkill
    faq: FaqIndex
    writer: Any  # SharedFaq or FaqIndex: add, upsert, delete, reset


class Console:
    """Everything the console keeps in one server process."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.jobs = Jobs()
        self.login_limiter = RateLimiter(10)  # login attempts a minute per address
        self._libraries: dict[str, DocumentLibrary] | None = None
        self._sessions: ConsoleSessions | None = None

    # --- who is asking -----------------------------------------------------------------------

    def sessions(self, request: Request) -> ConsoleSessions:
        """The console's sessions, in the session store's database."""
        if self._sessions is None:
            engine = self.assistant(request).store.engine
            self._sessions = ConsoleSessions(
                ConsoleSessionStore(engine),
                admin_key=self.settings.admin_api_key,
                lifetime_s=self.settings.admin_session_hours * 3600,
            )
        return self._sessions

    async def enabled(self, request: Request) -> bool:
        """On when the server has an admin key or the store a live key with the admin scope."""
        if self.settings.admin_api_key:
            return True
        return await ApiKeyStore(self.assistant(request).store.engine).has_scope("admin")

    async def session_of(self, request: Request) -> Session | None:
        """The request's live session (checked in the store), kept on `request.state` for the
        page it renders."""
        session = await self.sessions(request).verify(request.cookies.get(SESSION_COOKIE))
        request.state.console_session = session
        return session

    def csrf_of(self, request: Request) -> str:
        """The CSRF token of the session a guard found for this request, or ""."""
        session: Session | None = getattr(request.state, "console_session", None)
        return ConsoleSessions.csrf_token(session) if session is not None else ""

    async def login_key(self, request: Request, key: str) -> tuple[bool, str | None]:
        """Whether `key` may open the console, and the stored key's id (None: the server's)."""
        auth: Auth | None = getattr(request.app.state, "auth", None)
        if not key or auth is None:
            return False, None
        try:
            caller = await auth.caller(f"Bearer {key}", "admin")
        except AuthError:
            return False, None
        return True, caller.key.id if caller.key is not None else None

    # --- what it manages ---------------------------------------------------------------------

    @staticmethod
    def assistant(request: Request) -> Assistant:
        return cast(Assistant, request.app.state.assistant)

    def faq_names(self, request: Request) -> list[str]:
        return [
            s.name for s, skill in self.assistant(request).skills if isinstance(skill, FaqSkill)
        ]

    def faq(self, request: Request, name: str | None = None) -> FaqHandle:
        """The FAQ skill called `name` (the bot's first FAQ skill by default)."""
        skills = [
            (spec.name, skill)
            for spec, skill in self.assistant(request).skills
            if isinstance(skill, FaqSkill)
        ]
        if not skills:
            raise ConsoleError(404, "not_found", "skill", "the bot has no FAQ skill")
        chosen = next((s for s in skills if s[0] == name), None) if name else skills[0]
        if chosen is None:
            raise ConsoleError(
                404, "not_found", "skill", f"the bot has no FAQ skill named {name!r}"
            )
        skill_name, skill = chosen
        sync = getattr(request.app.state, "faq_sync", None)
        writer = sync.shared.get(skill_name) if sync is not None else None
        return FaqHandle(skill_name, skill, skill.faq, writer if writer is not None else skill.faq)

    def libraries(self, request: Request) -> dict[str, DocumentLibrary]:
        if self._libraries is None:
            assistant = self.assistant(request)
            content = ContentStore(assistant.store.engine)
            self._libraries = libraries_of(assistant.skills, assistant.bot, content)
        return self._libraries

    def library(self, request: Request, name: str | None = None) -> DocumentLibrary:
        libraries = self.libraries(request)
        if not libraries:
            raise ConsoleError(404, "not_found", "skill", "the bot has no MRC skill")
        if not name:
            return next(iter(libraries.values()))
        if name not in libraries:
            raise ConsoleError(
                404, "not_found", "skill", f"the bot has no MRC skill named {name!r}"
            )
        return libraries[name]

    def adopt_libraries(self, libraries: dict[str, DocumentLibrary]) -> None:
        self._libraries = libraries


def console_of(request: Request) -> Console:
    return cast(Console, request.app.state.console)


def _disabled() -> ConsoleError:
    return ConsoleError(403, "admin_disabled", "authorization", DISABLED)


async def api_guard(request: Request) -> None:
    """The console API's dependency: an admin Bearer key, or a console session (plus its CSRF
    token on changes)."""
    console = console_of(request)
    if not await console.enabled(request):
        raise _disabled()
    header = request.headers.get("authorization")
    if header:
        scheme, _, key = header.partition(" ")
        valid, _ = await console.login_key(request, key.strip())
        if scheme.lower() != "bearer" or not valid:
            raise ConsoleError(
                401,
                "unauthorized",
                "authorization",
                "unknown admin key; send 'Authorization: Bearer <admin API key>'",
                headers={"WWW-Authenticate": "Bearer"},
            )
        return
    session = await console.session_of(request)
    if session is None:
        raise ConsoleError(
            401,
            "unauthorized",
            "session",
            "log in at /admin/login, or send 'Authorization: Bearer <admin API key>'",
        )
    if request.method not in SAFE_METHODS and not console.sessions(request).csrf_ok(
        session, request.headers.get(CSRF_HEADER)
    ):
        raise ConsoleError(
            403,
            "csrf_failed",
            "X-CSRF-Token",
            "missing or wrong: send the page's CSRF token with every change (reload the page)",
        )


async def page_guard(request: Request) -> Session:
    """The console pages' dependency: a console session, or a redirect to the login page."""
    console = console_of(request)
    if not await console.enabled(request):
        raise _disabled()
    session = await console.session_of(request)
    if session is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(
            RedirectResponse(f"/admin/login?next={quote(target, safe='')}", status_code=303)
        )
    return session
