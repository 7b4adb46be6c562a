// Markdown rendering for untrusted model output, and the incremental renderer.
//
// createRenderer() -> {render(src) -> sanitized HTML string}: markdown-it (html: false,
// linkify), code highlighted by highlight.js (a fixed set of common languages, no
// auto-detection), `$$`/`$` math by KaTeX, every link opened in a new tab with
// rel="noopener noreferrer nofollow", images only from inline data (others become links), and
// DOMPurify over the result as defence in depth.
//
// IncrementalMarkdown keeps closed blocks as DOM nodes rendered once; only the open block
// is repaired (repair.js) and re-rendered on each update.

import * as katexPluginModule from "@vscode/markdown-it-katex";
import DOMPurify from "dompurify";
import MarkdownIt from "markdown-it";
import { BlockSplitter } from "./blocks.js";
import { FrameRender } from "./frame.js";
import { highlight, languageOf } from "./highlight.js";
import { repairBlock } from "./repair.js";

/** Closed blocks per `.llmw-group` container (see _currentGroup). */
const GROUP_SIZE = 32;

const katexPlugin = katexPluginModule.default?.default ?? katexPluginModule.default;

const LINK_REL = "noopener noreferrer nofollow";
/** Images the page may show: inline data only. Anything else would be fetched by the browser. */
const INLINE_IMAGE_RE = /^data:image\/(?:png|jpe?g|gif|webp);/i;
const REMOTE_IMAGE_TITLE =
  "Image not loaded: answers never make the browser fetch a URL by themselves. Click to open it.";
const SANITIZE_CONFIG = {
  ADD_ATTR: ["target", "encoding"],
  ADD_TAGS: ["semantics", "annotation"], // KaTeX's MathML keeps its TeX source
  FORBID_TAGS: ["style", "form", "input", "textarea", "select", "button", "iframe"],
  ALLOWED_URI_REGEXP: /^(?:(?:https?|mailto|tel):|[^a-z]|[a-z+.-]+(?:[^a-z+.\-:]|$))/i,
};

/**
 * Build the markdown renderer.
 * @param {{window?: Window}} [options] window for DOMPurify (defaults to the global one);
 *   without any window (plain node) the DOMPurify pass is skipped.
 */
export function createRenderer(options = {}) {
  const md = new MarkdownIt({ html: false, linkify: true, typographer: false });
  md.renderer.rules.fence = renderFence;
  md.use(katexPlugin, { throwOnError: false, errorColor: "#888", enableFencedBlocks: true });
  const defaultLinkOpen =
    md.renderer.rules.link_open ??
    ((tokens, idx, opts, _env, self) => self.renderToken(tokens, idx, opts));
  md.renderer.rules.link_open = (tokens, idx, opts, env, self) => {
    tokens[idx].attrSet("target", "_blank");
    tokens[idx].attrSet("rel", LINK_REL);
    return defaultLinkOpen(tokens, idx, opts, env, self);
  };
  // A remote (or relative) image in model output would be fetched as soon as it is drawn: a
  // prompt injection could put data in its URL. Such images become links the user may click.
  const defaultImage = md.renderer.rules.image;
  md.renderer.rules.image = (tokens, idx, opts, env, self) => {
    const token = tokens[idx];
    const src = token.attrGet("src") ?? "";
    if (INLINE_IMAGE_RE.test(src)) return defaultImage(tokens, idx, opts, env, self);
    const alt = self.renderInlineAsText(token.children ?? [], opts, env) || "image";
    return (
      `<a class="llmw-image-link" href="${escapeHtml(src)}" target="_blank" rel="${LINK_REL}" ` +
      `title="${escapeHtml(REMOTE_IMAGE_TITLE)}">🖼 ${escapeHtml(alt)}</a>`
    );
  };
  const purify = makePurifier(options.window ?? globalThis.window);
  return {
    md,
    /**
     * Render markdown source to sanitized HTML. `env` is markdown-it's: after the call,
     * `env.references` holds the link reference definitions the source has.
     */
    render(src, env = {}) {
      const html = md.render(src, env);
      return purify ? purify.sanitize(html, SANITIZE_CONFIG) : html;
    },
  };
}

