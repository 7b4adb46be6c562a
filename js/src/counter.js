// The live counter line: pure formatting, plus the DOM that shows it.

/**
 * @typedef {{output_tokens?: number, estimated?: boolean, tokens_per_second?: number|null,
 *   ttft?: number|null, elapsed?: number|null, cost?: number|null,
 *   input_tokens?: number|null}} Metrics
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

/** All counter parts as text, keyed by their element's class suffix. */
export function formatMetrics(m) {
  const metrics = m ?? {};
  return {
    tokens: formatTokens(metrics.output_tokens, metrics.estimated ?? true),
    tps: formatRate(metrics.tokens_per_second),
    ttft: formatTtft(metrics.ttft),
    elapsed: formatElapsed(metrics.elapsed),
    cost: formatCost(metrics.cost),
  };
}

const PARTS = ["tokens", "tps", "ttft", "elapsed", "cost"];

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
    const text = formatMetrics(metrics);
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
