"""The models of the fake Odoo and their seed data, shaped like Odoo 18's.

``res.partner``, ``res.users``, ``product.product``, ``sale.order`` with its
``sale.order.line``, ``crm.lead`` (with ``crm.stage`` and ``crm.tag``) and
``account.move``, plus ``ir.model`` and ``ir.model.fields`` describing all of them.
Field names, types, labels, selection values and the business methods
(``sale.order.action_confirm``, ``account.move.action_post``,
``crm.lead.action_set_won``...) follow Odoo 18's, with their error messages; the data
is in the spirit of Odoo's demo database (Azure Interior, Deco Addict, Mitchell Admin).
"""

from plugbay_odoo.fake.models.business import business_models
from plugbay_odoo.fake.models.meta import describe_models, meta_models
from plugbay_odoo.fake.models.seed import SEED, load_seed

__all__ = ["SEED", "business_models", "describe_models", "load_seed", "meta_models"]
