"""Turning operating-system errors into messages a caller can act on."""

from __future__ import annotations

import errno

from plugbay import ToolError, setting_variable

MAX_SHOWN_PATH = 200
"""Paths echoed in messages are cut to this many characters."""

_MESSAGES = {
    errno.ENOENT: "{path} does not exist",
    errno.EEXIST: "{path} already exists",
    errno.EISDIR: "{path} is a directory",
    errno.ENOTDIR: "{path}: a part of the path is not a directory",
    errno.ENOTEMPTY: "{path} is a directory that is not empty",
    errno.EACCES: "permission denied for {path}",
    errno.EPERM: "the operation is not permitted on {path}",
    errno.ENAMETOOLONG: "{path}: the file name is too long",
    errno.ELOOP: "{path}: too many levels of symbolic links",
    errno.EINVAL: "{path}: invalid operation (is the destination inside the source?)",
    errno.ENOSPC: "no space left on the device for {path}",
    errno.EROFS: "{path} is on a read-only file system",
    errno.EBUSY: "{path} is busy",
}


def shown(path: str) -> str:
    """A caller's path quoted for a message: cut short, control characters escaped."""
    cut = path if len(path) <= MAX_SHOWN_PATH else f"{path[:MAX_SHOWN_PATH]}..."
    return repr(cut)


def os_error(error: OSError, path: str) -> ToolError:
    """A :class:`ToolError` for ``error`` that names only the caller's own ``path``.

    The operating system's message can carry the resolved file name; this one names
    only what the caller sent (already quoted with :func:`shown`).
    """
    template = _MESSAGES.get(error.errno or 0)
    if template is not None:
        return ToolError(template.format(path=path))
    reason = error.strerror or type(error).__name__
    return ToolError(f"{path}: {reason}")


def writes_disabled(instance: str, tool: str) -> ToolError:
    """The refusal of the write tool ``tool`` (its catalog name) on a read-only instance."""
    variable = setting_variable(instance, "allow_writes")
    return ToolError(
        f"{tool} is disabled: the {instance!r} filesystem is read-only. An operator can "
        f"allow writes with allow_writes = true in [connectors.{instance}] or {variable}=true."
    )
