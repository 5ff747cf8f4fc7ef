"""The words the offline composer listens for, in English and Chinese.

English cues are whole words (`en()` bounds them by ASCII letters, never `\\b`, which does
not fire between a Chinese character and a Latin letter); Chinese cues match anywhere.
"""

from __future__ import annotations

import re


def en(pattern: str) -> str:
    # grouped, so that both bounds hold for every alternative of "a|b|c"
    return rf"(?<![A-Za-z])(?:{pattern})(?![A-Za-z])"


def rx(*patterns: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)


# --- clause structure -------------------------------------------------------------------

# Ends of sentences: scopes (a loop body, a branch) close here.
SENTENCE_END = re.compile(r"[.!?。！？\n]+(?=\s|$|[^\w.])|[。！？\n]+")
# Clause separators inside a sentence; terse prompts chain steps with arrows ("a -> b").
CLAUSE_SEP = re.compile(r"[,;:，；：、]|-+>|→|=>|⇒")
# An arrow after a clause: what follows is its consequence ("low stock -> email buyer").
ARROW = re.compile(r"^[\s,;:，；：、]*(?:-+>|→|=>|⇒)")
# Sequence markers that start a new clause.
THEN = rx(
    en(r"and\s+then"),
    en("then"),
    en(r"after\s+that"),
    en("afterwards?"),
    en("next"),
    en(r"once\s+(?:done|finished|that\s+is\s+done)"),
    en(r"followed\s+by"),
    "然后",
    "接着",
    "之后",
    "随后",
    "接下来",
    "再(?=[\u4e00-\u9fff])(?!次|见|也)",
)
FINALLY = rx(en(r"(?:and\s+)?finally"), en("lastly"), en(r"at\s+the\s+end"), "最后", "最终")

# --- conditions -------------------------------------------------------------------------

IF = rx(
    en(r"only\s+if"),
    en(r"if"),
    en(r"in\s+case"),
    en(r"provided\s+that"),
    en(r"as\s+long\s+as"),
    "只要",
    en(r"whenever"),
    en(r"when"),
    "如果",
    "假如",
    "要是",
    "若(?!干)",
    "一旦",
    "倘若",
    "当(?=[^，,。；;]*?(?:时|的时候))",
    # "遇到胸痛等急症直接提示拨打 120": what is met with is the test
    "(?:遇到|碰到)(?=[^，,。；;]{1,16}?(?:就|则|时|的话|直接|立即|马上))",
)
UNLESS = rx(en("unless"), "除非")
# "check whether it is risky", "判断是否有风险": the question a later clause branches on
CHECK_WHETHER = rx(
    en(r"(?:check|see|determine|decide|judge|verify|assess)(?:s|es|ed|ing)?\s+(?:whether|if)"),
    "判断是否",
    # "判断是不是物流问题": a yes/no question, not a list of labels
    "(?:判断|检查|看看|看一下|确认)(?:一下)?是不是",
    "检查是否",
    "判断有没有",
    "检查有没有",
    "确认是否",
    "看看是否",
)
OTHERWISE = rx(
    en("otherwise"),
    en(r"or\s+else"),
    en("else"),
    en(r"if\s+not"),
    en(r"in\s+all\s+other\s+cases"),
    en(r"in\s+other\s+cases"),
    "否则",
    "不然",
    "反之",
    en(r"(?:all\s+|any\s+)?other\s+(?:questions|cases|messages|requests|topics|emails|tickets)"),
    en(r"everything\s+else"),
    en(r"anything\s+else"),
    "其他(?:问题|情况|消息|请求|类型|的)",
    "其余(?:问题|的)",
    "其它(?:问题|的)",
    "其他情况",
    "其它情况",
    "其余情况",
    "如果不是",
    "不是的话",
    "不是(?:就|则)",
    "没有的话",
    # "有雨就提醒我，没雨就不用管": "no X" is the other arm
    "没(?:有)?[\u4e00-\u9fff]{1,2}?(?:就|的话)",
    "没有(?:就|则)",
    "不满足(?:的话|时)?",
    "如果没有",
)
# Where a Chinese condition's predicate ends and its consequence starts. "一句鼓励的话",
# "几句安慰的话": words counted by 句 are something said, not "if".
ZH_THEN = re.compile(
    r"(?<!通俗)(?<!白)(?<!简单)(?<!几句)(?<!一句)(?<!客套)(?<!好听)(?<!暖心)"
    r"(?<!句[\u4e00-\u9fff])(?<!句[\u4e00-\u9fff]{2})(?<!句[\u4e00-\u9fff]{3})"
    r"(?<!句[\u4e00-\u9fff]{4})的话(?![术题筒费])|的时候|(?<=[\u4e00-\u9fff0-9%])(?<![及实同准临定按随暂平小当计])时(?![间候刻效长段区代])"
    r"|就|则|那么|(?<![方顺随])便(?!宜|利|于)|立即|立刻|马上|即刻"
)
# Comparisons that make a predicate a threshold.
COMPARATORS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        ">=",
        rx(
            en(r"at\s+least"),
            en(r"no\s+less\s+than"),
            "不低于",
            "不少于",
            "至少",
            "达到",
            ">=",
            "≥",
        ),
    ),
    (
        "<=",
        rx(
            en(r"at\s+most"),
            en(r"no\s+more\s+than"),
            # "a deadline within 5 days", "expiring within 30 days": a time bound is a test
            # (not "reply within 2 hours", which is how fast to act)
            en(r"(?:due|deadlines?|expir\w*|renewals?|ends?|ending)\s+(?:date\s+)?within"),
            "不超过",
            "不高于",
            "至多",
            "<=",
            "≤",
        ),
    ),
    (
        ">",
        rx(
            en("above"),
            en("over"),
            en("exceeds?"),
            en("exceeding"),
            en(r"(?:more|greater|higher|larger|bigger)\s+than"),
            en(r"rises?\s+(?:above|over)"),
            en(r"goes\s+(?:above|over)"),
            # "spending passes $400", "tops 1k", "crosses 90%": a number it goes beyond
            # (not "top 5 stories": a ranking)
            en(r"(?:pass(?:es|ed)?|tops|topped|crosse[sd]|cross|hits?|breaks?)(?=\s+[$¥€£]?\s*\d)"),
            en(r"older\s+than"),
            en(r"longer\s+than"),
            # "tickets still open after 48 hours": how long a state lasted
            en(
                r"(?:open|pending|unanswered|unresolved|unpaid|idle|inactive|stuck|waiting)\s+"
                r"(?:for\s+)?(?:more\s+than|after|over|beyond)"
            ),
            "超过",
            "超出",
            "高于",
            "大于",
            "多于",
            "涨破",
            "突破",
            # "比昨天少了 20% 以上", "环比下降 30%": a change by at least that much
            r"(?:少了|减少了?|下降了?|降了|下跌了?|跌了|掉了|多了|增加了?|增长了?|上涨了?|涨了|升了)"
            r"(?=\s*[\d一二三四五六七八九十两半])",
            ">",
        ),
    ),
    (
        "<",
        rx(
            en("below"),
            en("under"),
            en(r"(?:less|lower|fewer|smaller)\s+than"),
            en(r"drops?\s+(?:below|under)"),
            en(r"falls?\s+(?:below|under)"),
            en(r"(?:newer|younger|shorter)\s+than"),
            "低于",
            "小于",
            "少于",
            "不足",
            # "剩下不到 7 天的量" (not "找不到", "收不到": nothing found)
            "(?<![找查搜看收听得办做买订拿])不到(?=\\s*\\d)",
            "跌破",
            "<",
        ),
    ),
    ("==", rx(en(r"equals?"), en(r"is\s+equal\s+to"), "等于", "==")),
)
NUMBER = re.compile(
    r"(?P<sign>-)?[$¥€£]?\s*(?P<num>\d+(?:[.,]\d+)*)\s*(?P<unit>[kK](?![a-zA-Z])|万|千|百万|%|percent)?"
)

