// UI strings in English and Chinese; the browser language picks one, the switch overrides it.
const STRINGS = {
  en: {
    title: "πlot workflow panel",
    apiKey: "API key",
    saveKey: "Save key",
    keySaved: "Key saved",
    prompt: "Describe the workflow you want",
    promptPlaceholder: "e.g. Answer a customer question politely",
    complexity: "Complexity",
    simple: "simple",
    moderate: "moderate",
    complex: "complex",
    integrations: "Integrations (comma separated)",
    generate: "Generate",
    generating: "Generating the workflow…",
    state_hidden: "Ready",
    state_generating: "Generating",
    state_editing: "Editing",
    state_executing: "Executing",
    run: "Run",
    runInputs: "Inputs",
    editNode: "Edit node",
    config: "Config (JSON)",
    save: "Save",
    cancel: "Close",
    saved: "Saved as version {v}",
    conflict: "Conflict: the workflow changed since version {v}. Reload it and apply your edit again.",
    reload: "Reload",
    invalidJson: "Invalid JSON: {e}",
    output: "Output",
    liveOutput: "Live LLM output",
    totals: "Total: {ms} ms · ${cost}",
    executions: "Past executions",
    noExecutions: "No executions yet",
    stats: "Stats",
    suggestions: "Suggestions",
    refresh: "Refresh",
    window: "Last {n} executions · {from} – {to} (UTC)",
    windowTruncated: "Newest {n} executions only · {from} – {to} (UTC)",
    fig_runs: "Runs",
    fig_success_rate: "Success rate",
    fig_p50: "p50 duration",
    fig_p95: "p95 duration",
    fig_cost_total: "Cost",
    fig_cost_per_run: "Cost per run",
    fig_tokens: "Tokens (prompt / completion)",
    fig_by_status: "By status",
    col_node: "Node",
    col_type: "Type",
    col_runs: "Runs",
    col_success: "Success",
    col_retries: "Retries",
    col_mean: "Mean",
    col_p95: "p95",
    col_cost: "Cost",
    noHistory: "No executions yet: run the workflow and suggestions will come from its history.",
    nothingToImprove: "Nothing to improve was found in these executions.",
    sev_info: "info",
    sev_warning: "warning",
    sev_critical: "critical",
    log: "Log",
    error: "Error",
    status: "Status",
    version: "version",
    changedElsewhere: "{by} saved version {v} of this workflow elsewhere.",
    run_running: "running",
    run_started: "running",
    run_completed: "completed",
    run_failed: "failed",
    run_cancelled: "cancelled",
    run_pending: "pending",
    needKey: "Paste an API key first (pilot up writes it to <data-dir>/admin.key).",
  },
  zh: {
    title: "πlot 工作流面板",
    apiKey: "API 密钥",
    saveKey: "保存密钥",
    keySaved: "密钥已保存",
    prompt: "描述你想要的工作流",
    promptPlaceholder: "例如：礼貌地回答客户的问题",
    complexity: "复杂度",
    simple: "简单",
    moderate: "中等",
    complex: "复杂",
    integrations: "集成（逗号分隔）",
    generate: "生成",
    generating: "正在生成工作流…",
    state_hidden: "就绪",
    state_generating: "生成中",
    state_editing: "编辑中",
    state_executing: "执行中",
    run: "运行",
    runInputs: "输入",
    editNode: "编辑节点",
    config: "配置（JSON）",
    save: "保存",
    cancel: "关闭",
    saved: "已保存为版本 {v}",
    conflict: "冲突：工作流在版本 {v} 之后已被修改。请重新加载后再次编辑。",
    reload: "重新加载",
    invalidJson: "JSON 无效：{e}",
    output: "输出",
    liveOutput: "LLM 实时输出",
    totals: "合计：{ms} 毫秒 · ${cost}",
    executions: "历史执行",
    noExecutions: "暂无执行记录",
    stats: "统计",
    suggestions: "建议",
    refresh: "刷新",
    window: "最近 {n} 次执行 · {from} – {to}（UTC）",
    windowTruncated: "仅最近 {n} 次执行 · {from} – {to}（UTC）",
    fig_runs: "执行次数",
    fig_success_rate: "成功率",
    fig_p50: "p50 耗时",
    fig_p95: "p95 耗时",
    fig_cost_total: "成本",
    fig_cost_per_run: "每次成本",
    fig_tokens: "Token（提示 / 生成）",
    fig_by_status: "按状态",
    col_node: "节点",
    col_type: "类型",
    col_runs: "次数",
    col_success: "成功率",
    col_retries: "重试",
    col_mean: "平均",
    col_p95: "p95",
    col_cost: "成本",
    noHistory: "暂无执行记录：运行工作流后，将根据执行历史给出建议。",
    nothingToImprove: "这些执行中没有发现需要改进之处。",
    sev_info: "提示",
    sev_warning: "警告",
    sev_critical: "严重",
    sg_bottleneck: "{node} 是瓶颈（占执行时间的 {share}）",
    sg_bottleneck_detail: "{node} 在 {n} 次尝试中共耗时 {total} 毫秒（平均 {mean} 毫秒，p95 {p95} 毫秒）。",
    sg_cost: "{node} 占成本的 {share}",
    sg_cost_try: "{node} 占成本的 {share}：可改用 {model}",
    sg_cost_detail: "{node} 使用 {model} 花费 {cost}；同样的 token 用 {suggested} 约需 {would}。",
    sg_cost_cheapest: "{node} 使用 {model} 花费 {cost}，已是该供应商最便宜的模型：可缩短提示词或降低 max_tokens。",
    sg_flaky: "{node} 有 {rate} 的尝试失败",
    sg_flaky_detail: "{node} 在 {n} 次尝试中失败 {failed} 次，重试 {retries} 次。",
    sg_add_retry: "建议添加重试策略（如 max_attempts: 3）。",
    sg_not_retryable: "这些失败不可重试（{kinds}）：请修正节点的配置或输入，重试无济于事。",
    sg_on_error: "建议将 on_error 设为 continue、error_branch 或 fallback，避免一次失败导致整个执行失败。",
    sg_branch: "{node} 的分支“{handle}”从未被选择",
    sg_branch_detail: "{node} 判断了 {n} 次，从未选择“{handle}”，因此 {targets} 从未运行：请检查条件，或删除这条无用的分支。",
    sg_skipped: "{node} 在每次执行中都被跳过",
    sg_skipped_detail: "在全部 {n} 次已结束的执行中都被跳过：通向它的分支从未被选择。",
    log: "日志",
    error: "错误",
    status: "状态",
    version: "版本",
    changedElsewhere: "{by} 在别处保存了此工作流的版本 {v}。",
    run_running: "运行中",
    run_started: "运行中",
    run_completed: "已完成",
    run_failed: "失败",
    run_cancelled: "已取消",
    run_pending: "等待中",
    needKey: "请先粘贴 API 密钥（pilot up 会写入 <data-dir>/admin.key）。",
  },
};

export const LANGS = Object.keys(STRINGS);

function detect() {
  const saved = localStorage.getItem("pilot.lang");
  if (saved && STRINGS[saved]) return saved;
  return (navigator.language || "en").toLowerCase().startsWith("zh") ? "zh" : "en";
}

let lang = detect();

export function getLang() {
  return lang;
}

export function setLang(next) {
  if (!STRINGS[next]) return;
  lang = next;
  localStorage.setItem("pilot.lang", next);
  applyStatic();
}

export function t(key, vars = {}) {
  const text = STRINGS[lang][key] ?? STRINGS.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ""));
}

// Every element with data-i18n (text) or data-i18n-placeholder gets the current language.
export function applyStatic(root = document) {
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-placeholder]")) {
    el.placeholder = t(el.dataset.i18nPlaceholder);
  }
}
