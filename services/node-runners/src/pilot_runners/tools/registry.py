"""The tool registry: built-ins first, then every entry point of the group `pilot.tools`."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from importlib.metadata import entry_points
from typing import Any

from .base import Tool
from .builtin import builtin_tools

ENTRY_POINT_GROUP = "pilot.tools"
log = logging.getLogger(__name__)


def _as_tool(name: str, obj: Any) -> Tool:
    """An entry point may name a tool class (instantiated without arguments), a tool
    instance, or a factory function returning one."""
    if isinstance(obj, type) or (callable(obj) and not hasattr(obj, "run")):
        obj = obj()
    if not callable(getattr(obj, "run", None)):
        raise TypeError(f"tool plugin {name!r} has no run(params, context) method")
    if not getattr(obj, "name", None):
        obj.name = name
    if not hasattr(obj, "description"):
        obj.description = ""
    return obj  # type: ignore[no-any-return]


class ToolRegistry:
    def __init__(self, tools: Iterable[Tool] = ()) -> None:
        self._tools: dict[str, Tool] = {}
        self.errors: dict[str, str] = {}  # plugins that failed to load, and why
        for tool in tools:
            self.add(tool)

    def add(self, tool: Tool, *, name: str | None = None, replace: bool = False) -> None:
        key = name or tool.name
        if key in self._tools and not replace:
            raise ValueError(f"a tool named {key!r} is already registered")
        self._tools[key] = tool

    def get(self, name: str) -> Tool | None:
        return self._tools.get(name)

    def names(self) -> list[str]:
        return sorted(self._tools)

    def describe(self) -> list[dict[str, Any]]:
        return [
            {
                "name": name,
                "description": t.description,
                "params_schema": getattr(t, "params_schema", None),
            }
            for name, t in sorted(self._tools.items())
        ]

    def load_plugins(self, group: str = ENTRY_POINT_GROUP) -> list[str]:
        """Register every tool of the entry-point group; a broken plugin is logged and
        skipped (it must not take the runner down), and cannot shadow a built-in."""
        loaded = []
        for ep in entry_points(group=group):
            try:
                # the entry point's name is the tool's name in workflows
                if ep.name in self._tools:
                    raise ValueError(f"the name {ep.name!r} is already taken")
                tool = _as_tool(ep.name, ep.load())
                self.add(tool, name=ep.name)
                loaded.append(ep.name)
            except Exception as exc:
                self.errors[ep.name] = f"{type(exc).__name__}: {exc}"
                log.warning("tool plugin %s (%s) not loaded: %s", ep.name, ep.value, exc)
        return loaded

    @classmethod
    def default(cls, *, plugins: bool = True, extra: Iterable[Tool] = ()) -> ToolRegistry:
        """The built-ins (and `extra` built-ins that need the runner's clients), then the
        plugins, which cannot take a built-in's name."""
        registry = cls([*builtin_tools(), *extra])
        if plugins:
            registry.load_plugins()
        return registry