# Events that make a "when" clause a trigger (what starts the workflow), not a branch.
TRIGGER_EVENT = rx(
    en(r"(?:comes?|came)\s+in"),
    en(r"arrives?"),
    en(
        r"(?:is|are|gets?)\s+(?:opened|created|submitted|received|posted|added|filed|uploaded|published|sent)"
    ),
    en(r"receives?"),
    en(r"writes?\s+in"),
    en(r"signs?\s+up"),
    en(r"new\s+\w+"),
    en(r"asks?"),
    en(r"messages?"),
    "收到",
    "有新",
    "新的",
    "提交",
    "到达",
    "创建",
    "上传",
    "录入",
    "新增",
    "提问",
    "咨询",
    "发来",
    # what a person does that starts a run: "新员工入职时", "用户注册后", "when a guest books"
    "上新|上架|到货|签收|发货",
    "入职",
    "注册",
    "下单",
    "付款",
    "签约",
    "报名",
    "留资",
    "预约",
    "退订",
    # "群里有人发消息的话", "有人问…时": someone doing something starts the run
    "有人(?:发|问|提|留言|评论|私信|@|艾特|咨询|投诉|反馈)",
    en(
        r"(?:joins?|onboards?|books?|subscribes?|unsubscribes?|checks?\s+out|places?\s+an?\s+order)"
    ),
    en(r"leaves?\s+(?:a|an)\s+(?:review|comment|rating|message)"),
)

# --- loops and schedules ----------------------------------------------------------------

# Chinese measure words: "每一套房", "逐笔", "每个" (not 次 or 期: "每次" is every time)
MEASURE = (
    "(?:个|条|篇|位|封|份|项|件|张|家|名|行|笔|套|台|只|间|栋|"
    "辆|门|节|场|单|批|段|首|页|款|所|座|支|户|组|道|种|本|部|棵|株|盆|瓶)"
)

_TIME_UNITS_EN = (
    r"(?:day|morning|evening|night|afternoon|hour|minute|week|weekday|month|year|quarter|"
    r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|\d+\s+\w+)"
)
SCHEDULE = rx(
    en(rf"(?:every|each)\s+{_TIME_UNITS_EN}s?"),
    en(r"(?:daily|hourly|weekly|monthly|nightly)"),
    en(r"on\s+a\s+schedule"),
    "每(?:一|个)?(?:天|日|周|星期|月|年|小时|分钟|晚|早|季度|工作日|隔)",
    "每[一二三四五六日天](?=[早晚上下]|$)",
    "定时",
    "定期",
)
LOOP = rx(
    en(r"for\s+(?:each|every)"),
    en(r"each\s+of"),
    en(r"every\s+one\s+of"),
    en(r"go(?:es|ing)?\s+through"),
    en(r"loop\s+(?:over|through)"),
    en(r"iterate\s+(?:over|through)"),
    en(r"one\s+by\s+one"),
    en(r"in\s+(?:a\s+)?batch(?:es)?"),
    en(r"each"),
    en(r"every"),
    f"对(?:于)?每(?:一)?{MEASURE}?",
    en(r"one\s+at\s+a\s+time"),
    # "write one LinkedIn post per article", "a Jira ticket per failing test": one thing
    # made for each item (not "$5 per unit" or "per our policy")
    en(
        r"(?:one|a|an|a\s+separate|its\s+own)\s+(?:[\w-]+\s+){0,3}?per(?=\s+(?!day|week|month|"
        r"hour|year|minute|second|cent|annum|capita|our|the|my|your|their|this|that)[a-z])"
    ),
    en(r"individually"),
    "遍历",
    "挨个",
    "一(?:个|条|封|篇)(?:一)?(?:个|条|封|篇)(?=地|的|[\u4e00-\u9fff])",
    "分别(?=对|给|为|发|调用|处理|生成|分析|总结)",
    "逐一",
    # "逐条", "逐笔核对", "逐张处理": one at a time, by any measure word
    f"逐{MEASURE}",
    "依次",
    "批量",
    f"每(?:一)?{MEASURE}",
)
# Words that gather a loop's results: the step that says them runs after the loop.
AGGREGATE = rx(
    en("all"),
    en(r"(?:the|a)\s+(?:summary|digest|report|overview)\s+of\s+(?:all|them|the\s+results)"),
    en("together"),
    en("combine[sd]?"),
    en("compile[sd]?"),
    en("aggregate[sd]?"),
    en("merge[sd]?"),
    en("overall"),
    en("consolidate[sd]?"),
    en(r"into\s+(?:one|a\s+single)"),
    "所有",
    "全部",
    "汇总",
    "合并",
    "整合",
    "整理成",
    "生成一份",
    "总报告",
)

