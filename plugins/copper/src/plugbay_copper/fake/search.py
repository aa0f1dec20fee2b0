"""Searching records as ``POST /<entity>/search`` does: filters, sorting, pages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from plugbay_copper.fake.errors import invalid
from plugbay_copper.fake.fields import (
    as_list,
    check_int,
    digits_of,
    emails_of,
)
from plugbay_copper.fake.state import AccountState
from plugbay_copper.fake.vocabulary import (
    DEFAULT_PAGE_SIZE,
    DEFAULT_SORT,
    MAX_PAGE_SIZE,
    OPPORTUNITY_STATUSES,
)


@dataclass(slots=True)
class SearchPage:
    """One page of matches and how many matched in all (``X-PW-TOTAL``)."""

    items: list[dict[str, Any]]
    total: int


class RecordSearch(AccountState):
    """Searching records: filters, sorting, pages (mixed into :class:`CopperFake`)."""

    # -- search -----------------------------------------------------------------------

    _FILTERS: dict[str, frozenset[str]] = {
        "people": frozenset(
            {
                "name",
                "phone_number",
                "emails",
                "contact_type_ids",
                "assignee_ids",
                "company_ids",
                "city",
                "state",
                "postal_code",
                "country",
                "tags",
            }
        ),
        "companies": frozenset(
            {
                "name",
                "phone_number",
                "email_domains",
                "contact_type_ids",
                "assignee_ids",
                "city",
                "state",
                "postal_code",
                "country",
                "tags",
            }
        ),
        "opportunities": frozenset(
            {
                "name",
                "assignee_ids",
                "status_ids",
                "pipeline_ids",
                "pipeline_stage_ids",
                "primary_contact_ids",
                "company_ids",
                "customer_source_ids",
                "tags",
                "minimum_monetary_value",
                "maximum_monetary_value",
            }
        ),
        "leads": frozenset(
            {
                "name",
                "phone_number",
                "emails",
                "assignee_ids",
                "status_ids",
                "customer_source_ids",
                "city",
                "state",
                "postal_code",
                "country",
                "tags",
            }
        ),
        "tasks": frozenset(
            {
                "name",
                "assignee_ids",
                "opportunity_ids",
                "project_ids",
                "statuses",
                "tags",
                "minimum_due_date",
                "maximum_due_date",
            }
        ),
        "activities": frozenset(
            {"parent", "activity_types", "minimum_activity_date", "maximum_activity_date"}
        ),
    }
    _COMMON = frozenset(
        {
            "ids",
            "page_number",
            "page_size",
            "sort_by",
            "sort_direction",
            "custom_fields",
            "minimum_created_date",
            "maximum_created_date",
            "minimum_modified_date",
            "maximum_modified_date",
            "full_result",
        }
    )

    def _search(self, kind: str, body: dict[str, Any]) -> SearchPage:
        unknown = sorted(set(body) - self._FILTERS[kind] - self._COMMON)
        if unknown:
            raise invalid(f"unknown search parameter {unknown[0]!r}")
        page_number = body.get("page_number", 1)
        page_size = body.get("page_size", DEFAULT_PAGE_SIZE)
        check_int("page_number", page_number)
        check_int("page_size", page_size)
        if page_number < 1:
            raise invalid("page_number starts with 1")
        if page_size < 1:
            raise invalid("page_size must be at least 1")
        page_size = min(page_size, MAX_PAGE_SIZE)
        matches = [
            record
            for record in self._records[kind].values()
            if all(self._matches(kind, record, key, value) for key, value in body.items())
        ]
        matches = self._sorted(kind, matches, body)
        start = (page_number - 1) * page_size
        items = [self._render(kind, record) for record in matches[start : start + page_size]]
        return SearchPage(items=items, total=len(matches))

    def _sorted(
        self, kind: str, records: list[dict[str, Any]], body: dict[str, Any]
    ) -> list[dict[str, Any]]:
        if kind == "activities":
            return sorted(records, key=lambda item: (-item["activity_date"], -item["id"]))
        sort_by = body.get("sort_by", DEFAULT_SORT[kind])
        direction = body.get("sort_direction", "asc")
        if direction not in ("asc", "desc"):
            raise invalid("sort_direction must be asc or desc")
        address_keys = ("city", "state", "postal_code", "country")
        if sort_by not in self._blank(kind) and sort_by not in address_keys:
            raise invalid(f"cannot sort by {sort_by!r}")

        def value(record: dict[str, Any]) -> Any:
            if sort_by in address_keys and sort_by not in record:
                return (record.get("address") or {}).get(sort_by)
            found = record.get(sort_by)
            return found.lower() if isinstance(found, str) else found

        present = [record for record in records if value(record) is not None]
        absent = [record for record in records if value(record) is None]
        present.sort(key=lambda item: (value(item), item["id"]), reverse=direction == "desc")
        return present + absent

    def _matches(self, kind: str, record: dict[str, Any], key: str, value: Any) -> bool:
        if value is None or key in ("page_number", "page_size", "sort_by", "sort_direction"):
            return True
        if key == "full_result":
            return True
        if key == "ids":
            return record["id"] in as_list(value)
        if key == "name":
            return str(value).lower() in (record.get("name") or "").lower()
        if key == "phone_number":
            digits = digits_of(str(value))
            numbers = [digits_of(item["number"]) for item in record.get("phone_numbers") or []]
            return bool(digits) and any(digits in number for number in numbers)
        if key == "emails":
            wanted = {str(item).lower() for item in as_list(value)}
            return bool(wanted & set(emails_of(record)))
        if key == "email_domains":
            domains = {str(item).lower() for item in as_list(value)}
            return (record.get("email_domain") or "").lower() in domains
        if key in ("city", "state", "postal_code", "country"):
            address = record.get("address") or {}
            return (address.get(key) or "").lower() == str(value).lower()
        if key == "tags":
            wanted = {str(item).lower() for item in as_list(value)}
            return bool(wanted & {tag.lower() for tag in record.get("tags") or []})
        if key == "statuses":
            return record.get("status") in as_list(value)
        if key == "status_ids":
            if kind == "opportunities":
                return OPPORTUNITY_STATUSES.index(record["status"]) in as_list(value)
            return record.get("status_id") in as_list(value)
        if key.endswith("_ids"):
            return self._id_filter(kind, record, key, as_list(value))
        if key.startswith(("minimum_", "maximum_")):
            return self._range_filter(record, key, value)
        if key == "parent":
            parent = record.get("parent") or {}
            same = parent.get("id") == value.get("id") and parent.get("type") == value.get("type")
            return bool(same)
        if key == "activity_types":
            wanted_types = {(item.get("category"), item.get("id")) for item in as_list(value)}
            kind_of = record.get("type") or {}
            return (kind_of.get("category"), kind_of.get("id")) in wanted_types
        if key == "custom_fields":
            values = {
                item["custom_field_definition_id"]: item.get("value")
                for item in record.get("custom_fields") or []
            }
            return all(
                values.get(item.get("custom_field_definition_id")) == item.get("value")
                for item in as_list(value)
            )
        return True

    def _id_filter(self, kind: str, record: dict[str, Any], key: str, wanted: list[Any]) -> bool:
        field_name = {
            "assignee_ids": "assignee_id",
            "company_ids": "company_id",
            "contact_type_ids": "contact_type_id",
            "pipeline_ids": "pipeline_id",
            "pipeline_stage_ids": "pipeline_stage_id",
            "primary_contact_ids": "primary_contact_id",
            "customer_source_ids": "customer_source_id",
        }.get(key)
        if kind == "tasks" and key in ("opportunity_ids", "project_ids"):
            related = record.get("related_resource") or {}
            kind_name = "opportunity" if key == "opportunity_ids" else "project"
            current = related.get("id") if related.get("type") == kind_name else None
        elif field_name is None:
            return True
        else:
            current = record.get(field_name)
        return current in wanted or (current is None and -2 in wanted)

    def _range_filter(self, record: dict[str, Any], key: str, value: Any) -> bool:
        bound, _, name = key.partition("_")
        field_name = {
            "created_date": "date_created",
            "modified_date": "date_modified",
            "monetary_value": "monetary_value",
            "due_date": "due_date",
            "activity_date": "activity_date",
        }.get(name)
        if field_name is None:
            return True
        current = record.get(field_name)
        if current is None:
            return False
        return bool(current >= value if bound == "minimum" else current <= value)
