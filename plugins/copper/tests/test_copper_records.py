"""Every record type end to end: the connector over real HTTP against the fake Copper API."""

from __future__ import annotations

from plugbay_copper.fake import CopperFake
from plugbay_testing import result_text

from .conftest import ServeCopper


async def test_people_from_creation_to_deletion(
    serve_copper: ServeCopper, copper_fake: CopperFake
) -> None:
    async with serve_copper() as h:
        created = await h.call_ok(
            "create_person",
            person={
                "name": "Katherine Johnson",
                "title": "Mathematician",
                "emails": [{"email": "kj@nasa.example"}],
                "phone_numbers": [{"number": "757-555-0199", "category": "mobile"}],
                "tags": ["pioneer"],
            },
        )
        person_id = created["id"]
        assert created["first_name"] == "Katherine"
        assert created["emails"] == [{"email": "kj@nasa.example", "category": "work"}]
        assert await h.call_ok("get_person", person_id=person_id) == created

        # Partial update: title cleared by null, tags replaced, the rest untouched.
        updated = await h.call_ok(
            "update_person", person_id=person_id, changes={"title": None, "tags": ["nasa"]}
        )
        assert updated["title"] is None
        assert updated["tags"] == ["nasa"]
        assert updated["emails"] == created["emails"]
        sent = copper_fake.requests[-1]
        assert (sent.method, sent.path, sent.body) == (
            "PUT",
            f"/people/{person_id}",
            {"title": None, "tags": ["nasa"]},
        )

        found = await h.call_ok("search_people", emails=["KJ@nasa.example"])
        assert [item["id"] for item in found["items"]] == [person_id]
        assert found["total"] == 1

        deleted = await h.call_ok("delete_person", person_id=person_id)
        assert deleted == {"id": person_id, "is_deleted": True}
        missing = await h.call("get_person", person_id=person_id)
    assert missing.is_error
    assert result_text(missing).startswith(f"Copper has no person with id {person_id} (HTTP 404)")


async def test_search_pages_follow_copper_paging(
    serve_copper: ServeCopper, copper_fake: CopperFake
) -> None:
    for index in range(7):
        copper_fake.add_person(name=f"Pager {index}", tags=["paged"])
    async with serve_copper() as h:
        first = await h.call_ok(
            "search_people", tags=["paged"], page_size=3, sort_by="name", sort_direction="desc"
        )
        last = await h.call_ok("search_people", tags=["paged"], page_size=3, page_number=3)
    assert [item["name"] for item in first["items"]] == ["Pager 6", "Pager 5", "Pager 4"]
    assert (first["total"], first["page_number"], first["has_more"]) == (7, 1, True)
    assert [item["name"] for item in last["items"]] == ["Pager 6"]
    assert last["has_more"] is False
    searches = [r.body for r in copper_fake.requests if r.path == "/people/search"]
    assert searches[1] == {"tags": ["paged"], "sort_by": "first_name", "sort_direction": "asc"} | {
        "page_number": 3,
        "page_size": 3,
    }


async def test_the_page_size_setting_is_the_default(
    serve_copper: ServeCopper, copper_fake: CopperFake
) -> None:
    async with serve_copper(page_size=1) as h:
        page = await h.call_ok("search_people")
    assert len(page["items"]) == 1
    assert page["page_size"] == 1
    assert page["has_more"] is True


async def test_companies(serve_copper: ServeCopper) -> None:
    async with serve_copper() as h:
        created = await h.call_ok(
            "create_company",
            company={"name": "Initech", "email_domain": "initech.example", "tags": ["prospect"]},
        )
        changed = await h.call_ok(
            "update_company", company_id=created["id"], changes={"details": "TPS reports"}
        )
        found = await h.call_ok("search_companies", email_domains=["initech.example"])
        resource = await h.read(f"copper://copper/companies/{created['id']}")
        deleted = await h.call_ok("delete_company", company_id=created["id"])
    assert changed["details"] == "TPS reports"
    assert changed["email_domain"] == "initech.example"
    assert found["items"][0]["id"] == created["id"]
    assert '"name":"Initech"' in resource[0].text.replace(" ", "")
    assert deleted["is_deleted"] is True