# --- sources: retrieval and HTTP --------------------------------------------------------

RETRIEVAL = rx(
    en(r"knowledge[\s-]*bases?"),
    en(r"(?:product\s+|help\s+|support\s+|internal\s+|company\s+|our\s+|the\s+)docs"),
    en(r"documentation"),
    en(r"docs"),
    en(r"(?:policy|policies|hr|internal|company|product|legal|technical)\s+documents?"),
    en(r"faqs?"),
    en(r"help\s+(?:center|centre|articles?)"),
    en(r"wiki"),
    en(r"confluence"),
    en(r"sharepoint"),
    en(r"intranet"),
    en(r"kb"),
    en(r"knowlege[\s-]*bases?"),
    en(r"handbook"),
    en(r"(?:run|play)books?"),
    en(r"sops?"),
    en(r"(?:style|brand|writing)\s+guides?(?:lines)?"),
    en(r"manuals?"),
    en(r"retriev\w*"),
    en("rag"),
    en(r"vector\s+(?:store|db|database)"),
    en(r"(?:search|look\s+up|consult)\s+(?:the\s+|our\s+)?(?:docs|documents|articles|policies)"),
    en(r"(?:company|hr|refund|return|leave|travel)\s+polic(?:y|ies)"),
    "知识库",
    # a document is looked things up in only when the prompt says so ("根据产品文档回答"),
    # not when it is the input ("把需求文档拆解成任务")
    # ("用 AI 归类知识点": the model does the step, nothing is looked up)
    "(?:根据|基于|依据|参考|检索|查询|查阅|查|搜索|从|用(?!\\s*(?:AI|ai|GPT|gpt|LLM|llm|大?模型))|在|对照|按照?)"
    "[\u4e00-\u9fffA-Za-z ]{0,12}?"
    "(?:文档|手册|说明书|指南|制度|规范|政策文件|资料|条文|条款库?|法规|法条|章程|目录|价目表|"
    "评分标准|信息表|文献库|汇编|须知|指引|细则|守则|白皮书|百科|知识点|题库|案例库|话术库|模板库?|"
    "FAQ|faq|Q&A)",
    # "根据年度报告，回答…", "按会员协议自动答", "根据项目 README 写回复": a document the answer
    # follows (nothing is made in between: "根据数据生成报告" makes the report)
    "(?:根据|基于|依据|参考|按照?|对照|翻(?!译|成))[^，,。；;生写做整汇出形制输]{0,12}?"
    "(?:报告|年报|协议|合同|README|readme|Readme|尺码表|对照表|参数表|规格表)",
    "(?:翻|翻阅|翻看)[^，,。；;]{0,10}?(?:文档|制度|手册|资料)",
    # "using the benefits PDF", "from our course catalog": a reference to answer from
    en(
        r"(?:using|based\s+on|from|according\s+to|per)\s+(?:the\s+|our\s+|a\s+|this\s+)?"
        r"(?:[\w-]+\s+){0,2}(?:pdfs?|brochures?|catalog(?:ue)?s?|guidelines|handbooks?)"
    ),
    # "grade it against my rubric", "using our tone-of-voice guide", "from our info sheet":
    # a reference the step follows is looked up, the user does not paste it each run
    en(
        r"(?:using|against|based\s+on|from|according\s+to|per|following)\s+"
        r"(?:the\s+|our\s+|my\s+|a\s+|this\s+)(?:[\w'’-]+\s+){0,3}"
        r"(?:rubrics?|playbooks?|guides?|guidelines|info(?:rmation)?\s+(?:sheets?|packs?)|"
        r"fact\s+sheets?|polic(?:y|ies)\s+docs?|docs?|templates?\s+library|clause\s+library|"
        r"(?:welcome|press|media|event|onboarding)\s+(?:packs?|kits?))"
    ),
    # "using our past proposals and impact reports, draft …": earlier documents written
    # from, not data handed in with the run
    en(
        r"(?:using|based\s+on|drawing\s+on|from)\s+(?:our|my)\s+(?:past|previous|old|earlier|"
        r"annual|last\s+year'?s)\s+(?:[\w-]+\s+){0,4}?(?:reports?|proposals?|papers?|essays?|"
        r"articles?|posts?|decks?|briefs?)"
    ),
    en(r"(?:pdf|document|paper|file)\s+library"),
    "(?:文档|手册|资料)(?:库|中心)",
    # references named without a lookup verb: "数据字典", "品牌写作规范", "a glossary"
    "数据字典|术语表|词汇表|(?:写作|品牌|编码|代码|设计|编辑|排版|文案|命名|开发)规范|风格指南|知识手册",
    en(r"data\s+dictionar(?:y|ies)|glossar(?:y|ies)|style\s+sheets?|code\s+of\s+conduct"),
    "常见问题",
    "帮助中心",
    "资料库",
    "规章制度",
    "语雀",
    "内部资料",
    # "检索 arXiv 上的新论文": a public search service is called, not our own documents
    r"检索(?!\s*(?:arxiv|pubmed|crossref|谷歌学术|google\s+scholar))",
    "查阅资料",
)
HTTP = rx(
    # "our API docs" is documentation to look things up in, not a call
    r"(?<![A-Za-z])(?<!search\s)apis?(?!\s+(?:docs|documentation|reference|guides?))(?![A-Za-z])",
    en(r"endpoints?"),
    en(r"rest"),
    en(r"graphql"),
    en(r"http"),
    en(r"fetch(?:es|ed|ing)?"),
    en(r"download(?:s|ed|ing)?"),
    en(r"scrap(?:e|es|ed|ing)"),
    en(r"crawl(?:s|ed|ing)?"),
    en("github"),
    en(r"weather"),
    en(r"open[\s-]?weather(?:map)?"),
    en(r"forecast"),
    r"(?<![A-Za-z])(?:outside\s+)?temperature\s+(?:in|at|of|for)\s+(?=(?-i:[A-Z]))",
    "气温",
    en(r"exchange\s+rates?"),
    en(r"currency\s+rates?"),
    r"(?<![A-Za-z])(?-i:(?:USD|EUR|GBP|JPY|CNY|RMB|HKD|CHF|AUD|CAD|SGD|KRW))\s*/\s*(?-i:[A-Z]{3})",
    en(r"(?:stock|share|bitcoin|btc|eth|crypto)\s+prices?"),
    en(r"(?:bitcoin|btc|ethereum|crypto\w*)"),
    en(r"pull(?:s|ed|ing)?\s+(?:\w+\s+){0,4}from"),
    "拉取",
    "拉出",
    "比特币",
    "以太坊",
    en(r"hacker\s*news"),
    en(r"rss"),
    en(r"websites?(?!\s+(?:forms?|chat|visitors?|users?|enquir\w+|inquir\w+))"),
    en(r"web\s*pages?"),
    # certificates are read off the server: "check the SSL cert expiry", "检查证书到期时间"
    en(r"(?:ssl|tls|https)\s+cert\w*"),
    "(?:检查|查询|监控)[\u4e00-\u9fff]{0,4}证书",
    en(
        r"(?:monitor|watch|track|poll|check)\w*\s+(?:the\s+|our\s+|a\s+|my\s+)?(?:[\w'-]+\s+){0,4}?"
        r"(?:page|site|portal|docket|status\s+page|url)s?"
    ),
    en(r"arxiv|pubmed|crossref|semantic\s+scholar"),
    # a service's data read from it: "my Strava runs", "from Google Analytics"
    en(
        r"(?:from|in|on|via|my|our)\s+(?:my\s+|our\s+)?(?:strava|shopify|"
        r"google\s+analytics|ga4|mixpanel|amplitude|google\s+ads|meta\s+ads|facebook\s+ads|"
        r"youtube|reddit|product\s+hunt|app\s+store|play\s+store|fitbit|garmin|spotify)"
    ),
    # air quality and the like come from a public API
    en(r"air\s+quality|aqi|pollen\s+(?:count|levels?)|uv\s+index"),
    "空气质量|PM2\\.5|AQI",
    # devices report over an API: "read the temperature sensors", "读取传感器数据"
    en(r"sensors?|iot\s+(?:hub|platform|devices?)|telemetry"),
    "传感器",
    "监控[\u4e00-\u9fff]{0,6}(?:页面|网站|官网|主页)",
    "网站",
    "网页",
    "(?<!搜索)接口",
    # calling a search engine or a model is a tool or an LLM step, not an HTTP request
    r"调用(?!\s*(?:搜索|联网搜索|计算器|工具|大?模型|AI|gpt|claude|qwen|deepseek))",
    "抓取",
    "爬取",
    "下载",
    "请求",
    "天气",
    "(?:明天|今天|后天|今晚|周末)[\u4e00-\u9fff]{0,2}?(?:有雨|下雨|降雨|下雪|降温|高温)",
    en(r"(?:rains?|snows?|storms?)\s+(?:tomorrow|today|tonight|this\s+weekend)"),
    "汇率",
    "股价",
    "币价",
)
# HTTP words that name a sink when they come with a sending verb (the webhook tool).
WEBHOOK_WORD = rx(en("webhooks?"))

