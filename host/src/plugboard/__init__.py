"""plugboard: one MCP server assembled from pip-installable connector plugins.

Plugin authors need only what this package exports::

    from plugboard import Connector, Settings, hookimpl, tool, resource, prompt
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("plugboard")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without metadata
    __version__ = "0.0.0"

from plugboard.auth import AuthBackend, AuthenticationFailed, HttpRequestInfo, Principal
from plugboard.components import prompt, resource, tool
from plugboard.config import setting_variable
from plugboard.connector import Connector, NoSettings, Settings
from plugboard.content import Audio, File, Image, Message
from plugboard.context import Context
from plugboard.dynamic import Components, DynamicPrompt, DynamicResource, DynamicTool
from plugboard.errors import AssemblyError, ConfigError, ToolError
from plugboard.hookspecs import hookimpl
from plugboard.middleware import Call, CallNext, Middleware

__all__ = [
    "AssemblyError",
    "Audio",
    "AuthBackend",
    "AuthenticationFailed",
    "Call",
    "CallNext",
    "Components",
    "ConfigError",
    "Connector",
    "Context",
    "DynamicPrompt",
    "DynamicResource",
    "DynamicTool",
    "File",
    "HttpRequestInfo",
    "Image",
    "Message",
    "Middleware",
    "NoSettings",
    "Principal",
    "Settings",
    "ToolError",
    "__version__",
    "hookimpl",
    "prompt",
    "resource",
    "setting_variable",
    "tool",
]
