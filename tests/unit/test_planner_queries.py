"""The planner's query answers (what the gateway's /api/templates routes relay): every
template listed in both languages, a template's graph, ranked recommendations with a
reason, suggestions as the wire model, and errors as `QueryError`s rather than raises."""

from __future__ import annotations

import pytest
from faststream.nats import JStream, NatsBroker, TestNatsBroker

from pilot_planner import queries
from pilot_planner.app import register_queries
from pilot_planner.optimizations import suggest_optimizations
from pilot_planner.templates import CATALOG
from pilot_shared import subjects
from pilot_shared.contracts import GenerateRequest, UserPreferences, WorkflowBlueprint
from pilot_shared.contracts.messages import (
    InstantiateReply,
    InstantiateRequest,
    OptimizeQuery,
    QueryError,
    RecommendQuery,
    RecommendReply,
    TemplateListQuery,
    TemplateListReply,
    TemplateQuery,
    TemplateReply,
)
from tests.integration.test_execution import customer_support


@pytest.mark.parametrize("language", ["en", "zh"])
def test_every_template_is_listed(language: str) -> None:
    listed = queries.list_templates(TemplateListQuery.model_validate({"language": language}))
    assert [t.id for t in listed.templates] == [t.id for t in CATALOG]
    for summary in listed.templates:
        assert summary.name and summary.description and summary.node_types
        assert summary.languages == ["en", "zh"]
        # tags in the language asked for
        assert all(tag.isascii() == (language == "en") for tag in summary.tags)


def test_a_template_graph_connects_its_own_nodes() -> None:
    for template in CATALOG:
        reply = queries.get_template(TemplateQuery(template_id=template.id))
        assert reply.error is None and reply.template is not None
        ids = {n.id for n in reply.template.nodes}
        assert len(ids) == len(reply.template.nodes)
        assert {n.type for n in reply.template.nodes} <= template.node_types
        for c in reply.template.connections:
            assert c.source in ids and c.target in ids


def test_an_unknown_template_is_a_not_found_error() -> None:
    reply = queries.get_template(TemplateQuery(template_id="nope"))
    assert reply.template is None
    assert reply.error is not None and reply.error.kind == "not_found"
    assert "customer_support" in reply.error.detail
    plan = queries.template_plan("nope", "", UserPreferences())
    assert isinstance(plan, QueryError) and plan.kind == "not_found"
    assert isinstance(queries.template_plan("rag_qa", "", UserPreferences()), WorkflowBlueprint)


def test_recommendations_say_why() -> None:
    reply = queries.recommend(RecommendQuery(prompt="创建一个客户支持聊天机器人", limit=5))
    ranked = reply.recommendations
    assert ranked[0].template_id == "customer_support"
    assert "客户支持" in ranked[0].reason and ranked[0].name == "客户支持聊天机器人"
    assert ranked[-1].reason.startswith("匹配度低")
    english = queries.recommend(RecommendQuery(prompt="Translate the manual to French"))
    assert english.recommendations[0].template_id == "translation"
    assert english.recommendations[0].reason.startswith("the prompt mentions")


def test_an_empty_prompt_is_invalid() -> None:
    reply = queries.recommend(RecommendQuery(prompt="  "))
    assert reply.recommendations == []
    assert reply.error is not None and reply.error.kind == "invalid"


def test_optimizations_as_the_wire_model() -> None:
    workflow = customer_support()
    reply = queries.optimizations(OptimizeQuery(workflow=workflow))
    expected = [s.model_dump(mode="json") for s in suggest_optimizations(workflow)]
    assert expected, "the example workflow has something to improve"
    assert [s.model_dump(mode="json") for s in reply.suggestions] == expected


@pytest.mark.parametrize("subject", subjects.PLANNER_QUERIES)
def test_no_stream_takes_a_query(subject: str) -> None:
    # A stream holding the subject would answer the request with its publish ack.
    with pytest.raises(KeyError):
        subjects.stream_for(subject)


# --- the handlers, in memory (the integration tests run them over a real nats-server) ---


async def test_every_query_subject_is_answered_in_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    broker = NatsBroker()
    register_queries(broker)
    generated: list[GenerateRequest] = []

    @broker.subscriber(subjects.GENERATE, stream=JStream(subjects.COMMANDS.name, declare=False))
    async def generate(request: GenerateRequest) -> None:
        generated.append(request)

    async with TestNatsBroker(broker) as bus:
        listed = await bus.request(TemplateListQuery(language="zh"), subjects.TEMPLATES_LIST)
        assert len(TemplateListReply.model_validate_json(listed.body).templates) == len(CATALOG)
        got = await bus.request(TemplateQuery(template_id="nope"), subjects.TEMPLATES_GET)
        error = TemplateReply.model_validate_json(got.body).error
        assert error is not None and error.kind == "not_found"

        started = await bus.request(
            InstantiateRequest(generation_id="g1", template_id="rag_qa", owner_id="u1"),
            subjects.TEMPLATES_INSTANTIATE,
        )
        assert InstantiateReply.model_validate_json(started.body).error is None
        [request] = generated
        assert (request.generation_id, request.owner_id) == ("g1", "u1")
        assert request.blueprint.strategy == "template"

        def broken(query: RecommendQuery) -> RecommendReply:
            raise RuntimeError("a bug")

        # A handler that fails still answers, so the gateway is not left to its timeout.
        monkeypatch.setattr(queries, "recommend", broken)
        asked = await bus.request(RecommendQuery(prompt="客服"), subjects.TEMPLATES_RECOMMEND)
        error = RecommendReply.model_validate_json(asked.body).error
        assert error is not None and error.kind == "internal"