# --- LLM operations -------------------------------------------------------------------

# op -> cues, in priority order when one word could mean two things.
LLM_OPS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "translate",
        rx(en(r"translat\w*"), en(r"tr[ae]n?sl[ae]?t\w*"), "翻译", "译成", "译为", "译作", "翻成"),
    ),
    (
        "summarize",
        rx(
            en(r"summar\w*"),
            en(r"summ?[ae]r[iy][sz]\w*"),  # "sumarize", "summerise": typed in a hurry
            en(r"sum\s+up"),
            en(r"digest"),
            en(r"tl;?dr"),
            en(r"recap"),
            en(r"brief(?:ing)?s?"),
            en(r"condense"),
            en(r"key\s+points"),
            "总结",
            "摘要",
            "概括",
            "归纳",
            "提炼",
            "要点",
            "汇总",
            "简报",
            en(r"gist|takeaways?|lessons\s+learned|highlights\s+of|what\s+changed"),
            "概述|梳理|复盘",
        ),
    ),
    (
        "classify",
        rx(
            en(r"classif\w*"),
            # "figure out whether it's plumbing, electrical or other": a choice of kinds
            en(
                r"(?:figure\s+out|determine|decide|work\s+out|judge|tell)\s+(?:whether|if)\s+"
                r"(?:it'?s|it\s+is|this\s+is|they'?re|they\s+are)"
            ),
            en(r"router"),
            "分类器",
            en(r"categori[sz]\w*"),
            en(r"label(?:s|ed|ing)?"),
            en(r"tag(?:s|ged|ging)?"),
            en(r"triag\w*"),
            en(r"sentiment"),
            en(r"intent"),
            en(r"route"),
            en(r"sort"),
            "分类",
            "归类",
            # "分成请假、成绩、其他三类" (the list, cut at its 、, may end the clause), not
            # "分成三段"
            "(?:分成|分为|归为)(?:(?=[^，,。]{0,16}?[类种])|(?![一二三四五六七八九十两几\\d])(?=[^，,。、]{1,8}$))",
            "打标签",
            "判断是",
            "判断[\u4e00-\u9fff]{0,6}?(?:类型|类别|种类|意图)",
            "区分",
            "情感",
            "情绪",
            "意图",
            "分拣",
            "分流",
        ),
    ),
    (
        "moderate",
        rx(
            en(r"moderat\w*"),
            en(r"inappropriate"),
            en(r"toxic\w*"),
            en(r"offensive"),
            en(r"harmful"),
            en(r"profanity"),
            en(r"compliance"),
            en(r"violat\w*"),
            "审核",
            "违规",
            "敏感词",
            "不当内容",
            "合规",
        ),
    ),
    (
        "score",
        rx(
            en(r"scor(?:e|es|ed|ing)"),
            en(r"rate"),
            en(r"rank\w*"),
            en(r"qualif\w*"),
            en(r"grade"),
            en(r"prioriti[sz]\w*"),
            "打分",
            "批改",
            "阅卷",
            "评分",
            "评级",
            "排序",
            "评估",
            "资质",
        ),
    ),
    (
        "extract",
        rx(
            en(r"extract\w*"),
            en(r"break\s+(?:it\s+|them\s+)?down"),
            en(r"split\s+(?:it\s+|them\s+)?into"),
            en(r"pull\s+out"),
            en(r"parse"),
            en(r"identify"),
            en(r"highlight\w*"),
            en(r"point\s+out"),
            en(r"spot"),
            en(r"list\s+(?:out\s+)?(?:the\s+|all\s+)?(?:key|main|risky|important)"),
            en(r"pick\s+out"),
            en(r"(?:pick|select|choose|keep)\s+(?:only\s+)?(?:the\s+)?(?:\d+|top|best|most)"),
            "挑出",
            "挑选",
            "选出",
            "标出",
            "标注",
            "标红",
            "列出",
            en(r"detect"),
            en(r"find\s+(?:the\s+)?(?:key|main|important)"),
            "提取",
            "抽取",
            # "把金额抄到表格里", "copy the total into the sheet": a value read out of a
            # document (a bill, an email) is extracted first
            "(?:金额|数字|日期|单号|字段|要点|信息)(?:都)?(?:抄|填|誊)(?:到|进|在|入)",
            en(
                r"(?:copy|jot|write\s+down|log)\s+(?:the\s+|each\s+|its\s+|their\s+)?"
                r"(?:amounts?|totals?|due\s+dates?|figures|numbers|details|key\s+fields)\s+"
                r"(?:in)?to"
            ),
            "拆解",
            "拆分",
            "分解",
            "识别",
            "解析",
            "找出",
        ),
    ),
    (
        "analyze",
        rx(
            en(r"analy[sz](?!ts?(?![a-z]))\w*"),
            en(r"insights?"),
            en(r"evaluat\w*"),
            en(r"assess\w*"),
            en(r"trends?"),
            en(r"compar\w*"),
            en(r"critiqu\w*"),
            en(r"diagnos\w*"),
            en(r"root[\s-]?causes?"),
            en(r"guess\w*"),
            en(r"(?:give|provide|write)\s+(?:\w+\s+)?feedback"),
            # converting amounts or units is a computation over the fetched rate
            en(r"convert\w*\s+(?:\w+\s+){0,4}(?:to|into)\s+(?:[A-Z]{3}|\w+\s+)"),
            "换算",
            "折算",
            en(
                r"review\s+(?:the|this|these|each|every|all|it|them|pull|code|diffs?|contracts?|"
                r"documents?|resumes?|applications?|proposals?|essays?|drafts?|articles?|papers?)"
            ),
            # grouping similar things, predicting, critiquing: judgement over the material
            en(r"cluster\w*"),
            en(r"group(?:s|ed|ing)?\s+(?:similar|related|them|these|by|the\s+similar)"),
            en(r"(?:predict|estimat|forecast(?=s?\s+(?:demand|sales|revenue|churn)))\w*"),
            en(r"(?:figure|work)\s+out|fact[\s-]?check\w*|reason\s+about|troubleshoot\w*"),
            "归因|推理|诊断|排查|研判|想办法|出主意",
            "聚类",
            "归并",
            "核对",
            "比对",
            "核查",
            "点评",
            "评价",
            "预测",
            "审阅",
            "评审",
            "统计",
            "审查",
            "分析",
            "洞察",
            "趋势",
            "对比",
            "比较",
        ),
    ),
    (
        "rewrite",
        rx(
            en(r"rewrit\w*"),
            en(r"format(?:s|ted|ting)?\s+(?:\w+\s+){0,3}(?:as|into)"),
            "整理好",
            "整理一下",
            en(r"polish\w*"),
            en(r"proofread\w*"),
            en(r"edit(?:s|ed|ing)?"),
            en(r"rephras\w*"),
            en(r"improve"),
            en(r"simplif\w*"),
            en(r"check\s+(?:\w+\s+){0,3}for\s+(?:\w+\s+)?(?:errors|mistakes|typos|grammar)"),
            en(r"(?:fix|correct)\s+(?:the\s+|any\s+)?(?:grammar|spelling|typos|errors|mistakes)"),
            "检查[^，,。]{0,8}?(?:错误|语法|错别字|病句)",
            "纠错",
            "纠正",
            "润色",
            "改写",
            "校对",
            "重写",
            "优化文案",
            "修改",
        ),
    ),
    (
        "answer",
        rx(
            en(r"answer\w*"),
            en(
                r"helps?\s+(?:users?|customers?|people|them|visitors?|employees?|patients?|"
                r"candidates?|applicants?|students?|parents?|guests?|members?|clients?|staff)"
            ),
            en(r"respond\w*"),
            en(
                r"tell\s+(?:me|us|them|the\s+(?:user|customer|caller))\s+(?:whether|if|what|how|"
                r"which|when|why)"
            ),
            en(r"repl(?:y|ies|ied)"),
            en(r"chat\s?bots?"),
            en(r"assistant"),
            en(r"q\s?&\s?a"),
            en(r"customer\s+(?:support|service)"),
            en(r"support\s+(?:bot|agent)"),
            "回答",
            "回复",
            "答复",
            "解答",
            "答疑",
            "问答",
            "客服",
            "聊天机器人",
            "助手",
        ),
    ),
    (
        "write",
        rx(
            en(r"writ(?:e|es|ing|ten)"),
            en(r"draft\w*"),
            en(r"compos(?:e|es|ing)"),
            en(r"generat\w*"),
            en(
                r"creat(?:e|es|ing)\s+(?:a\s+|an\s+)?(?:post|article|blog|copy|description|caption|email|message|report|outline|story|script|content|summary|reply|response)"
            ),
            en(r"personali[sz]\w*"),
            en(
                r"(?:a|short|brief|quick)\s+(?:\w+\s+)?(?:comment|note|message|update|caption|"
                r"description|blurb|announcement)"
            ),
            en(r"tailored"),
            # the model named as who does the step: "have the LLM …", "with an LLM"
            en(r"(?:have|let|ask|get|use|using|with|via|by)\s+(?:the\s+|an?\s+)?(?:llm|gpt|ai)"),
            en(r"llms?"),
            en(r"apologi[sz]\w*"),
            en(r"compil\w*\s+(?:\w+\s+){0,4}into"),
            en(r"(?:turn|convert|transform)\w*\s+(?:\w+\s+){0,4}into"),
            "道歉",
            "致歉",
            "整理成",
            "转换成",
            "做成",
            en(r"(?:blog|social(?:\s+media)?)\s+posts?"),
            en(r"articles?"),
            en(r"newsletters?"),
            en(r"reports?"),
            en(r"descriptions?"),
            en(r"outlines?"),
            en(r"captions?"),
            en(r"copy"),
            en(r"explain\w*"),
            en(r"recommend\w*"),
            en(r"suggest\w*"),
            # planning and ideation: "plan a 3-day itinerary", "brainstorm titles", "give me
            # a one-pager", "tell me what to prepare"
            en(r"plan(?:ned|ning)?\s+(?:a|an|my|our|the|this|next|\d+)(?![A-Za-z])"),
            en(r"(?:itinerar(?:y|ies)|brainstorm\w*|one[\s-]pagers?|dossiers?|memos?|agendas?)"),
            en(r"(?:checklists?|quiz(?:zes)?|lesson\s+plans?|meal\s+plans?|study\s+plans?)"),
            en(r"(?:come|comes|coming)\s+up\s+with"),
            en(r"propos(?:e|es|ed|ing|als?)"),
            en(r"(?:advice|advise|tips|ideas?)"),
            en(r"(?:headline|title|tagline|slogan|subject\s+line)s?\s+(?:ideas|options|for)"),
            en(
                r"what\s+(?:to|i\s+should|we\s+should|they\s+should)\s+(?:prepare|do|bring|wear|"
                r"say|focus|cook|eat|buy|read|watch|ask|expect|pack|study|fix|change|improve)"
            ),
            "规划",
            "行程",
            "攻略",
            "选题",
            "方案",
            "点子",
            "创意",
            "标题",
            "大纲",
            "提纲",
            "脚本",
            "头脑风暴",
            "构思",
            "策划",
            "拟定",
            "出题",
            "话术",
            "口播",
            "宣传语",
            "口号",
            "标语",
            "讲稿",
            "教案",
            "食谱",
            "(?:制定|做|订|定|排)[^，,。]{0,6}计划|计划表",
            r"想(?:几|一|两|三|\d+)\s*(?:个|条)",
            "(?:要|该|应该|需要|可以)(?:准备|做|带|穿|注意|关注|买|吃|改|看)(?:什么|哪些)",
            en(
                r"(?:cover|offer|dunning|reference|recommendation|thank[\s-]you|welcome|rejection|"
                r"apology|sales|collection|demand)\s+letters?"
            ),
            "(?:推荐|感谢|催款|邀请|录用|道歉|求职|辞退|拒绝)(?:信|函)|通知书",
            "讲解|讲(?:一遍|一下|给)",
            en(
                r"alt\s+text|hashtags|seo\s+\w+|meta\s+descriptions?|"
                r"show\s+notes|talking\s+points|names?\s+for|taglines?|slogans?|jokes?|poems?|"
                r"stor(?:y|ies)|lyrics|scripts?|pitch(?:es)?|tutor\w*|coach\w*"
            ),
            "扩写|续写|缩写|仿写|起名|取名|写诗|对联|祝福语|回帖|答题|解题|出卷|组卷|批注|配文|摘录|改进|优化",
            # words made up to encourage: "一句鼓励的话", "每日金句", "a motivational quote"
            "(?:一|几|两|三)句[\u4e00-\u9fff]{0,6}的话|金句|励志|打气|鸡汤",
            en(
                r"(?:encouraging|motivational|inspirational|inspiring|uplifting|cheerful)\s+"
                r"(?:\w+\s+)?(?:words?|quotes?|messages?|notes?|lines?|thoughts?)"
            ),
            "撰写",
            "写",
            "生成",
            "起草",
            "创作",
            "编写",
            "拟",
            "文案",
            "帖",
            "文章",
            "报告",
            "个性化",
            "解释",
            "建议",
            "推荐",
        ),
    ),
)

