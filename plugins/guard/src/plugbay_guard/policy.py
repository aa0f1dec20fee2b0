"""Authorization: which principals may use which tools, resources and prompts.

The ``[policy]`` table holds rules. A rule picks callers (by principal name, scope or
role) and components (by connector instance and by name pattern, for tools, resources
and prompts alone or together) and allows or denies them. A deny rule that matches
wins; otherwise a matching allow rule allows; otherwise ``default`` decides.

The policy is one object registered twice: as an ``admit`` middleware that refuses
calls, and (its :meth:`Policy.visible`) as the list filter of the
``register_visibility`` hook, so a principal never sees what it may not call.
Decisions are remembered per principal (name, scopes, roles), so a call costs a
dictionary lookup once a principal has been seen.

Resources are decided on their canonical URI, which the serving connector gives
(:meth:`plugbay.Connector.canonical_uri`), never on the URI as sent, and so are the
paths a tool declares (``@tool(paths=...)``): such a tool needs the tool and every
resource it names. A name that cannot be put in canonical form is refused.

The local principal (stdio, ``plugbay call``, HTTP without authentication) is local
trust: the policy does not restrict it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, IPvAnyNetwork, field_validator, model_validator

from plugbay import Call, CallRefused, Principal, ToolError
from plugbay.auth import LOCAL_PRINCIPAL
from plugbay.errors import log_unexpected
from plugbay.middleware import CALL_KINDS, CallKind
from plugbay.uris import NamedResource, UriError, canonical_uri, comparable, deciding
from plugbay_guard.patterns import NamePattern, UriPattern, check_uri_pattern

Effect = Literal["allow", "deny"]


class PolicyRule(BaseModel):
    """One ``[[policy.rules]]`` entry.

    Who: a rule applies to a principal that matches every one of ``principals``,
    ``scopes`` and ``roles`` that is given (a name pattern; any one of the scopes; any
    one of the roles). A rule with none of them applies to everyone.

    What: ``connectors`` (instance-name patterns) narrows the rule to those instances'
    components. ``tools``, ``resources`` and ``prompts`` (name patterns; URIs for
    resources) narrow it to those kinds; a rule that names none of the three covers
    every kind.

    Attributes:
        effect: ``allow`` (the default) or ``deny``.
        principals: Principal-name patterns (``"alice"``, ``"ci-*"``).
        scopes: The principal needs one of these scopes.
        roles: The principal needs one of these roles.
        connectors: Connector-instance patterns.
        tools: Tool-name patterns (``"crm_search_*"``).
        resources: Resource URI patterns (``"file://docs/*"``), matched against
            canonical URIs; one that ends in ``/`` (or ``/*``) covers the directory
            itself and everything beneath it. In lists, templates are matched by
            their template text.
        prompts: Prompt-name patterns.
        description: Why the rule exists, for the people who read the file.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    effect: Effect = "allow"
    principals: list[str] | None = None
    scopes: list[str] | None = None
    roles: list[str] | None = None
    connectors: list[str] | None = None
    tools: list[str] | None = None
    resources: list[str] | None = None
    prompts: list[str] | None = None
    description: str | None = None

    @field_validator("resources")
    @classmethod
    def _canonical_patterns(cls, patterns: list[str] | None) -> list[str] | None:
        return None if patterns is None else [check_uri_pattern(p) for p in patterns]


class PolicyConfig(BaseModel):
    """The ``[policy]`` table.

    Attributes:
        default: What applies when no rule matches: ``deny`` when there are rules,
            else ``allow``.
        ip_allow: Client networks (``"10.0.0.0/8"``, ``"2001:db8::/32"``,
            ``"192.0.2.7"``) allowed to reach the MCP endpoints over HTTP; empty
            allows every address.
        rules: The ``[[policy.rules]]``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    default: Effect | None = None
    ip_allow: list[IPvAnyNetwork] = Field(default_factory=list)
    rules: list[PolicyRule] = Field(default_factory=list)

    @model_validator(mode="after")
    def _fill_default(self) -> PolicyConfig:
        if self.default is None:
            object.__setattr__(self, "default", "deny" if self.rules else "allow")
        return self

    @property
    def enabled(self) -> bool:
        """Whether the policy restricts anything (rules, or a ``deny`` default)."""
        return bool(self.rules) or self.default == "deny"


def _pattern(values: list[str] | None) -> NamePattern | None:
    return NamePattern(values) if values is not None else None


@dataclass(frozen=True, slots=True)
class _Rule:
    allow: bool
    principals: NamePattern | None
    scopes: frozenset[str] | None
    roles: frozenset[str] | None
    connectors: NamePattern | None
    kinds: dict[CallKind, NamePattern | None]
    """The kinds the rule covers, each with its name patterns (``None``: any name)."""

    @classmethod
    def compile(cls, rule: PolicyRule) -> _Rule:
        named: dict[CallKind, list[str] | None] = {
            "tool": rule.tools,
            "resource": rule.resources,
            "prompt": rule.prompts,
        }
        if all(patterns is None for patterns in named.values()):
            kinds: dict[CallKind, NamePattern | None] = dict.fromkeys(CALL_KINDS)
        else:
            kinds = {
                kind: UriPattern(patterns, loose=rule.effect == "deny")
                if kind == "resource"
                else NamePattern(patterns)
                for kind, patterns in named.items()
                if patterns is not None
            }
        return cls(
            allow=rule.effect == "allow",
            principals=_pattern(rule.principals),
            scopes=frozenset(rule.scopes) if rule.scopes is not None else None,
            roles=frozenset(rule.roles) if rule.roles is not None else None,
            connectors=_pattern(rule.connectors),
            kinds=kinds,
        )

    def applies_to(self, principal: Principal) -> bool:
        if self.principals is not None and not self.principals.matches(principal.name):
            return False
        if self.scopes is not None and not self.scopes & principal.scopes:
            return False
        return self.roles is None or bool(self.roles & principal.roles)

    def covers_instance(self, kind: CallKind, instance: str | None) -> bool:
        if kind not in self.kinds:
            return False
        return self.connectors is None or (
            instance is not None and self.connectors.matches(instance)
        )

    def covers(self, kind: CallKind, name: str, instance: str | None) -> bool:
        if not self.covers_instance(kind, instance):
            return False
        names = self.kinds[kind]
        return names is None or names.matches(name)


@dataclass(slots=True)
class _PrincipalView:
    """The rules that apply to one principal, and the decisions made for it so far."""

    rules: tuple[_Rule, ...]
    decisions: dict[tuple[CallKind, str, str | None], bool] = field(default_factory=dict)


class Policy:
    """The compiled ``[policy]``: a middleware that refuses, and a filter for lists.

    Args:
        config: The ``[policy]`` table.
        cache_size: Principals (and decisions per principal) remembered; past that
            the memory is cleared and rebuilt as calls come.
    """

    def __init__(self, config: PolicyConfig, *, cache_size: int = 10_000) -> None:
        self._rules = tuple(_Rule.compile(rule) for rule in config.rules)
        self._default = config.default == "allow"
        self._cache_size = cache_size
        self._views: dict[tuple[str, frozenset[str], frozenset[str]], _PrincipalView] = {}

    def allows(self, principal: Principal, kind: CallKind, name: str, instance: str | None) -> bool:
        """Whether ``principal`` may use the component.

        ``name`` is a tool or prompt name, or a resource's canonical URI (or, in lists,
        a resource template's text); resource names are compared with scheme and host
        lower-cased and in Unicode NFC (:func:`plugbay.uris.comparable`).
        """
        if principal is LOCAL_PRINCIPAL:
            return True
        if kind == "resource":
            name = comparable(name)
        view = self._view(principal)
        decision_key = (kind, name, instance)
        decision = view.decisions.get(decision_key)
        if decision is None:
            decision = self._decide(view.rules, kind, name, instance)
            if len(view.decisions) >= self._cache_size:
                view.decisions.clear()
            view.decisions[decision_key] = decision
        return decision

    def allows_tree(self, principal: Principal, uri: str, instance: str | None) -> bool:
        """Whether ``principal`` may read the resource ``uri`` and everything beneath it.

        For a tool that walks a directory. Decided from the patterns, conservatively:
        refused when a deny rule could match anything beneath, or (under a ``deny``
        default) when no allow rule covers everything beneath.
        """
        if principal is LOCAL_PRINCIPAL:
            return True
        if not self.allows(principal, "resource", uri, instance):
            return False
        prefix = comparable(uri).rstrip("/") + "/"
        rules = [r for r in self._view(principal).rules if r.covers_instance("resource", instance)]
        for rule in rules:
            names = rule.kinds["resource"]
            if not rule.allow and (names is None or names.may_match_beneath(prefix)):
                return False
        if self._default:
            return True
        return any(
            rule.allow and (names is None or names.matches_all_beneath(prefix))
            for rule in rules
            for names in [rule.kinds["resource"]]
        )

    def _view(self, principal: Principal) -> _PrincipalView:
        key = (principal.name, principal.scopes, principal.roles)
        view = self._views.get(key)
        if view is None:
            if len(self._views) >= self._cache_size:
                self._views.clear()
            view = _PrincipalView(tuple(r for r in self._rules if r.applies_to(principal)))
            self._views[key] = view
        return view

    def _decide(
        self, rules: tuple[_Rule, ...], kind: CallKind, name: str, instance: str | None
    ) -> bool:
        allowed = False
        for rule in rules:
            if rule.covers(kind, name, instance):
                if not rule.allow:
                    return False
                allowed = True
        return allowed or self._default

    def visible(
        self, principal: Principal, kind: CallKind, name: str, instance: str | None
    ) -> bool:
        """The list filter: a principal sees exactly what it may call.

        A listed resource URI is decided in its generic canonical form, as a read of
        it would be (a template's text, which has none, as it is written).
        """
        if kind == "resource":
            name = _listed(name)
        return self.allows(principal, kind, name, instance)

    async def __call__(self, call: Call, call_next: Callable[[Call], Awaitable[Any]]) -> Any:
        """Refuse the call unless the policy allows it and every resource it opens.

        A resource read is decided on its canonical URI; a tool that declares paths
        needs the tool and each resource its paths name, decided as reads, and for a
        directory it walks (``trees``) everything beneath it as well.
        """
        principal = call.principal
        if principal is LOCAL_PRINCIPAL:
            return await call_next(call)
        if call.kind != "resource" and not self.allows(
            principal, call.kind, call.name, call.instance
        ):
            raise _refused(f"{call.name} is not available to {principal.name}")
        if call.kind != "resource" and call.resources is None:
            return await call_next(call)
        resources = await self._resources(call)
        for named in resources:
            decide = self.allows_tree if named.tree else self._allows_resource
            if not decide(principal, named.uri, call.instance):
                what = call.name if call.kind == "resource" else f"{call.name} on {named.sent!r}"
                raise _refused(f"{what} is not available to {principal.name}")
        # The connector may check that what it opens is what was decided on.
        with deciding(named.uri for named in resources):
            return await call_next(call)

    def _allows_resource(self, principal: Principal, uri: str, instance: str | None) -> bool:
        return self.allows(principal, "resource", uri, instance)

    async def _resources(self, call: Call) -> Sequence[NamedResource]:
        """The canonical resources of a call; what cannot be canonicalised is refused."""
        try:
            if call.resources is None:  # a resource Call built without the catalog's wrapper
                return [NamedResource(sent=call.name, uri=canonical_uri(call.name))]
            return await call.resources()
        except UriError as error:
            raise CallRefused(
                f"{call.name} is not available to {call.principal.name}: {error}",
                outcome="denied",
            ) from None
        except ToolError:
            raise  # the connector's own refusal (outside the roots, invalid arguments)
        except Exception as error:
            reference = log_unexpected(f"canonical form for {call.kind} {call.name}", error)
            raise CallRefused(
                f"{call.name} is not available to {call.principal.name}: what it names could "
                f"not be checked against the server's policy (reference {reference})",
                outcome="denied",
            ) from None


@lru_cache(maxsize=4096)
def _listed(uri: str) -> str:
    """A listed URI in generic canonical form; the catalog's URIs, so the cache is bounded."""
    try:
        return canonical_uri(uri)
    except UriError:
        return uri


def _refused(what: str) -> CallRefused:
    return CallRefused(
        f"{what}: the server's policy does not allow it; ask the server's operator for access",
        outcome="denied",
    )