function makePurifier(win) {
  if (!win?.document) return null;
  const purify = DOMPurify(win);
  purify.addHook("afterSanitizeAttributes", (node) => {
    if (node.tagName === "A") {
      node.setAttribute("target", "_blank");
      node.setAttribute("rel", LINK_REL);
    }
  });
  return purify;
}

function renderFence(tokens, idx, _options, _env, _self) {
  const token = tokens[idx];
  const lang = languageOf(token.info);
  const highlighted = highlight(token.content, lang);
  const body = highlighted ?? escapeHtml(token.content);
  const langLabel = lang ? `<span class="llmw-lang">${escapeHtml(lang)}</span>` : "<span></span>";
  const codeClass = highlighted ? `hljs language-${escapeHtml(lang)}` : "hljs";
  // A placeholder for the Copy button: the sanitizer forbids <button> in rendered output;
  // the view puts a real button (button.llmw-copy) into each slot.
  return (
    `<div class="llmw-code"><div class="llmw-code-head">${langLabel}` +
    `<span class="llmw-copy-slot"></span></div>` +
    `<pre><code class="${codeClass}">${body}</code></pre></div>\n`
  );
}

/** A text as markdown-it normalizes a reference label (whitespace folded, case folded). */
function normalizeLabel(text) {
  return text.replace(/\s+/g, " ").toLowerCase().toUpperCase();
}

/** Whether a render's env saw a link reference definition. */
function hasReferences(env) {
  return env.references !== undefined && Object.keys(env.references).length > 0;
}

