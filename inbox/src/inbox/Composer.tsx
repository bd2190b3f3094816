/** Writing an answer: text (Enter sends, Shift+Enter a new line), emoji, a file (uploaded to
 *  Parley's media store, then sent by its URL), the templates of the conversation's source, and
 *  the replies suggested for the contact's last message. */
import { useEffect, useRef, useState } from "react";
import type { JsonValue, Parley, TemplateView } from "@parley/sdk";

import { attachmentMessage, textMessage } from "../content.ts";
import { problem } from "../problems.ts";

const EMOJI = ["😀", "🙂", "😉", "😊", "🙏", "👍", "👋", "🎉", "❤️", "✅", "⏳", "📦"];

/** The suggestions of a message's metadata: `{<id>: {content}}`. */
export function suggested(metadata: Record<string, unknown>): { id: string; content: JsonValue; label: string }[] {
  const found = metadata.suggestions;
  if (typeof found !== "object" || found === null) return [];
  return Object.entries(found as Record<string, { content?: JsonValue }>).map(([id, s]) => {
    const content = s?.content ?? null;
    const text = typeof content === "object" && content !== null && !Array.isArray(content)
      ? content.text : content;
    return { id, content, label: typeof text === "string" ? text : id };
  });
}

interface Props {
  parley: Parley;
  conversationId: string;
  source: string;
  suggestions: ReturnType<typeof suggested>;
  onSent: () => void;
}

export function Composer({ parley, conversationId, source, suggestions, onSent }: Props) {
  const [text, setText] = useState("");
  const [templates, setTemplates] = useState<TemplateView[]>([]);
  const [picking, setPicking] = useState<"" | "emoji" | "templates">("");
  const [error, setError] = useState("");
  const box = useRef<HTMLTextAreaElement>(null);
  useEffect(() => {
    if (source) parley.templates.list(source).then(setTemplates).catch(() => undefined);
  }, [parley, source]);

  async function send(content: JsonValue) {
    setError("");
    try {
      await parley.messages.send(content, { conversationId });
      onSent();
    } catch (reason) {
      setError(problem(reason));
    }
  }
  async function attach(file: File) {
    setError("");
    try {
      const data = new Uint8Array(await file.arrayBuffer());
      const stored = await parley.api.media.uploadMedia({ body: { contentType: file.type, data } });
      await send(attachmentMessage(source, stored.mediaUrl, stored.contentType, file.name));
    } catch (reason) {
      setError(problem(reason));
    }
  }
  async function sendText() {
    const body = text.trim();
    if (!body) return;
    setText("");
    await send(textMessage(source, body));
    box.current?.focus();
  }
  return (
    <div className="composer">
      {suggestions.length > 0 && (
        <div className="suggestions" aria-label="Suggested replies">
          {suggestions.map((s) => <button key={s.id} onClick={() => send(s.content)}>{s.label}</button>)}
        </div>
      )}
      {picking === "emoji" && (
        <div className="picker" role="listbox" aria-label="Emoji">
          {EMOJI.map((e) => <button key={e} onClick={() => { setText((t) => t + e); setPicking(""); box.current?.focus(); }}>{e}</button>)}
        </div>
      )}
      {picking === "templates" && (
        <div className="picker templates" role="listbox" aria-label="Templates">
          {templates.length === 0 && <p>No templates for this source.</p>}
          {templates.map((t) => <button key={t.id} onClick={() => { setPicking(""); send(t.content); }}>{t.name}</button>)}
        </div>
      )}
      {error && <p role="alert" className="error">{error}</p>}
      <div className="write">
        <button aria-label="Emoji" onClick={() => setPicking(picking === "emoji" ? "" : "emoji")}>☺</button>
        <button aria-label="Templates" onClick={() => setPicking(picking === "templates" ? "" : "templates")}>▤</button>
        <label className="attach" aria-label="Attach a file">+
          <input type="file" hidden accept="image/*,audio/*,video/*,application/pdf,text/plain"
                 onChange={(e) => { const file = e.target.files?.[0]; e.target.value = ""; if (file) void attach(file); }} />
        </label>
        <textarea ref={box} rows={2} placeholder="Write an answer… (Enter sends)" aria-label="Answer"
                  value={text} onChange={(e) => setText(e.target.value)}
                  onKeyDown={(e) => { if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); void sendText(); } }} />
        <button className="primary" onClick={() => void sendText()} disabled={!text.trim()}>Send</button>
      </div>
    </div>
  );
}
