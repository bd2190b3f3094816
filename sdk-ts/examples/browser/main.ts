/**
 * The browser example (index.html): the newest conversations with their unread counts, then every
 * new message as it arrives, live from the event stream. `npm run example` bundles it into
 * dist/main.js.
 */
import { Parley, messageEvent, type Conversation } from "../../src/index.js";

const form = document.querySelector<HTMLFormElement>("#connect")!;
const conversations = document.querySelector<HTMLUListElement>("#conversations")!;
const arriving = document.querySelector<HTMLUListElement>("#events")!;
const error = document.querySelector<HTMLParagraphElement>("#error")!;
let following: AbortController | undefined;

function item(text: string, className = ""): HTMLLIElement {
  const li = document.createElement("li");
  li.textContent = text;
  li.className = className;
  return li;
}

function describe(conversation: Conversation): HTMLLIElement {
  const name = conversation.displayName || conversation.id;
  const last = conversation.lastMessage?.text ?? "";
  return item(`${name} (${conversation.unreadCount} unread): ${last}`,
              conversation.unreadCount > 0 ? "unread" : "");
}

async function show(parley: Parley, signal: AbortSignal): Promise<void> {
  const page = await parley.conversations.page("", { pageSize: 20 });
  conversations.replaceChildren(...page.data.map(describe));
  document.body.dataset.state = "listed";
  for await (const event of parley.events.subscribe({ types: ["message.created"], signal })) {
    const found = messageEvent(event);
    if (found) {
      arriving.prepend(item(`${found.conversationId}: ${found.message.text ?? "(media)"}`));
    }
  }
}

form.addEventListener("submit", (submitted) => {
  submitted.preventDefault();
  following?.abort();
  following = new AbortController();
  error.textContent = "";
  const baseUrl = document.querySelector<HTMLInputElement>("#base-url")!.value;
  const token = document.querySelector<HTMLInputElement>("#token")!.value;
  show(new Parley({ baseUrl, token }), following.signal).catch((failed: Error) => {
    error.textContent = failed.message;
  });
});
