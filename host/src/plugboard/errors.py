"""Exceptions that plugins raise and that the host reports."""

from __future__ import annotations


class ToolError(Exception):
    """A failure the caller should see and can act on.

    Raise it from a tool, resource or prompt (or from middleware) with a message
    written for a person: what went wrong and what to do about it. The host turns it
    into a tool result with ``isError`` set (or a JSON-RPC error for resources and
    prompts). Any other exception is logged and reported to the caller without its
    traceback.
    """


class AssemblyError(Exception):
    """The installed plugins cannot be assembled into one server.

    Raised for problems that are the author's, such as two tools with one name or a
    name that clients would reject. The message names the plugin and the name.
    """


class ConfigError(Exception):
    """The configuration has problems; ``problems`` lists every one with its location."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))