async def test_opportunities_move_through_a_pipeline(serve_copper: ServeCopper) -> None:
    async with serve_copper() as h:
        pipelines = (await h.call_ok("list_pipelines"))["pipelines"]
        sales = pipelines[0]
        created = await h.call_ok(
            "create_opportunity",
            opportunity={"name": "Big deal", "monetary_value": 50000, "close_date": "06/30/2031"},
        )
        assert created["pipeline_id"] == sales["id"]
        assert created["pipeline_stage_id"] == sales["stages"][0]["id"]
        last_stage = sales["stages"][-1]
        moved = await h.call_ok(
            "update_opportunity",
            opportunity_id=created["id"],
            changes={"pipeline_stage_id": last_stage["id"]},
        )
        assert moved["win_probability"] == last_stage["win_probability"]
        won = await h.call_ok(
            "update_opportunity", opportunity_id=created["id"], changes={"status": "Won"}
        )
        assert won["status"] == "Won"
        open_ones = await h.call_ok("search_opportunities", statuses=["Open"])
        won_ones = await h.call_ok(
            "search_opportunities", statuses=["Won"], minimum_monetary_value=10000
        )
        await h.call_ok("delete_opportunity", opportunity_id=created["id"])
    assert created["id"] not in [item["id"] for item in open_ones["items"]]
    assert [item["id"] for item in won_ones["items"]] == [created["id"]]


async def test_an_invalid_stage_is_refused_with_copper_s_reason(serve_copper: ServeCopper) -> None:
    async with serve_copper() as h:
        result = await h.call(
            "create_opportunity", opportunity={"name": "Lost stage", "pipeline_stage_id": 1}
        )
    assert result.is_error
    assert result_text(result) == (
        "Copper did not accept the input (HTTP 422): Validation Error: pipeline_stage_id 1 is "
        "not a stage of pipeline 300001. Correct the values named and try again."
    )


async def test_a_lead_converts_into_a_person_company_and_opportunity(
    serve_copper: ServeCopper, copper_fake: CopperFake
) -> None:
    lead = copper_fake.add_lead(
        name="Margaret Hamilton",
        company_name="Apollo Software",
        email={"email": "margaret@apollo.example", "category": "work"},
    )
    async with serve_copper() as h:
        converted = await h.call_ok(
            "convert_lead",
            lead_id=lead["id"],
            opportunity={"name": "Guidance system", "monetary_value": 1969},
        )
        gone = await h.call("get_lead", lead_id=lead["id"])
    person, company, opportunity = (
        converted["person"],
        converted["company"],
        converted["opportunity"],
    )
    assert person["name"] == "Margaret Hamilton"
    assert person["emails"] == [{"email": "margaret@apollo.example", "category": "work"}]
    assert company["name"] == "Apollo Software"
    assert person["company_id"] == company["id"]
    assert opportunity["primary_contact_id"] == person["id"]
    assert opportunity["company_id"] == company["id"]
    assert gone.is_error
    convert = copper_fake.requests[-2]
    assert convert.path == f"/leads/{lead['id']}/convert"
    assert convert.body == {
        "details": {
            "person": {},
            "opportunity": {"name": "Guidance system", "monetary_value": 1969.0},
        }
    }


async def test_converting_without_a_company(
    serve_copper: ServeCopper, copper_fake: CopperFake
) -> None:
    lead = copper_fake.add_lead(name="Solo Lead", company_name="Nowhere Inc")
    async with serve_copper() as h:
        converted = await h.call_ok(
            "convert_lead", lead_id=lead["id"], company_name="", person_name="Solo Person"
        )
        both = await h.call("convert_lead", lead_id=1, company_id=1, company_name="x")
    assert converted["company"] is None
    assert converted["person"]["name"] == "Solo Person"
    assert result_text(both) == "give company_id or company_name, not both"


async def test_leads(serve_copper: ServeCopper) -> None:
    async with serve_copper() as h:
        created = await h.call_ok(
            "create_lead",
            lead={"name": "Lena Lead", "email": {"email": "lena@example.com"}, "status": "New"},
        )
        qualified = await h.call_ok(
            "update_lead", lead_id=created["id"], changes={"status": "Qualified"}
        )
        found = await h.call_ok("search_leads", emails=["lena@example.com"])
        await h.call_ok("delete_lead", lead_id=created["id"])
    assert qualified["status"] == "Qualified"
    assert qualified["status_id"] != created["status_id"]
    assert found["total"] == 1


