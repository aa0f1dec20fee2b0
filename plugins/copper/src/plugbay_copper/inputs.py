"""What tools accept to create and change records.

Each record type has a ``...Fields`` model, every field optional, used by the update
tools: only the fields given are sent, and a field given as ``null`` is cleared
(Copper's partial-update rule). The ``New...`` models used by the create tools are
the same with the required fields required.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from plugbay_copper.models import (
    ActivityTypeRef,
    Address,
    CustomFieldValue,
    EmailAddress,
    PhoneNumber,
    RecordRef,
    Social,
    Website,
)

EmailCategory = Literal["work", "personal", "other"]
PhoneCategory = Literal["mobile", "work", "home", "other"]
WebsiteCategory = Literal["work", "personal", "other"]


class Input(BaseModel):
    """Base of the write models: unknown fields are refused, not silently dropped."""

    model_config = ConfigDict(extra="forbid")

    def body(self) -> dict[str, object]:
        """The JSON body: the fields that were given, ``null`` ones included.

        Only top-level fields are left out when not given; inside a given field,
        defaults count (an email without a category is sent as a work email).
        """
        dumped = self.model_dump(mode="json")
        return {name: dumped[name] for name in self.model_fields_set}


class EmailInput(EmailAddress):
    """An email address to store."""

    model_config = ConfigDict(extra="forbid")
    category: EmailCategory = "work"


class PhoneInput(PhoneNumber):
    """A phone number to store."""

    model_config = ConfigDict(extra="forbid")
    category: PhoneCategory = "work"


class WebsiteInput(Website):
    """A website to store."""

    model_config = ConfigDict(extra="forbid")
    category: WebsiteCategory = "work"


_NAME = "The full name."
_ASSIGNEE = "The id of the user who owns the record (see {tool:list_users})."
_TAGS = "The tags; replaces the current ones."
_CUSTOM = "Custom field values by definition id (see {tool:list_custom_fields})."


class PersonFields(Input):
    """Fields of a person; on update, null clears a field and omitted ones stay."""

    name: str | None = Field(default=None, description=_NAME)
    title: str | None = Field(default=None, description="The professional title.")
    company_id: int | None = Field(default=None, description="The primary company's id.")
    emails: list[EmailInput] | None = Field(default=None, description="Email addresses.")
    phone_numbers: list[PhoneInput] | None = Field(default=None, description="Phone numbers.")
    address: Address | None = Field(default=None, description="The postal address.")
    assignee_id: int | None = Field(default=None, description=_ASSIGNEE)
    contact_type_id: int | None = Field(default=None, description="The contact type's id.")
    details: str | None = Field(default=None, description="A description of the person.")
    websites: list[WebsiteInput] | None = Field(default=None, description="Websites.")
    socials: list[Social] | None = Field(default=None, description="Social profiles.")
    tags: list[str] | None = Field(default=None, description=_TAGS)
    custom_fields: list[CustomFieldValue] | None = Field(default=None, description=_CUSTOM)


class NewPerson(PersonFields):
    """A person to create."""

    name: str = Field(min_length=1, description=_NAME)


class CompanyFields(Input):
    """Fields of a company; on update, null clears a field and omitted ones stay."""

    name: str | None = Field(default=None, description="The company's name.")
    email_domain: str | None = Field(default=None, description="Its email domain (acme.com).")
    phone_numbers: list[PhoneInput] | None = Field(default=None, description="Phone numbers.")
    address: Address | None = Field(default=None, description="The postal address.")
    assignee_id: int | None = Field(default=None, description=_ASSIGNEE)
    contact_type_id: int | None = Field(default=None, description="The contact type's id.")
    details: str | None = Field(default=None, description="A description of the company.")
    websites: list[WebsiteInput] | None = Field(default=None, description="Websites.")
    socials: list[Social] | None = Field(default=None, description="Social profiles.")
    tags: list[str] | None = Field(default=None, description=_TAGS)
    custom_fields: list[CustomFieldValue] | None = Field(default=None, description=_CUSTOM)


class NewCompany(CompanyFields):
    """A company to create."""

    name: str = Field(min_length=1, description="The company's name.")


class OpportunityFields(Input):
    """Fields of an opportunity; on update, null clears a field and omitted ones stay."""

    name: str | None = Field(default=None, description="The opportunity's name.")
    primary_contact_id: int | None = Field(default=None, description="The main person's id.")
    company_id: int | None = Field(default=None, description="The company's id.")
    pipeline_id: int | None = Field(
        default=None,
        description="The pipeline (see {tool:list_pipelines}); the first one by default.",
    )
    pipeline_stage_id: int | None = Field(
        default=None, description="The stage, within the pipeline; its first stage by default."
    )
    monetary_value: float | None = Field(default=None, description="The expected value.")
    close_date: str | None = Field(
        default=None,
        pattern=r"^\d{1,2}/\d{1,2}/\d{4}$",
        description="The expected close date, MM/DD/YYYY.",
    )
    status: Literal["Open", "Won", "Lost", "Abandoned"] | None = Field(
        default=None, description="Open, Won, Lost or Abandoned."
    )
    priority: Literal["None", "Low", "Medium", "High"] | None = Field(
        default=None, description="The priority."
    )
    win_probability: float | None = Field(
        default=None, ge=0, le=100, description="Percent; follows the stage when omitted."
    )
    assignee_id: int | None = Field(default=None, description=_ASSIGNEE)
    customer_source_id: int | None = Field(default=None, description="The customer source's id.")
    loss_reason_id: int | None = Field(default=None, description="Why it was lost.")
    details: str | None = Field(default=None, description="A description.")
    tags: list[str] | None = Field(default=None, description=_TAGS)
    custom_fields: list[CustomFieldValue] | None = Field(default=None, description=_CUSTOM)


class NewOpportunity(OpportunityFields):
    """An opportunity to create."""

    name: str = Field(min_length=1, description="The opportunity's name.")


class LeadFields(Input):
    """Fields of a lead; on update, null clears a field and omitted ones stay."""

    name: str | None = Field(default=None, description=_NAME)
    title: str | None = Field(default=None, description="The professional title.")
    company_name: str | None = Field(default=None, description="The lead's company, as text.")
    email: EmailInput | None = Field(default=None, description="The lead's email address.")
    phone_numbers: list[PhoneInput] | None = Field(default=None, description="Phone numbers.")
    address: Address | None = Field(default=None, description="The postal address.")
    monetary_value: float | None = Field(default=None, description="The expected value.")
    status: str | None = Field(
        default=None, description="The lead status by name (New, Unqualified, Contacted...)."
    )
    customer_source_id: int | None = Field(default=None, description="The customer source's id.")
    assignee_id: int | None = Field(default=None, description=_ASSIGNEE)
    details: str | None = Field(default=None, description="A description of the lead.")
    websites: list[WebsiteInput] | None = Field(default=None, description="Websites.")
    socials: list[Social] | None = Field(default=None, description="Social profiles.")
    tags: list[str] | None = Field(default=None, description=_TAGS)
    custom_fields: list[CustomFieldValue] | None = Field(default=None, description=_CUSTOM)


class NewLead(LeadFields):
    """A lead to create."""

    name: str = Field(min_length=1, description=_NAME)


class TaskFields(Input):
    """Fields of a task; on update, null clears a field and omitted ones stay."""

    name: str | None = Field(default=None, description="What is to be done.")
    related_resource: RecordRef | None = Field(
        default=None, description="The record the task is about: {id, type}."
    )
    due_date: int | None = Field(default=None, description="When it is due, as a Unix timestamp.")
    reminder_date: int | None = Field(default=None, description="A reminder, Unix timestamp.")
    status: Literal["Open", "Completed"] | None = Field(
        default=None, description="Open or Completed."
    )
    priority: Literal["None", "High"] | None = Field(default=None, description="None or High.")
    assignee_id: int | None = Field(default=None, description=_ASSIGNEE)
    details: str | None = Field(default=None, description="More about the task.")
    tags: list[str] | None = Field(default=None, description=_TAGS)
    custom_fields: list[CustomFieldValue] | None = Field(default=None, description=_CUSTOM)


class NewTask(TaskFields):
    """A task to create."""

    name: str = Field(min_length=1, description="What is to be done.")


class ActivityChanges(Input):
    """Fields of a logged activity that can change."""

    details: str | None = Field(default=None, description="The activity's text.")
    activity_date: int | None = Field(
        default=None, description="When it took place, as a Unix timestamp."
    )
    type: ActivityTypeRef | None = Field(
        default=None, description="Another user activity type (see {tool:list_activity_types})."
    )
