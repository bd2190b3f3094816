// The widget's DOM: a bubble button and a panel with the message list and an input.
// Everything is prefixed `parley-chat-` and styled by one injected <style> so that it
// neither breaks nor is broken by the host page. Message content only ever reaches
// the DOM through textContent: it comes from strangers (XSS).

import type { Message } from "./api";

const CSS =
  "#parley-chat-bubble{position:fixed;right:20px;bottom:20px;width:56px;height:56px;margin:0;padding:0;border:0;border-radius:50%;" +
  "background:#2563eb;color:#fff;cursor:pointer;box-shadow:0 2px 10px rgba(0,0,0,.25);z-index:2147483647;" +
  "display:flex;align-items:center;justify-content:center}" +
  "#parley-chat-panel{position:fixed;right:20px;bottom:88px;width:340px;max-width:calc(100vw - 40px);height:460px;" +
  "max-height:calc(100vh - 110px);flex-direction:column;background:#fff;color:#111;border-radius:12px;overflow:hidden;" +
  "box-shadow:0 4px 24px rgba(0,0,0,.25);z-index:2147483647;font:14px/1.4 system-ui,sans-serif;text-align:left}" +
  "#parley-chat-panel *{box-sizing:border-box;margin:0}" +
  ".parley-chat-header{padding:12px 16px;background:#2563eb;color:#fff;font-weight:600}" +
  "#parley-chat-messages{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:6px}" +
  ".parley-chat-message{max-width:80%;padding:8px 12px;border-radius:14px;white-space:pre-wrap;overflow-wrap:anywhere}" +
  ".parley-chat-message[data-from=contact]{align-self:flex-end;background:#2563eb;color:#fff}" +
  ".parley-chat-message[data-from=agent]{align-self:flex-start;background:#f1f1f4;color:#111}" +
  ".parley-chat-message[data-state=failed]{opacity:.6}" +
  ".parley-chat-error{padding:4px 12px;color:#b91c1c;font-size:12px}" +
  ".parley-chat-form{display:flex;gap:8px;padding:10px;border-top:1px solid #e5e5e5}" +
  "#parley-chat-input{flex:1;min-width:0;padding:8px 10px;border:1px solid #ccc;border-radius:8px;background:#fff;color:#111;font:inherit}" +
  "#parley-chat-send{padding:8px 14px;border:0;border-radius:8px;background:#2563eb;color:#fff;cursor:pointer;font:inherit}";

// A static icon (no message content), so innerHTML is safe here.
const ICON =
  '<svg width="26" height="26" viewBox="0 0 24 24" fill="currentColor" aria-hidden="true">' +
  '<path d="M6 4h12a3 3 0 0 1 3 3v8a3 3 0 0 1-3 3h-8l-5 4v-4.2A3 3 0 0 1 3 15V7a3 3 0 0 1 3-3z"/></svg>';

/** What a message shows: its text, a bare string as is, anything else as JSON. */
export function messageText(content: unknown): string {
  if (typeof content === "string") return content;
  if (content && typeof content === "object") {
    const text = (content as { text?: unknown }).text;
    if (typeof text === "string") return text;
  }
  return JSON.stringify(content) ?? "";
}

/** Sort key: sent_at as a time; a missing or odd one sorts last rather than first. */
function time(m: Message): number {
  const t = Date.parse(m.sent_at);
  return isNaN(t) ? Infinity : t;
}

export interface View {
  /** Adds messages, or replaces those already shown with the same id. */
  upsert(messages: Message[]): void;
  /** Forgets every message (when the conversation changed). */
  clear(): void;
  /** Shows the error line, or removes it for "". */
  error(text: string): void;
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> = {}): HTMLElementTagNameMap[K] {
  return Object.assign(document.createElement(tag), props);
}

/**
 * Builds the widget into document.body (which must exist). `onSend` answers whether
 * the text was sent; the input keeps the text until then, so nothing typed is lost.
 */
export function mountView(onSend: (text: string) => Promise<boolean>): View {
  const shown = new Map<string, { message: Message; node: HTMLElement }>();

  const bubble = el("button", { id: "parley-chat-bubble", type: "button", title: "Chat", innerHTML: ICON });
  bubble.setAttribute("aria-label", "Open chat");
  bubble.setAttribute("aria-expanded", "false");
  const panel = el("div", { id: "parley-chat-panel" });
  panel.setAttribute("role", "dialog");
  panel.setAttribute("aria-label", "Chat");
  panel.style.display = "none";
  const list = el("div", { id: "parley-chat-messages" });
  list.setAttribute("aria-live", "polite");
  const input = el("input", { id: "parley-chat-input", type: "text", placeholder: "Type a message…", autocomplete: "off" });
  const sendButton = el("button", { id: "parley-chat-send", type: "button", textContent: "Send" });
  const form = el("div", { className: "parley-chat-form" });
  form.append(input, sendButton);
  panel.append(el("div", { className: "parley-chat-header", textContent: "Chat" }), list, form);
  let errorLine: HTMLElement | null = null;

  const scrollDown = () => {
    list.scrollTop = list.scrollHeight;
  };

  bubble.addEventListener("click", () => {
    const open = panel.style.display === "none";
    panel.style.display = open ? "flex" : "none";
    bubble.setAttribute("aria-expanded", String(open));
    if (open) {
      // A hidden list has no height to scroll: catch up now that it is visible.
      scrollDown();
      input.focus();
    }
  });

  // One send at a time, so a double Enter does not send the text twice.
  let busy = false;
  const submit = async () => {
    const text = input.value.trim();
    if (busy || !text) return;
    busy = true;
    try {
      // Only clear what was sent, not what was typed in the meantime.
      if ((await onSend(text)) && input.value.trim() === text) input.value = "";
    } finally {
      busy = false;
    }
  };
  sendButton.addEventListener("click", () => void submit());
  input.addEventListener("keydown", (e) => {
    // isComposing: Enter that confirms an IME composition is not a send.
    if (e.key === "Enter" && !e.isComposing) {
      e.preventDefault();
      void submit();
    }
  });

  const style = el("style", { textContent: CSS });
  (document.head || document.body).appendChild(style);
  document.body.append(bubble, panel);

  return {
    upsert(messages) {
      for (const message of messages) {
        if (!message || typeof message.id !== "string") continue;
        let node = shown.get(message.id)?.node;
        if (!node) {
          node = el("div", { className: "parley-chat-message" });
          node.dataset.id = message.id;
        }
        node.dataset.from = message.from_contact ? "contact" : "agent";
        if (message.delivery_state) node.dataset.state = message.delivery_state;
        node.textContent = messageText(message.content);
        shown.set(message.id, { message, node });
      }
      // Few messages (authenticate returns at most 100): re-appending in order is
      // simpler than finding insertion points, and append moves nodes in place.
      const ordered = [...shown.values()].sort((a, b) => time(a.message) - time(b.message));
      list.append(...ordered.map((entry) => entry.node));
      scrollDown();
    },
    clear() {
      shown.clear();
      list.textContent = "";
    },
    error(text) {
      if (!text) {
        errorLine?.remove();
        errorLine = null;
        return;
      }
      if (!errorLine) {
        errorLine = el("div", { className: "parley-chat-error" });
        errorLine.setAttribute("role", "alert");
        panel.insertBefore(errorLine, form);
      }
      errorLine.textContent = text;
    },
  };
}
