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
