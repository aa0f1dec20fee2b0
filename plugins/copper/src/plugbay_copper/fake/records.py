"""Records: their blank shapes, which fields are writable, create, read, update, delete."""

from __future__ import annotations

import copy
import time
from typing import Any

from plugbay_copper.fake.errors import invalid, not_found
from plugbay_copper.fake.state import AccountState


class RecordStore(AccountState):
    """Records: blank shapes, writable fields and CRUD (mixed into :class:`CopperFake`)."""

    # -- records ----------------------------------------------------------------------

    def _blank(self, kind: str) -> dict[str, Any]:
        now = int(time.time())
        common: dict[str, Any] = {"tags": [], "custom_fields": [], "date_created": now}
        common["date_modified"] = now
        if kind == "people":
            return {
                "name": None,
                "prefix": None,
                "first_name": None,
                "middle_name": None,
                "last_name": None,
                "suffix": None,
                "address": None,
                "assignee_id": None,
                "company_id": None,
                "contact_type_id": 600_003,
                "details": None,
                "emails": [],
                "phone_numbers": [],
                "socials": [],
                "title": None,
                "websites": [],
                "interaction_count": 0,
                "date_last_contacted": None,
                "leads_converted_from": [],
                "date_lead_created": None,
                **common,
            }
        if kind == "companies":
            return {
                "name": None,
                "address": None,
                "assignee_id": None,
                "contact_type_id": 600_003,
                "details": None,
                "email_domain": None,
                "phone_numbers": [],
                "socials": [],
                "websites": [],
                "interaction_count": 0,
                **common,
            }
        if kind == "opportunities":
            pipeline = self.pipelines[0]
            stage = pipeline["stages"][0]
            return {
                "name": None,
                "assignee_id": None,
                "close_date": None,
                "company_id": None,
                "customer_source_id": None,
                "details": None,
                "loss_reason_id": None,
                "monetary_value": None,
                "pipeline_id": pipeline["id"],
                "pipeline_stage_id": stage["id"],
                "primary_contact_id": None,
                "priority": "None",
                "status": "Open",
                "win_probability": stage["win_probability"],
                "date_stage_changed": now,
                "date_last_contacted": None,
                "interaction_count": 0,
                **common,
            }
        if kind == "leads":
            status = self.lead_statuses[0]
            return {
                "name": None,
                "prefix": None,
                "first_name": None,
                "middle_name": None,
                "last_name": None,
                "suffix": None,
                "address": None,
                "assignee_id": None,
                "company_name": None,
                "customer_source_id": None,
                "details": None,
                "email": None,
                "monetary_value": None,
                "monetary_unit": "USD",
                "phone_numbers": [],
                "socials": [],
                "status": status["name"],
                "status_id": status["id"],
                "title": None,
                "websites": [],
                **common,
            }
        if kind == "tasks":
            return {
                "name": None,
                "related_resource": None,
                "assignee_id": None,
                "due_date": None,
                "reminder_date": None,
                "completed_date": None,
                "priority": "None",
                "status": "Open",
                "details": None,
                **common,
            }
        return {
            "parent": None,
            "type": None,
            "user_id": self._owner()["id"],
            "details": None,
            "activity_date": now,
            "old_value": None,
            "new_value": None,
            "date_created": now,
            "date_modified": now,
        }

    def _writable(self, kind: str) -> set[str]:
        blank = self._blank(kind)
        derived = {
            "date_created",
            "date_modified",
            "interaction_count",
            "date_last_contacted",
            "leads_converted_from",
            "date_lead_created",
            "date_stage_changed",
            "old_value",
            "new_value",
            "monetary_unit",
            "status_id",
        }
        writable = set(blank) - derived
        if kind == "leads":
            writable.add("status_id")
        return writable

    def _new_id(self, kind: str) -> int:
        self._next_id[kind] += 1
        return self._next_id[kind]

    def _create(self, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        required = ("parent", "type", "details") if kind == "activities" else ("name",)
        for key in required:
            if body.get(key) is None:
                raise invalid(f"{key} is required")
        record = self._blank(kind)
        self._apply(kind, record, body, None)
        record["id"] = self._new_id(kind)
        self._records[kind][record["id"]] = record
        return self._render(kind, record)

    def _render(self, kind: str, record: dict[str, Any]) -> dict[str, Any]:
        rendered = copy.deepcopy(record)
        if kind in ("people", "opportunities"):
            company = self._records["companies"].get(record.get("company_id") or -1)
            rendered["company_name"] = company["name"] if company else None
        return {"id": rendered.pop("id", None), **rendered}

    def _get(self, kind: str, record_id: int) -> dict[str, Any]:
        if kind == "activities" and record_id in self._deleted_activities:
            return {"id": record_id, "is_deleted": True}
        record = self._records[kind].get(record_id)
        if record is None:
            raise not_found(kind, record_id)
        return self._render(kind, record)

    def _update(self, kind: str, record_id: int, body: dict[str, Any]) -> dict[str, Any]:
        if kind == "activities" and record_id in self._deleted_activities:
            raise invalid(f"activity {record_id} was deleted and cannot be modified")
        record = self._records[kind].get(record_id)
        if record is None:
            raise not_found(kind, record_id)
        if kind == "activities" and "type" not in body and record["type"]["category"] != "user":
            raise invalid("system activities cannot be modified")
        candidate = copy.deepcopy(record)
        self._apply(kind, candidate, body, record_id)
        record.clear()
        record.update(candidate)
        return self._render(kind, record)

    def _delete(self, kind: str, record_id: int) -> dict[str, Any]:
        if self._records[kind].pop(record_id, None) is None:
            raise not_found(kind, record_id)
        if kind == "activities":
            self._deleted_activities.add(record_id)
        return {"id": record_id, "is_deleted": True}
