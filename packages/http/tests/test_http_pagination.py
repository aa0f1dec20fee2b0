"""The paginators walk every scheme to the end, and stop at their bounds."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from plugbay_http import (
    PaginationError,
    collect,
    paginate_cursor,
    paginate_offset,
    paginate_pages,
)

ITEMS = list(range(23))


async def test_page_numbers_until_a_short_page() -> None:
    asked: list[int] = []

    async def page(number: int) -> Sequence[int]:
        asked.append(number)
        return ITEMS[(number - 1) * 10 : number * 10]

    assert await collect(paginate_pages(page, page_size=10)) == ITEMS
    assert asked == [1, 2, 3]


async def test_an_exact_multiple_ends_on_an_empty_page() -> None:
    async def page(number: int) -> Sequence[int]:
        return list(range(20))[(number - 1) * 10 : number * 10]

    assert len(await collect(paginate_pages(page, page_size=10))) == 20


async def test_max_items_stops_early_without_fetching_more() -> None:
    asked: list[int] = []

    async def page(number: int) -> Sequence[int]:
        asked.append(number)
        return ITEMS[(number - 1) * 10 : number * 10]

    assert await collect(paginate_pages(page, page_size=10, max_items=12)) == ITEMS[:12]
    assert asked == [1, 2]
    assert await collect(paginate_pages(page, page_size=10, max_items=0)) == []


async def test_zero_based_pages_and_a_page_bound() -> None:
    async def page(number: int) -> Sequence[int]:
        return [number] * 2

    items = await collect(paginate_pages(page, page_size=2, first_page=0, max_pages=3))
    assert items == [0, 0, 1, 1, 2, 2]


async def test_cursors_until_there_is_no_next_token() -> None:
    pages = {None: ([1, 2], "b"), "b": ([3, 4], "c"), "c": ([5], None)}

    async def fetch(token: str | None) -> tuple[Sequence[int], str | None]:
        return pages[token]

    assert await collect(paginate_cursor(fetch)) == [1, 2, 3, 4, 5]
    assert await collect(paginate_cursor(fetch, max_items=3)) == [1, 2, 3]


async def test_a_repeated_cursor_is_an_error_not_a_loop() -> None:
    async def fetch(token: str | None) -> tuple[Sequence[int], str | None]:
        return [1], "same"

    with pytest.raises(PaginationError, match="repeated the page token"):
        await collect(paginate_cursor(fetch))


async def test_offsets_advance_by_what_came_back() -> None:
    asked: list[int] = []

    async def fetch(offset: int) -> Sequence[int]:
        asked.append(offset)
        return ITEMS[offset : offset + 10]

    assert await collect(paginate_offset(fetch, page_size=10)) == ITEMS
    assert asked == [0, 10, 20]
    assert await collect(paginate_offset(fetch, page_size=10, start=20)) == ITEMS[20:]


@pytest.mark.parametrize(
    "options",
    [{"page_size": 0}, {"page_size": 1, "max_items": -1}, {"page_size": 1, "max_pages": 0}],
)
async def test_bad_bounds_are_refused(options: dict[str, int]) -> None:
    async def page(number: int) -> Sequence[int]:
        return []

    with pytest.raises(ValueError, match=r"at least|negative"):
        await collect(paginate_pages(page, **options))
