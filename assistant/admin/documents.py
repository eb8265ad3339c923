"""The MRC skills' documents as the console manages them: the bot's own files, plus documents
uploaded through the console, which are kept in the store (content key `documents:<skill>`)
so that every server process and every restart reads them too.

Re-indexing reads every document, splits it into passages and embeds them (in batches, so the
console can show progress), then swaps the new passage index into the skill at once: turns in
flight keep the old index until they finish.

    library = DocumentLibrary("mrc", skill, options, bot, ContentStore(engine))
    stored = await library.upload("warranty.ko.md", text)      # DocumentError if unreadable
    summary = await asyncio.to_thread(library.reindex, await library.uploads(), progress)
"""

from __future__ import annotations

import logging
import re
import tempfile
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from assistant.admin.jobs import Progress
from assistant.config import Bot, SkillSpec
from assistant.mrc.documents import FORMATS, Document, document_id, load_document, load_documents
from assistant.mrc.errors import DocumentError
from assistant.mrc.retrieval import PassageIndex
from assistant.mrc.splitting import split_documents
from assistant.skills.mrc import MrcOptions, MrcSkill
from assistant.store.content import ContentStore, ContentWatcher, Snapshot

__all__ = ["DocumentLibrary", "DocumentRow", "StoredDocument", "libraries_of"]

log = logging.getLogger("assistant.admin.documents")

EMBED_BATCH = 32


class StoredDocument(BaseModel):
    id: str
    filename: str
    text: str
    uploaded_at: datetime


@dataclass(frozen=True, slots=True)
class DocumentRow:
    """A document as the console lists it."""

    id: str
    title: str
    locale: str
    passages: int
    origin: str  # bot | upload
    source: str
    chars: int


def _safe_name(filename: str) -> str:
    name = Path(filename.replace("\\", "/")).name
    return re.sub(r"[^0-9A-Za-z가-힣_.-]+", "-", name).strip("-.") or "document"