# --- sinks: channels and tools --------------------------------------------------------

# Verbs and prepositions that make a channel name a destination, not a source.
SEND = rx(
    en(r"send\w*"),
    en(r"sent"),
    en(r"post\w*"),
    en(r"notif\w*"),
    en(r"alert\w*"),
    en(r"ping"),
    en(r"message"),
    en(r"push\w*"),
    en(r"forward\w*"),
    en(r"share"),
    en(r"deliver\w*"),
    en(r"publish\w*"),
    en(r"email\s+(?:it|them|me|the|a|an|to|him|her|us)"),
    en(r"text\s+(?:me|them|him|her|the)"),
    en(r"(?:to|on|in|into|via|through|by|over)"),
    en(r"escalat\w*"),
    en(r"report\s+to"),
    "发送",
    "发到",
    "发给",
    "发至",
    "发",
    "推送",
    "通知",
    "提醒",
    "告警",
    "报警",
    "同步到",
    "转发",
    "分享",
    "抄送",
    "到",
)
# Non-channel tools: name -> cues.
TOOLS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "sms",
        rx(
            en("sms"),
            en(r"text\s+messages?"),
            # "text" as a verb: first in its clause, or after "and"/"then"
            r"(?:^|(?<=[,;]\s)|(?<=\band\s)|(?<=\bthen\s))[Tt]ext\s+(?:me|them|him|her|us|the|our|a|an|it)\b",
            # "emergencies text the on-call plumber": anywhere, when a person follows
            r"(?<![A-Za-z])[Tt]ext\s+(?:(?:the|our|my|their|your)\s+(?:[\w-]+\s+){0,2}?)?"
            r"(?:on-?call|customers?|users?|owners?|managers?|buyers?|clients?|tenants?|drivers?|"
            r"couriers?|candidates?|guests?|patients?|parents?|students?|plumbers?|technicians?|"
            r"engineers?|staff|members?|contacts?|leads?|agents?|admins?|boss|employees?|"
            r"applicants?|reps?|hosts?|visitors?|volunteers?|vendors?|suppliers?)(?![A-Za-z])",
            # "a thank-you text", "send them a reminder text": the message is an SMS
            en(
                r"(?:thank[\s-]you|reminder|welcome|follow[\s-]up|confirmation|personali[sz]ed|"
                r"short|quick|friendly|brief)\s+texts?"
            ),
            en(r"(?:via|by|over)\s+text"),
            # "the client got a text reminding them", "each guest gets a text"
            en(r"(?:gets?|got|getting|receives?|received|receiving)\s+a\s+text"),
            en(r"twilio|aliyun\s+sms"),
            "短信",
        ),
    ),
    (
        "calculator",
        rx(
            en(r"calculat\w*"),
            en(r"comput(?:e|es|ing)"),
            en(r"arithmetic"),
            "计算(?!机)",
            "算出",
            "计算器",
        ),
    ),
    (
        "phone",
        rx(
            en(r"phone\s+call"),
            en(r"(?:via|by|over)\s+(?:a\s+)?(?:phone|voice)(?:\s+call)?"),
            en(r"give\s+\w+\s+a\s+call"),
            en(r"call\s+(?:me|him|her)"),
            en(
                r"call\s+(?:the|our|my)\s+(?:[\w-]+\s+)?(?:manager|owner|on-?call|supervisor|boss|"
                r"lead|engineer|doctor|customer|client|technician|plumber|guard|driver|parent)s?"
            ),
            "打电话",
            "电话(?:回访|联系|跟进|确认|沟通)|致电|回电",
            "电话通知",
            "语音电话",
        ),
    ),
    (
        "web_search",
        rx(
            en(r"(?:web|google|bing|internet|online)\s+search"),
            en(r"search\s+the\s+(?:web|internet)"),
            en(r"search\s+online"),
            en(
                r"(?:mentions?|news|coverage|reviews?)\s+(?:\w+\s+){0,4}(?:on|across|around)\s+the\s+(?:web|internet)"
            ),
            en(r"(?:look\s+up|search\s+for|find)\s+\w+(?:\s+\w+){0,3}\s+online"),
            en(r"google\s+(?:it|for|search)"),
            # "research each prospect on the web", "look them up online"
            en(
                r"(?:research|look\s+up|look\s+into|dig\s+into|find\s+out\s+about|look)\s+"
                r"(?:[\w'-]+\s+){0,4}(?:on\s+the\s+(?:web|internet)|online|on\s+(?:linkedin|"
                r"google|twitter|x|crunchbase|the\s+news))"
            ),
            en(r"(?:on|from|across|against)\s+the\s+(?:open\s+)?(?:web|internet)"),
            en(r"search\s+(?:engine|api)"),
            "搜索(?:引擎|接口|API)",
            "(?:^|(?<=[，,。；;先再并]))搜索(?![^，,。]{0,10}?(?:知识库|文档|手册|资料库|帮助中心|FAQ|常见问题|数据库|表格))",
            en(r"search\s+for\s+(?:the\s+)?(?:latest|recent|current|new)"),
            # search engines by name: "look it up on Bing", "百度一下", "用 Tavily 搜"
            en(r"bing|duckduckgo|perplexity|serp\s?api|tavily|brave\s+search|google\s+it"),
            "百度(?:一下|搜索)?|谷歌(?:一下|搜索)|必应",
            "联网搜索",
            "网上搜索",
            "在网上(?:搜索?|查)",
            "上网(?:搜索?|查)",
            "搜索网上",
            "网上查",
            "网络搜索",
            "搜索引擎",
        ),
    ),
    (
        "google_sheets",
        rx(
            en(r"google\s+sheets?"),
            en(r"spreadsheets?"),
            # "read the new rows from the sheet" (not an info sheet or a balance sheet)
            en(r"(?:(?<=from\s)|(?<=into\s)|(?<=in\s)|(?<=on\s))(?:the|my|our)\s+sheet"),
            # "log the job in our maintenance sheet" (not an info, fact or balance sheet)
            en(
                r"(?:(?<=from\s)|(?<=into\s)|(?<=in\s)|(?<=on\s)|(?<=to\s))(?:the|my|our)\s+"
                r"(?!info\s|fact\s|balance\s|cheat\s|spec\s|style\s|data\s|time\s|score\s)"
                r"[\w-]+\s+sheet"
            ),
            # spreadsheets by product: "in Airtable", "the Excel file", "WPS 表格"
            en(r"airtable|excel|smartsheet|numbers\s+sheet"),
            "表格",
            "在线表格",
            # "库存表", "排班表": a table of records (not 报表 a report, 列表 a list, 发表)
            "(?:库存|销售|排班|考勤|报价|费用|预算|客户|商品|参数|成绩|工资|台账|花名|名单|价格|进度)"
            "表(?![扬示达现态])",
        ),
    ),
    # note apps keep pages like Notion does; task trackers hold tickets like Jira does
    ("notion", rx(en("notion"), en(r"evernote|onenote|obsidian"), "印象笔记|有道云笔记")),
    (
        "jira",
        rx(
            en("jira"),
            en(r"trello|asana|linear|clickup|monday\.com|youtrack|todoist|ticktick"),
            "禅道|TAPD|Teambition|滴答清单",
        ),
    ),
    (
        "database",
        rx(
            en(r"database"),
            en(r"db"),
            en("crm"),
            # CRMs and back offices by product name: where the records live
            en(r"hubspot|salesforce|pipedrive|zoho(?:\s+crm)?|dynamics\s+365|odoo|sap"),
            # SQL and document stores by product name
            en(
                r"mysql|postgres(?:ql)?|mongo(?:db)?|sqlite|redis|bigquery|snowflake|clickhouse|"
                r"supabase|firebase|firestore|dynamodb|sql\s+server|oracle\s+db"
            ),
            en(r"(?:run|write|execute)\s+(?:a\s+|the\s+)?sql"),
            "客户管理系统",
            "纷享销客",
            "销售易",
            en("erp"),
            en(r"(?:finance|billing|crm|erp|hr)\s+system"),
            "数据库",
            "系统",
        ),
    ),
    (
        "calendar",
        rx(
            en(r"(?:google\s+|outlook\s+|icloud\s+|apple\s+)?calendars?"),
            en(r"calendly|cal\.com"),
            "日历",
            "日程",
        ),
    ),
)

