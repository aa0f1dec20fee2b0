"""plugbay-testing: serve plugins in-process in tests, and a conformance suite for connectors.

::

    from plugbay_testing import ConnectorConformance, serve

Names are imported on first use: this package is also a pytest plugin, loaded by
every pytest run, so importing it must cost nothing until a test needs it.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from plugbay_testing.call_checks import (
        ArgumentCase,
        bad_argument_problems,
        check_prompt_renders,
        check_rejects_bad_arguments,
        check_resource_readable,
        check_tool_call,
        invalid_argument_cases,
    )
    from plugbay_testing.checks import (
        check_argument_descriptions,
        check_descriptions,
        check_input_schemas,
        check_names,
        check_output_schemas,
        check_prompt_definitions,
        check_resource_definitions,
        check_settings_model,
        check_structured_content,
        check_tool_annotations,
        check_tool_definitions,
        raise_problems,
    )
    from plugbay_testing.conformance import ConformanceSetup, ConnectorConformance
    from plugbay_testing.harness import (
        PROTOCOL_MODES,
        ConnectorPlugin,
        Harness,
        build_assembly,
        build_config,
        result_text,
        serve,
    )
    from plugbay_testing.installed import check_installed_plugin
    from plugbay_testing.wire import RawSession, answer_of, events_of

_EXPORTS = {
    "ArgumentCase": "call_checks",
    "bad_argument_problems": "call_checks",
    "check_prompt_renders": "call_checks",
    "check_rejects_bad_arguments": "call_checks",
    "check_resource_readable": "call_checks",
    "check_tool_call": "call_checks",
    "invalid_argument_cases": "call_checks",
    "check_argument_descriptions": "checks",
    "check_descriptions": "checks",
    "check_input_schemas": "checks",
    "check_names": "checks",
    "check_output_schemas": "checks",
    "check_prompt_definitions": "checks",
    "check_resource_definitions": "checks",
    "check_settings_model": "checks",
    "check_structured_content": "checks",
    "check_tool_annotations": "checks",
    "check_tool_definitions": "checks",
    "raise_problems": "checks",
    "ConformanceSetup": "conformance",
    "ConnectorConformance": "conformance",
    "PROTOCOL_MODES": "harness",
    "ConnectorPlugin": "harness",
    "Harness": "harness",
    "build_assembly": "harness",
    "build_config": "harness",
    "result_text": "harness",
    "serve": "harness",
    "check_installed_plugin": "installed",
    "RawSession": "wire",
    "answer_of": "wire",
    "events_of": "wire",
}

__all__ = [
    "PROTOCOL_MODES",
    "ArgumentCase",
    "ConformanceSetup",
    "ConnectorConformance",
    "ConnectorPlugin",
    "Harness",
    "RawSession",
    "answer_of",
    "bad_argument_problems",
    "build_assembly",
    "build_config",
    "check_argument_descriptions",
    "check_descriptions",
    "check_input_schemas",
    "check_installed_plugin",
    "check_names",
    "check_output_schemas",
    "check_prompt_definitions",
    "check_prompt_renders",
    "check_rejects_bad_arguments",
    "check_resource_definitions",
    "check_resource_readable",
    "check_settings_model",
    "check_structured_content",
    "check_tool_annotations",
    "check_tool_call",
    "check_tool_definitions",
    "events_of",
    "invalid_argument_cases",
    "raise_problems",
    "result_text",
    "serve",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
