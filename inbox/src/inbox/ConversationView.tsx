/**
 * The open conversation: its messages oldest to newest with a separator per day, older ones as
 * the agent scrolls up, each sent message's delivery state; marked read when opened; the
 * composer below.
 */
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from "react";
import type { Conversation, Message, Parley } from "@parley/sdk";

import { problem } from "../problems.ts";
import { go } from "../route.ts";
import { Composer, suggested } from "./Composer.tsx";
import { MessageBubble } from "./MessageBubble.tsx";
import { day, sourceLabel } from "./format.tsx";

const PAGE_SIZE = 30;

/** `found` merged into `shown` by id, in time order. */
function merged(shown: Message[], found: Message[]): Message[] {
  const byId = new Map(shown.map((m) => [m.id, m]));
  for (const message of found) byId.set(message.id, message);
  return [...byId.values()].sort((a, b) => a.sentAt.localeCompare(b.sentAt) || a.id.localeCompare(b.id));
}

interface Props {
  parley: Parley;
  conversationId: string;
  /** The conversation as the list shows it (undefined until the list has it). */
  conversation: Conversation | undefined;
  /** Bumped by each event about this conversation. */
  changes: number;
  onStep: (by: number) => void;
}

export function ConversationView({ parley, conversationId, conversation: listed, changes, onStep }: Props) {
  const [conversation, setConversation] = useState<Conversation | undefined>(listed);
  const [messages, setMessages] = useState<Message[]>([]);
  const [older, setOlder] = useState("");
  const [error, setError] = useState("");
  const scroller = useRef<HTMLOListElement>(null);
  const top = useRef<HTMLLIElement>(null);
  /** Where to keep the view when messages change: at the bottom, or as it was (older ones). */
  const keep = useRef<"bottom" | number>("bottom");

  /** The latest read of the newest messages: an earlier one answered later is stale. */
  const reads = useRef(0);
  const newest = useCallback(async () => {
    const read = ++reads.current;
    const [page, info] = await Promise.all([
      parley.messages.page(conversationId, { pageSize: PAGE_SIZE }),
      parley.conversations.info(conversationId)]);
    if (read !== reads.current) return;
    setMessages((shown) => merged(shown, page.data));
    setOlder((cursor) => cursor || page.nextCursor);
    setConversation(info);
    if (info.unreadCount > 0) await parley.conversations.markRead(conversationId);
  }, [parley, conversationId]);

  useEffect(() => {
    keep.current = "bottom";
    newest().catch((reason) => setError(problem(reason)));
  }, [newest, changes]);

  const loadOlder = useCallback(() => {
    if (!older) return;
    const list = scroller.current;
    keep.current = list ? list.scrollHeight - list.scrollTop : "bottom";
    parley.messages.page(conversationId, { cursor: older, pageSize: PAGE_SIZE }).then((page) => {
      setMessages((shown) => merged(shown, page.data));
      setOlder(page.nextCursor);
    }).catch((reason) => setError(problem(reason)));
  }, [parley, conversationId, older]);

  useEffect(() => {
    const seen = new IntersectionObserver((entries) => entries.some((e) => e.isIntersecting) && loadOlder(),
                                          { root: scroller.current });
    if (top.current) seen.observe(top.current);
    return () => seen.disconnect();
  }, [loadOlder]);

  useLayoutEffect(() => {
    const list = scroller.current;
    if (!list) return;
    list.scrollTop = keep.current === "bottom" ? list.scrollHeight : list.scrollHeight - keep.current;
  }, [messages]);

  // What a resend answers may be older than the delivery events by then: the newest read tells.
  const resend = (id: string) => {
    parley.messages.resend(id).then(newest).catch((reason) => setError(problem(reason)));
  };
  const lastFromContact = [...messages].reverse().find((m) => m.fromContact);
  const source = conversation?.channel?.source ?? "";
  let lastDay = "";
  return (
    <section className="conversation" aria-label="Conversation">
      <header>
        <button className="back" aria-label="Back to the list" onClick={() => go({ area: "inbox", id: "" })}>←</button>
        <h2>{conversation?.displayName ?? "…"}</h2>
        <span className="source">{sourceLabel(source)}</span>
        <span className="keys" aria-hidden="true">j/k</span>
        <button className="link" onClick={() => onStep(1)}>Next</button>
      </header>
      {error && <p role="alert" className="error">{error}</p>}
      <ol ref={scroller} className="messages">
        <li ref={top} className="older">{older ? "Loading older messages…" : "The conversation starts here."}</li>
        {messages.map((message) => {
          const thisDay = day(message.sentAt);
          const separator = thisDay !== lastDay;
          lastDay = thisDay;
          return [
            separator && <li key={`day-${thisDay}`} className="day" role="separator">{thisDay}</li>,
            <MessageBubble key={message.id} message={message} onResend={resend} />,
          ];
        })}
      </ol>
      <Composer parley={parley} conversationId={conversationId} source={source}
                suggestions={lastFromContact ? suggested(lastFromContact.metadata) : []}
                onSent={() => { keep.current = "bottom"; void newest(); }} />
    </section>
  );
}
