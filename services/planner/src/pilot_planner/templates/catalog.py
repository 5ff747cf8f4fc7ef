"""What each built-in template is, for people and for the recommender: a title and a
description in both languages, the words that point at it, the node types it uses, and
the prompt operations it covers (a prompt asking for more than that is composed instead)."""

from __future__ import annotations

from dataclasses import dataclass

GENERAL = "general"


@dataclass(frozen=True)
class TemplateInfo:
    id: str
    title_en: str
    title_zh: str
    description_en: str
    description_zh: str
    keywords: tuple[str, ...]
    node_types: frozenset[str]
    covers: frozenset[str]  # action kinds and LLM operations the template already does


CATALOG: tuple[TemplateInfo, ...] = (
    TemplateInfo(
        "customer_support",
        "Customer support chatbot",
        "客户支持聊天机器人",
        "Answers customer messages and routes unhappy customers to a human.",
        "回答客户消息，情绪负面的客户转人工处理。",
        (
            "customer",
            "support",
            "chatbot",
            "help desk",
            "complaint",
            "refund",
            "客服",
            "客户支持",
            "售后",
            "投诉",
            "聊天机器人",
        ),
        frozenset({"input", "llm", "condition", "knowledge", "tool", "output"}),
        frozenset({"answer", "classify", "knowledge", "tool"}),
    ),
    TemplateInfo(
        "content_generation",
        "Content generation",
        "内容生成",
        "Outlines, drafts and polishes a piece of writing on a topic.",
        "围绕主题拟大纲、写初稿并润色。",
        (
            "blog",
            "article",
            "post",
            "copy",
            "newsletter",
            "marketing",
            "write",
            "文章",
            "博客",
            "文案",
            "公众号",
            "小红书",
            "写",
        ),
        frozenset({"input", "llm", "tool", "output"}),
        frozenset({"write", "rewrite", "tool"}),
    ),
    TemplateInfo(
        "data_analysis",
        "Data analysis",
        "数据分析",
        "Analyzes data (given or fetched) and writes a short report.",
        "分析给定或抓取的数据，并撰写简短报告。",
        (
            "analyze",
            "analysis",
            "data",
            "csv",
            "metrics",
            "sales",
            "trend",
            "dashboard",
            "分析",
            "数据",
            "报表",
            "统计",
            "指标",
        ),
        frozenset({"input", "api", "llm", "tool", "output"}),
        frozenset({"analyze", "summarize", "write", "api", "tool"}),
    ),
    TemplateInfo(
        "rag_qa",
        "Q&A over a knowledge base",
        "知识库问答",
        "Answers questions from your documents, and says so when they do not cover one.",
        "根据文档回答问题，文档未覆盖时明确告知。",
        (
            "knowledge base",
            "docs",
            "documentation",
            "faq",
            "policy",
            "handbook",
            "rag",
            "知识库",
            "文档",
            "手册",
            "制度",
            "问答",
        ),
        frozenset({"input", "knowledge", "llm", "condition", "tool", "output"}),
        frozenset({"answer", "knowledge", "summarize", "tool"}),
    ),
    TemplateInfo(
        "email_triage",
        "Email triage",
        "邮件分拣",
        "Classifies incoming email: urgent mail alerts the team, spam is archived, "
        "the rest gets a drafted reply.",
        "对来信分类：紧急邮件通知团队，垃圾邮件归档，其余起草回复。",
        ("email", "inbox", "triage", "mail", "urgent", "spam", "邮件", "邮箱", "收件箱", "分拣"),
        frozenset({"input", "condition", "llm", "tool", "output"}),
        frozenset({"classify", "answer", "write", "tool"}),
    ),
    TemplateInfo(
        "translation",
        "Translation",
        "文本翻译",
        "Translates text into a target language and reviews the translation.",
        "把文本翻译成目标语言并校对译文。",
        (
            "translate",
            "translation",
            "localize",
            "english",
            "chinese",
            "french",
            "翻译",
            "译成",
            "英文",
            "中文",
        ),
        frozenset({"input", "llm", "tool", "output"}),
        frozenset({"translate", "rewrite", "tool"}),
    ),
    TemplateInfo(
        "lead_qualification",
        "Lead qualification",
        "销售线索评估",
        "Scores new sales leads and alerts sales about the qualified ones.",
        "为新销售线索打分，并把高意向线索通知销售。",
        (
            "lead",
            "leads",
            "sales",
            "prospect",
            "qualify",
            "crm",
            "score",
            "线索",
            "潜在客户",
            "销售",
            "打分",
            "意向",
        ),
        frozenset({"input", "llm", "condition", "tool", "output"}),
        frozenset({"score", "classify", "analyze", "write", "tool"}),
    ),
    TemplateInfo(
        "content_moderation",
        "Content moderation",
        "内容审核",
        "Checks user posts for policy violations; flagged content is held for a human.",
        "检查用户发布内容是否违规，违规内容交由人工复核。",
        (
            "moderate",
            "moderation",
            "inappropriate",
            "toxic",
            "spam",
            "violation",
            "审核",
            "违规",
            "敏感",
            "不当内容",
        ),
        frozenset({"input", "llm", "condition", "tool", "output"}),
        frozenset({"moderate", "classify", "tool"}),
    ),
    TemplateInfo(
        "list_report",
        "Report over a list",
        "列表汇总报告",
        "Goes through a list of items one by one and writes one report from them all.",
        "逐条处理列表中的条目，并汇总成一份报告。",
        (
            "each",
            "every",
            "list",
            "items",
            "batch",
            "report",
            "逐条",
            "遍历",
            "每一",
            "列表",
            "批量",
            "汇总",
        ),
        frozenset({"input", "loop", "llm", "tool", "output"}),
        frozenset({"summarize", "write", "analyze", "tool"}),
    ),
    TemplateInfo(
        "api_alert",
        "API-to-notification alert",
        "接口数据告警",
        "Calls an API and notifies you when a number in its answer crosses a threshold.",
        "调用接口，当返回数据中的数值超过阈值时发送通知。",
        (
            "api",
            "alert",
            "monitor",
            "threshold",
            "price",
            "weather",
            "above",
            "below",
            "接口",
            "告警",
            "提醒",
            "监控",
            "超过",
            "低于",
        ),
        frozenset({"input", "api", "condition", "llm", "tool", "output"}),
        frozenset({"api", "tool"}),
    ),
    TemplateInfo(
        GENERAL,
        "General assistant",
        "通用助手",
        "One LLM step that does what the prompt asks, with any integrations after it.",
        "一个按需求完成任务的 LLM 步骤，之后接所需的集成。",
        (),
        frozenset({"input", "llm", "tool", "output"}),
        frozenset({"tool"}),
    ),
)
_BY_ID = {t.id: t for t in CATALOG}


def info(template_id: str) -> TemplateInfo:
    return _BY_ID.get(template_id, _BY_ID[GENERAL])
