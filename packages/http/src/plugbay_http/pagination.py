"""Walking paginated APIs, item by item, with a bound on how much is fetched.

Three schemes cover most SaaS APIs:

* page numbers (``page_number``/``page_size``, Copper, many older APIs):
  :func:`paginate_pages`;
* opaque tokens handed back with each page, whatever the API calls them (a cursor,
  HubSpot's ``after``, Airtable's ``offset``): :func:`paginate_cursor`;
* numeric offsets (``offset``/``limit``): :func:`paginate_offset`.

Each is an async iterator over the items that stops at the last page, at
``max_items``, or at ``max_pages`` (a guard against an API that never says it is
done), whichever comes first.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import TypeVar

T = TypeVar("T")

DEFAULT_MAX_PAGES = 1000


class PaginationError(RuntimeError):
    """The API's paging went wrong (a cursor that repeats, a page beyond the bound)."""


def _check_bounds(max_items: int | None, max_pages: int) -> None:
    if max_items is not None and max_items < 0:
        raise ValueError("max_items cannot be negative")
    if max_pages < 1:
        raise ValueError("max_pages is at least 1")


async def paginate_pages(
    fetch_page: Callable[[int], Awaitable[Sequence[T]]],
    *,
    page_size: int,
    first_page: int = 1,
    max_items: int | None = None,
    max_pages: int = DEFAULT_MAX_PAGES,
) -> AsyncIterator[T]:
    """Yield the items of numbered pages until a page comes back short.

    Args:
        fetch_page: Fetches one page by its number (the callable sets the page size
            it was told, ``page_size``, on the request).
        page_size: Items per full page; a shorter page is the last one.
        first_page: The number of the first page (1 for most APIs, sometimes 0).
        max_items: Stop after this many items.
        max_pages: Stop after this many pages.
    """
    _check_bounds(max_items, max_pages)
    if page_size < 1:
        raise ValueError("page_size is at least 1")
    yielded = 0
    for number in range(first_page, first_page + max_pages):
        if max_items is not None and yielded >= max_items:
            return
        items = await fetch_page(number)
        for item in items:
            if max_items is not None and yielded >= max_items:
                return
            yield item
            yielded += 1
        if len(items) < page_size:
            return


async def paginate_cursor(
    fetch: Callable[[str | None], Awaitable[tuple[Sequence[T], str | None]]],
    *,
    max_items: int | None = None,
    max_pages: int = DEFAULT_MAX_PAGES,
) -> AsyncIterator[T]:
    """Yield the items of pages chained by an opaque token (cursor, ``after``, offset token).

    Args:
        fetch: Fetches the page after a token (``None`` for the first page) and
            returns its items and the next token, ``None`` (or ``""``) on the last page.
        max_items: Stop after this many items.
        max_pages: Stop after this many pages.

    Raises:
        PaginationError: The API handed back a token it had already given (it would
            loop forever).
    """
    _check_bounds(max_items, max_pages)
    yielded = 0
    token: str | None = None
    seen: set[str] = set()
    for _ in range(max_pages):
        if max_items is not None and yielded >= max_items:
            return
        items, token = await fetch(token)
        for item in items:
            if max_items is not None and yielded >= max_items:
                return
            yield item
            yielded += 1
        if not token:
            return
        if token in seen:
            raise PaginationError(f"the API repeated the page token {token[:40]!r}")
        seen.add(token)


async def paginate_offset(
    fetch: Callable[[int], Awaitable[Sequence[T]]],
    *,
    page_size: int,
    start: int = 0,
    max_items: int | None = None,
    max_pages: int = DEFAULT_MAX_PAGES,
) -> AsyncIterator[T]:
    """Yield the items of pages addressed by a numeric offset, until a page comes back short.

    Args:
        fetch: Fetches ``page_size`` items starting at an offset.
        page_size: Items per full page; the offset advances by the items received.
        start: The first offset.
        max_items: Stop after this many items.
        max_pages: Stop after this many pages.
    """
    _check_bounds(max_items, max_pages)
    if page_size < 1:
        raise ValueError("page_size is at least 1")
    yielded = 0
    offset = start
    for _ in range(max_pages):
        if max_items is not None and yielded >= max_items:
            return
        items = await fetch(offset)
        for item in items:
            if max_items is not None and yielded >= max_items:
                return
            yield item
            yielded += 1
        if len(items) < page_size:
            return
        offset += len(items)


async def collect(items: AsyncIterator[T]) -> list[T]:
    """Gather an async iterator into a list."""
    return [item async for item in items]
