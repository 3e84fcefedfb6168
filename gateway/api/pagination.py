"""One way to page a list in the API: ``cursor`` + ``limit`` in, ``items`` + ``next_cursor`` +
``links`` out — the same for cases, consent requests, accesses, the FG's log search and the
break-glass queue.

A cursor is opaque to clients (base64url of a small JSON object naming its list and the sort
key of the last item shown). It is a keyset cursor, not an offset: an item added while a client
pages on does not shift the pages it has not read yet, and every item present throughout is
seen exactly once. The database lists are cut in memory from their ordered rows today; the
cursor format lets that move into SQL without a contract change.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query, Request
from pydantic import BaseModel, Field

from gateway.core.errors import BadInput

MAX_LIMIT = 200
DEFAULT_LIMIT = 50
MAX_CURSOR_CHARS = 512

T = TypeVar("T")

CursorQuery = Annotated[str | None, Query(max_length=MAX_CURSOR_CHARS, pattern=r"^[A-Za-z0-9_-]+$",
                                          description="The `next_cursor` of the previous page; omit for the first.")]
LimitQuery = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"Items per page (at most {MAX_LIMIT}).")]


class Link(BaseModel):
    href: str = Field(description="Path and query of the page, relative to the server.")


class PageLinks(BaseModel):
    self: Link
    next: Link | None = Field(default=None, description="Absent on the last page.")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")
    links: PageLinks


def encode_cursor(list_name: str, key: Sequence[Any]) -> str:
    raw = json.dumps({"l": list_name, "k": list(key)}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(list_name: str, cursor: str | None) -> list[Any] | None:
    """The sort key in a cursor this list handed out; anything else is a 400 ``bad-cursor``."""
    if cursor is None or cursor == "":
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError) as e:
        raise BadInput("the cursor is not one this list handed out", code="bad-cursor") from e
    if not isinstance(data, dict) or data.get("l") != list_name or not isinstance(data.get("k"), list):
        raise BadInput("the cursor is not one this list handed out", code="bad-cursor")
    return list(data["k"])


def links(request: Request, next_cursor: str | None) -> PageLinks:
    url = request.url
    self_href = url.path + (f"?{url.query}" if url.query else "")
    if next_cursor is None:
        return PageLinks(self=Link(href=self_href))
    query = request.query_params.multi_items()
    query = [(k, v) for k, v in query if k != "cursor"] + [("cursor", next_cursor)]
    from urllib.parse import urlencode

    return PageLinks(self=Link(href=self_href), next=Link(href=f"{url.path}?{urlencode(query)}"))


def cut(items: Sequence[T], *, list_name: str, key: Callable[[T], list[Any]], cursor: str | None,
        limit: int, descending: bool) -> tuple[list[T], str | None]:
    """One page of ``items`` (any order in; sorted by ``key`` here, which must be unique per
    item) after the cursor's key, and the cursor for the page after it."""
    if not 1 <= limit <= MAX_LIMIT:
        raise BadInput(f"limit must be between 1 and {MAX_LIMIT}", code="bad-limit")
    after = decode_cursor(list_name, cursor)
    ordered = sorted(items, key=key, reverse=descending)
    if after is not None:
        ordered = [i for i in ordered if (key(i) < after if descending else key(i) > after)]
    page = ordered[:limit]
    more = len(ordered) > limit
    return page, (encode_cursor(list_name, key(page[-1])) if more and page else None)


def index_cursor(list_name: str, before: int | None) -> str | None:
    """Log lists page on the leaf index (newest first): the cursor holds ``before``."""
    return None if before is None else encode_cursor(list_name, [before])


def index_before(list_name: str, cursor: str | None) -> int | None:
    key = decode_cursor(list_name, cursor)
    if key is None:
        return None
    if len(key) != 1 or not isinstance(key[0], int) or isinstance(key[0], bool) or not 0 <= key[0] < 2**63:
        raise BadInput("the cursor is not one this list handed out", code="bad-cursor")
    return int(key[0])
