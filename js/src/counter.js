// The live counter line: pure formatting, plus the DOM that shows it.

/**
 * @typedef {{output_tokens?: number, estimated?: boolean, tokens_per_second?: number|null,
 *   ttft?: number|null, elapsed?: number|null, cost?: number|null,
 *   input_tokens?: number|null, thinking_tokens?: number|null,
 *   thinking_estimated?: boolean|null, thinking_ttft?: number|null,
 *   thinking_time?: number|null}} Metrics
 * `output_tokens` counts the thinking too (it is what is billed); `ttft` is the first visible
 * token, `thinking_ttft` the first thinking one.
 */

/** "~123 tokens" while estimated, "123 tokens" once exact. */
export function formatTokens(n, estimated) {
  const count = Math.max(0, Math.round(n ?? 0));
  return `${estimated ? "~" : ""}${count} ${count === 1 ? "token" : "tokens"}`;
}

/** "45.2 tok/s", or "" when unknown. */
export function formatRate(tps) {
  return isNumber(tps) ? `${tps.toFixed(1)} tok/s` : "";
}

/** "TTFT 0.31 s", or "". */
export function formatTtft(seconds) {
  return isNumber(seconds) ? `TTFT ${seconds.toFixed(2)} s` : "";
}

/** "elapsed 2.4 s", or "". */
export function formatElapsed(seconds) {
  return isNumber(seconds) ? `elapsed ${seconds.toFixed(1)} s` : "";
}

/** "$0.0012" (enough digits to be non-zero for tiny costs), or "". */
export function formatCost(usd) {
  if (!isNumber(usd)) return "";
  if (usd === 0) return "$0";
  if (usd >= 1) return `$${usd.toFixed(2)}`;
  if (usd >= 0.0001) return `$${usd.toFixed(4)}`;
  return `$${usd.toPrecision(2)}`;
}

/** "~840 thinking", or "" for an answer without thinking. */
export function formatThinkingTokens(n, estimated) {
  if (!isNumber(n)) return "";
  return `${estimated ? "~" : ""}${Math.max(0, Math.round(n))} thinking`;
}

/** "first thought 0.12 s", or "". */
export function formatThinkingTtft(seconds) {
  return isNumber(seconds) ? `first thought ${seconds.toFixed(2)} s` : "";
}

/** "12 s" (one decimal under 10 s), as the thinking summary says it. */
export function formatSeconds(seconds) {
  return `${seconds < 10 ? seconds.toFixed(1) : seconds.toFixed(0)} s`;
}

/** The thinking parts of the counter; empty strings for an answer without thinking. */
export function formatThinking(m) {
  const metrics = m ?? {};
  return {
    "thinking-tokens": formatThinkingTokens(
      metrics.thinking_tokens,
      metrics.thinking_estimated ?? true,
    ),
    "thinking-ttft": formatThinkingTtft(metrics.thinking_ttft),
  };
}

/** All counter parts as text, keyed by their element's class suffix. */
export function formatMetrics(m) {
  const metrics = m ?? {};
  // The answer's own tokens: thinking is counted apart (formatThinking).
  const thinking = isNumber(metrics.thinking_tokens) ? metrics.thinking_tokens : 0;
  return {
    tokens: formatTokens((metrics.output_tokens ?? 0) - thinking, metrics.estimated ?? true),
    tps: formatRate(metrics.tokens_per_second),
    ttft: formatTtft(metrics.ttft),
    elapsed: formatElapsed(metrics.elapsed),
    cost: formatCost(metrics.cost),
  };
}

const PARTS = ["tokens", "thinking-tokens", "tps", "ttft", "thinking-ttft", "elapsed", "cost"];

/** The `.llmw-counter` element with one child per part; returns {element, update}. */
export function createCounter(document) {
  const element = document.createElement("div");
  element.className = "llmw-counter";
  element.setAttribute("aria-live", "off");
  const spans = {};
  for (const part of PARTS) {
    const span = document.createElement("span");
    span.className = `llmw-${part}`;
    element.appendChild(span);
    spans[part] = span;
  }
  /** @param {Metrics} metrics */
  function update(metrics) {
    const text = { ...formatMetrics(metrics), ...formatThinking(metrics) };
    for (const part of PARTS) {
      const span = spans[part];
      if (span.textContent !== text[part]) span.textContent = text[part];
      span.hidden = text[part] === "";
    }
    const input = metrics?.input_tokens;
    element.title = isNumber(input) ? `input: ${input} tokens` : "";
  }
  update({});
  return { element, update };
}

function isNumber(x) {
  return typeof x === "number" && Number.isFinite(x);
}
