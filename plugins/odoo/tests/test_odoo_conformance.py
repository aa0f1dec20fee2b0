"""The plugbay conformance suite against the Odoo connector and the fake Odoo, both protocols."""

from __future__ import annotations

from typing import Any

from plugbay_odoo import OdooConnector
from plugbay_odoo.fake import OdooFake
from plugbay_testing import ConnectorConformance

from .conftest import FULL_ACCESS


class TestOdooConformance(ConnectorConformance):
    connector = OdooConnector
    entry_point = "odoo"  # loaded as plugbay serve loads it
    transport = "xmlrpc"

    def config(self, odoo_fake: OdooFake) -> dict[str, Any]:
        return odoo_fake.settings(
            models=FULL_ACCESS,
            transport=self.transport,
            allow_methods=["sale.order.action_confirm"],
        )

    sample_calls = {
        "list_models": {"search": "sale"},
        "describe_model": {"model": "sale.order"},
        "search_read": {
            "model": "res.partner",
            "domain": [["is_company", "=", True]],
            "fields": ["name", "email", "create_date"],
            "limit": 5,
        },
        "read": {"model": "sale.order", "ids": [1, 2]},
        "count": {
            "model": "crm.lead",
            "domain": ["|", ["priority", "=", "3"], ["type", "=", "lead"]],
        },
        "name_search": {"model": "res.partner", "name": "azure"},
        "read_group": {
            "model": "sale.order",
            "groupby": ["partner_id", "date_order:month"],
            "aggregates": ["amount_total:sum"],
        },
        "create": {"model": "res.partner", "values": {"name": "Conformance Co"}},
        "write": {"model": "res.partner", "ids": [12], "values": {"phone": "+1 555 0100"}},
        "unlink": {"model": "sale.order", "ids": [4]},
        "call_method": {"model": "sale.order", "method": "action_confirm", "ids": [3]},
        "server_info": {},
    }
    resource_uris = ["", "res.partner", "sale.order/1"]


class TestOdooJsonRpcConformance(TestOdooConformance):
    transport = "jsonrpc"
