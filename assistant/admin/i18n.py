"""The console's words in Korean and English.

`translator(locale)` gives `t(key, **values)`; a key missing from `MESSAGES` raises `KeyError`
(the tests render every page in both languages, so a missing word fails there, not in front of
a user). Placeholders are `str.format` fields: `t("faq.count", n=3)`.

    >>> translator("en")("faq.count", n=3)
    '3 entries'
    >>> translator("ko")("faq.count", n=3)
    '질문 3개'
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import Request

__all__ = ["JS_MESSAGES", "LOCALES", "MESSAGES", "pick_locale", "translator"]

LOCALES = ("ko", "en")

#: key -> (Korean, English)
MESSAGES: dict[str, tuple[str, str]] = {
    # frame
    "console.name": ("관리 콘솔", "Admin console"),
    "console.bot": ("봇", "Bot"),
    "console.logout": ("로그아웃", "Log out"),
    "nav.dashboard": ("대시보드", "Dashboard"),
    "nav.faq": ("FAQ", "FAQ"),
    "nav.rules": ("규칙", "Rules"),
    "nav.documents": ("문서", "Documents"),
    "nav.conversations": ("대화", "Conversations"),
    "nav.learning": ("학습", "Learning"),
    "nav.quality": ("품질", "Quality"),
    "action.save": ("저장", "Save"),
    "action.delete": ("삭제", "Delete"),
    "action.back": ("목록으로", "Back to the list"),
    "action.show": ("보기", "Show"),
    "pager.previous": ("이전", "Previous"),
    "pager.next": ("다음", "Next"),
    "pager.page": ("{page} / {pages} 쪽", "page {page} of {pages}"),
    "error.title": ("요청을 처리할 수 없어요", "That did not work"),
    "error.disabled": ("관리 콘솔이 꺼져 있어요", "The admin console is disabled"),
    "error.back": ("대시보드로", "Back to the dashboard"),
    # login
    "login.title": ("로그인", "Log in"),
    "login.intro": (
        "관리자 API 키로 로그인하세요. 키는 서버의 ASSISTANT_ADMIN_API_KEY이거나 admin 권한이 있는 저장된 키입니다.",
        "Log in with an admin API key: the server's ASSISTANT_ADMIN_API_KEY or a stored key with the admin scope.",
    ),
    "login.key": ("관리자 API 키", "Admin API key"),
    "login.submit": ("로그인", "Log in"),
    "login.wrong_key": ("키가 맞지 않아요.", "That key is not an admin key."),
    "login.expired": (
        "로그인 양식이 만료되었어요. 다시 시도해 주세요.",
        "The login form expired; please try again.",
    ),
    "login.too_many": (
        "시도가 너무 많아요. 잠시 후 다시 시도해 주세요.",
        "Too many attempts; try again in a minute.",
    ),
    # dashboard
    "dashboard.entries": ("FAQ 항목", "FAQ entries"),
    "dashboard.documents": ("문서", "documents"),
    "dashboard.rules": ("스몰톡 규칙", "small-talk rules"),
    "dashboard.turns_week": ("최근 7일 대화 턴", "turns in the last 7 days"),
    "dashboard.answer_rate": ("최근 7일 답변율", "answer rate, last 7 days"),
    "dashboard.fallback_rate": ("최근 7일 폴백율", "fallback rate, last 7 days"),
    "dashboard.open_questions": ("답하지 못한 질문", "unanswered questions"),
    "dashboard.runs": ("평가 실행", "evaluation runs"),
    # fields
    "field.id": ("ID", "ID"),
    "field.question": ("질문", "Question"),
    "field.alternatives": ("유사 질문", "Alternative questions"),
    "field.answer": ("답변", "Answer"),
    "field.category": ("분류", "Category"),
    "field.tags": ("태그", "Tags"),
    "field.locale": ("언어", "Locale"),
    "field.link_url": ("링크 URL", "Link URL"),
    "field.link_label": ("링크 이름", "Link label"),
    "field.image_url": ("이미지 URL", "Image URL"),
    "field.image_alt": ("이미지 설명", "Image text"),
    "field.quick_replies": ("바로가기 답변", "Quick replies"),
    "field.skill": ("스킬", "Skill"),
    "field.channel": ("채널", "Channel"),
    "field.route": ("경로", "Route"),
    # FAQ
    "faq.search_placeholder": ("질문, 답변, ID로 찾기", "Find by question, answer or id"),
    "faq.all_categories": ("모든 분류", "All categories"),
    "faq.all_locales": ("모든 언어", "All locales"),
    "faq.search": ("찾기", "Search"),
    "faq.new": ("새 항목", "New entry"),
    "faq.edit": ("FAQ 항목 편집", "Edit FAQ entry"),
    "faq.count": ("질문 {n}개", "{n} entries"),
    "faq.none": ("조건에 맞는 항목이 없어요.", "No entries match."),
    "faq.alternatives_n": ("유사 질문 수", "Alternatives"),
    "faq.confirm_delete": ("'{id}' 항목을 삭제할까요?", "Delete the entry '{id}'?"),
    "faq.import": ("일괄 가져오기", "Bulk import"),
    "faq.file": ("파일 (YAML, JSONL, CSV, Rasa)", "File (YAML, JSONL, CSV, Rasa)"),
    "faq.format": ("형식", "Format"),
    "faq.format_auto": ("파일 이름으로 판단", "From the file name"),
    "faq.replace": ("파일에 없는 항목은 삭제", "Remove entries that are not in the file"),
    "faq.import_run": ("가져오기", "Import"),
    "faq.export": ("내보내기", "Export"),
    "faq.export_hint": (
        "현재 항목 전체를 파일로 받습니다. 봇 디렉터리에 두면 다음 배포의 시작점이 됩니다.",
        "Download every current entry; put the file in the bot directory to keep it for the next deployment.",
    ),
    "faq.saved": ("저장했어요. 색인이 바로 갱신되었어요.", "Saved; the index is up to date."),
    "faq.one_per_line": ("한 줄에 하나", "one per line"),
    "faq.comma_separated": ("쉼표로 구분", "comma-separated"),
    "faq.any_locale": ("모든 언어", "any"),
    "faq.id_hint": (
        "영문자나 숫자로 시작하고 영문자, 숫자, _ . : / - 만 씁니다",
        "starts with a letter or digit; letters, digits and _ . : / - only",
    ),
    # preview
    "preview.title": ("답변 미리보기", "Preview an answer"),
    "preview.hint": (
        "지금 봇이 이 질문에 어떻게 답하는지 보여 줍니다. 모든 스킬과 정책이 실제처럼 동작하지만 대화는 저장되지 않아요.",
        "How the bot would answer this question right now: every skill and the policy run as in a real turn, and nothing is stored.",
    ),
    "preview.placeholder": ("사용자가 할 법한 질문", "A question a user might ask"),
    "preview.auto_locale": ("언어 자동", "detect locale"),
    "preview.run": ("미리보기", "Preview"),
    "preview.outcome": ("결정", "Outcome"),
    "preview.route": ("경로", "Route"),
    "preview.confidence": ("신뢰도", "Confidence"),
    "preview.reply": ("답변", "Reply"),
    "preview.candidates": ("후보", "Candidates"),
    "preview.faq_hits": ("FAQ 검색 상위", "Top FAQ matches"),
    "preview.threshold": ("기준", "Threshold"),
    "preview.passes": ("통과", "Passes"),
    "preview.chosen": ("선택", "Chosen"),
    "preview.details": ("세부", "Details"),
    "preview.suggestion": ("제안", "Suggestion"),
    "preview.none": ("후보가 없어요.", "No candidates."),
    "outcome.answer": ("답변", "answered"),
    "outcome.clarify": ("되묻기", "clarified"),
    "outcome.fallback": ("폴백", "fallback"),
    # rules
    "rules.count": ("규칙 파일 {files}개, 규칙 {rules}개", "{files} rule files, {rules} rules"),
    "rules.check_all": ("모두 검사", "Check all"),
    "rules.file": ("파일", "File"),
    "rules.origin": ("출처", "Origin"),
    "rules.origin_bundled": ("기본 제공", "bundled"),
    "rules.origin_bot": ("봇", "bot"),
    "rules.rules": ("규칙", "Rules"),
    "rules.size": ("바이트", "Bytes"),
    "rules.none": ("스몰톡 스킬이 없어요.", "The bot has no small-talk skill."),
    "rules.check_file": ("배포 전에 규칙 파일 검사", "Check a rule file before deploying it"),
    "rules.check_file_hint": (
        "YAML 또는 AIML 규칙 파일을 올리면 문제를 파일과 규칙 ID와 함께 모두 보여 줍니다.",
        "Upload a YAML or AIML rule file to see every problem with its file and rule id.",
    ),
    "rules.check": ("검사", "Check"),
    "rules.ok": ("문제 없음: 규칙 {n}개", "No problems: {n} rules"),
    "rules.problems": ("문제 {n}개", "{n} problems"),
    # documents
    "documents.no_skill": ("봇에 MRC 스킬이 없어요.", "The bot has no MRC skill."),
    "documents.count": ("문서 {n}개, 단락 {passages}개", "{n} documents, {passages} passages"),
    "documents.reindex": ("다시 색인", "Re-index"),
    "documents.title_col": ("제목", "Title"),
    "documents.passages": ("단락", "Passages"),
    "documents.origin": ("출처", "Origin"),
    "documents.origin_bot": ("봇 파일", "bot file"),
    "documents.origin_upload": ("올린 파일", "uploaded"),
    "documents.source": ("파일", "File"),
    "documents.confirm_delete": ("'{id}' 문서를 삭제할까요?", "Delete the document '{id}'?"),
    "documents.upload": ("문서 올리기", "Upload a document"),
    "documents.upload_hint": (
        "Markdown, 텍스트, HTML 문서를 올리면 저장되고 바로 다시 색인됩니다. 모든 서버 프로세스가 같은 문서를 씁니다.",
        "Markdown, text or HTML; it is stored and re-indexed at once, and every server process reads it.",
    ),
    "documents.upload_run": ("올리기", "Upload"),
    "documents.indexed": (
        "색인 완료: 문서 {documents}개, 단락 {passages}개",
        "Indexed {documents} documents, {passages} passages",
    ),
    # jobs
    "job.starting": ("시작하는 중", "starting"),
    "job.reading": ("문서 읽는 중", "reading documents"),
    "job.embedding": ("임베딩 계산 중", "embedding passages"),
    "job.indexing": ("색인 만드는 중", "building the index"),
    "job.evaluating": ("평가하는 중", "evaluating"),
    "job.done": ("완료", "done"),
    "job.failed": ("실패", "failed"),
    # conversations
    "conversations.all": ("전체", "all"),
    "conversations.since": ("부터", "From"),
    "conversations.until": ("까지", "To"),
    "conversations.below": ("신뢰도 미만", "Confidence below"),
    "conversations.fallback": ("폴백", "fallback"),
    "conversations.handoff": ("상담원 연결", "hand-off"),
    "conversations.negative": ("부정 피드백", "thumbs-down"),
    "conversations.filter": ("거르기", "Filter"),
    "conversations.clear": ("초기화", "Clear"),
    "conversations.count": ("대화 {n}개", "{n} conversations"),
    "conversations.none": ("조건에 맞는 대화가 없어요.", "No conversations match."),
    "conversations.session": ("세션", "Session"),
    "conversations.first": ("첫 말", "First message"),
    "conversations.turns": ("턴", "Turns"),
    "conversations.fallbacks": ("폴백", "Fallbacks"),
    "conversations.handoffs": ("연결", "Hand-offs"),
    "conversations.min_confidence": ("최저 신뢰도", "Lowest confidence"),
    "conversations.feedback": ("피드백", "Feedback"),
    "conversations.last": ("마지막", "Last"),
    "session.title": ("대화", "Conversation"),
    "session.user": ("사용자", "User"),
    "session.bot": ("봇", "Bot"),
    "session.candidates": ("후보 {n}개", "{n} candidates"),
    "session.no_candidates": ("후보 없음", "no candidates"),
    "session.context": ("대화 맥락", "Dialogue context"),
    # learning
    "learning.days": ("최근 며칠", "Days back"),
    "learning.summary": (
        "답하지 못한 질문 {questions}개, 묶음 {clusters}개",
        "{questions} unanswered questions in {clusters} clusters",
    ),
    "learning.hint": (
        "폴백, 되묻기, 부정 피드백을 받은 질문을 FAQ 색인과 같은 임베딩으로 묶었어요. 묶음마다 가장 가까운 항목을 제안합니다.",
        "Questions that fell back, were clarified or got a thumbs-down, clustered with the FAQ index's own embeddings; each cluster suggests the entry it most likely belongs to.",
    ),
    "learning.asked": ("{n}번 물음", "asked {n}×"),
    "learning.reason_fallback": ("폴백", "fallback"),
    "learning.reason_clarify": ("되묻기", "clarified"),
    "learning.reason_negative": ("부정 피드백", "thumbs-down"),
    "learning.see": ("대화 보기", "see"),
    "learning.entry": ("항목", "Entry"),
    "learning.add": ("유사 질문으로 추가", "Add as alternatives"),
    "learning.new_entry": ("새 항목으로", "New entry"),
    "learning.create": ("항목 만들기", "Create the entry"),
    "learning.dismiss": ("무시", "Dismiss"),
    "learning.none": ("지금은 답하지 못한 질문이 없어요.", "No unanswered questions right now."),
    "learning.added": (
        "'{id}' 항목에 유사 질문 {added}개를 추가했어요. 색인이 갱신되었어요.",
        "Added {added} alternative questions to '{id}'; the index is updated.",
    ),
    "learning.created": ("'{id}' 항목을 만들었어요.", "Created the entry '{id}'."),
    "learning.dismissed": ("질문 {dismissed}개를 무시합니다.", "Dismissed {dismissed} questions."),
    "learning.check": ("미리보기로 확인", "Check in the preview"),
    # quality
    "quality.rates": ("답변율 · 폴백율 · 상담원 연결율", "Answer, fallback and hand-off rates"),
    "quality.volume": ("하루 대화 턴", "Turns a day"),
    "quality.table": ("표로 보기", "As a table"),
    "quality.day": ("날짜", "Day"),
    "quality.runs": ("FAQ 평가 실행", "FAQ evaluation runs"),
    "quality.runs_hint": (
        "콘솔에서 실행하거나 `assistant eval faq ... --save 이름`으로 저장한 실행입니다.",
        "Runs made here or saved with `assistant eval faq ... --save NAME`.",
    ),
    "quality.run": ("실행", "Run"),
    "quality.when": ("시각", "When"),
    "quality.source": ("질의 파일", "Queries"),
    "quality.queries": ("질의", "Queries"),
    "quality.e2e": ("전체 정확도", "End to end"),
    "quality.decline_p": ("거절 정밀도", "Decline precision"),
    "quality.decline_r": ("거절 재현율", "Decline recall"),
    "quality.no_runs": ("아직 평가 실행이 없어요.", "No evaluation runs yet."),
    "quality.compare": ("비교", "Compare"),
    "quality.new_run": ("평가 실행", "Run an evaluation"),
    "quality.new_run_hint": (
        '지금 색인으로 질의 파일(JSON Lines: {"text", "expected_id"})을 평가해 저장합니다.',
        'Evaluate the live index on a query file (JSON Lines: {"text", "expected_id"}) and store the run.',
    ),
    "quality.run_name": ("실행 이름", "Run name"),
    "quality.run_eval": ("평가", "Evaluate"),
    "quality.run_title": ("평가 실행", "Evaluation run"),
    "quality.decisions": ("결정", "Decisions"),
    "quality.settings": ("설정", "Settings"),
    "quality.confirm_delete": ("이 실행을 삭제할까요?", "Delete this run?"),
    "quality.confusion": ("혼동 보기", "Confusion view"),
    "quality.right_wrong": ("맞음 {right} · 틀림 {wrong}", "{right} right · {wrong} wrong"),
    "quality.confusion_hint": (
        "행은 정답 항목, 열은 예측 항목입니다. 칸을 누르면 그 질의들을 봅니다. 틀린 적이 있는 항목만 보여요.",
        "Rows are the expected entries, columns the predicted ones; open a cell to see its queries. Only entries with an error are shown.",
    ),
    "quality.expected": ("정답", "Expected"),
    "quality.predicted": ("예측", "Predicted"),
    "quality.none_expected": ("(범위 밖)", "(out of scope)"),
    "quality.declined": ("(거절)", "(declined)"),
    "quality.pairs": ("자주 틀린 짝", "Most confused pairs"),
    "quality.all_right": ("모든 질의를 맞혔어요.", "Every query was right."),
    "quality.cell_title": ("혼동 칸의 질의", "Queries of a cell"),
    "quality.query": ("질의", "Query"),
    "quality.top": ("최상위 항목", "Top entry"),
    "quality.decision": ("결정", "Decision"),
    "quality.open_entry": ("정답 항목 열기", "open the expected entry"),
    "quality.compare_title": ("평가 실행 비교", "Comparing two runs"),
    "quality.change": ("변화", "Change"),
    "quality.shared": ("두 실행에 모두 있는 질의 {n}개", "{n} queries in both runs"),
    "quality.changes_fixed": ("고쳐진 질의", "Fixed"),
    "quality.changes_broken": ("나빠진 질의", "Broken"),
    "quality.changes_changed": ("다르게 틀린 질의", "Wrong in another way"),
    "quality.done": ("평가 완료", "Evaluation done"),
    "decision.answer": ("답변", "answer"),
    "decision.suggest": ("제안", "suggest"),
    "decision.decline": ("거절", "decline"),
    "metric.accuracy_at_1": ("정확도@1", "Accuracy@1"),
    "metric.mrr_at_10": ("MRR@10", "MRR@10"),
    "metric.end_to_end_accuracy": ("전체 정확도", "End-to-end accuracy"),
    "metric.decline_precision": ("거절 정밀도", "Decline precision"),
    "metric.decline_recall": ("거절 재현율", "Decline recall"),
    "metric.p50_ms": ("p50 (ms)", "p50 (ms)"),
    "metric.p99_ms": ("p99 (ms)", "p99 (ms)"),
    # script messages
    "js.saved": ("저장했어요.", "Saved."),
    "js.deleted": ("삭제했어요.", "Deleted."),
    "js.working": ("처리 중…", "Working…"),
    "js.error": ("오류", "Error"),
    "js.imported": (
        "가져옴: {imported}개 (새 항목 {created}, 바뀜 {updated}, 삭제 {deleted}) · 전체 {total}개",
        "Imported {imported} (new {created}, updated {updated}, removed {deleted}); {total} entries now",
    ),
}

#: Keys the page's script needs (sent with every page).
JS_MESSAGES = tuple(
    key
    for key in MESSAGES
    if key.startswith(("js.", "job.", "preview.", "outcome.", "learning.", "rules.", "documents."))
    or key in ("field.skill", "field.route", "quality.done")
)


def translator(locale: str) -> Callable[..., str]:
    column = 1 if locale == "en" else 0

    def t(key: str, **values: Any) -> str:
        text = MESSAGES[key][column]
        return text.format(**values) if values else text

    return t


def pick_locale(request: Request, cookie: str) -> str:
    """`?lang=`, then the remembered choice, then Accept-Language; Korean when unsure."""
    chosen = request.query_params.get("lang") or request.cookies.get(cookie)
    if chosen in LOCALES:
        return chosen
    for part in request.headers.get("accept-language", "").split(","):
        language = part.split(";")[0].strip().lower()[:2]
        if language in LOCALES:
            return language
    return "ko"
