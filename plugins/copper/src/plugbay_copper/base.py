"""What the Copper tool groups share: the client, paging, search filters, argument types."""

from __future__ import annotations

import inspect
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from plugbay import ToolError
from plugbay_copper.client import CopperClient
from plugbay_copper.inputs import Input
from plugbay_copper.models import SearchPage
from plugbay_copper.settings import MAX_PAGE_SIZE, CopperSettings

RecordId = Annotated[int, Field(ge=1, description="The record's Copper id.")]
PageNumber = Annotated[int, Field(ge=1, description="The page to return, starting with 1.")]
PageSize = Annotated[
    int | None,
    Field(
        ge=1,
        le=MAX_PAGE_SIZE,
        description="Records per page, up to 200; the connector's page_size setting by default.",
    ),
]
SortDirection = Annotated[
    Literal["asc", "desc"], Field(description="Ascending (asc) or descending (desc).")
]
Ids = Annotated[list[int] | None, Field(description="Only records with these ids.")]
AssigneeIds = Annotated[
    list[int] | None,
    Field(
        description="Only records owned by these users (see {tool:list_users}); -2 for no owner."
    ),
]
Tags = Annotated[
    list[str] | None, Field(description="Only records with at least one of these tags.")
]
PhoneNumberFilter = Annotated[str | None, Field(description="A phone number (or part of one).")]
City = Annotated[str | None, Field(description="The city of the address.")]
State = Annotated[str | None, Field(description="The state or province of the address.")]
Country = Annotated[str | None, Field(description="The country of the address (two-letter code).")]
SORT_BY = "The field to sort by."

ModelT = TypeVar("ModelT", bound=BaseModel)


def criteria(**values: Any) -> dict[str, Any]:
    """A search body from the given filters, leaving out those not set."""
    return {key: value for key, value in values.items() if value is not None}


class Filters(BaseModel):
    """Base of a search's filters: each field is an argument of the search tool.

    A search tool takes the fields, in order, then ``page_number`` and ``page_size``;
    :meth:`criteria` turns the values into Copper's search body.
    """

    model_config = ConfigDict(extra="forbid")

    def criteria(self) -> dict[str, Any]:
        """The search body: the filters given, under their own names."""
        return criteria(**dict(self))


class CopperTools:
    """Base of the tool groups: gives them the started client and shared helpers."""

    instance: str
    settings: CopperSettings
    _copper: CopperClient | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Tools built by RecordType are named after their record type; the host names a
        # tool after its function, so an attribute spelled otherwise would hide its name.
        for attribute, value in vars(cls).items():
            if inspect.isfunction(value) and value.__name__ != attribute:
                raise TypeError(
                    f"{cls.__name__}.{attribute} is the function {value.__name__!r}: "
                    "give the attribute the function's name"
                )

    @property
    def copper(self) -> CopperClient:
        """The instance's client; available once the connector has started."""
        if self._copper is None:
            raise RuntimeError(f"the Copper instance {self.instance!r} has not been started")
        return self._copper

    async def _search(
        self,
        entity: str,
        model: type[ModelT],
        body: dict[str, Any],
        *,
        page_number: int,
        page_size: int | None,
    ) -> SearchPage[ModelT]:
        size = page_size or self.settings.page_size
        result = await self.copper.search(
            entity, {**body, "page_number": page_number, "page_size": size}
        )
        items = [model.model_validate(item) for item in result.items]
        if result.total is not None:
            has_more = page_number * size < result.total
        else:
            has_more = len(items) == size
        return SearchPage[model](  # type: ignore[valid-type]
            items=items,
            total=result.total,
            page_number=page_number,
            page_size=size,
            has_more=has_more,
        )

    @staticmethod
    def _created(model: type[ModelT], answer: dict[str, Any], done: str, look: str) -> ModelT:
        """Copper's answer to a write it carried out, as ``model``.

        An answer of another shape is reported as such, saying that the write happened
        (``done``) and where to see its result (``look``), never as a failure to retry.
        """
        try:
            return model.model_validate(answer)
        except ValidationError:
            raise ToolError(
                f"{done}, but its answer does not have the expected shape: {look}. "
                "Do not send it again."
            ) from None

    @staticmethod
    def _changes(changes: Input, what: str) -> dict[str, Any]:
        body = changes.body()
        if not body:
            raise ToolError(
                f"changes is empty: name at least one field of the {what} to change "
                "(set a field to null to clear it)"
            )
        return body
