"""Copper's records as pydantic models, as the developer API returns them.

Field names and shapes follow developer.copper.com (People, Companies,
Opportunities, Leads, Tasks, Activities, Account and Users). Every model keeps
fields it does not name (``extra="allow"``): Copper adds fields over time, and a
tool should pass them on rather than drop them.
"""

from __future__ import annotations

from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

ParentType = Literal["lead", "person", "company", "opportunity", "project", "task"]


class CopperRecord(BaseModel):
    """Base of the records Copper returns: each has an id, and unknown fields are kept."""

    model_config = ConfigDict(extra="allow")

    id: int


class EmailAddress(BaseModel):
    """An email address and its category (work, personal, other)."""

    email: str
    category: str | None = None


class PhoneNumber(BaseModel):
    """A phone number and its category (mobile, work, home, other)."""

    number: str
    category: str | None = None


class Social(BaseModel):
    """A social profile URL and its category (linkedin, twitter, facebook, ..., other)."""

    url: str
    category: str | None = None


class Website(BaseModel):
    """A website URL and its category (work, personal, other)."""

    url: str
    category: str | None = None


class Address(BaseModel):
    """A postal address."""

    street: str | None = None
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None
    country: str | None = None


class CustomFieldValue(BaseModel):
    """The value of one custom field on a record (see {tool:list_custom_fields})."""

    custom_field_definition_id: int
    value: Any = None


class RecordRef(BaseModel):
    """A reference to another record: its id and type."""

    id: int
    type: ParentType


class ActivityTypeRef(BaseModel):
    """An activity type as records refer to it: its id and category."""

    id: int
    category: Literal["user", "system"]


class PersonName(CopperRecord):
    """Base of the records that name a person, in parts: people and leads."""

    name: str | None = None
    prefix: str | None = None
    first_name: str | None = None
    middle_name: str | None = None
    last_name: str | None = None
    suffix: str | None = None
    title: str | None = None


class Person(PersonName):
    """A person (contact) in Copper."""

    company_id: int | None = None
    company_name: str | None = None
    assignee_id: int | None = None
    contact_type_id: int | None = None
    details: str | None = None
    address: Address | None = None
    emails: list[EmailAddress] = Field(default_factory=list)
    phone_numbers: list[PhoneNumber] = Field(default_factory=list)
    socials: list[Social] = Field(default_factory=list)
    websites: list[Website] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    custom_fields: list[CustomFieldValue] = Field(default_factory=list)
    interaction_count: int | None = None
    date_created: int | None = Field(default=None, description="Unix timestamp.")
    date_modified: int | None = Field(default=None, description="Unix timestamp.")


class Company(CopperRecord):
    """A company (organization) in Copper."""

    name: str | None = None
    email_domain: str | None = None
    assignee_id: int | None = None
    contact_type_id: int | None = None
    details: str | None = None
    address: Address | None = None
    phone_numbers: list[PhoneNumber] = Field(default_factory=list)
    socials: list[Social] = Field(default_factory=list)
    websites: list[Website] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    custom_fields: list[CustomFieldValue] = Field(default_factory=list)
    interaction_count: int | None = None
    date_created: int | None = None
    date_modified: int | None = None


class Opportunity(CopperRecord):
    """A sales opportunity (deal) in a pipeline."""

    name: str | None = None
    assignee_id: int | None = None
    close_date: str | None = Field(default=None, description="The expected close date, MM/DD/YYYY.")
    company_id: int | None = None
    company_name: str | None = None
    customer_source_id: int | None = None
    details: str | None = None
    loss_reason_id: int | None = None
    monetary_value: float | None = None
    pipeline_id: int | None = None
    pipeline_stage_id: int | None = None
    primary_contact_id: int | None = None
    priority: str | None = None
    status: str | None = Field(default=None, description="Open, Won, Lost or Abandoned.")
    win_probability: float | None = None
    tags: list[str] = Field(default_factory=list)
    custom_fields: list[CustomFieldValue] = Field(default_factory=list)
    date_created: int | None = None
    date_modified: int | None = None