async def test_tasks(serve_copper: ServeCopper, copper_fake: CopperFake) -> None:
    person = copper_fake.records("people")[0]
    async with serve_copper() as h:
        created = await h.call_ok(
            "create_task",
            task={
                "name": "Send the contract",
                "related_resource": {"id": person["id"], "type": "person"},
                "due_date": 2_000_000_000,
                "priority": "High",
            },
        )
        done = await h.call_ok(
            "update_task", task_id=created["id"], changes={"status": "Completed"}
        )
        open_tasks = await h.call_ok("search_tasks", statuses=["Open"])
        await h.call_ok("delete_task", task_id=created["id"])
    assert done["status"] == "Completed"
    assert done["completed_date"] is not None
    assert created["id"] not in [item["id"] for item in open_tasks["items"]]


async def test_activities_are_logged_changed_and_kept_as_stubs(
    serve_copper: ServeCopper, copper_fake: CopperFake
) -> None:
    person = copper_fake.records("people")[0]
    async with serve_copper() as h:
        types = (await h.call_ok("list_activity_types"))["activity_types"]
        call_type = next(item for item in types if item["name"] == "Phone Call")
        logged = await h.call_ok(
            "log_activity",
            parent_type="person",
            parent_id=person["id"],
            details="Called about the renewal",
            activity_type_id=call_type["id"],
        )
        changed = await h.call_ok(
            "update_activity", activity_id=logged["id"], changes={"details": "Left a voicemail"}
        )
        calls = await h.call_ok(
            "search_activities",
            parent_type="person",
            parent_id=person["id"],
            activity_types=[{"id": call_type["id"], "category": "user"}],
        )
        await h.call_ok("delete_activity", activity_id=logged["id"])
        stub = await h.call_ok("get_activity", activity_id=logged["id"])
        system = await h.call(
            "log_activity",
            parent_type="person",
            parent_id=person["id"],
            details="x",
            activity_type_id=1,
        )
        half = await h.call("search_activities", parent_type="person")
    assert changed["details"] == "Left a voicemail"
    assert [item["id"] for item in calls["items"]] == [logged["id"]]
    assert (stub["id"], stub["is_deleted"], stub["details"]) == (logged["id"], True, None)
    assert system.is_error
    assert "activity type 1 does not exist" in result_text(system)
    assert result_text(half) == "give parent_type and parent_id together, or neither"


async def test_lookups(serve_copper: ServeCopper, copper_fake: CopperFake) -> None:
    async with serve_copper() as h:
        account = await h.call_ok("get_account")
        users = await h.call_ok("list_users")
        one_user = await h.call_ok("list_users", limit=1)
        fields = (await h.call_ok("list_custom_fields"))["custom_fields"]
        pipelines = await h.read("copper://copper/pipelines")
    assert account["name"] == "Plugbay Test Co"
    assert users["users"][0]["email"] == copper_fake.user_email
    assert users["total"] == len(copper_fake.users)
    assert len(one_user["users"]) == 1
    dropdown = next(item for item in fields if item["data_type"] == "Dropdown")
    assert [option["name"] for option in dropdown["options"]] == ["Small", "Medium", "Large"]
    assert '"stages"' in pipelines[0].text


async def test_custom_fields_are_set_and_kept(serve_copper: ServeCopper) -> None:
    async with serve_copper() as h:
        created = await h.call_ok(
            "create_opportunity",
            opportunity={
                "name": "Custom deal",
                "custom_fields": [
                    {"custom_field_definition_id": 500_001, "value": "Conference"},
                    {"custom_field_definition_id": 500_002, "value": 510_003},
                ],
            },
        )
        changed = await h.call_ok(
            "update_opportunity",
            opportunity_id=created["id"],
            changes={"custom_fields": [{"custom_field_definition_id": 500_001, "value": "Web"}]},
        )
        wrong = await h.call(
            "create_person",
            person={"name": "X", "custom_fields": [{"custom_field_definition_id": 500_002}]},
        )
    values = {
        item["custom_field_definition_id"]: item["value"] for item in changed["custom_fields"]
    }
    assert values == {500_001: "Web", 500_002: 510_003}
    assert "custom field 'Deal Size' is not available on people" in result_text(wrong)


async def test_empty_changes_are_refused_before_calling_copper(
    serve_copper: ServeCopper, copper_fake: CopperFake
) -> None:
    person = copper_fake.records("people")[0]
    async with serve_copper() as h:
        result = await h.call("update_person", person_id=person["id"], changes={})
    assert result.is_error
    assert result_text(result).startswith("changes is empty")
    assert copper_fake.count("PUT") == 0


async def test_unknown_fields_are_refused_by_the_schema(serve_copper: ServeCopper) -> None:
    async with serve_copper() as h:
        result = await h.call("create_person", person={"name": "X", "nickname": "Y"})
    assert result.is_error
    assert "nickname" in result_text(result)
