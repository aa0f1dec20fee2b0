"""What the Copper API accepts: its prefix, defaults, limits, categories and record kinds."""

from __future__ import annotations

import re

API_PREFIX = "/developer_api/v1"
DEFAULT_API_KEY = "copper-fake-api-key-0123456789"
DEFAULT_USER_EMAIL = "owner@example.com"
DEFAULT_RATE_LIMIT = 180
DEFAULT_RATE_WINDOW = 60.0
MAX_PAGE_SIZE = 200
DEFAULT_PAGE_SIZE = 20

EMAIL_CATEGORIES = ("work", "personal", "other")
PHONE_CATEGORIES = ("mobile", "work", "home", "other")
SOCIAL_CATEGORIES = (
    "linkedin",
    "twitter",
    "googleplus",
    "facebook",
    "youtube",
    "quora",
    "foursquare",
    "klout",
    "gravatar",
    "other",
)
WEBSITE_CATEGORIES = ("work", "personal", "other")
OPPORTUNITY_STATUSES = ("Open", "Won", "Lost", "Abandoned")
OPPORTUNITY_PRIORITIES = ("None", "Low", "Medium", "High")
TASK_STATUSES = ("Open", "Completed")
TASK_PRIORITIES = ("None", "High")
PARENT_TYPES = ("lead", "person", "company", "opportunity", "project", "task")

KINDS = ("people", "companies", "opportunities", "leads", "tasks", "activities")
SINGULAR = {
    "people": "person",
    "companies": "company",
    "opportunities": "opportunity",
    "leads": "lead",
    "tasks": "task",
    "activities": "activity",
}
ID_BASE = {
    "people": 1_000_000,
    "companies": 2_000_000,
    "opportunities": 3_000_000,
    "leads": 4_000_000,
    "tasks": 5_000_000,
    "activities": 6_000_000,
}
DEFAULT_SORT = {
    "people": "first_name",
    "companies": "date_modified",
    "opportunities": "name",
    "leads": "name",
    "tasks": "due_date",
}
CLOSE_DATE = re.compile(r"^\d{1,2}/\d{1,2}/\d{4}$")