class Lead(PersonName):
    """A lead: a prospect not yet converted into a person (and company, opportunity)."""

    company_name: str | None = None
    assignee_id: int | None = None
    customer_source_id: int | None = None
    details: str | None = None
    email: EmailAddress | None = None
    address: Address | None = None
    monetary_value: float | None = None
    status: str | None = None
    status_id: int | None = None
    phone_numbers: list[PhoneNumber] = Field(default_factory=list)
    socials: list[Social] = Field(default_factory=list)
    websites: list[Website] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    custom_fields: list[CustomFieldValue] = Field(default_factory=list)
    date_created: int | None = None
    date_modified: int | None = None


class Task(CopperRecord):
    """A task, possibly related to another record."""

    name: str | None = None
    related_resource: RecordRef | None = None
    assignee_id: int | None = None
    due_date: int | None = Field(default=None, description="Unix timestamp.")
    reminder_date: int | None = None
    completed_date: int | None = None
    priority: str | None = Field(default=None, description="None or High.")
    status: str | None = Field(default=None, description="Open or Completed.")
    details: str | None = None
    tags: list[str] = Field(default_factory=list)
    custom_fields: list[CustomFieldValue] = Field(default_factory=list)
    date_created: int | None = None
    date_modified: int | None = None


class Activity(CopperRecord):
    """An activity logged on a record: a note, a call, a meeting, or a system change."""

    parent: RecordRef | None = None
    type: ActivityTypeRef | None = None
    user_id: int | None = None
    details: str | None = None
    activity_date: int | None = Field(default=None, description="Unix timestamp.")
    old_value: Any = None
    new_value: Any = None
    is_deleted: bool | None = Field(
        default=None, description="True for a deleted activity, which Copper keeps as a stub."
    )
    date_created: int | None = None
    date_modified: int | None = None


class Deleted(BaseModel):
    """What Copper answers to a delete."""

    id: int
    is_deleted: bool


RecordT = TypeVar("RecordT", bound=BaseModel)


class SearchPage(BaseModel, Generic[RecordT]):
    """One page of search results."""

    items: list[RecordT]
    total: int | None = Field(
        description="How many records match in all (Copper's X-PW-TOTAL header), if known."
    )
    page_number: int = Field(description="This page's number, starting with 1.")
    page_size: int = Field(description="The records per page asked for.")
    has_more: bool = Field(description="Whether a next page holds more matches.")


class LeadConversion(BaseModel):
    """The records a lead conversion created or linked."""

    person: Person
    company: Company | None = None
    opportunity: Opportunity | None = None


class Team(BaseModel):
    """A team (formerly "group") of users."""

    id: int
    name: str


class User(CopperRecord):
    """A user of the Copper account."""

    name: str | None = None
    email: str | None = None
    groups: list[Team] = Field(default_factory=list)


class Users(BaseModel):
    """The account's users."""

    users: list[User]
    total: int | None = None


class PipelineStage(CopperRecord):
    """A stage of a pipeline."""

    name: str
    pipeline_id: int | None = None
    win_probability: float | None = None


class Pipeline(CopperRecord):
    """An opportunity pipeline and its stages, in order."""

    name: str
    stages: list[PipelineStage] = Field(default_factory=list)


class Pipelines(BaseModel):
    """The account's pipelines."""

    pipelines: list[Pipeline]


class ActivityType(CopperRecord):
    """A kind of activity: "user" ones can be logged, "system" ones Copper records itself."""

    category: Literal["user", "system"]
    name: str
    is_disabled: bool | None = None
    count_as_interaction: bool | None = None


class ActivityTypes(BaseModel):
    """The account's activity types."""

    activity_types: list[ActivityType]


class CustomFieldOption(BaseModel):
    """One option of a dropdown or multi-select custom field."""

    id: int
    name: str
    rank: int | None = None


class CustomFieldDefinition(CopperRecord):
    """An account-specific field on some record types."""

    name: str
    canonical_name: str | None = None
    data_type: str = Field(
        description=(
            "String, Text, Dropdown, Date, Checkbox, Float, URL, Percentage, Currency, "
            "Connect or MultiSelect."
        )
    )
    available_on: list[str] = Field(default_factory=list)
    is_filterable: bool | None = None
    currency: str | None = None
    options: list[CustomFieldOption] = Field(default_factory=list)


class CustomFields(BaseModel):
    """The account's custom field definitions."""

    custom_fields: list[CustomFieldDefinition]


class Account(CopperRecord):
    """The Copper account the API key belongs to."""

    name: str
    primary_timezone: str | None = None
    settings: dict[str, Any] = Field(default_factory=dict)
