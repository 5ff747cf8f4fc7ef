"""Tools for the tool node: the built-ins, and third-party ones from the entry-point
group `pilot.tools` (see docs/PLUGINS.md)."""

from .base import Tool, ToolContext, ToolError
from .builtin import builtin_tools
from .registry import ENTRY_POINT_GROUP, ToolRegistry

__all__ = ["ENTRY_POINT_GROUP", "Tool", "ToolContext", "ToolError", "ToolRegistry", "builtin_tools"]
