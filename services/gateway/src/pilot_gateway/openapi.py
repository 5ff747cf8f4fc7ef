"""The OpenAPI document, as FastAPI generates it, with one correction: an optional query
or header parameter is documented as its type, not as "its type or null". A parameter
that is left out is absent; `?status=null` is the string "null", which the API rightly
refuses, so the document must not present it as valid."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    options = schema.get("anyOf")
    if not isinstance(options, list):
        return schema
    kept = [o for o in options if o != {"type": "null"}]
    if len(kept) != 1 or len(kept) == len(options):
        return schema
    rest = {k: v for k, v in schema.items() if k != "anyOf"}
    return {**kept[0], **rest}


def openapi_document(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema is None:
        document = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
        )
        for path_item in document.get("paths", {}).values():
            for operation in path_item.values():
                for parameter in operation.get("parameters", []):
                    if parameter.get("in") in ("query", "header") and "schema" in parameter:
                        parameter["schema"] = _without_null(parameter["schema"])
        app.openapi_schema = document
    return app.openapi_schema


def install_openapi(app: FastAPI) -> None:
    def build() -> dict[str, Any]:
        return openapi_document(app)

    app.openapi = build  # type: ignore[method-assign]