# Escalation to a person: a branch that ends the workflow with a hand-off result.
ESCALATE = rx(
    en(r"escalat\w*"),
    en(r"hand\s*(?:it\s+)?off"),
    en(r"(?:to|a)\s+(?:a\s+)?human"),
    en(r"human\s+agent"),
    en(r"manual\s+review"),
    "转人工",
    "人工(?:复核|核实|确认|介入|处理|审核|跟进)",
    "人工处理",
    "人工客服",
    "人工审核",
    "人工跟进",
)

# Telling a person without naming a channel ("notify me", "通知主管"): email is the default.
_PEOPLE_ZH = (
    "(?:我|主管|经理|负责人|团队|部门|同事|人员|工程师|运营|运维|财务|法务|采购|销售|客服|"
    "老板|客户|管理员|值班|审批人|HR|hr|用户|对方|申请人|作者|导师|他|她|大家|同事们|总监|"
    "家长|学生|老师|班主任|员工|租客|房东|患者|病人|候选人|供应商|司机|会员|读者|玩家|店长|医生|"
    "买家|卖家|商家|骑手|快递员|业主|住户|参会者|嘉宾|CFO|CEO|COO|CTO|VP|HRBP|PM|cfo|ceo)"
)
NOTIFY_PERSON = rx(
    # "page oncall", "page the SRE": a person is alerted (by email unless a channel is named)
    en(
        r"page\s+(?:the\s+|our\s+)?(?:on-?call|sre|ops|devops|engineer|team|someone|whoever|"
        r"author|committer|owner)\w*"
    ),
    # "send each attendee their schedule", "send the link to everyone on the list"
    en(
        r"send\s+(?:it\s+|them\s+)?(?:to\s+)?(?:each|every|all|the)\s+(?:person|attendee|customer|"
        r"user|participant|member|employee|student|candidate|subscriber|guest|client|recipient|"
        r"parent|tenant|patient|buyer|winner|applicant)s?"
    ),
    en(r"send\s+(?:\w+\s+){0,4}to\s+(?:everyone|everybody|all\s+of\s+them|each\s+of\s+them)"),
    en(
        r"(?:notify|alert|inform|remind|warn|ping|(?<=\S\s)tell)\s+"
        r"(?:me|us|them|him|her|(?:the|that|this|their|each|every)\s+\w+|our\s+\w+|\w+\s+team|"
        r"(?-i:[A-Z]{2,5})(?![A-Za-z])|"
        r"finance|legal|hr|sales|support|ops|marketing|procurement|accounting|security|"
        r"engineering|management|it|billing|payroll|compliance)"
        r"(?!\s+(?:whether|if|what|how|which|why)(?![A-Za-z]))"
    ),
    f"(?:通知|提醒|告知|告诉|报告给|转给|交给|发给|发送给|转发给|联系|@)[\u4e00-\u9fff\\s]{{0,4}}?{_PEOPLE_ZH}",
    # "没填的再催一次": chasing someone is a reminder
    "催(?:一下|一次|促|办|交)",
    # "发给每位参会者": whoever it is sent to, without a channel it goes by email
    "(?:发给|发送给|转发给|抄送给?)(?:每一?[位个名])?[\u4e00-\u9fff]{1,6}",
    en(
        r"(?:forward|send|escalate|pass|hand)\w*\s+(?:\w+\s+){0,4}to\s+(?:the\s+|our\s+)?(?:\w+\s+)?"
        r"(?:manager|lead|team|owner|director|recruiter|engineer|admin|ceo|cfo|hr|sales|support|"
        r"finance|legal|boss|reviewer|supervisor|office|teacher|department|desk|principal|"
        r"coordinator|accountant|accounting|procurement)"
    ),
)
