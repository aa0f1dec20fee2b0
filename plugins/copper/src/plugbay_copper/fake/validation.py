"""Validating record bodies: field types, lookups, custom fields, unique emails."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from plugbay_copper.fake.errors import invalid
from plugbay_copper.fake.fields import (
    check_address,
    check_categorized,
    check_entry,
    check_int,
    check_number,
    check_str,
    check_str_list,
    emails_of,
    name_parts,
)
from plugbay_copper.fake.state import AccountState
from plugbay_copper.fake.vocabulary import (
    CLOSE_DATE,
    EMAIL_CATEGORIES,
    OPPORTUNITY_PRIORITIES,
    OPPORTUNITY_STATUSES,
    PARENT_TYPES,
    PHONE_CATEGORIES,
    SINGULAR,
    SOCIAL_CATEGORIES,
    TASK_PRIORITIES,
    TASK_STATUSES,
    WEBSITE_CATEGORIES,
)


class RecordValidation(AccountState):
    """Validating record bodies: field types, lookups, custom fields, unique emails."""

    # -- lookups ----------------------------------------------------------------------

    def _owner(self) -> dict[str, Any]:
        for user in self.users:
            if user["email"].lower() == self.user_email.lower():
                return user
        return self.users[0]

    def _require(self, kind: str, record_id: Any, field_name: str) -> dict[str, Any]:
        check_int(field_name, record_id)
        found = self._records[kind].get(record_id)
        if found is None:
            raise invalid(f"{field_name} {record_id} does not exist")
        return found

    def _check_user(self, field_name: str, value: Any) -> None:
        check_int(field_name, value)
        if value not in {user["id"] for user in self.users}:
            raise invalid(f"{field_name} {value} is not a user of this account")

    def _check_lookup(self, field_name: str, value: Any, items: list[dict[str, Any]]) -> None:
        check_int(field_name, value)
        if value not in {item["id"] for item in items}:
            raise invalid(f"{field_name} {value} does not exist")

    def _pipeline(self, pipeline_id: Any) -> dict[str, Any]:
        check_int("pipeline_id", pipeline_id)
        for pipeline in self.pipelines:
            if pipeline["id"] == pipeline_id:
                return pipeline
        raise invalid(f"pipeline_id {pipeline_id} does not exist")

    def _check_custom_fields(self, kind: str, value: Any) -> None:
        if not isinstance(value, list):
            raise invalid("custom_fields must be a list of {custom_field_definition_id, value}")
        definitions = {item["id"]: item for item in self.custom_field_definitions}
        for entry in value:
            if not isinstance(entry, dict) or "custom_field_definition_id" not in entry:
                raise invalid("custom_fields entries need a custom_field_definition_id")
            definition = definitions.get(entry["custom_field_definition_id"])
            if definition is None:
                raise invalid(
                    f"custom field definition {entry['custom_field_definition_id']} does not exist"
                )
            if SINGULAR[kind] not in definition["available_on"]:
                raise invalid(f"custom field {definition['name']!r} is not available on {kind}")
            options = definition.get("options")
            value_given = entry.get("value") is not None
            if options and value_given and entry["value"] not in {o["id"] for o in options}:
                raise invalid(
                    f"custom field {definition['name']!r} has no option {entry['value']!r}"
                )

    def _apply(
        self, kind: str, record: dict[str, Any], body: dict[str, Any], record_id: int | None
    ) -> None:
        """Validate ``body`` and write it into ``record``: only given fields, null clears.

        ``record_id`` is the record being updated (``None`` when creating one).
        """
        writable = self._writable(kind)
        changes = {key: value for key, value in body.items() if key in writable}
        for key, value in changes.items():
            if value is None:
                if key in ("name", "parent", "type") or (kind == "tasks" and key == "status"):
                    raise invalid(f"{key} cannot be blank")
                continue
            self._check(kind, key, value, record_id)
        for key, value in changes.items():
            if value is None:
                record[key] = [] if isinstance(record.get(key), list) else None
            elif key == "custom_fields":
                # Values are set per definition; definitions not named keep theirs.
                merged = {item["custom_field_definition_id"]: item for item in record[key]}
                merged.update({item["custom_field_definition_id"]: item for item in value})
                record[key] = list(merged.values())
            else:
                record[key] = value
        self._derive(kind, record, changes)
        record["date_modified"] = int(time.time())

    def _check(self, kind: str, key: str, value: Any, record_id: int | None) -> None:
        if key in ("name", "details", "title", "prefix", "middle_name", "suffix", "company_name"):
            check_str(key, value)
            if key == "name" and not value.strip():
                raise invalid("name cannot be blank")
        elif key in ("first_name", "last_name", "email_domain"):
            check_str(key, value)
        elif key == "emails":
            check_categorized("emails", "email", EMAIL_CATEGORIES)(value)
            self._check_unique_emails(kind, value, record_id)
        elif key == "email":
            check_entry("email", "email", EMAIL_CATEGORIES, value)
        elif key == "phone_numbers":
            check_categorized("phone_numbers", "number", PHONE_CATEGORIES)(value)
        elif key == "socials":
            check_categorized("socials", "url", SOCIAL_CATEGORIES)(value)
        elif key == "websites":
            check_categorized("websites", "url", WEBSITE_CATEGORIES)(value)
        elif key == "address":
            check_address(value)
        elif key == "tags":
            check_str_list("tags", value)
        elif key in ("assignee_id", "user_id"):
            self._check_user(key, value)
        elif key == "company_id":
            self._require("companies", value, key)
        elif key == "primary_contact_id":
            self._require("people", value, key)
        elif key == "contact_type_id":
            self._check_lookup(key, value, self.contact_types)
        elif key == "customer_source_id":
            self._check_lookup(key, value, self.customer_sources)
        elif key == "status_id":
            self._check_lookup(key, value, self.lead_statuses)
        elif key == "custom_fields":
            self._check_custom_fields(kind, value)
        elif key == "pipeline_id":
            self._pipeline(value)
        elif key in ("pipeline_stage_id", "loss_reason_id"):
            check_int(key, value)
        elif key in ("monetary_value", "win_probability"):
            check_number(key, value)
        elif key in ("due_date", "reminder_date", "completed_date", "activity_date"):
            check_int(key, value)
        elif key == "close_date":
            check_str(key, value)
            if not CLOSE_DATE.match(value):
                raise invalid("close_date must be a date written MM/DD/YYYY")
            try:
                datetime.strptime(value, "%m/%d/%Y")
            except ValueError:
                raise invalid(f"close_date {value!r} is not a valid date") from None
        elif key == "status":
            self._check_status(kind, value)
        elif key == "priority":
            allowed = OPPORTUNITY_PRIORITIES if kind == "opportunities" else TASK_PRIORITIES
            if value not in allowed:
                raise invalid(f"priority must be one of {', '.join(allowed)}")
        elif key in ("related_resource", "parent"):
            self._check_parent(key, value)
        elif key == "type":
            self._check_activity_type(value)

    def _check_status(self, kind: str, value: Any) -> None:
        allowed: tuple[str, ...]
        if kind == "opportunities":
            allowed = OPPORTUNITY_STATUSES
        elif kind == "tasks":
            allowed = TASK_STATUSES
        else:
            allowed = tuple(item["name"] for item in self.lead_statuses)
        if value not in allowed:
            raise invalid(f"status must be one of {', '.join(allowed)}")

    def _check_parent(self, key: str, value: Any) -> None:
        if not isinstance(value, dict) or "id" not in value or "type" not in value:
            raise invalid(f"{key} must be an object with id and type")
        if value["type"] not in PARENT_TYPES:
            raise invalid(f"{key}.type must be one of {', '.join(PARENT_TYPES)}")
        kinds = {singular: plural for plural, singular in SINGULAR.items()}
        plural = kinds.get(value["type"])
        if plural is None or value["id"] not in self._records[plural]:
            raise invalid(f"{key}: no {value['type']} with id {value['id']}")

    def _check_activity_type(self, value: Any) -> None:
        if not isinstance(value, dict) or "id" not in value or "category" not in value:
            raise invalid("type must be an activity type object with id and category")
        if value["category"] != "user":
            raise invalid("only activities of category 'user' can be created or modified")
        known = {item["id"]: item for item in self.activity_types["user"]}
        found = known.get(value["id"])
        if found is None:
            raise invalid(f"activity type {value['id']} does not exist")
        if found["is_disabled"]:
            raise invalid(f"activity type {found['name']!r} is disabled")

    def _check_unique_emails(
        self, kind: str, value: list[dict[str, Any]], record_id: int | None
    ) -> None:
        if kind != "people":
            return
        wanted = {entry["email"].lower() for entry in value}
        for person in self._records["people"].values():
            if person["id"] == record_id:
                continue
            taken = wanted & set(emails_of(person))
            if taken:
                raise invalid(f"emails: a person with the email {sorted(taken)[0]} already exists")

    def _derive(self, kind: str, record: dict[str, Any], changes: dict[str, Any]) -> None:
        if kind in ("people", "leads") and "name" in changes and record["name"]:
            record["first_name"], record["last_name"] = name_parts(record["name"])
        if kind == "opportunities":
            pipeline = self._pipeline(record["pipeline_id"])
            stages = {stage["id"]: stage for stage in pipeline["stages"]}
            if "pipeline_id" in changes and "pipeline_stage_id" not in changes:
                record["pipeline_stage_id"] = pipeline["stages"][0]["id"]
            stage = stages.get(record["pipeline_stage_id"])
            if stage is None:
                raise invalid(
                    f"pipeline_stage_id {record['pipeline_stage_id']} is not a stage of "
                    f"pipeline {pipeline['id']}"
                )
            if (
                "pipeline_stage_id" in changes or "pipeline_id" in changes
            ) and "win_probability" not in changes:
                record["win_probability"] = stage["win_probability"]
                record["date_stage_changed"] = int(time.time())
        if kind == "leads":
            statuses = {item["name"]: item["id"] for item in self.lead_statuses}
            names = {item["id"]: item["name"] for item in self.lead_statuses}
            if "status" in changes and record["status"]:
                record["status_id"] = statuses[record["status"]]
            elif "status_id" in changes and record["status_id"]:
                record["status"] = names[record["status_id"]]
        if kind == "tasks" and "status" in changes:
            completed = record["status"] == "Completed"
            record["completed_date"] = int(time.time()) if completed else None
