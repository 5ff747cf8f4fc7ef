"""HTTP calls a prompt asks for, as api step configs: a URL the prompt names, or one of a
few well-known keyless public APIs (GitHub, weather, exchange rates, crypto prices, Hacker
News), or a URL the user supplies as input. Each also says where a number lives in its
answer, so that "if the temperature is above 30" can test the right field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .builder import literal
from .lexicon import en, rx

_GITHUB = rx(en("github"))
_WEATHER = rx(
    en("weather"),
    en(r"open[\s-]?weather(?:map)?"),
    en(r"open[\s-]?meteo"),
    en("forecast"),
    r"(?<![A-Za-z])temperature\s+(?:in|at|of|for)\s+(?=(?-i:[A-Z]))",
    "天气",
    "气温",
    # "如果明天有雨", "if it rains tomorrow": the forecast is what is read
    "(?:明天|今天|后天|今晚|周末)[\u4e00-\u9fff]{0,2}?(?:有雨|下雨|降雨|下雪|降温|高温)",
    en(r"(?:rains?|snows?|storms?)\s+(?:tomorrow|today|tonight|this\s+weekend)"),
)
_FX = rx(
    en(r"exchange\s+rates?"),
    en(r"currency\s+rates?"),
    en(r"fx"),
    "汇率",
    # "the EUR/USD rate": a currency pair
    r"(?<![A-Za-z])(?-i:(?:USD|EUR|GBP|JPY|CNY|RMB|HKD|CHF|AUD|CAD|SGD|KRW))\s*/\s*(?-i:[A-Z]{3})",
)
_CRYPTO = rx(
    en("bitcoin"),
    en("btc"),
    en("ethereum"),
    en("eth"),
    en("crypto\\w*"),
    "比特币",
    "以太坊",
    "币价",
)
_HN = rx(en(r"hacker\s*news"), en("hn"))
_RSS = rx(en("rss"), en("feeds?"), "订阅源")
_STOCK = rx(en(r"stock\s+prices?"), en(r"share\s+prices?"), "股价")
_REPO = re.compile(r"(?<![\w./:-])([A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*)(?![\w/])")
_TICKER = re.compile(r"(?<![A-Za-z])([A-Z]{2,5})(?![A-Za-z])")
_POST = rx(en("post"), en("submit"), en("create"), "提交", "写入", "创建")

CITIES_ZH: dict[str, str] = {
    "北京": "Beijing",
    "上海": "Shanghai",
    "广州": "Guangzhou",
    "深圳": "Shenzhen",
    "杭州": "Hangzhou",
    "成都": "Chengdu",
    "南京": "Nanjing",
    "武汉": "Wuhan",
    "西安": "Xian",
    "重庆": "Chongqing",
    "天津": "Tianjin",
    "苏州": "Suzhou",
    "香港": "Hong Kong",
    "台北": "Taipei",
    "东京": "Tokyo",
    "伦敦": "London",
    "纽约": "New York",
}
_CITY_EN = re.compile(r"(?:in|for|of|at)\s+((?:[A-Z][a-z]+)(?:\s+[A-Z][a-z]+)?)")
CURRENCIES: dict[str, str] = {
    "美元": "USD",
    "人民币": "CNY",
    "欧元": "EUR",
    "日元": "JPY",
    "英镑": "GBP",
    "港币": "HKD",
    "港元": "HKD",
    "韩元": "KRW",
}
_CURRENCY_CODE = re.compile(
    r"(?<![A-Za-z])(USD|CNY|RMB|EUR|JPY|GBP|HKD|KRW|AUD|CAD|CHF|SGD)(?![A-Za-z])"
)
_GITHUB_PATHS: tuple[tuple[re.Pattern[str], str, str], ...] = (
    (rx(en(r"pull\s+requests?"), en("prs?"), "合并请求"), "/pulls", "pull_requests"),
    (rx(en("releases?"), "发布", "版本"), "/releases/latest", "release"),
    (rx(en("commits?"), "提交记录"), "/commits", "commits"),
    (rx(en("stars?"), en("stargazers"), "星"), "", "repository"),
    (rx(en("issues?"), "议题", "问题"), "/issues", "issues"),
)


@dataclass(frozen=True)
class ApiCall:
    name: str  # short, for the node name: "GitHub issues", "weather"
    url: str  # a template
    name_zh: str = ""
    method: str = "GET"
    input_fields: dict[str, str] = field(default_factory=dict)  # field -> description
    # subject of a threshold ("temperature") -> the expression path into the answer
    numbers: dict[str, str] = field(default_factory=dict)
    is_list: bool = False  # the answer is a list (a loop can go over it)


def _currencies(text: str) -> list[str]:
    found: list[tuple[int, str]] = []
    for name, code in CURRENCIES.items():
        found += [(m.start(), code) for m in re.finditer(name, text)]
    found += [(m.start(), m.group(1).replace("RMB", "CNY")) for m in _CURRENCY_CODE.finditer(text)]
    codes: list[str] = []
    for _, code in sorted(found):
        if code not in codes:
            codes.append(code)
    return codes


def _city(text: str) -> str | None:
    for zh, name in CITIES_ZH.items():
        if zh in text:
            return name
    m = _CITY_EN.search(text)
    return m.group(1) if m else None


def api_call(text: str, urls: list[str]) -> ApiCall:
    """The call a clause asks for. `urls`: plain (non-webhook) URLs the clause names."""
    method = "POST" if _POST.search(text) and urls else "GET"
    if urls:
        return ApiCall("API", literal(urls[0], 2_000), "", method)
    if _GITHUB.search(text):
        repo = _REPO.search(text)
        where = literal(repo.group(1), 200) if repo else "{{ input.repo }}"
        fields = {} if repo else {"repo": "GitHub repository, owner/name"}
        for cue, path, what in _GITHUB_PATHS:
            if cue.search(text):
                return ApiCall(
                    f"GitHub {what.replace('_', ' ')}",
                    f"https://api.github.com/repos/{where}{path}",
                    name_zh="GitHub",
                    input_fields=fields,
                    numbers={"stars": "stargazers_count", "count": "open_issues_count"},
                    is_list=path in ("/pulls", "/commits", "/issues"),
                )
        return ApiCall(
            "GitHub repository",
            f"https://api.github.com/repos/{where}",
            name_zh="GitHub",
            input_fields=fields,
            numbers={"stars": "stargazers_count", "count": "open_issues_count"},
        )
    if _FX.search(text):
        codes = _currencies(text)
        base = codes[0] if codes else "USD"
        target = codes[1] if len(codes) > 1 else ("CNY" if base != "CNY" else "USD")
        return ApiCall(
            "exchange rates",
            f"https://open.er-api.com/v6/latest/{base}",
            name_zh="汇率",
            numbers={"rate": f"rates.{target}", "value": f"rates.{target}"},
        )
    if _CRYPTO.search(text):
        coin = "ethereum" if re.search(r"(?i)eth|以太坊", text) else "bitcoin"
        return ApiCall(
            f"{coin} price",
            f"https://api.coingecko.com/api/v3/simple/price?ids={coin}&vs_currencies=usd",
            name_zh="币价",
            numbers={"price": f"{coin}.usd", "value": f"{coin}.usd"},
        )
    if _WEATHER.search(text):
        city = _city(text)
        where = city.replace(" ", "+") if city else "{{ input.city }}"
        return ApiCall(
            "weather",
            f"https://wttr.in/{where}?format=j1",
            name_zh="天气",
            input_fields={} if city else {"city": "City to get the weather for"},
            numbers={
                "temperature": "current_condition[0].temp_C | float",
                "value": "current_condition[0].temp_C | float",
            },
        )
    if _HN.search(text):
        return ApiCall(
            "Hacker News top stories",
            "https://hacker-news.firebaseio.com/v0/topstories.json",
            name_zh="Hacker News",
            is_list=True,
        )
    if _STOCK.search(text):
        ticker = _TICKER.search(text)
        symbol = ticker.group(1) if ticker else "{{ input.symbol }}"
        return ApiCall(
            "stock price",
            f"https://query1.finance.yahoo.com/v8/finance/chart/{symbol}",
            name_zh="股价",
            input_fields={} if ticker else {"symbol": "Stock ticker symbol"},
            numbers={
                "price": "chart.result[0].meta.regularMarketPrice",
                "value": "chart.result[0].meta.regularMarketPrice",
            },
        )
    if _RSS.search(text):
        return ApiCall(
            "feed", "{{ input.feed_url }}", "订阅源", input_fields={"feed_url": "Feed URL"}
        )
    return ApiCall(
        "API",
        "{{ input.api_url }}",
        "",
        method,
        input_fields={"api_url": "URL of the API or page to call"},
    )
