"""What a prompt asks for: the trained classifier (`classifier.py`) beside weighted
keyword rules in English and Chinese.

The classifier knows every built-in template; when it is unsure (or not trained), the
rules decide among the original plan's three categories. With the rules, a category wins
by the summed weight of the cues it matches; generic words ("generate", "生成") weigh
little so that "生成一个客服机器人" is customer support, not content.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pilot_shared.contracts import WorkflowIntent

from .classifier import IntentModel, load_model
from .language import Language

GENERAL = "general"
CUSTOMER_SUPPORT = "customer_support"
CONTENT_GENERATION = "content_generation"
DATA_ANALYSIS = "data_analysis"
CATEGORIES: tuple[str, ...] = (
    CUSTOMER_SUPPORT,
    CONTENT_GENERATION,
    DATA_ANALYSIS,
    "rag_qa",
    "email_triage",
    "translation",
    "lead_qualification",
    "content_moderation",
    "list_report",
    "api_alert",
    GENERAL,
)
# The classifier's answer stands from this probability on; below it the rules decide.
MODEL_CONFIDENCE = 0.4


@dataclass(frozen=True)
class Cue:
    pattern: re.Pattern[str]
    weight: float


def _cues(*items: tuple[str, float]) -> tuple[Cue, ...]:
    # English cues are whole words (stems spell out their `[a-z]*` tail); Chinese cues
    # match anywhere, as Chinese has no word edges.
    out = []
    for pattern, weight in items:
        source = rf"(?<![A-Za-z]){pattern}(?![A-Za-z])" if pattern[:1].isascii() else pattern
        out.append(Cue(re.compile(source, re.IGNORECASE), weight))
    return tuple(out)


CUES: dict[str, tuple[Cue, ...]] = {
    CUSTOMER_SUPPORT: _cues(
        (r"customer\s+(?:support|service|care|success)", 3),
        (r"help\s?desk", 3),
        (r"support\s+(?:bot|agent|assistant|ticket|team)", 3),
        (r"chat\s?bots?", 2),
        (r"tickets?", 1.5),
        (r"complaints?", 2),
        (r"refunds?", 1.5),
        (r"faqs?", 1.5),
        (r"customers?", 1),
        (r"support", 1),
        (r"troubleshoot[a-z]*", 1.5),
        ("客户支持", 3),
        ("客服", 3),
        ("客户服务", 3),
        ("售后", 3),
        ("工单", 2),
        ("投诉", 2),
        ("聊天机器人", 2),
        ("退款", 1.5),
        ("常见问题", 1.5),
        ("咨询", 1),
        ("答疑", 1.5),
        ("客户", 1),
        ("用户问题", 1.5),
    ),
    CONTENT_GENERATION: _cues(
        (r"blogs?", 3),
        (r"articles?", 3),
        (r"copywrit[a-z]*", 3),
        (r"newsletters?", 3),
        (r"(?:social\s+media|linkedin|twitter)\s+posts?", 3),
        (r"tweets?", 2),
        (r"essays?", 3),
        (r"stor(?:y|ies)", 2),
        (r"marketing", 2),
        (r"seo", 2),
        (r"headlines?", 2),
        (r"content", 2),
        (r"posts?", 1.5),
        (r"writ(?:e|es|ing|ten)", 1.5),
        (r"drafts?", 1),
        (r"copy", 1),
        (r"generat[a-z]*", 0.5),
        ("文章", 3),
        ("博客", 3),
        ("文案", 3),
        ("公众号", 3),
        ("小红书", 3),
        ("推文", 2),
        ("营销", 2),
        ("创作", 2),
        ("内容", 2),
        ("标题", 1.5),
        ("撰写", 2),
        ("写", 1.5),
        ("稿", 1.5),
        ("生成", 0.5),
    ),
    DATA_ANALYSIS: _cues(
        (r"analy[sz][a-z]*", 3),
        (r"analytics", 3),
        (r"data", 2),
        (r"csv", 3),
        (r"spreadsheets?", 3),
        (r"excel", 3),
        (r"statistic[a-z]*", 3),
        (r"metrics?", 2),
        (r"dashboards?", 2),
        (r"kpis?", 2),
        (r"trends?", 1.5),
        (r"insights?", 1.5),
        (r"reports?", 1.5),
        (r"sales", 1),
        (r"sql", 2),
        (r"charts?", 1.5),
        ("分析", 3),
        ("数据", 3),
        ("报表", 3),
        ("统计", 3),
        ("指标", 2),
        ("趋势", 1.5),
        ("洞察", 1.5),
        ("报告", 1.5),
        ("销售", 1),
        ("表格", 2),
        ("图表", 1.5),
    ),
}

# Below this score a prompt is "general": one weak cue is not enough to pick a template.
MIN_SCORE = 1.5


def score(prompt: str) -> dict[str, float]:
    return {
        category: sum(c.weight * len(c.pattern.findall(prompt)) for c in cues)
        for category, cues in CUES.items()
    }


def summarize(prompt: str, limit: int = 200) -> str:
    text = " ".join(prompt.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def classify(prompt: str, language: Language, model: IntentModel | None = None) -> WorkflowIntent:
    model = model or load_model()
    if model is not None:
        category, probability = model.predict(prompt)
        if probability >= MODEL_CONFIDENCE:
            return WorkflowIntent(
                category=category,
                confidence=round(probability, 2),
                language=language,
                summary=summarize(prompt),
            )
    return classify_by_rules(prompt, language)


def classify_by_rules(prompt: str, language: Language) -> WorkflowIntent:
    scores = score(prompt)
    # Ties go to the earlier category in CATEGORIES: deterministic, and support first
    # because "support chatbot that writes answers" is still support.
    best = max(CUES, key=lambda c: (scores[c], -CATEGORIES.index(c)))
    total = sum(scores.values())
    if scores[best] < MIN_SCORE:
        return WorkflowIntent(
            category=GENERAL, confidence=0.3, language=language, summary=summarize(prompt)
        )
    # Confidence: how much of the evidence points at the winner, damped for thin evidence.
    confidence = (scores[best] / total) * min(1.0, 0.5 + scores[best] / 8)
    return WorkflowIntent(
        category=best,
        confidence=round(min(1.0, max(0.35, confidence)), 2),
        language=language,
        summary=summarize(prompt),
    )