class DocumentLibrary:
    """One MRC skill's documents; see the module docstring."""

    def __init__(
        self,
        name: str,
        skill: MrcSkill,
        options: MrcOptions,
        bot: Bot,
        content: ContentStore,
    ) -> None:
        self.name = name
        self.skill = skill
        self.options = options
        self.bot = bot
        self.content = content
        self.key = f"documents:{name}"
        self._swap = threading.Lock()

    # --- stored uploads ----------------------------------------------------------------------

    async def uploads(self) -> list[StoredDocument]:
        snapshot = await self.content.get(self.key)
        return _uploads(snapshot.payload if snapshot else None)

    def bot_documents(self) -> list[Document]:
        return load_documents([self.bot.path(p) for p in self.options.documents])

    async def upload(self, filename: str, text: str) -> StoredDocument:
        """Store a document (replacing an upload of the same id); refused with `DocumentError`
        when its format is unknown, it has no text, or a bot file has its id."""
        name = _safe_name(filename)
        document = parse_upload(name, text)
        if not document.blocks:
            raise DocumentError(f"{filename}: no text to read in it")
        taken = {d.id for d in self.bot_documents()}
        if document.id in taken:
            raise DocumentError(
                f"{filename}: the bot's own files already have a document {document.id!r}; "
                "rename the file"
            )
        stored = StoredDocument(
            id=document.id, filename=name, text=text, uploaded_at=datetime.now(UTC)
        )

        def change(payload: Any) -> list[dict[str, Any]]:
            kept = [d for d in _uploads(payload) if d.id != stored.id]
            return [d.model_dump(mode="json") for d in [*kept, stored]]

        await self.content.update(self.key, change)
        return stored

    async def delete(self, document_id: str) -> bool:
        found: list[bool] = []

        def change(payload: Any) -> list[dict[str, Any]]:
            uploads = _uploads(payload)
            kept = [d for d in uploads if d.id != document_id]
            found.append(len(kept) != len(uploads))
            return [d.model_dump(mode="json") for d in kept]

        await self.content.update(self.key, change)
        return found[-1]

    # --- the index ---------------------------------------------------------------------------

    def _indexed(self) -> dict[str, tuple[int, Any]]:
        """Per document in the skill's live index: its passage count and first passage."""
        found: dict[str, tuple[int, Any]] = {}
        for passage in self.skill.index.passages():
            count, first = found.get(passage.document, (0, passage))
            found[passage.document] = (count + 1, first)
        return found

    def reindex(self, uploads: Iterable[StoredDocument], progress: Progress) -> dict[str, Any]:
        """Read, split and embed every document, then swap the new index in (blocking)."""
        files = [self.bot.path(p) for p in self.options.documents]
        uploaded = list(uploads)
        progress("reading", 0, len(uploaded) + 1)
        documents = load_documents(files)
        taken = {d.id for d in documents}
        for n, stored in enumerate(uploaded, start=1):
            document = parse_upload(stored.filename, stored.text)
            if document.id in taken:  # a bot file took its id since: the bot's file wins
                log.warning("admin.document_shadowed", extra={"document": document.id})
            else:
                documents.append(document)
                taken.add(document.id)
            progress("reading", n, len(uploaded) + 1)
        progress("reading", len(uploaded) + 1, len(uploaded) + 1)
        passages = split_documents(documents, max_chars=self.options.max_chars)
        if not passages:
            raise DocumentError("no passages in the documents: add Markdown, text or HTML")
        encoder = self.skill.index.index.encoder
        if encoder is not None:  # embed ahead in batches (cached), so progress can be shown
            for start in range(0, len(passages), EMBED_BATCH):
                batch = passages[start : start + EMBED_BATCH]
                encoder.encode([p.indexed_text() for p in batch], kind="passage")
                progress("embedding", min(start + EMBED_BATCH, len(passages)), len(passages))
        progress("indexing", 0, 1)
        index = PassageIndex(encoder=encoder)
        index.add(passages)
        with self._swap:
            self.skill.index = index
        progress("indexing", 1, 1)
        return {"documents": len(documents), "passages": len(passages)}

    async def listing(self) -> list[DocumentRow]:
        """Every document of the skill: the bot's files and the uploads, with passage counts
        from the live index."""
        indexed = self._indexed()
        rows: list[DocumentRow] = []
        for document in self.bot_documents():
            rows.append(
                DocumentRow(
                    id=document.id,
                    title=document.title,
                    locale=document.locale,
                    passages=indexed.get(document.id, (0, None))[0],
                    origin="bot",
                    source=Path(document.source).name,
                    chars=len(document.text),
                )
            )
        for stored in await self.uploads():
            count, first = indexed.get(stored.id, (0, None))
            rows.append(
                DocumentRow(
                    id=stored.id,
                    title=first.title if first else "",
                    locale=first.locale if first else "",
                    passages=count,
                    origin="upload",
                    source=stored.filename,
                    chars=len(stored.text),
                )
            )
        return rows

    async def watch(self, watcher: ContentWatcher) -> None:
        """Re-index now when uploads are stored, and whenever another process changes them."""
        import asyncio

        def quiet(_phase: str, _done: int, _total: int) -> None:
            return None

        async def apply(snapshot: Snapshot) -> None:
            await asyncio.to_thread(self.reindex, _uploads(snapshot.payload), quiet)
            log.info("admin.documents_reloaded", extra={"skill": self.name})

        stored = await self.content.get(self.key)
        if stored is not None and stored.payload:
            await apply(stored)
        watcher.watch(self.key, apply, version=stored.version if stored else 0)


def _uploads(payload: Any) -> list[StoredDocument]:
    return [StoredDocument.model_validate(item) for item in payload or []]


def parse_upload(filename: str, text: str) -> Document:
    """A document from an uploaded file's name and text, read as `load_document` reads files
    (format by suffix, id by name, locale from `name.ko.md` / `name_en.md`)."""
    name = _safe_name(filename)
    if Path(name).suffix.lower() not in FORMATS:
        raise DocumentError(f"{filename}: unknown document format; use one of {sorted(FORMATS)}")
    with tempfile.TemporaryDirectory(prefix="upload-") as directory:
        path = Path(directory) / name
        path.write_text(text, encoding="utf-8")
        document = load_document(path, id=document_id(Path(name)))
    return document


def libraries_of(
    skills: Iterable[tuple[SkillSpec, Any]], bot: Bot, content: ContentStore
) -> dict[str, DocumentLibrary]:
    """A library for each MRC skill of an assistant."""
    found: dict[str, DocumentLibrary] = {}
    for spec, skill in skills:
        if isinstance(skill, MrcSkill):
            options = MrcOptions.model_validate(spec.options)
            found[spec.name] = DocumentLibrary(spec.name, skill, options, bot, content)
    return found
