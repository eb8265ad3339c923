"""The console's pages (server-rendered with Jinja2; a little JavaScript sends the forms to the
JSON API with the CSRF token): log in and out, dashboard, FAQ, rules, documents, conversations,
active learning and quality.

Every page answers in Korean or English (`?lang=ko|en`, remembered in a cookie; otherwise the
browser's Accept-Language, Korean first) and carries a strict Content-Security-Policy: scripts
and styles only from `/admin/static/`.
"""

# No `from __future__ import annotations`: FastAPI reads the annotations of these routes.

import asyncio
import math
from collections.abc import Callable, Coroutine
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode
from zoneinfo import ZoneInfo

import jinja2
from fastapi import APIRouter, Depends, Query, Request
from fastapi.routing import APIRoute
from pydantic import ValidationError
from starlette.responses import HTMLResponse, RedirectResponse, Response

from assistant.admin import charts, views
from assistant.admin.console import (
    DISABLED,
    ConsoleError,
    LoginRequired,
    console_of,
    page_guard,
)
from assistant.admin.i18n import JS_MESSAGES, pick_locale, translator
from assistant.admin.security import LOGIN_CSRF_COOKIE, SESSION_COOKIE, ConsoleSessions, Session
from assistant.store.eval_runs import EvalRunStore
from faq_index.formats import FORMATS

__all__ = ["TEMPLATES", "admin_pages_router"]

TEMPLATES = Path(__file__).resolve().parent / "templates"
LANG_COOKIE = "assistant_admin_lang"
NAV = (
    ("dashboard", "/admin"),
    ("faq", "/admin/faq"),
    ("rules", "/admin/rules"),
    ("documents", "/admin/documents"),
    ("conversations", "/admin/conversations"),
    ("learning", "/admin/learning"),
    ("quality", "/admin/quality"),
)
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(TEMPLATES)),
    autoescape=jinja2.select_autoescape(["html"]),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


