// What the prompt sent besides its words, above the answer: each image as a small thumbnail and
// each table as a collapsed preview, so a reader sees which figure or DataFrame the answer is
// about. The kernel makes the items (prompt_objects.sent_preview): thumbnails are data: URLs it
// drew itself, tables are markdown shown as plain text. Nothing here is fetched.

/**
 * @typedef {{kind: "image", label: string, src?: string, info?: string}
 *   | {kind: "table", label: string, text: string}} SentItem
 */

/** Only images the kernel encoded inline are shown: a src that is anything else is dropped. */
export function safeThumbnail(src) {
  return typeof src === "string" && /^data:image\/(png|jpeg|gif|webp);base64,/.test(src) ? src : "";
}

export class SentPreview {
  /** @param {Document} doc */
  constructor(doc) {
    this.document = doc;
    this.element = doc.createElement("div");
    this.element.className = "llmw-sent";
    this.element.hidden = true;
    /** @type {SentItem[]} */
    this.items = [];
  }

  /** Show these items (none: the strip is hidden). */
  setItems(items) {
    this.items = Array.isArray(items) ? items : [];
    this.element.replaceChildren(...this.items.map((item) => this._item(item)).filter(Boolean));
    this.element.hidden = this.element.childElementCount === 0;
  }

  _item(item) {
    const doc = this.document;
    const label = String(item?.label ?? "");
    if (item?.kind === "image") {
      const figure = doc.createElement("figure");
      figure.className = "llmw-sent-image";
      figure.title = [label, item.info].filter(Boolean).join(" · ");
      const src = safeThumbnail(item.src);
      if (src) {
        const img = doc.createElement("img");
        img.src = src;
        img.alt = label;
        figure.appendChild(img);
      }
      const caption = doc.createElement("figcaption");
      caption.textContent = label;
      figure.appendChild(caption);
      return figure;
    }
    if (item?.kind === "table") {
      const details = doc.createElement("details");
      details.className = "llmw-sent-table";
      const summary = doc.createElement("summary");
      summary.textContent = label;
      const pre = doc.createElement("pre");
      pre.textContent = String(item.text ?? "");
      details.append(summary, pre);
      return details;
    }
    return null;
  }

  destroy() {
    this.element.remove();
  }
}