function escapeHtml(s) {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * Markdown that grows by appends. Closed blocks are rendered once; the open block is
 * repaired and re-rendered at most once per animation frame.
 */
export class IncrementalMarkdown {
  /**
   * @param {{document?: Document, renderer?: ReturnType<typeof createRenderer>,
   *   schedule?: ((cb: () => void) => unknown) | null, onRender?: (el: Element) => void}} [options]
   *   schedule: how to defer the open block's re-render (default requestAnimationFrame;
   *   null = render synchronously). onRender is called for each element whose HTML changed.
   */
  constructor(options = {}) {
    this.document = options.document ?? globalThis.document;
    this.renderer = options.renderer ?? createRenderer({ window: this.document.defaultView });
    this._frame = new FrameRender(() => this.flush(), options.schedule);
    this.onRender = options.onRender ?? (() => {});
    this.element = this.document.createElement("div");
    this.element.className = "llmw-markdown";
    // Held: the text is kept as one string and nothing is split or drawn (the answer is shown
    // another way, as a structured object), so a hidden view costs no markdown renders.
    this._holding = false;
    this._held = "";
    this._heldFinal = false;
    this._reset();
  }

  _reset() {
    this._splitter = new BlockSplitter();
    this._blockHtml = []; // HTML of closed blocks
    this._openEl = null;
    this._openHtml = "";
    this._frame.pending = false;
    this._final = false;
    this._references = false; // a closed block defines a link reference
    this._refs = {}; // every definition of the closed blocks, the first of a label winning
    this._blocks = []; // closed blocks: {src, el}, to re-render those that use a definition
    this.element.replaceChildren();
    this._group = null;
  }

  /** The whole markdown source so far. */
  get text() {
    return this._holding ? this._held : this._splitter.text;
  }

  get length() {
    return this._holding ? this._held.length : this._splitter.length;
  }

  /**
   * Hold (true) or resume (false) rendering. Holding drops what was drawn and keeps only the
   * text; resuming draws the text held meanwhile, finalized if it was finalized.
   */
  setHeld(held) {
    if (held === this._holding) return;
    if (held) {
      const text = this._splitter.text;
      const final = this._final;
      this._reset();
      this._holding = true;
      this._held = text;
      this._heldFinal = final;
      return;
    }
    const text = this._held;
    const final = this._heldFinal;
    this._holding = false;
    this._held = "";
    this._heldFinal = false;
    this._reset();
    this.append(text);
    if (final) this.finalize();
  }

  /** HTML of everything rendered (closed blocks + open block); for tests. */
  get html() {
    return this._blockHtml.join("") + this._openHtml;
  }

  /** Append streamed text. */
  append(chunk) {
    if (!chunk) return;
    if (this._holding) {
      this._held += chunk;
      this._heldFinal = false;
      return;
    }
    if (this._final) this._final = false;
    for (const block of this._splitter.append(chunk)) this._closeBlock(block);
    this._frame.request();
  }

  /** Replace the text (cheap when it only extends the current text). */
  setText(text) {
    if (this._holding) {
      if (text !== this._held) this._heldFinal = false;
      this._held = text;
      return;
    }
    const current = this._splitter.length;
    if (text.length >= current && text.startsWith(this._splitter.text)) {
      this.append(text.slice(current));
      return;
    }
    this._reset();
    this.append(text);
  }

  /**
   * The text is complete: render the last block without repairs. If any block defines a link
   * reference (definitions reach across blocks), the blocks that may use one are rendered
   * again knowing every definition: only those whose text holds a defined label, so the end
   * costs what those blocks cost, not a render of the whole answer. markdown-it itself says
   * which blocks define one, so every form counts: a definition over several lines, indented,
   * or inside a blockquote or a list item.
   */
  finalize() {
    if (this._holding) {
      this._heldFinal = true;
      return;
    }
    this._final = true;
    this._frame.pending = false;
    const env = {};
    const html = this._renderOpen(env);
    if (hasReferences(env)) this._addReferences(env.references);
    if (!this._references) {
      this._setOpenHtml(html);
      return;
    }
    const labels = Object.keys(this._refs);
    const uses = (src) => {
      const flat = normalizeLabel(src);
      return labels.some((label) => flat.includes(label));
    };
    this._blocks.forEach((block, i) => {
      if (!uses(block.src)) return;
      const again = this.renderer.render(block.src, { references: { ...this._refs } });
      if (again === this._blockHtml[i]) return;
      this._blockHtml[i] = again;
      block.el.innerHTML = again;
      this.onRender(block.el);
    });
    const open = this._splitter.openBlock;
    this._setOpenHtml(
      open && uses(open) ? this.renderer.render(open, { references: { ...this._refs } }) : html,
    );
  }

  _addReferences(references) {
    this._references = true;
    for (const [label, target] of Object.entries(references)) {
      if (!(label in this._refs)) this._refs[label] = target;
    }
  }

  /** Render a pending update now (tests, benchmarks). */
  flush() {
    if (!this._frame.pending || this._holding) return;
    this._frame.pending = false;
    this._setOpenHtml(this._renderOpen());
  }

  _renderOpen(env = {}) {
    const src = this._splitter.openBlock;
    if (!src) return "";
    return this.renderer.render(this._final ? src : repairBlock(src), env);
  }

  _closeBlock(block) {
    const env = {};
    const html = this.renderer.render(block, env);
    if (hasReferences(env)) this._addReferences(env.references);
    const el = this._openEl ?? this._newBlockElement();
    if (html !== this._openHtml || !this._openEl) {
      el.innerHTML = html;
      this.onRender(el);
    }
    this._blockHtml.push(html);
    this._blocks.push({ src: block, el });
    this._openEl = null;
    this._openHtml = "";
  }

  _setOpenHtml(html) {
    if (html === this._openHtml && this._openEl) return;
    if (!this._openEl) this._openEl = this._newBlockElement();
    this._openEl.innerHTML = html;
    this._openHtml = html;
    this.onRender(this._openEl);
  }

  _newBlockElement() {
    const el = this.document.createElement("div");
    el.className = "llmw-block";
    this._currentGroup().appendChild(el);
    return el;
  }

  /**
   * Blocks live in groups of GROUP_SIZE. Off-screen groups are skipped by the browser
   * (`content-visibility: auto`), so the page lays out a few dozen groups rather than
   * thousands of blocks, and an update costs the same at 1 KB and at 500 KB.
   */
  _currentGroup() {
    if (!this._group || this._group.childElementCount >= GROUP_SIZE) {
      this._group = this.document.createElement("div");
      this._group.className = "llmw-group";
      this.element.appendChild(this._group);
    }
    return this._group;
  }
}