def _num(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


class Pager:
    def __init__(self, request: Request, page: int, pages: int) -> None:
        self.request = request
        self.page = page
        self.pages = pages

    def url(self, page: int) -> str:
        params = dict(self.request.query_params)
        params["page"] = str(page)
        return f"{self.request.url.path}?{urlencode(params)}"


def render(
    request: Request,
    template: str,
    *,
    title: str,
    page: str = "",
    status: int = 200,
    subtitle: str = "",
    **context: Any,
) -> HTMLResponse:
    """A page in the reader's language, with the console's security headers."""
    console = console_of(request)
    locale = pick_locale(request, LANG_COOKIE)
    t = translator(locale)
    assistant = getattr(request.app.state, "assistant", None)
    timezone = ZoneInfo(assistant.bot.config.timezone if assistant else "UTC")

    def when(value: datetime | str | None) -> str:
        if value is None:
            return ""
        moment = datetime.fromisoformat(value) if isinstance(value, str) else value
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(timezone).strftime("%Y-%m-%d %H:%M")

    def lang_url(code: str) -> str:
        params = dict(request.query_params)
        params["lang"] = code
        return f"{request.url.path}?{urlencode(params)}"

    def label(value: str, role: str) -> str:
        if value == views.NONE:
            return t("quality.none_expected" if role == "expected" else "quality.declined")
        return value

    def delta_class(metric: dict[str, Any]) -> str:
        delta = metric.get("delta")
        if not delta:
            return ""
        better = delta < 0 if metric["name"].endswith("_ms") else delta > 0
        return "better" if better else "worse"

    signed_in = getattr(request.state, "console_session", None) is not None
    html = _env.get_template(template).render(
        t=t,
        locale=locale,
        title=title,
        subtitle=subtitle,
        page=page,
        nav=NAV,
        signed_in=signed_in,
        csrf=console.csrf_of(request),
        bot_name=assistant.bot.config.name if assistant else "",
        js_messages={key: t(key) for key in JS_MESSAGES},
        lang_url=lang_url,
        when=when,
        pct=_pct,
        num=_num,
        label=label,
        delta_class=delta_class,
        pager=context.pop("pager", None),
        **context,
    )
    response = HTMLResponse(html, status_code=status, headers=HEADERS)
    chosen = request.query_params.get("lang")
    if chosen in ("ko", "en"):
        response.set_cookie(
            LANG_COOKIE, chosen, max_age=365 * 86400, path="/admin", samesite="strict"
        )
    return response


class ConsolePageRoute(APIRoute):
    """Turns a missing session into a redirect to the login page, and a `ConsoleError` into
    an error page in the reader's language."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                return await original(request)
            except LoginRequired as e:
                return e.response
            except ConsoleError as e:
                title = "error.disabled" if e.code == "admin_disabled" else "error.title"
                return render(request, "error.html", title=title, status=e.status, message=str(e))

        return handler


SignedIn = Annotated[Session, Depends(page_guard)]


def _safe_next(target: str) -> str:
    """Only a path of the console: never another site (an open redirect)."""
    if target.startswith("/admin") and not target.startswith("//") and "\\" not in target:
        return target
    return "/admin"


def _day(value: str | None, default: date) -> date:
    try:
        return date.fromisoformat(value) if value else default
    except ValueError:
        return default


def admin_pages_router() -> APIRouter:
    router = APIRouter(include_in_schema=False, route_class=ConsolePageRoute)

    # --- logging in and out ------------------------------------------------------------------

    @router.get("/admin/login")
    async def login_page(request: Request, next: str = "/admin") -> Response:
        console = console_of(request)
        if not await console.enabled(request):
            raise ConsoleError(403, "admin_disabled", "authorization", DISABLED)
        if await console.session_of(request) is not None:
            return RedirectResponse(_safe_next(next), status_code=303)
        return _login_form(request, next=next)

    def _login_form(request: Request, *, next: str, error: str = "", status: int = 200) -> Response:
        token = ConsoleSessions.login_token()
        response = render(
            request,
            "login.html",
            title="login.title",
            status=status,
            login_token=token,
            next=_safe_next(next),
            error=error,
        )
        response.set_cookie(
            LOGIN_CSRF_COOKIE,
            token,
            max_age=3600,
            path="/admin",
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
        return response

    @router.post("/admin/login")
    async def login(request: Request) -> Response:
        console = console_of(request)
        if not await console.enabled(request):
            raise ConsoleError(403, "admin_disabled", "authorization", DISABLED)
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
        target = form.get("next", "/admin")
        expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
        if not expected or form.get("csrf_token") != expected:
            return _login_form(request, next=target, error="login.expired", status=403)
        client = request.client.host if request.client else "unknown"
        wait = console.login_limiter.take(client)
        if wait > 0:
            refused = _login_form(request, next=target, error="login.too_many", status=429)
            refused.headers["Retry-After"] = str(max(1, math.ceil(wait)))
            return refused
        valid, key_id = await console.login_key(request, form.get("key", "").strip())
        if not valid:
            return _login_form(request, next=target, error="login.wrong_key", status=401)
        sessions = console.sessions(request)
        response = RedirectResponse(_safe_next(target), status_code=303)
        response.set_cookie(
            SESSION_COOKIE,
            await sessions.issue(key_id=key_id),
            max_age=int(sessions.lifetime_s),
            path="/admin",
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
        response.delete_cookie(LOGIN_CSRF_COOKIE, path="/admin")
        return response

    @router.post("/admin/logout")
    async def logout(request: Request, session: SignedIn) -> Response:
        console = console_of(request)
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
        sessions = console.sessions(request)
        if not sessions.csrf_ok(session, form.get("csrf_token")):
            raise ConsoleError(
                403, "csrf_failed", "csrf_token", "missing or wrong; reload the page"
            )
        await sessions.end(request.cookies.get(SESSION_COOKIE))  # over on the server too
        response = RedirectResponse("/admin/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/admin")
        return response

    # --- dashboard ---------------------------------------------------------------------------

    @router.get("/admin")
    async def dashboard(request: Request, _: SignedIn) -> Response:
        console = console_of(request)
        assistant = console.assistant(request)
        faqs = [
            {"name": name, "entries": len(console.faq(request, name).faq)}
            for name in console.faq_names(request)
        ]
        libraries = [
            {"name": name, "documents": len(await library.listing())}
            for name, library in console.libraries(request).items()
        ]
        today = datetime.now(ZoneInfo(assistant.bot.config.timezone)).date()
        week = await views.rates(assistant, since=today - timedelta(days=6), until=today)
        rules = sum(f["rules"] for f in await asyncio.to_thread(views.rule_files, assistant))
        runs = await EvalRunStore(assistant.store.engine).list()

        def rate(data: dict[str, Any], what: str) -> float | None:
            turns = data["totals"]["turns"]
            return data["totals"][what] / turns if turns else None

        return render(
            request,
            "dashboard.html",
            title="nav.dashboard",
            page="dashboard",
            faqs=faqs,
            libraries=libraries,
            rules=rules,
            week=week,
            week_start=(today - timedelta(days=6)).isoformat(),
            rate=rate,
            open_questions=len(await views.unanswered(assistant, days=30)),
            runs=len(runs),
            chart=_rates_chart(request, week),
        )

    # --- FAQ ---------------------------------------------------------------------------------

    @router.get("/admin/faq")
    async def faq_page(
        request: Request,
        _: SignedIn,
        skill: str = "",
        q: str = "",
        category: str = "",
        locale: str = "",
        page: Annotated[int, Query(ge=1, le=views.MAX_PAGE)] = 1,
    ) -> Response:
        console = console_of(request)
        handle = console.faq(request, skill or None)
        per_page = 50
        listing = views.faq_listing(
            handle,
            q=q,
            category=category,
            locale=locale,
            offset=(page - 1) * per_page,
            limit=per_page,
        )
        return render(
            request,
            "faq.html",
            title="nav.faq",
            page="faq",
            listing=listing,
            skills=console.faq_names(request),
            q=q,
            category=category,
            locale_filter=locale,
            formats=FORMATS,
            pager=Pager(request, page, max(1, math.ceil(listing["total"] / per_page))),
            preview_text="",
        )

    def _entry_page(
        request: Request, skill: str, form: views.EntryForm, *, editing: bool, saved: bool = False
    ) -> Response:
        handle = console_of(request).faq(request, skill or None)
        return render(
            request,
            "faq_entry.html",
            title="faq.edit" if editing else "faq.new",
            subtitle=form.id if editing else "",
            page="faq",
            form=form,
            editing=editing,
            saved=saved,
            skill=handle.name,
            categories=sorted({e.category for e in handle.faq.entries if e.category}),
            preview_text=form.question,
        )

    @router.get("/admin/faq/new")
    async def new_entry_page(
        request: Request, _: SignedIn, skill: str = "", question: str = ""
    ) -> Response:
        form = views.EntryForm.model_construct(id="", question=question, answer="")
        return _entry_page(request, skill, form, editing=False)

    @router.get("/admin/faq/entries/{entry_id:path}")
    async def entry_page(
        request: Request, entry_id: str, _: SignedIn, skill: str = "", saved: str = ""
    ) -> Response:
        handle = console_of(request).faq(request, skill or None)
        entry = views.get_entry(handle, entry_id)
        return _entry_page(
            request, handle.name, views.EntryForm.of(entry), editing=True, saved=bool(saved)
        )

    # --- rules and documents -----------------------------------------------------------------

    @router.get("/admin/rules")
    async def rules_page(request: Request, _: SignedIn) -> Response:
        assistant = console_of(request).assistant(request)
        files = await asyncio.to_thread(views.rule_files, assistant)
        return render(request, "rules.html", title="nav.rules", page="rules", files=files)

    @router.get("/admin/documents")
    async def documents_page(request: Request, _: SignedIn, skill: str = "") -> Response:
        console = console_of(request)
        libraries = console.libraries(request)
        if not libraries:
            return render(
                request, "documents.html", title="nav.documents", page="documents",
                library=None, skills=[], documents=[],
            )  # fmt: skip
        library = console.library(request, skill or None)
        return render(
            request,
            "documents.html",
            title="nav.documents",
            page="documents",
            library=library.name,
            skills=list(libraries),
            documents=await library.listing(),
        )

    # --- conversations -----------------------------------------------------------------------

    @router.get("/admin/conversations")
    async def conversations_page(request: Request, _: SignedIn) -> Response:
        params = {k: v for k, v in request.query_params.items() if v != "" and k != "lang"}
        try:
            query = views.ConversationQuery.model_validate(params)
        except ValidationError as e:
            first = e.errors()[0]
            field = ".".join(str(p) for p in first["loc"])
            raise ConsoleError(422, "invalid_request", field, first["msg"]) from e
        data = await views.conversations(console_of(request).assistant(request), query)
        return render(
            request,
            "conversations.html",
            title="nav.conversations",
            page="conversations",
            data=data,
            query=query,
            pager=Pager(request, data["page"], data["pages"]),
        )

    @router.get("/admin/conversations/{session_id:path}")
    async def session_page(request: Request, session_id: str, _: SignedIn) -> Response:
        view = await views.session_detail(console_of(request).assistant(request), session_id)
        return render(
            request,
            "session.html",
            title="session.title",
            subtitle=session_id,
            page="conversations",
            view=view,
        )

    # --- active learning ---------------------------------------------------------------------

    @router.get("/admin/learning")
    async def learning_page(
        request: Request,
        _: SignedIn,
        skill: str = "",
        days: Annotated[int, Query(ge=1, le=365)] = 30,
    ) -> Response:
        console = console_of(request)
        handle = console.faq(request, skill or None)
        data = await views.learning(console.assistant(request), handle, days=days)
        return render(
            request,
            "learning.html",
            title="nav.learning",
            page="learning",
            data=data,
            skills=console.faq_names(request),
            other_ids=sorted(e.id for e in handle.faq.entries)[:300],
        )

    # --- quality -----------------------------------------------------------------------------

    @router.get("/admin/quality")
    async def quality_page(
        request: Request, _: SignedIn, since: str = "", until: str = "", channel: str = ""
    ) -> Response:
        console = console_of(request)
        assistant = console.assistant(request)
        today = datetime.now(ZoneInfo(assistant.bot.config.timezone)).date()
        end = _day(until, today)
        start = _day(since, end - timedelta(days=13))
        if start > end or (end - start).days > 366:
            start = end - timedelta(days=13)
        data = await views.rates(assistant, since=start, until=end, channel=channel)
        runs = await EvalRunStore(assistant.store.engine).list()
        from assistant.store.insights import Insights

        return render(
            request,
            "quality.html",
            title="nav.quality",
            page="quality",
            rates=data,
            since=start.isoformat(),
            until=end.isoformat(),
            channels=await Insights(assistant.store.engine).channels(),
            chart=_rates_chart(request, data),
            volume=charts.bar_chart(
                [d["day"][5:] for d in data["days"]],
                [d["turns"] for d in data["days"]],
                title=translator(pick_locale(request, LANG_COOKIE))("quality.volume"),
            ),
            runs=[views.run_summary(r) for r in runs],
            skills=console.faq_names(request),
        )

    async def _stored_run(request: Request, run_id: str) -> Any:
        run = await EvalRunStore(console_of(request).assistant(request).store.engine).get(run_id)
        if run is None:
            raise ConsoleError(404, "not_found", "run", f"no evaluation run {run_id!r}")
        return run

    @router.get("/admin/quality/runs/{run_id}")
    async def run_page(request: Request, run_id: str, _: SignedIn) -> Response:
        run = await _stored_run(request, run_id)
        return render(
            request,
            "run.html",
            title="quality.run_title",
            subtitle=run.name,
            page="quality",
            run=run,
            confusion=views.confusion(run),
            metric_names=views.METRICS,
        )

    @router.get("/admin/quality/runs/{run_id}/cell")
    async def cell_page(
        request: Request, run_id: str, _: SignedIn, expected: str = "-", predicted: str = "-"
    ) -> Response:
        run = await _stored_run(request, run_id)
        return render(
            request,
            "cell.html",
            title="quality.cell_title",
            page="quality",
            run=run,
            expected=expected,
            predicted=predicted,
            rows=views.cell(run, expected, predicted),
        )

    @router.get("/admin/quality/compare")
    async def compare_page(request: Request, _: SignedIn, a: str, b: str) -> Response:
        data = views.compare(await _stored_run(request, a), await _stored_run(request, b))
        return render(
            request, "compare.html", title="quality.compare_title", page="quality", data=data
        )

    return router


def _rates_chart(request: Request, data: dict[str, Any]) -> str:
    t = translator(pick_locale(request, LANG_COOKIE))
    days = data["days"]
    labels = [d["day"][5:] for d in days]
    series = [
        (t("outcome.answer"), [d["answered_rate"] for d in days], charts.PALETTE[0]),
        (t("outcome.fallback"), [d["fallbacks_rate"] for d in days], charts.PALETTE[1]),
        (t("conversations.handoff"), [d["handoffs_rate"] for d in days], charts.PALETTE[2]),
        (t("outcome.clarify"), [d["clarified_rate"] for d in days], charts.PALETTE[3]),
    ]
    return charts.line_chart(labels, series, title=t("quality.rates"))
