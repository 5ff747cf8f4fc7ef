"""The built-in workflow templates: the original plan's customer_support,
content_generation and data_analysis, seven more common shapes, and a general fallback.

Every template reads only `input.<field>` (fields its input schema declares) and
`nodes.<key>.output` of steps upstream of the reader, which the graph validator checks;
`tests/unit/test_templates.py` builds each one at every complexity and validates it.
"""

from __future__ import annotations

from .alert import api_alert
from .analysis import data_analysis
from .catalog import CATALOG, GENERAL, TemplateInfo, info
from .common import Template
from .content import content_generation
from .general import general
from .leads import lead_qualification
from .moderation import content_moderation
from .rag import rag_qa
from .report import list_report
from .support import customer_support
from .translation import translation
from .triage import email_triage

TEMPLATES: dict[str, Template] = {
    "customer_support": customer_support,
    "content_generation": content_generation,
    "data_analysis": data_analysis,
    "rag_qa": rag_qa,
    "email_triage": email_triage,
    "translation": translation,
    "lead_qualification": lead_qualification,
    "content_moderation": content_moderation,
    "list_report": list_report,
    "api_alert": api_alert,
    GENERAL: general,
}


def template_for(category: str) -> Template:
    return TEMPLATES.get(category, general)


__all__ = ["CATALOG", "GENERAL", "TEMPLATES", "Template", "TemplateInfo", "info", "template_for"]
