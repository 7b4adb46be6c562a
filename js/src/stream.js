// The shared bundle (src/llmwidgets/static/stream.js): its default export draws a StreamWidget,
// `views` the chat and the comparison (js/src/containers.js); js/src/loader.js picks one by the
// model's `_llmw_view`.

import { bindStreamView } from "./stream-binding.js";

export { BlockSplitter, splitBlocks } from "./blocks.js";
export { ChildStreams, renderChat, renderCompare, views } from "./containers.js";
export { createRenderer, IncrementalMarkdown } from "./markdown.js";
export { repairBlock } from "./repair.js";
export { hideSavedCopy } from "./saved-copy.js";
export { bindStreamView } from "./stream-binding.js";
export { copyText, createStreamView, StreamView } from "./stream-view.js";
export { StructuredView } from "./structured.js";
export { ToolCard } from "./tool-card.js";

export default {
  render({ model, el }) {
    const { cleanup } = bindStreamView(model, el);
    return cleanup;
  },
};
