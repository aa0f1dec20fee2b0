"""The fake Copper API behaves as Copper documents it: over real HTTP, with a plain httpx client."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from plugbay_copper.fake import CopperFake
from plugbay_testing.fakes import LocalServer


@pytest.fixture
def api(copper_fake: CopperFake) -> Iterator[httpx.Client]:
    """An HTTP client with the three X-PW headers Copper requires."""
    headers = {
        "X-PW-AccessToken": copper_fake.api_key,
        "X-PW-Application": "developer_api",
        "X-PW-UserEmail": copper_fake.user_email,
    }
    with httpx.Client(base_url=copper_fake.api_url + "/", headers=headers, timeout=10) as client:
        yield client


def error(response: httpx.Response) -> str:
    body = response.json()
    assert body["success"] is False
    assert body["status"] == response.status_code
    message: str = body["message"]
    return message


# -- requests ---------------------------------------------------------------------------


@pytest.mark.parametrize("header", ["X-PW-AccessToken", "X-PW-Application", "X-PW-UserEmail"])
def test_each_header_is_required(api: httpx.Client, header: str) -> None:
    response = api.get("account", headers={header: "wrong"})
    assert response.status_code == 401
    assert error(response) == "Invalid credentials"


def test_the_email_is_matched_without_case(api: httpx.Client, copper_fake: CopperFake) -> None:
    response = api.get("account", headers={"X-PW-UserEmail": copper_fake.user_email.upper()})
    assert response.status_code == 200
    assert response.json()["name"] == "Plugbay Test Co"


def test_unknown_paths_answer_404_in_copper_s_shape(api: httpx.Client) -> None:
    response = api.get("widgets")
    assert response.status_code == 404
    assert error(response) == "Resource not found"


def test_a_body_that_is_not_json_is_refused(api: httpx.Client) -> None:
    response = api.post("people", content=b"{name", headers={"Content-Type": "application/json"})
    assert response.status_code == 400


def test_the_rate_limit_is_a_rolling_window(api: httpx.Client, copper_fake: CopperFake) -> None:
    copper_fake.set_rate_limit(3, 60.0)
    statuses = [api.get("account").status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
    assert error(api.get("account")) == "Rate limit exceeded"
    assert "Retry-After" not in api.get("account").headers
    copper_fake.set_rate_limit(1, 60.0, retry_after=True)
    api.get("account")
    limited = api.get("account")
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["Retry-After"]) <= 60


def test_the_default_limit_is_copper_s(copper_fake: CopperFake) -> None:
    assert (copper_fake.rate_limit, copper_fake.rate_window) == (180, 60.0)


def test_injected_faults_match_method_and_path(api: httpx.Client, copper_fake: CopperFake) -> None:
    copper_fake.inject(503, times=2, method="POST", path="/people", retry_after=7)
    assert api.get("account").status_code == 200
    first = api.post("people", json={"name": "A"})
    assert first.status_code == 503
    assert first.headers["Retry-After"] == "7"
    assert api.post("people", json={"name": "A"}).status_code == 503
    assert api.post("people", json={"name": "A"}).status_code == 200
    assert copper_fake.count("POST", "/people") == 3
    assert [r.status for r in copper_fake.requests] == [200, 503, 503, 200]
    assert copper_fake.requests[1].body == {"name": "A"}


def test_reset_restores_the_seed_data(api: httpx.Client, copper_fake: CopperFake) -> None:
    api.post("people", json={"name": "Temporary"})
    copper_fake.set_rate_limit(1, 1.0)
    copper_fake.reset()
    assert [p["name"] for p in copper_fake.records("people")] == ["Ada Lovelace", "Grace Hopper"]
    assert copper_fake.requests == []
    assert copper_fake.rate_limit == 180


# -- searches ---------------------------------------------------------------------------


def test_search_answers_a_bare_array_with_the_total_in_a_header(
    api: httpx.Client, copper_fake: CopperFake
) -> None:
    for index in range(25):
        copper_fake.add_person(name=f"Person {index:02d}")
    response = api.post("people/search", json={})
    assert isinstance(response.json(), list)
    assert len(response.json()) == 20  # Copper's default page size
    assert response.headers["X-PW-TOTAL"] == "27"


def test_pages_start_at_one(api: httpx.Client, copper_fake: CopperFake) -> None:
    for index in range(5):
        copper_fake.add_person(name=f"Zed {index}")
    body = {"name": "zed", "sort_by": "name", "page_size": 2}
    pages = [
        api.post("people/search", json={**body, "page_number": n}).json() for n in (1, 2, 3, 4)
    ]
    assert [[p["name"] for p in page] for page in pages] == [
        ["Zed 0", "Zed 1"],
        ["Zed 2", "Zed 3"],
        ["Zed 4"],
        [],
    ]
    zero = api.post("people/search", json={**body, "page_number": 0})
    assert zero.status_code == 422
    assert "page_number starts with 1" in error(zero)


def test_page_size_is_capped_at_200(api: httpx.Client, copper_fake: CopperFake) -> None:
    for index in range(205):
        copper_fake.add_person(name=f"Bulk {index}")
    response = api.post("people/search", json={"page_size": 500})
    assert len(response.json()) == 200
    assert response.headers["X-PW-TOTAL"] == "207"


def test_sorting_defaults_and_directions(api: httpx.Client) -> None:
    by_first_name = [p["first_name"] for p in api.post("people/search", json={}).json()]
    assert by_first_name == ["Ada", "Grace"]
    descending = api.post("people/search", json={"sort_by": "title", "sort_direction": "desc"})
    assert [p["title"] for p in descending.json()] == ["Rear Admiral", "Chief Analyst"]
    assert api.post("people/search", json={"sort_by": "shoe_size"}).status_code == 422
    assert api.post("people/search", json={"sort_direction": "up"}).status_code == 422


@pytest.mark.parametrize(
    ("criteria", "names"),
    [
        ({"name": "LOVE"}, ["Ada Lovelace"]),
        ({"emails": ["GRACE@navy.example"]}, ["Grace Hopper"]),
        ({"phone_number": "5550101"}, ["Ada Lovelace"]),
        ({"tags": ["vip", "nope"]}, ["Ada Lovelace"]),
        ({"city": "springfield"}, ["Ada Lovelace"]),
        ({"company_ids": [-2]}, ["Grace Hopper"]),
        ({"assignee_ids": [200_002]}, ["Grace Hopper"]),
        ({"name": "a", "tags": ["vip"], "assignee_ids": [200_002]}, []),
    ],
)
def test_people_filters_are_and_ed(
    api: httpx.Client, criteria: dict[str, Any], names: list[str]
) -> None:
    found = api.post("people/search", json=criteria).json()
    assert [person["name"] for person in found] == names


def test_unknown_search_parameters_are_refused(api: httpx.Client) -> None:
    response = api.post("people/search", json={"nickname": "x"})
    assert response.status_code == 422
    assert "unknown search parameter 'nickname'" in error(response)


def test_opportunity_statuses_are_searched_by_number(api: httpx.Client) -> None:
    assert len(api.post("opportunities/search", json={"status_ids": [0]}).json()) == 1
    assert api.post("opportunities/search", json={"status_ids": [1]}).json() == []


def test_activities_are_searched_by_parent_and_type(
    api: httpx.Client, copper_fake: CopperFake
) -> None:
    ada = copper_fake.records("people")[0]
    parent = {"id": ada["id"], "type": "person"}
    notes = api.post(
        "activities/search",
        json={"parent": parent, "activity_types": [{"id": 0, "category": "user"}]},
    )
    assert len(notes.json()) == 1
    calls = api.post(
        "activities/search",
        json={"parent": parent, "activity_types": [{"id": 400_001, "category": "user"}]},
    )
    assert calls.json() == []


# -- records ----------------------------------------------------------------------------


def test_records_have_copper_s_shape(api: httpx.Client, copper_fake: CopperFake) -> None:
    ada = copper_fake.records("people")[0]
    person = api.get(f"people/{ada['id']}").json()
    assert person["company_name"] == "Acme Corp"
    assert person["emails"] == [{"email": "ada@acme.example", "category": "work"}]
    assert isinstance(person["date_created"], int)
    assert {"prefix", "suffix", "socials", "websites", "custom_fields"} <= set(person)


def test_updates_are_partial_and_null_clears(api: httpx.Client, copper_fake: CopperFake) -> None:
    ada = copper_fake.records("people")[0]
    response = api.put(
        f"people/{ada['id']}", json={"title": None, "phone_numbers": None, "details": "Poet"}
    )
    assert response.status_code == 200
    person = response.json()
    assert person["title"] is None
    assert person["phone_numbers"] == []
    assert person["details"] == "Poet"
    assert person["emails"] == ada["emails"]
    assert person["date_modified"] >= ada["date_modified"]
    unchanged = api.put(f"people/{ada['id']}", json={}).json()
    assert unchanged["details"] == "Poet"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "name is required"),
        ({"name": ""}, "name cannot be blank"),
        ({"name": "X", "emails": [{"email": "x@example.com", "category": "home"}]}, "category"),
        ({"name": "X", "emails": "x@example.com"}, "emails must be a list"),
        ({"name": "X", "assignee_id": 1}, "assignee_id 1 is not a user"),
        ({"name": "X", "company_id": 42}, "company_id 42 does not exist"),
        ({"name": "X", "tags": "vip"}, "tags must be a list of strings"),
        ({"name": "X", "emails": [{"email": "ada@acme.example"}]}, "already exists"),
        ({"name": "X", "custom_fields": [{"custom_field_definition_id": 9}]}, "does not exist"),
    ],
)
def test_invalid_people_are_refused_with_422(
    api: httpx.Client, body: dict[str, Any], message: str
) -> None:
    response = api.post("people", json=body)
    assert response.status_code == 422
    assert message in error(response)


def test_a_failed_update_changes_nothing(api: httpx.Client, copper_fake: CopperFake) -> None:
    ada = copper_fake.records("people")[0]
    response = api.put(f"people/{ada['id']}", json={"title": "New", "assignee_id": 5})
    assert response.status_code == 422
    assert copper_fake.record("people", ada["id"]) == ada


def test_opportunity_stages_belong_to_their_pipeline(api: httpx.Client) -> None:
    created = api.post("opportunities", json={"name": "Deal", "pipeline_id": 300_002}).json()
    assert created["pipeline_stage_id"] == 310_006
    assert created["win_probability"] == 10
    wrong = api.post("opportunities", json={"name": "Deal", "pipeline_stage_id": 310_006})
    assert wrong.status_code == 422
    bad_date = api.post("opportunities", json={"name": "Deal", "close_date": "2031-01-01"})
    assert "MM/DD/YYYY" in error(bad_date)


def test_deleting_answers_a_stub_and_activities_stay_readable(
    api: httpx.Client, copper_fake: CopperFake
) -> None:
    grace = copper_fake.records("people")[1]
    assert api.delete(f"people/{grace['id']}").json() == {"id": grace["id"], "is_deleted": True}
    assert api.get(f"people/{grace['id']}").status_code == 404
    assert api.delete(f"people/{grace['id']}").status_code == 404
    note = copper_fake.records("activities")[0]
    api.delete(f"activities/{note['id']}")
    assert api.get(f"activities/{note['id']}").json() == {"id": note["id"], "is_deleted": True}
    changed = api.put(f"activities/{note['id']}", json={"details": "again"})
    assert changed.status_code == 422
    assert api.post("activities/search", json={}).json() == []


def test_only_user_activities_can_be_created(api: httpx.Client, copper_fake: CopperFake) -> None:
    ada = copper_fake.records("people")[0]
    body = {"parent": {"id": ada["id"], "type": "person"}, "details": "x"}
    system = api.post("activities", json={**body, "type": {"id": 1, "category": "system"}})
    assert system.status_code == 422
    created = api.post("activities", json={**body, "type": {"id": 0, "category": "user"}}).json()
    assert created["user_id"] == 200_001
    orphan = api.post(
        "activities",
        json={**body, "type": {"id": 0, "category": "user"}, "parent": {"id": 1, "type": "lead"}},
    )
    assert "no lead with id 1" in error(orphan)


def test_tasks_record_their_completion(api: httpx.Client, copper_fake: CopperFake) -> None:
    task = copper_fake.records("tasks")[0]
    done = api.put(f"tasks/{task['id']}", json={"status": "Completed"}).json()
    assert isinstance(done["completed_date"], int)
    reopened = api.put(f"tasks/{task['id']}", json={"status": "Open"}).json()
    assert reopened["completed_date"] is None


# -- leads --------------------------------------------------------------------------------


def test_converting_a_lead(api: httpx.Client, copper_fake: CopperFake) -> None:
    lead = copper_fake.records("leads")[0]
    response = api.post(
        f"leads/{lead['id']}/convert",
        json={"details": {"person": {"name": "Linus T."}, "opportunity": {"name": "Kernel"}}},
    )
    converted = response.json()
    assert converted["person"]["name"] == "Linus T."
    assert converted["person"]["leads_converted_from"][0]["lead_id"] == lead["id"]
    assert converted["company"]["name"] == "Penguin Labs"
    assert converted["opportunity"]["pipeline_stage_id"] == 310_001
    assert copper_fake.record("leads", lead["id"]) is None
    assert api.post(f"leads/{lead['id']}/convert", json={}).status_code == 404


def test_converting_links_an_existing_company_by_name(
    api: httpx.Client, copper_fake: CopperFake
) -> None:
    lead = copper_fake.add_lead(name="Wile E.", company_name="ACME CORP")
    converted = api.post(f"leads/{lead['id']}/convert", json={"details": {}}).json()
    assert converted["company"]["name"] == "Acme Corp"
    assert len(copper_fake.records("companies")) == 1


def test_a_failed_conversion_changes_nothing(api: httpx.Client, copper_fake: CopperFake) -> None:
    lead = copper_fake.add_lead(name="Half Way", company_name="New Co")
    before = {kind: copper_fake.records(kind) for kind in ("people", "companies", "leads")}
    response = api.post(
        f"leads/{lead['id']}/convert",
        json={"details": {"opportunity": {"name": "Deal", "pipeline_stage_id": 1}}},
    )
    assert response.status_code == 422
    assert {kind: copper_fake.records(kind) for kind in before} == before


# -- lookups ------------------------------------------------------------------------------


def test_users(api: httpx.Client, copper_fake: CopperFake) -> None:
    me = api.get("users/me").json()
    assert me["email"] == copper_fake.user_email
    assert api.get(f"users/{me['id']}").json() == me
    assert api.get("users/1").status_code == 404
    page = api.post("users/search", json={"page_size": 2, "page_number": 2})
    assert [user["name"] for user in page.json()] == ["Rita Rep"]
    assert page.headers["X-PW-TOTAL"] == "3"


def test_pipelines_and_stages(api: httpx.Client) -> None:
    pipelines = api.get("pipelines").json()
    stages = api.get("pipeline_stages").json()
    assert [p["name"] for p in pipelines] == ["Sales", "Partnerships"]
    assert len(stages) == sum(len(p["stages"]) for p in pipelines)
    assert stages[0] == {"id": 310_001, "name": "Qualified", "pipeline_id": 300_001} | {
        "win_probability": 5
    }


def test_activity_types_are_grouped_by_category(api: httpx.Client) -> None:
    types = api.get("activity_types").json()
    assert set(types) == {"user", "system"}
    assert types["user"][0]["name"] == "Note"
    assert types["user"][0]["id"] == 0
    assert [t["id"] for t in types["system"]] == [1, 3]


def test_custom_field_definitions(api: httpx.Client) -> None:
    definitions = api.get("custom_field_definitions").json()
    dropdown = api.get(f"custom_field_definitions/{definitions[1]['id']}").json()
    assert dropdown["data_type"] == "Dropdown"
    assert [option["rank"] for option in dropdown["options"]] == [0, 1, 2]
    assert api.get("custom_field_definitions/1").status_code == 404


def test_lookups_for_ids(api: httpx.Client) -> None:
    assert api.get("contact_types").json()[0]["name"] == "Potential Customer"
    assert [s["name"] for s in api.get("lead_statuses").json()][:2] == ["New", "Unqualified"]
    assert api.get("customer_sources").status_code == 200


def test_a_fake_can_be_served_without_the_fixtures() -> None:
    fake = CopperFake(api_key="another-key-123456", user_email="boss@example.com")
    with pytest.raises(RuntimeError, match="not served"):
        _ = fake.api_url
    with LocalServer(fake.app) as server:
        fake.base_url = server.url
        response = httpx.get(
            f"{fake.api_url}/users/me",
            headers={
                "X-PW-AccessToken": "another-key-123456",
                "X-PW-Application": "developer_api",
                "X-PW-UserEmail": "boss@example.com",
            },
        )
    assert response.json()["email"] == "boss@example.com"
    assert fake.settings(page_size=5)["page_size"] == 5
