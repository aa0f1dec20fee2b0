"""The records engine of the fake Odoo: fields, models, domains and the ORM methods.

It reproduces what Odoo's ORM shows through the external API, from the ORM reference
(https://www.odoo.com/documentation/18.0/developer/reference/backend/orm.html):

* Domains: lists of ``[field, operator, value]`` terms in prefix notation with ``&``
  (the default between terms), ``|`` and ``!``; field paths through relations
  (``partner_id.name``; on to-many fields "any of them"); the operators ``=``,
  ``!=``, ``<``, ``<=``, ``>``, ``>=``, ``=?``, ``in``, ``not in``, ``like``,
  ``not like``, ``ilike``, ``not ilike``, ``=like``, ``=ilike``, ``child_of``,
  ``parent_of``, ``any`` and ``not any``; ``like``/``ilike`` wrap the value in ``%``;
  negative operators also match empty values; records with ``active = False`` are left
  out unless the domain names ``active``. Bad domains fail as Odoo fails: a
  ``ValueError`` naming the term.
* Values as the ORM reads them: ``False`` for empty, many2one as ``[id, display_name]``,
  to-many as id lists, dates as ``"YYYY-MM-DD"`` and datetimes as
  ``"YYYY-MM-DD HH:MM:SS"`` strings (UTC).
* The public methods: ``search``, ``search_read``, ``search_count``, ``read``,
  ``create`` (one dict or a list), ``write``, ``unlink``, ``name_search``,
  ``read_group`` (``field:aggregate`` specs, ``field:granularity`` group-bys,
  ``lazy``, ``__count``/``<field>_count``, ``__domain``, ``__range``), ``fields_get``
  and ``check_access_rights``; the x2many commands ``(0, 0, vals)`` ... ``(6, 0, ids)``;
  required fields, selection values and ``ondelete`` rules enforced on writes.
* The exceptions of ``odoo.exceptions`` (``UserError``, ``ValidationError``,
  ``MissingError``, ``AccessError``, ``AccessDenied``) with Odoo's messages, and Python
  errors (``ValueError``, ``TypeError``, ``AttributeError``) for programming mistakes,
  which the server turns into faults exactly as Odoo does.
"""

from plugbay_odoo.fake.orm.domains import Node, parse_domain
from plugbay_odoo.fake.orm.engine import Orm
from plugbay_odoo.fake.orm.exceptions import (
    AccessDenied,
    AccessError,
    MissingError,
    OdooError,
    UserError,
    ValidationError,
)
from plugbay_odoo.fake.orm.schema import Field, Model, ModelMethod, Row, now_string

__all__ = [
    "AccessDenied",
    "AccessError",
    "Field",
    "MissingError",
    "Model",
    "ModelMethod",
    "Node",
    "OdooError",
    "Orm",
    "Row",
    "UserError",
    "ValidationError",
    "now_string",
    "parse_domain",
]
