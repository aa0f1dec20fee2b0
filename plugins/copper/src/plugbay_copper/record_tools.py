"""The tools every kind of Copper record has, built from one description of the kind.

People, companies, opportunities, leads, tasks and activities are searched, read,
created, changed and deleted the same way; only the path, the names, the models and
the words differ. A :class:`RecordType` builds each of those tools as an async function
with a real signature, type hints and docstring, marked with :func:`plugbay.tool` (or
:func:`plugbay.resource`), to be assigned in a tool group's class body under its own
name::

    class CompanyTools(CopperTools):
        search_companies = COMPANIES.search_tool(CompanyFilters)
        get_company = COMPANIES.get_tool()

The host then reads them as it reads hand-written methods.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypedDict, TypeVar

from pydantic import BaseModel, Field

from plugbay import resource, tool
from plugbay_copper.base import CopperTools, Filters, PageNumber, PageSize, RecordId
from plugbay_copper.inputs import Input
from plugbay_copper.models import Deleted, SearchPage

RecordT = TypeVar("RecordT", bound=BaseModel)
Method = Callable[..., Awaitable[Any]]
Run = Callable[[CopperTools, dict[str, Any]], Awaitable[Any]]


class _Hints(TypedDict):
    read_only: bool
    destructive: bool
    idempotent: bool
    open_world: bool


_READ = _Hints(read_only=True, destructive=False, idempotent=True, open_world=True)
_CREATE = _Hints(read_only=False, destructive=False, idempotent=False, open_world=True)
_CHANGE = _Hints(read_only=False, destructive=True, idempotent=True, open_world=True)
_SEARCH_SUMMARY = (
    "Find {path} in Copper; all the filters given must match.\n\n"
    "Returns one page and the total number of matches; ask for the next page_number\n"
    "while has_more is true."
)


def _parameter(
    name: str, annotation: Any, default: Any = inspect.Parameter.empty
) -> inspect.Parameter:
    return inspect.Parameter(
        name, inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=annotation, default=default
    )


def _method(
    name: str,
    summary: str,
    parameters: Sequence[inspect.Parameter],
    returns: Any,
    run: Run,
    arguments: dict[str, str] | None = None,
) -> Method:
    """An async method ``name(self, *parameters) -> returns`` that awaits ``run``.

    ``run`` gets the tool group and every argument by name, defaults filled in;
    ``arguments`` are the descriptions for the docstring's ``Args:`` section.
    """
    signature = inspect.Signature(
        [_parameter("self", inspect.Parameter.empty), *parameters], return_annotation=returns
    )

    async def method(*args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        values = dict(bound.arguments)
        return await run(values.pop("self"), values)

    doc = summary
    if arguments:
        lines = [f"    {argument}: {text}" for argument, text in arguments.items()]
        doc = "\n".join([summary, "", "Args:", *lines])
    method.__name__ = method.__qualname__ = name
    method.__doc__ = doc
    method.__annotations__ = {p.name: p.annotation for p in parameters} | {"return": returns}
    method.__signature__ = signature  # type: ignore[attr-defined]
    return method


def _filter_parameters(filters: type[Filters]) -> list[inspect.Parameter]:
    """The search arguments declared by ``filters``, in the order of its fields."""
    parameters = []
    for name, field in filters.model_fields.items():
        # Put the field's constraints and description back beside its type, where the
        # host reads them when it builds the tool's input schema.
        extra = [Field(description=field.description)] if field.description else []
        metadata = (*field.metadata, *extra)
        annotation = Annotated[(field.annotation, *metadata)] if metadata else field.annotation
        default = inspect.Parameter.empty if field.is_required() else field.get_default()
        parameters.append(_parameter(name, annotation, default))
    return parameters


@dataclass(frozen=True, slots=True)
class RecordType(Generic[RecordT]):
    """One kind of Copper record, and the tools that search, read and change it.

    Each ``..._tool`` method returns a tool named after the record type, described by
    the summary given or, when none is, by one that fits most record types.

    Args:
        path: The API path and the plural in tool names (``people``).
        name: The singular in tool, argument and resource names (``person``).
        model: The record as Copper returns it.
    """

    path: str
    name: str
    model: type[RecordT]

    @property
    def _id(self) -> str:
        return f"{self.name}_id"

    @property
    def _a(self) -> str:
        return f"an {self.name}" if self.name[0] in "aeiou" else f"a {self.name}"

    def search_tool(self, filters: type[Filters], summary: str | None = None) -> Method:
        """``search_<path>``: the ``filters``' fields, then ``page_number`` and ``page_size``."""

        async def run(tools: CopperTools, values: dict[str, Any]) -> SearchPage[RecordT]:
            page_number, page_size = values.pop("page_number"), values.pop("page_size")
            body = filters.model_validate(values).criteria()
            return await tools._search(
                self.path, self.model, body, page_number=page_number, page_size=page_size
            )

        parameters = [
            *_filter_parameters(filters),
            _parameter("page_number", PageNumber, 1),
            _parameter("page_size", PageSize, None),
        ]
        returns = SearchPage[self.model]  # type: ignore[name-defined]
        summary = summary or _SEARCH_SUMMARY.format(path=self.path)
        method = _method(f"search_{self.path}", summary, parameters, returns, run)
        return tool(**_READ, title=f"Search {self.path}")(method)

    def get_tool(self, summary: str | None = None) -> Method:
        """``get_<name>``: one record by id."""
        summary = summary or f"Fetch one {self.name} by id, with all its fields."
        parameters = [_parameter(self._id, RecordId)]
        method = _method(f"get_{self.name}", summary, parameters, self.model, self._get)
        return tool(**_READ, title=f"Get {self.name}")(method)

    def create_tool(self, new: type[Input], summary: str | None = None) -> Method:
        """``create_<name>``: a record from a ``new`` model, its one argument."""

        async def run(tools: CopperTools, values: dict[str, Any]) -> RecordT:
            created = await tools.copper.create(self.path, values[self.name].body())
            done = f"Copper created the {self.name} with id {created['id']}"
            return tools._created(self.model, created, done, f"{{tool:get_{self.name}}} shows it")

        summary = summary or (
            f"Create {self._a}. Search first ({{tool:search_{self.path}}}) when it may exist "
            "already."
        )
        method = _method(
            f"create_{self.name}",
            summary,
            [_parameter(self.name, new)],
            self.model,
            run,
            {self.name: f"The {self.name}'s fields; only name is required."},
        )
        return tool(**_CREATE, title=f"Create {self.name}")(method)

    def update_tool(self, changes: type[Input], summary: str | None = None) -> Method:
        """``update_<name>``: a partial update, the fields to change given as ``changes``."""

        async def run(tools: CopperTools, values: dict[str, Any]) -> RecordT:
            body = tools._changes(values["changes"], self.name)
            updated = await tools.copper.update(self.path, values[self._id], body)
            return self.model.model_validate(updated)

        summary = summary or (
            f"Change some fields of {self._a}; the fields left out stay as they are.\n\n"
            "A field set to null is cleared; lists are replaced as a whole."
        )
        method = _method(
            f"update_{self.name}",
            summary,
            [_parameter(self._id, RecordId), _parameter("changes", changes)],
            self.model,
            run,
            {"changes": "The fields to change."},
        )
        return tool(**_CHANGE, title=f"Update {self.name}")(method)

    def delete_tool(self, summary: str | None = None) -> Method:
        """``delete_<name>``: delete a record by id."""

        async def run(tools: CopperTools, values: dict[str, Any]) -> Deleted:
            return Deleted.model_validate(await tools.copper.delete(self.path, values[self._id]))

        summary = summary or f"Delete {self._a} from Copper, permanently."
        parameters = [_parameter(self._id, RecordId)]
        method = _method(f"delete_{self.name}", summary, parameters, Deleted, run)
        return tool(**_CHANGE, title=f"Delete {self.name}")(method)

    def resource(self) -> Method:
        """``<name>_resource``: the record at ``<path>/{<name>_id}``, as JSON."""
        method = _method(
            f"{self.name}_resource",
            f"A Copper {self.name}, as JSON.",
            # A plain int, as before: an id below 1 reaches Copper, which answers 404.
            [_parameter(self._id, int)],
            self.model,
            self._get,
            {self._id: f"The {self.name}'s Copper id."},
        )
        return resource(f"{self.path}/{{{self._id}}}", mime_type="application/json")(method)

    async def _get(self, tools: CopperTools, values: dict[str, Any]) -> RecordT:
        return self.model.model_validate(await tools.copper.get(self.path, values[self._id]))
