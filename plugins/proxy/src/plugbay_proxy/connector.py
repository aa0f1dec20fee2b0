"""The proxy connector: an upstream MCP server's tools, resources and prompts under one instance.

The upstream's components are dynamic (:mod:`plugbay.dynamic`): known once the
connection is up, and published again whenever the upstream says its lists changed
or comes back after an outage. Tool calls are forwarded with the client's arguments
as they are (the upstream validates them against the input schema it published, which
plugbay passes on unchanged), their progress and log messages come back, and a
cancelled call is cancelled upstream too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

import mcp_types as types
from mcp.shared.exceptions import MCPError

from plugbay import (
    Components,
    Connector,
    Context,
    DynamicPrompt,
    DynamicResource,
    DynamicTool,
    ToolError,
)
from plugbay.uris import UriError
from plugbay_proxy.names import Filter, UriMap, exposed_names
from plugbay_proxy.settings import ProxySettings
from plugbay_proxy.upstream import Listing, Upstream, UpstreamUnavailable

ResourceContents = types.TextResourceContents | types.BlobResourceContents

HOST_TELLS_SUBSCRIPTIONS = hasattr(Connector, "resource_subscribed")
"""Whether this plugbay tells connectors when clients subscribe to their resources.

Without it the proxy cannot know when to subscribe upstream, so it does not offer
subscriptions at all rather than accept ones that would never hear anything."""


class ProxyConnector(Connector[ProxySettings]):
    """Mount an upstream MCP server (a stdio command or a streamable HTTP URL) as an instance.

    Everything the upstream offers appears under the instance's namespace: tools and
    prompts as ``<instance>_<name>`` (shortened with a stable hash when they would pass
    64 characters), resources and templates under ``<scheme>://<instance>/``. Filters,
    renames and description overrides come from the settings. The connection is
    supervised: an upstream that dies is reconnected with backoff, and calls during
    the outage fail with an error that names it.
    """

    name = "proxy"
    uri_scheme = "mcp-proxy"
    announces_updates = HOST_TELLS_SUBSCRIPTIONS

    def __init__(self, instance: str, settings: ProxySettings) -> None:
        super().__init__(instance, settings)
        self.upstream = Upstream(instance, settings, self._listing_changed)
        self.upstream.on_resource_updated(self._upstream_resource_updated)
        self.uris = UriMap(instance)
        self.filter = Filter(tuple(settings.allow), tuple(settings.deny))
        self._components = Components()

    # -- lifecycle -------------------------------------------------------------------

    async def start(self) -> None:
        """Start supervising the connection; waits up to ``start_wait`` for the first one.

        An upstream that is down does not fail the start: the instance serves, its
        state says the upstream is down, and its components appear when it connects.
        """
        await self.upstream.start()

    async def stop(self) -> None:
        """Close the connection (ending a stdio upstream's process)."""
        await self.upstream.stop()

    async def check_health(self) -> None:
        """Raise while the upstream is not connected; the message says why and what next."""
        problem = self.upstream.unavailable()
        if problem:
            raise RuntimeError(problem)

    def describe_state(self) -> Mapping[str, Any]:
        """The upstream connection's state: ready, connecting, or down with a reason."""
        return self.upstream.state()

    async def canonical_paths(self, tool: str, paths: Sequence[str]) -> list[str]:
        """The URIs a [policy] decides on for an upstream tool's path arguments.

        A URI is taken as the upstream names it; an absolute path is placed under
        ``<path_scheme>://<instance>``. A relative path is refused: where the upstream
        starts from is not known here, so no rule could be checked against it.
        """
        uris = []
        for path in paths:
            if "://" in path:
                uri = self.uris.expose(path)
            elif path.startswith("/"):
                uri = f"{self.settings.path_scheme}://{self.instance}{path}"
            else:
                raise UriError(
                    f"{path!r} is relative; give {tool} an absolute path (the server's policy "
                    "decides on absolute paths only)"
                )
            uris.append(await self.canonical_uri(uri))
        return uris

    # -- resource subscriptions ------------------------------------------------------

    async def resource_subscribed(self, uri: str) -> None:
        """The first client subscribed to ``uri``: subscribe upstream (see subscriptions.py)."""
        upstream_uri = self.uris.upstream(uri)
        if upstream_uri is not None:
            await self.upstream.subscribe(upstream_uri)

    async def resource_unsubscribed(self, uri: str) -> None:
        """The last client left ``uri``: stop the upstream subscription."""
        upstream_uri = self.uris.upstream(uri)
        if upstream_uri is not None:
            await self.upstream.unsubscribe(upstream_uri)

    async def _upstream_resource_updated(self, upstream_uri: str) -> None:
        await self.resource_updated(self.uris.expose(upstream_uri))

    async def components(self) -> Components:
        """The upstream's components as of its last listing, filtered and renamed."""
        return self._components

    # -- building the components ---------------------------------------------------

    async def _listing_changed(self, listing: Listing) -> None:
        self._components = self.build_components(listing)
        await self.components_changed()

    def build_components(self, listing: Listing) -> Components:
        """Turn an upstream listing into the instance's components."""
        tools = [
            tool
            for tool in listing.tools
            if self.filter.admits(tool.name) and not _needs_tasks(tool)
        ]
        prompts = [prompt for prompt in listing.prompts if self.filter.admits(prompt.name)]
        tool_names = exposed_names(
            (tool.name for tool in tools), instance=self.instance, rename=self.settings.rename
        )
        prompt_names = exposed_names(
            (prompt.name for prompt in prompts),
            instance=self.instance,
            rename=self.settings.rename,
        )
        descriptions = self.settings.descriptions
        return Components(
            tools=[
                DynamicTool(
                    definition=tool.model_copy(
                        update={
                            "name": tool_names[tool.name],
                            "description": descriptions.get(tool.name, tool.description),
                            # plugbay does not relay task-augmented calls.
                            "execution": None,
                        }
                    ),
                    call=partial(self._call_tool, tool.name),
                    paths=tuple(self.settings.paths.get(tool.name, ())),
                    trees=tuple(self.settings.trees.get(tool.name, ())),
                )
                for tool in tools
            ],
            resources=[
                *(
                    DynamicResource(
                        definition=resource.model_copy(
                            update={"uri": self.uris.expose(resource.uri)}
                        ),
                        read=partial(self._read_fixed, resource.uri),
                    )
                    for resource in listing.resources
                    if self.filter.admits(resource.uri, resource.name)
                ),
                *(
                    DynamicResource(
                        definition=template.model_copy(
                            update={"uri_template": self.uris.expose(template.uri_template)}
                        ),
                        read=self._read_templated,
                        complete=partial(self._complete_template, template.uri_template)
                        if listing.completions
                        else None,
                    )
                    for template in listing.templates
                    if self.filter.admits(template.uri_template, template.name)
                ),
            ],
            prompts=[
                DynamicPrompt(
                    definition=prompt.model_copy(
                        update={
                            "name": prompt_names[prompt.name],
                            "description": descriptions.get(prompt.name, prompt.description),
                        }
                    ),
                    render=partial(self._get_prompt, prompt.name),
                    complete=partial(self._complete_prompt, prompt.name)
                    if listing.completions
                    else None,
                )
                for prompt in prompts
            ],
        )

    # -- forwarding ------------------------------------------------------------------

    async def _call_tool(
        self, upstream_name: str, arguments: Mapping[str, Any], context: Context
    ) -> types.CallToolResult:
        try:
            result = await self.upstream.call_tool(upstream_name, arguments, context)
        except MCPError as error:
            raise ToolError(
                f"upstream {self.instance!r} refused the call to {upstream_name!r}: "
                f"{error.error.message}"
            ) from None
        self._expose_content(result.content)
        return result

    async def _read_fixed(
        self, upstream_uri: str, uri: str, context: Context
    ) -> Sequence[ResourceContents]:
        return await self._read(upstream_uri, context)

    async def _read_templated(self, uri: str, context: Context) -> Sequence[ResourceContents]:
        upstream_uri = self.uris.upstream(uri)
        if upstream_uri is None:  # the host only routes this instance's URIs here
            raise MCPError(types.INVALID_PARAMS, f"{uri!r} is not a URI of {self.instance!r}")
        return await self._read(upstream_uri, context)

    async def _read(self, upstream_uri: str, context: Context) -> Sequence[ResourceContents]:
        try:
            result = await self.upstream.read_resource(upstream_uri, context)
        except UpstreamUnavailable as error:
            raise MCPError(types.INTERNAL_ERROR, str(error)) from None
        return [
            contents.model_copy(update={"uri": self.uris.expose(contents.uri)})
            for contents in result.contents
        ]

    async def _get_prompt(
        self, upstream_name: str, arguments: Mapping[str, str], context: Context
    ) -> types.GetPromptResult:
        try:
            result = await self.upstream.get_prompt(upstream_name, arguments, context)
        except UpstreamUnavailable as error:
            raise MCPError(types.INTERNAL_ERROR, str(error)) from None
        self._expose_content([message.content for message in result.messages])
        return result

    async def _complete_prompt(
        self, upstream_name: str, argument: str, value: str, other: Mapping[str, str]
    ) -> Sequence[str]:
        reference = types.PromptReference(name=upstream_name)
        return await self.upstream.complete(reference, argument, value, other)

    async def _complete_template(
        self, upstream_template: str, argument: str, value: str, other: Mapping[str, str]
    ) -> Sequence[str]:
        reference = types.ResourceTemplateReference(uri=upstream_template)
        return await self.upstream.complete(reference, argument, value, other)

    def _expose_content(self, blocks: Sequence[Any]) -> None:
        """Point resource links and embedded resources at the URIs clients can read here."""
        for block in blocks:
            if isinstance(block, types.ResourceLink):
                block.uri = self.uris.expose(block.uri)
            elif isinstance(block, types.EmbeddedResource):
                block.resource.uri = self.uris.expose(block.resource.uri)


def _needs_tasks(tool: types.Tool) -> bool:
    """A tool that can only run as a task, which plugbay does not relay."""
    execution = tool.execution
    return execution is not None and getattr(execution, "task_support", None) == "required"
