"""An example πlot tool plugin: counts the words, lines and characters of a text.

A tool is any object with a `name`, a `description`, optional `params_schema` (JSON
schema of its params) and an async `run(params, context)` returning a JSON-able value.
It needs nothing from πlot to be written; πlot finds it through the entry-point group
`pilot.tools` declared in this package's pyproject.toml.
"""

from __future__ import annotations

from typing import Any, ClassVar


class WordCount:
    name = "word_count"
    description = "Count the words, lines and characters of `text`."
    params_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {"text": {"type": "string"}},
        "required": ["text"],
    }

    async def run(self, params: dict[str, Any], context: Any) -> dict[str, int]:
        text = str(params["text"])
        return {
            "words": len(text.split()),
            "lines": len(text.splitlines()) if text else 0,
            "chars": len(text),
        }
