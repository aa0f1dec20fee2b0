"""plugbay: one MCP server assembled from pip-installable connector plugins.

Plugin authors need only what this package exports::

    from plugbay import Connector, Settings, hookimpl, tool, resource, prompt
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("plugbay")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without metadata
    __version__ = "0.0.0"

from plugbay.auth import AuthBackend, AuthenticationFailed, HttpRequestInfo, Principal
from plugbay.components import prompt, resource, tool
from plugbay.config import setting_variable
from plugbay.connector import Connector, NoSettings, Settings
from plugbay.content import Audio, File, Image, Message
from plugbay.context import Context
from plugbay.dynamic import Components, DynamicPrompt, DynamicResource, DynamicTool
from plugbay.errors import AssemblyError, CallCancelled, CallRefused, ConfigError, ToolError
from plugbay.hookspecs import hookimpl
from plugbay.messages import IncomingMessage, MessageRefused
from plugbay.middleware import STAGES, TIMED_OUT, Call, CallNext, Middleware, Stage, Visibility
from plugbay.setting_paths import ConfigPath, resolve_setting_path

__all__ = [
    "STAGES",
    "TIMED_OUT",
    "AssemblyError",
    "Audio",
    "AuthBackend",
    "AuthenticationFailed",
    "Call",
    "CallCancelled",
    "CallNext",
    "CallRefused",
    "Components",
    "ConfigError",
    "ConfigPath",
    "Connector",
    "Context",
    "DynamicPrompt",
    "DynamicResource",
    "DynamicTool",
    "File",
    "HttpRequestInfo",
    "Image",
    "IncomingMessage",
    "Message",
    "MessageRefused",
    "Middleware",
    "NoSettings",
    "Principal",
    "Settings",
    "Stage",
    "ToolError",
    "Visibility",
    "__version__",
    "hookimpl",
    "prompt",
    "resolve_setting_path",
    "resource",
    "setting_variable",
    "tool",
]
