// Standalone entry of the chat's input box, built to src/llmwidgets/static/chat_input.{js,css}.
// The chat itself draws the box from the shared bundle (js/src/containers.js); this entry and
// its stylesheet stay for packaging that lists them.

import "./chat.css";
import { renderChatInput } from "./chat-box.js";

export { renderChatInput };
export default { render: renderChatInput };
