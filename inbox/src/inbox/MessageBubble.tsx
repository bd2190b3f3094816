/** One message as people see it, with its delivery state and, when sending failed, why and a
 *  button that sends it again. */
import type { Message } from "@parley/sdk";

import { contentParts, type Part } from "../content.ts";
import { when } from "./format.tsx";

function PartView({ part }: { part: Part }) {
  switch (part.kind) {
    case "text": return <p className="text">{part.text}</p>;
    case "image": return <a href={part.url} target="_blank" rel="noreferrer"><img className="media" src={part.url} alt={part.name || "image"} /></a>;
    case "video": return <video className="media" src={part.url} controls />;
    case "audio": return <audio src={part.url} controls />;
    case "file": return <a className="file" href={part.url} target="_blank" rel="noreferrer">📎 {part.name || "file"}</a>;
    case "replies": return <div className="replies">{part.options.map((o) => <span key={o} className="reply">{o}</span>)}</div>;
    case "postback": return <p className="postback">▸ {part.title}</p>;
    case "card": return (
      <div className="card">
        {part.imageUrl && <img src={part.imageUrl} alt="" />}
        <strong>{part.title}</strong>
        {part.subtitle && <p>{part.subtitle}</p>}
        {part.buttons.map((b) => <span key={b} className="button">{b}</span>)}
      </div>);
    case "json": return <pre className="json">{part.json}</pre>;
  }
}

/** Why sending failed: the source's own error. */
function failure(message: Message): string {
  const error = message.metadata.error;
  return typeof error === "string" ? error : "sending failed";
}

export function MessageBubble({ message, onResend }: { message: Message; onResend: (id: string) => void }) {
  const side = message.fromContact ? "in" : "out";
  return (
    <li className={`message ${side} ${message.deliveryState}`} data-message={message.id}
        data-state={message.deliveryState}>
      <div className="bubble">
        {contentParts(message.source, message.content).map((part, i) => <PartView key={i} part={part} />)}
      </div>
      <div className="meta">
        <time dateTime={message.sentAt}>{when(message.sentAt)}</time>
        {!message.fromContact && <span className="state">{message.deliveryState}</span>}
        {message.deliveryState === "failed" && <>
          <span className="error" role="alert">{failure(message)}</span>
          <button onClick={() => onResend(message.id)}>Resend</button>
        </>}
      </div>
    </li>
  );
}
