"""RAG Q&A: input -> knowledge -> llm (answer from the documents) -> condition (answer
found?) -> answer | "not covered" (with the integrations alerted there)."""

from __future__ import annotations

from pilot_shared.contracts import WorkflowBlueprint

from ..builder import BlueprintBuilder, PlanContext, output_of
from ..instructions import NOT_FOUND
from ..tools import add_tools
from .common import build, input_schema, language_rule, llm_config, requested, text_field


def rag_qa(ctx: PlanContext) -> WorkflowBlueprint:
    b = BlueprintBuilder()
    inp = b.add(
        "input",
        ctx.t("Question", "用户问题"),
        {
            "input_type": "text",
            "schema": input_schema(
                {
                    "question": text_field(
                        ctx.t("The question to answer", "要回答的问题"), min_length=1
                    )
                }
            ),
        },
    )
    kb = b.add(
        "knowledge",
        ctx.t("Search the knowledge base", "检索知识库"),
        {"query": "{{ input.question }}", "top_k": 5 if ctx.complexity == "advanced" else 3},
    )
    system = " ".join(
        [
            ctx.t(
                "You answer questions using only the documents provided, and cite the "
                f"passages you used. If they do not contain the answer, reply exactly {NOT_FOUND}.",
                "你只根据提供的文档回答问题，并注明所依据的段落；"
                f"文档中没有答案时，只回复 {NOT_FOUND}。",
            ),
            language_rule(
                ctx,
                default_en="Answer in the question's language.",
                default_zh="使用提问所用的语言回答。",
            ),
            requested(ctx),
        ]
    )
    answer = b.add(
        "llm",
        ctx.t("Answer from the documents", "根据文档回答"),
        llm_config(
            ctx,
            system,
            ctx.t(
                "Question:\n{{ input.question }}\n\nDocuments:\n" + output_of(kb),
                "问题：\n{{ input.question }}\n\n参考文档：\n" + output_of(kb),
            ),
            0.2,
        ),
    )
    b.chain(inp, kb, answer)
    if ctx.complexity == "simple":
        tools = add_tools(b, ctx, message=output_of(answer), subject=ctx.t("Answer", "回答"))
        out = b.add("output", ctx.t("Answer", "回答"), {"value": output_of(answer)})
        b.chain(answer, *tools, out)
        return build(b, ctx, "Q&A over a knowledge base", "知识库问答")
    found = b.add(
        "condition",
        ctx.t("Answer found?", "是否找到答案"),
        {"expression": f"'{NOT_FOUND}' in ({output_of(answer)[3:-3].strip()} or '')"},
    )
    b.connect(answer, found)
    out = b.add("output", ctx.t("Answer", "回答"), {"value": output_of(answer)})
    b.connect(found, out, "false")
    tools = add_tools(
        b,
        ctx,
        message=ctx.t(
            "Unanswered question: {{ input.question }}", "未能回答的问题：{{ input.question }}"
        ),
        subject=ctx.t("A question the documents do not cover", "知识库未覆盖的问题"),
    )
    missing = b.add(
        "output",
        ctx.t("Not covered", "未找到答案"),
        {
            "mapping": {
                "answer": ctx.t(
                    "Sorry, the documents do not cover this question yet.",
                    "抱歉，文档中暂时没有这个问题的答案。",
                ),
                "escalated": "{{ true }}",
            },
            "format": "json",
        },
    )
    b.chain(found, *tools, missing, first_handle="true")
    return build(b, ctx, "Q&A over a knowledge base", "知识库问答")
