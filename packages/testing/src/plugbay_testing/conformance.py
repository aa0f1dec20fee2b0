"""The conformance suite every connector runs: subclass it, name the connector, done.

::

    from plugbay_testing import ConnectorConformance

    class TestNotesConformance(ConnectorConformance):
        connector = NotesConnector

        def config(self, tmp_path):  # or a plain dict attribute
            (tmp_path / "hello.md").write_text("hi")
            return {"directory": str(tmp_path)}

        sample_calls = {"read_note": {"name": "hello.md"}}

Each check is its own test with a message that says what to change. Checks that
talk to the server run once per protocol era (the modern 2026-07-28 dispatch and the
legacy 2025-11-25 handshake), through the real ``mcp`` client.

``test_plugin_is_installed`` loads the plugin through its ``plugbay`` entry point, as
``plugbay serve`` does, so the project must be installed (``pip install -e .``).
``test_assembles`` serves the connector once: if it fails, the tests that need a
server skip with its reason instead of each failing with the same message.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any, ClassVar, Literal

import anyio
import mcp_types as types
import pytest

from plugbay import Connector
from plugbay.assembly import START_TIMEOUT
from plugbay.config import INSTANCE_NAME
from plugbay.errors import AssemblyError
from plugbay_testing import call_checks, checks, sibling_checks
from plugbay_testing.harness import PROTOCOL_MODES, Harness, build_assembly, serve
from plugbay_testing.installed import check_installed_plugin
from plugbay_testing.setup import AssemblyGate, ConformanceSetup, resolve

__all__ = ["AssemblyGate", "ConformanceSetup", "ConnectorConformance"]

"""What ``plugbay.toml`` accepts as an instance name (a connector's name is its default)."""
_URI_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*$")


class ConnectorConformance:
    """Standard tests for one connector; subclass it in your plugin's tests.

    Set :attr:`connector`; the other attributes are optional. :attr:`config`,
    :attr:`environ`, :attr:`sample_calls`, :attr:`sample_prompts` and
    :attr:`resource_uris` may each be a plain value or a method whose parameters
    are pytest fixtures (``def config(self, tmp_path): ...``); within one test they
    all see the same fixture values.

    Attributes:
        connector: The connector class under test.
        config: Settings of the one instance under test (a dict, or TOML text of the
            ``[connectors.<instance>]`` table without ``plugin``).
        environ: Environment for ``${VAR}`` and ``PLUGBAY_*`` variables; empty by default.
        instance: The instance name; defaults to the connector's name.
        sample_calls: Arguments of calls that must succeed, by tool name (with or
            without the instance prefix). Their structured content is validated
            against the tool's output schema.
        sample_prompts: Arguments of prompts that must render, by prompt name.
            Prompts without required arguments are rendered anyway.
        resource_uris: URIs that must be readable: examples for the resource
            templates (absolute, or relative to ``<scheme>://<instance>/``).
        long_instance: A long instance name under which every name must still fit
            in 64 characters.
        entry_point: The name of the plugin's entry point in the ``plugbay`` group;
            by default the one whose module is in the connector's top-level package.
            ``False`` skips the installed-plugin check (a connector in a lone test
            file, before it has a project).
    """

    pytestmark: ClassVar[Any] = pytest.mark.anyio

    connector: ClassVar[type[Connector[Any]]]
    config: ClassVar[Any] = None
    environ: ClassVar[Any] = None
    instance: ClassVar[str | None] = None
    sample_calls: ClassVar[Any] = {}
    sample_prompts: ClassVar[Any] = {}
    resource_uris: ClassVar[Any] = ()
    long_instance: ClassVar[str] = "conformance_instance"
    entry_point: ClassVar[str | Literal[False] | None] = None

    # -- fixtures --------------------------------------------------------------------

    @pytest.fixture
    def anyio_backend(self) -> str:
        """The suite runs on asyncio, as the SDK and uvicorn do in production."""
        return "asyncio"

    @pytest.fixture(params=PROTOCOL_MODES, ids=["modern", "legacy"])
    def mcp_mode(self, request: pytest.FixtureRequest) -> str:
        """Every client-facing check runs in both protocol eras."""
        mode: str = request.param
        return mode

    @pytest.fixture(scope="class")
    @classmethod
    def conformance_gate(cls) -> AssemblyGate:
        """What ``test_assembles`` found, shared by the class's tests."""
        return AssemblyGate()

    @pytest.fixture
    def conformance_setup(
        self, request: pytest.FixtureRequest, conformance_gate: AssemblyGate
    ) -> ConformanceSetup:
        """The author's configuration and samples, with fixture methods called.

        Skips the test if ``test_assembles`` failed: its reason is the failure.
        """
        if request.function.__name__ != "test_assembles":
            conformance_gate.skip_if_failed()
        names = ("config", "environ", "sample_calls", "sample_prompts", "resource_uris")
        values = {name: resolve(self, name, request) for name in names}
        return ConformanceSetup(
            config=values["config"],
            environ=values["environ"],
            sample_calls=values["sample_calls"] or {},
            sample_prompts=values["sample_prompts"] or {},
            resource_uris=tuple(values["resource_uris"] or ()),
        )

    # -- helpers ---------------------------------------------------------------------

    @property
    def instance_name(self) -> str:
        """The name the instance under test runs as."""
        return self.instance or self.connector.name

    @asynccontextmanager
    async def serve(
        self, setup: ConformanceSetup, mode: str = "auto", *, instance: str | None = None
    ) -> AsyncIterator[Harness]:
        """Serve the connector under test with the author's settings (in ``mode``)."""
        problem = None
        try:
            async with serve(
                self.connector,
                settings=setup.settings(),
                instance=instance or self.instance_name,
                environ=setup.environ,
                mode=mode,
            ) as harness:
                yield harness
        except AssemblyError as error:
            problem = str(error)
        if problem is not None:  # failed outside the except block: no chained traceback
            pytest.fail(f"{self.connector.__name__} could not be served: {problem}", pytrace=False)

    def _sample_tools(
        self, harness: Harness, samples: Mapping[str, Mapping[str, Any]]
    ) -> tuple[dict[str, Mapping[str, Any]], list[str]]:
        """Sample calls by full tool name, and a problem for each name the server lacks."""
        found: dict[str, Mapping[str, Any]] = {}
        problems = []
        for name, arguments in samples.items():
            full = harness.tool_name(name)
            if full in harness.assembly.catalog.tools:
                found[full] = arguments
            else:
                known = sorted(harness.assembly.catalog.tools)
                problems.append(
                    f"sample_calls names tool {name!r}, which the server does not list: {known}"
                )
        return found, problems

    def _full_uri(self, uri: str, instance: str) -> str:
        if "://" in uri:
            return uri
        scheme = self.connector.uri_scheme or self.connector.name
        return f"{scheme}://{instance}/{uri.lstrip('/')}"

    # -- the plugin, as installed, and the assembly ----------------------------------

    def test_plugin_is_installed(self) -> None:
        """The plugin loads from its entry point as the host loads it and registers the class.

        A misspelled hook, a hook function without ``@hookimpl`` or a plugin that
        registers another class fail here, where every other test would pass.
        """
        if self.entry_point is False:
            pytest.skip("entry_point = False: the plugin is not checked as installed")
        check_installed_plugin(self.connector, self.entry_point)

    async def test_assembles(
        self, conformance_setup: ConformanceSetup, conformance_gate: AssemblyGate
    ) -> None:
        """The connector assembles and starts with the author's settings and lists its tools.

        If it does not, the tests that serve it are skipped with this test's reason.
        """
        try:
            async with serve(
                self.connector,
                settings=conformance_setup.settings(),
                instance=self.instance_name,
                environ=conformance_setup.environ,
            ) as harness:
                await harness.list_tools()
        except AssemblyError as error:
            problem = str(error)
            conformance_gate.failure = " ".join(line.strip() for line in problem.splitlines())
        else:
            return
        pytest.fail(f"{self.connector.__name__} could not be served: {problem}", pytrace=False)

    # -- the connector class ---------------------------------------------------------

    def test_connector_is_named_and_described(self) -> None:
        """The connector has a valid name (its default instance name) and a docstring."""
        problems = []
        name = getattr(self.connector, "name", None)
        if not isinstance(name, str) or not INSTANCE_NAME.match(name):
            problems.append(
                f"{self.connector.__name__}.name is {name!r}: give it a name that starts with a "
                "letter and uses only letters, digits, '_' and '-' (at most 40 characters)"
            )
        if not self.connector.describe():
            problems.append(
                f"{self.connector.__name__} has no docstring: its first paragraph describes the "
                "connector in `plugbay plugins` and the docs"
            )
        scheme = self.connector.uri_scheme
        if scheme is not None and not _URI_SCHEME.match(scheme):
            problems.append(f"{self.connector.__name__}.uri_scheme {scheme!r} is not a URI scheme")
        checks.raise_problems(f"connector {self.connector.__name__} has problems", problems)

    def test_settings_are_described_and_secrets_hidden(self) -> None:
        """Every setting has a description; passwords, tokens and keys are ``SecretStr``."""
        checks.check_settings_model(self.connector.settings_model)

    async def test_starts_and_stops_cleanly_twice(
        self, conformance_setup: ConformanceSetup
    ) -> None:
        """Two full cycles of assemble, start, health check and stop, without errors."""
        for cycle in ("first", "second"):
            assembly = build_assembly(
                self.connector,
                settings=conformance_setup.settings(),
                instance=self.instance_name,
                environ=conformance_setup.environ,
            )
            if assembly.problems:
                pytest.fail("could not assemble:\n" + "\n".join(assembly.problems), pytrace=False)
            await assembly.start()
            state = assembly.instances[self.instance_name]
            if state.status != "ready" or state.obj is None:
                problems = "; ".join(state.problems)
                pytest.fail(
                    f"{cycle} start: instance {state.name!r} is {state.status}: {problems}",
                    pytrace=False,
                )
            try:
                with anyio.fail_after(START_TIMEOUT):
                    await state.obj.check_health()
            except Exception as error:
                await assembly.stop()
                pytest.fail(
                    f"{cycle} cycle: check_health() raised {type(error).__name__}: {error}",
                    pytrace=False,
                )
            try:
                with anyio.fail_after(START_TIMEOUT):
                    await state.obj.stop()
            except Exception as error:
                pytest.fail(
                    f"{cycle} cycle: stop() raised {type(error).__name__}: {error}", pytrace=False
                )
            state.status = "stopped"

    # -- what clients see ------------------------------------------------------------

    async def test_components_have_descriptions(
        self, conformance_setup: ConformanceSetup, mcp_mode: str
    ) -> None:
        """Every tool, prompt, resource and resource template has a description."""
        async with self.serve(conformance_setup, mcp_mode) as harness:
            problems = [
                *checks.description_problems(await harness.list_tools(), "tool"),
                *checks.description_problems(await harness.list_prompts(), "prompt"),
                *checks.description_problems(await harness.list_resources(), "resource"),
                *checks.description_problems(
                    await harness.list_resource_templates(), "resource template"
                ),
            ]
        checks.raise_problems("some components have no description", problems)

    async def test_arguments_have_descriptions(
        self, conformance_setup: ConformanceSetup, mcp_mode: str
    ) -> None:
        """Every tool and prompt argument has a description."""
        async with self.serve(conformance_setup, mcp_mode) as harness:
            tools, prompts = await harness.list_tools(), await harness.list_prompts()
        checks.raise_problems(
            "some arguments have no description",
            [
                *checks.argument_description_problems(tools),
                *checks.prompt_argument_problems(prompts),
            ],
        )

    async def test_input_schemas_are_valid_objects(
        self, conformance_setup: ConformanceSetup, mcp_mode: str
    ) -> None:
        """Input schemas are valid JSON Schema (Draft 2020-12) of type object."""
        async with self.serve(conformance_setup, mcp_mode) as harness:
            checks.check_input_schemas(await harness.list_tools())

    async def test_output_schemas_are_valid_objects(
        self, conformance_setup: ConformanceSetup, mcp_mode: str
    ) -> None:
        """Output schemas, where declared, are valid JSON Schema of type object."""
        async with self.serve(conformance_setup, mcp_mode) as harness:
            checks.check_output_schemas(await harness.list_tools())

    async def test_names_are_client_safe(
        self, conformance_setup: ConformanceSetup, mcp_mode: str
    ) -> None:
        """Tool and prompt names match ``^[A-Za-z0-9_-]{1,64}$``."""
        async with self.serve(conformance_setup, mcp_mode) as harness:
            tools, prompts = await harness.list_tools(), await harness.list_prompts()
        checks.raise_problems(
            "some names would be rejected by clients",
            [
                *checks.name_problems((tool.name for tool in tools), "tool"),
                *checks.name_problems((prompt.name for prompt in prompts), "prompt"),
            ],
        )

    async def test_names_fit_under_a_long_instance_name(
        self, conformance_setup: ConformanceSetup
    ) -> None:
        """Names stay within 64 characters when the instance has a long (20-character) name."""
        async with self.serve(conformance_setup, instance=self.long_instance) as harness:
            tools, prompts = await harness.list_tools(), await harness.list_prompts()
        checks.raise_problems(
            f"some names are too long under the instance name {self.long_instance!r}",
            [
                *checks.name_problems((tool.name for tool in tools), "tool"),
                *checks.name_problems((prompt.name for prompt in prompts), "prompt"),
            ],
        )

    async def test_tool_annotations_are_declared(
        self, conformance_setup: ConformanceSetup, mcp_mode: str
    ) -> None:
        """Tools declare read-only, and non-read-only tools declare destructive."""
        async with self.serve(conformance_setup, mcp_mode) as harness:
            checks.check_tool_annotations(await harness.list_tools())

    # -- how it behaves --------------------------------------------------------------

    async def _check_bad_arguments(
        self, setup: ConformanceSetup, mode: str, kind: call_checks.CaseKind
    ) -> None:
        async with self.serve(setup, mode) as harness:
            valid, _unknown = self._sample_tools(harness, setup.sample_calls)  # reported elsewhere
            await call_checks.check_rejects_bad_arguments(
                harness.client, await harness.list_tools(), kinds=(kind,), valid_arguments=valid
            )

    async def test_missing_arguments_are_reported(
        self, conformance_setup: ConformanceSetup, mcp_mode: str
    ) -> None:
        """Calling a tool with ``{}`` names the first missing argument in an isError result."""
        await self._check_bad_arguments(conformance_setup, mcp_mode, "missing")

    async def test_wrongly_typed_arguments_are_reported(
        self, conformance_setup: ConformanceSetup, mcp_mode: str
    ) -> None:
        """A value of the wrong type is refused with an isError result naming the argument."""
        await self._check_bad_arguments(conformance_setup, mcp_mode, "wrong_type")

    async def test_unknown_arguments_are_reported(
        self, conformance_setup: ConformanceSetup, mcp_mode: str
    ) -> None:
        """An argument the tool does not declare is refused with an isError result naming it."""
        await self._check_bad_arguments(conformance_setup, mcp_mode, "unknown")

    async def test_sample_calls_succeed(
        self, conformance_setup: ConformanceSetup, mcp_mode: str
    ) -> None:
        """Each sample call succeeds and its structured content matches the output schema."""
        if not conformance_setup.sample_calls:
            pytest.skip("no sample_calls given: add some to check that tools work end to end")
        async with self.serve(conformance_setup, mcp_mode) as harness:
            tools = {tool.name: tool for tool in await harness.list_tools()}
            samples, problems = self._sample_tools(harness, conformance_setup.sample_calls)
            for full, arguments in samples.items():
                try:
                    await call_checks.check_tool_call(harness.client, tools[full], arguments)
                except AssertionError as error:
                    problems.append(str(error))
        checks.raise_problems("some sample calls failed", problems)

    async def test_resources_are_readable(
        self, conformance_setup: ConformanceSetup, mcp_mode: str
    ) -> None:
        """Every listed resource reads without error and returns contents."""
        async with self.serve(conformance_setup, mcp_mode) as harness:
            resources = await harness.list_resources()
            if not resources:
                pytest.skip("the connector lists no fixed resources")
            problems = []
            for resource in resources:
                try:
                    await call_checks.check_resource_readable(harness.client, str(resource.uri))
                except AssertionError as error:
                    problems.append(str(error))
        checks.raise_problems("some resources cannot be read", problems)

    async def test_resource_templates_are_readable(
        self, conformance_setup: ConformanceSetup, mcp_mode: str
    ) -> None:
        """The sample ``resource_uris`` are served by a listed resource or template and read."""
        async with self.serve(conformance_setup, mcp_mode) as harness:
            templates: list[types.ResourceTemplate] = await harness.list_resource_templates()
            uris = [
                self._full_uri(uri, self.instance_name) for uri in conformance_setup.resource_uris
            ]
            problems = []
            covered: set[str] = set()
            for uri in uris:
                found = harness.assembly.catalog.find_resource(uri)
                if found is None:
                    problems.append(
                        f"resource_uris has {uri!r}, which no listed resource or template serves"
                    )
                    continue
                definition = found[0].definition
                if isinstance(definition, types.ResourceTemplate):
                    covered.add(definition.uri_template)
                try:
                    await call_checks.check_resource_readable(harness.client, uri)
                except AssertionError as error:
                    problems.append(str(error))
        checks.raise_problems("some resource URIs cannot be read", problems)
        untried = [
            template.uri_template for template in templates if template.uri_template not in covered
        ]
        if untried:
            pytest.skip(
                f"no resource_uris given for the templates {untried}: add an example URI for each"
            )

    async def test_prompts_render(self, conformance_setup: ConformanceSetup, mcp_mode: str) -> None:
        """Prompts render: those in ``sample_prompts`` and those without required arguments."""
        async with self.serve(conformance_setup, mcp_mode) as harness:
            prompts = await harness.list_prompts()
            if not prompts:
                pytest.skip("the connector has no prompts")
            samples = {
                name
                if name in harness.assembly.catalog.prompts
                else f"{self.instance_name}_{name}": args
                for name, args in conformance_setup.sample_prompts.items()
            }
            problems = [
                f"sample_prompts names prompt {name!r}, which the server does not list"
                for name in samples
                if name not in harness.assembly.catalog.prompts
            ]
            untried = []
            for prompt in prompts:
                required = any(argument.required for argument in prompt.arguments or [])
                if prompt.name not in samples and required:
                    untried.append(prompt.name)
                    continue
                try:
                    await call_checks.check_prompt_renders(
                        harness.client, prompt.name, samples.get(prompt.name)
                    )
                except AssertionError as error:
                    problems.append(str(error))
        checks.raise_problems("some prompts do not render", problems)
        if untried:
            pytest.skip(f"no sample_prompts given for {untried}: add arguments for each")

    async def test_sibling_tools_are_named_as_listed(
        self, conformance_setup: ConformanceSetup
    ) -> None:
        """Descriptions and bad-argument errors name sibling tools as listed (`<instance>_x`)."""
        async with self.serve(conformance_setup) as harness:
            valid, _unknown = self._sample_tools(harness, conformance_setup.sample_calls)
            problems = await sibling_checks.listed_sibling_problems(
                harness, self.connector, self.instance_name, valid
            )
        checks.raise_problems("some descriptions or errors name unlisted tools", problems)
