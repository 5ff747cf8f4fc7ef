"""Asking the planner: core NATS request/reply with a deadline. A planner that is not
running, or does not answer in time, is a 503 the client can retry; a query the planner
could not answer comes back as a `QueryError` and becomes the matching HTTP error."""

from __future__ import annotations

import logging
from typing import TypeVar

import nats.errors
from nats.aio.client import Client as NatsClient
from pydantic import ValidationError

from pilot_shared import subjects
from pilot_shared.contracts import GenerationEvent, PilotModel, Workflow, new_id
from pilot_shared.contracts.messages import (
    InstantiateReply,
    InstantiateRequest,
    OptimizationSuggestion,
    OptimizeQuery,
    OptimizeReply,
    QueryError,
    RecommendQuery,
    RecommendReply,
    TemplateDetail,
    TemplateListQuery,
    TemplateListReply,
    TemplateQuery,
    TemplateRecommendation,
    TemplateReply,
    TemplateSummary,
)

from ..commands import require_connected
from ..errors import NotFoundError, PilotError, ServiceUnavailableError
from ..generation.service import GenerationWatch, check_prompt
from ..live import LiveBus
from ..settings import GatewaySettings
from .schemas import InstantiateTemplateRequest, Language, RecommendRequest

log = logging.getLogger(__name__)

R = TypeVar("R", bound=PilotModel)


class PlannerUnavailableError(ServiceUnavailableError):
    kind = "planner_unavailable"


class TemplateNotFoundError(NotFoundError):
    kind = "template_not_found"


class BadGatewayError(PilotError):
    status_code = 502
    kind = "bad_gateway"


class PlannerQueryError(PilotError):
    status_code = 422
    kind = "invalid_query"


async def ask(
    nc: NatsClient, subject: str, query: PilotModel, reply_type: type[R], timeout_s: float
) -> R:
    require_connected(nc)
    try:
        msg = await nc.request(subject, query.model_dump_json().encode(), timeout=timeout_s)
    except nats.errors.NoRespondersError:
        raise PlannerUnavailableError(
            "no planner is running to answer; start the planner service and retry"
        ) from None
    except (nats.errors.TimeoutError, TimeoutError):
        raise PlannerUnavailableError(
            f"the planner did not answer within {timeout_s:g}s; retry later"
        ) from None
    try:
        return reply_type.model_validate_json(msg.data)
    except ValidationError as exc:
        # A planner of another version, most likely: the client can do nothing about it.
        log.warning("unreadable answer on %s: %s", subject, exc)
        raise BadGatewayError(f"the planner's answer could not be read ({subject})") from None


def raise_for(error: QueryError | None) -> None:
    if error is None:
        return
    if error.kind == "not_found":
        raise TemplateNotFoundError(error.detail)
    if error.kind == "invalid":
        raise PlannerQueryError(error.detail)
    raise BadGatewayError(error.detail)


class Planner:
    """The planner's queries, as the gateway's NATS connection asks them."""

    def __init__(self, nc: NatsClient, settings: GatewaySettings) -> None:
        self.nc = nc
        self.settings = settings

    async def _ask(self, subject: str, query: PilotModel, reply_type: type[R]) -> R:
        return await ask(self.nc, subject, query, reply_type, self.settings.planner_query_timeout_s)

    async def list_templates(self, language: Language) -> list[TemplateSummary]:
        query = TemplateListQuery(language=language)
        return (await self._ask(subjects.TEMPLATES_LIST, query, TemplateListReply)).templates

    async def get_template(self, template_id: str, language: Language) -> TemplateDetail:
        query = TemplateQuery(template_id=template_id, language=language)
        reply = await self._ask(subjects.TEMPLATES_GET, query, TemplateReply)
        raise_for(reply.error)
        if reply.template is None:
            raise BadGatewayError("the planner answered without a template")
        return reply.template

    async def recommend(self, body: RecommendRequest) -> list[TemplateRecommendation]:
        prompt = check_prompt(body.prompt, self.settings.max_prompt_chars)
        query = RecommendQuery(prompt=prompt, limit=body.limit)
        reply = await self._ask(subjects.TEMPLATES_RECOMMEND, query, RecommendReply)
        raise_for(reply.error)
        return reply.recommendations

    async def optimizations(self, workflow: Workflow) -> list[OptimizationSuggestion]:
        reply = await self._ask(
            subjects.OPTIMIZATIONS, OptimizeQuery(workflow=workflow), OptimizeReply
        )
        raise_for(reply.error)
        return reply.suggestions

    async def instantiate(
        self, live: LiveBus, template_id: str, body: InstantiateTemplateRequest, owner_id: str
    ) -> GenerationWatch:
        """Start generating a workflow from a template. The generation's events are
        subscribed before the planner is asked, so none can slip past."""
        prompt = (
            check_prompt(body.prompt, self.settings.max_prompt_chars) if body.prompt.strip() else ""
        )
        generation_id = new_id()
        watch = await live.subscribe(
            subjects.generation_events(generation_id), GenerationEvent.model_validate_json
        )
        try:
            request = InstantiateRequest(
                generation_id=generation_id,
                template_id=template_id,
                prompt=prompt,
                user_preferences=body.user_preferences,
                owner_id=owner_id,
            )
            reply = await self._ask(subjects.TEMPLATES_INSTANTIATE, request, InstantiateReply)
            raise_for(reply.error)
        except BaseException:
            await watch.close()
            raise
        return GenerationWatch(generation_id, watch, self.settings.generate_timeout_s)
