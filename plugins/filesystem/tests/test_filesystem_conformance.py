"""The plugbay conformance suite, run against the filesystem connector."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from plugbay_filesystem import FilesystemConnector
from plugbay_testing import ConnectorConformance


class TestFilesystemConformance(ConnectorConformance):
    connector = FilesystemConnector
    entry_point = "filesystem"  # loaded as plugbay serve loads it

    def config(self, tmp_path: Path) -> dict[str, Any]:
        (tmp_path / "hello.txt").write_text("hi")
        return {"roots": [str(tmp_path)]}

    sample_calls = {
        "read_text_file": {"path": "hello.txt"},
        "read_multiple_files": {"paths": ["hello.txt"]},
        "list_directory": {},
        "list_directory_with_sizes": {"sortBy": "size"},
        "directory_tree": {},
        "search_files": {"pattern": "*.txt"},
        "get_file_info": {"path": "hello.txt"},
        "list_allowed_directories": {},
    }

    def resource_uris(self, tmp_path: Path) -> list[str]:
        # The roots list, and one file by its absolute path.
        return ["", str(tmp_path.resolve() / "hello.txt").lstrip("/")]
