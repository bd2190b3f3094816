/**
 * The Inbox: the conversation list beside the open conversation and its contact, kept live by
 * one event stream. A new message moves its conversation to the top (when it still matches the
 * filters), without a reload.
 */
import { useCallback, useEffect, useRef, useState } from "react";
import type { Conversation, Parley, Tag } from "@parley/sdk";

import { filterQuery, NO_FILTERS, type ListFilters } from "../filters.ts";
import { problem } from "../problems.ts";
import { go } from "../route.ts";
import { ContactPanel } from "./ContactPanel.tsx";
import { ConversationList } from "./ConversationList.tsx";
import { ConversationView } from "./ConversationView.tsx";

const PAGE_SIZE = 25;
/** Events that change what the list shows of a conversation. */
const LIST_EVENTS = ["message.created", "message.updated", "conversation.updated", "metadata.updated"];

/** The conversation an event is about, "" when none. */
function conversationOf(type: string, payload: Record<string, unknown>): string {
  if (type.startsWith("message.")) return String(payload.conversation_id ?? "");
  if (type === "conversation.updated") return String(payload.id ?? "");
  if (type === "metadata.updated" && payload.subject === "conversation") return String(payload.identifier ?? "");
  return "";
}

export function Inbox({ parley, conversationId }: { parley: Parley; conversationId: string }) {
  const [filters, setFilters] = useState<ListFilters>(NO_FILTERS);
  const [conversations, setConversations] = useState<Conversation[]>([]);
  const [cursor, setCursor] = useState("");
  const [total, setTotal] = useState(0);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState("");
  const [tags, setTags] = useState<Tag[]>([]);
  /** Bumped by every event of the open conversation: its view reads it again. */
  const [changes, setChanges] = useState(0);
  const query = filterQuery(filters);
  const queryRef = useRef(query);
  queryRef.current = query;
  const conversationIdRef = useRef(conversationId);
  conversationIdRef.current = conversationId;

  const loadTags = useCallback(() => { parley.tags.list().then(setTags).catch(() => undefined); }, [parley]);
  useEffect(loadTags, [loadTags]);

  // The first page whenever the filters change.
  useEffect(() => {
    let current = true;
    setLoading(true);
    setError("");
    parley.conversations.page(query, { pageSize: PAGE_SIZE }).then((page) => {
      if (!current) return;
      setConversations(page.data);
      setCursor(page.nextCursor);
      setTotal(page.total);
    }).catch((reason) => current && setError(problem(reason)))
      .finally(() => current && setLoading(false));
    return () => { current = false; };
  }, [parley, query]);

  const more = useCallback(() => {
    if (!cursor || loading) return;
    setLoading(true);
    parley.conversations.page(query, { cursor, pageSize: PAGE_SIZE }).then((page) => {
      setConversations((shown) => [...shown, ...page.data.filter((c) => !shown.some((s) => s.id === c.id))]);
      setCursor(page.nextCursor);
    }).catch((reason) => setError(problem(reason))).finally(() => setLoading(false));
  }, [parley, query, cursor, loading]);

  /** Show `id` as it is now: at the top when it has news and matches the filters, else gone. */
  const refresh = useCallback(async (id: string, moved: boolean) => {
    const wanted = queryRef.current;
    const found = await parley.conversations.page(wanted ? `id:${id} AND (${wanted})` : `id:${id}`,
                                                  { pageSize: 1 });
    if (wanted !== queryRef.current) return;
    const [conversation] = found.data;
    setConversations((shown) => {
      const rest = shown.filter((c) => c.id !== id);
      if (!conversation) return rest;
      const at = shown.findIndex((c) => c.id === id);
      if (moved || at < 0) return [conversation, ...rest];
      return shown.map((c) => (c.id === id ? conversation : c));
    });
  }, [parley]);

  // One live stream for the whole Inbox.
  useEffect(() => {
    const stop = new AbortController();
    (async () => {
      for await (const event of parley.events.subscribe({ types: [...LIST_EVENTS, "tag.updated"], signal: stop.signal })) {
        if (event.type === "tag.updated") { loadTags(); continue; }
        const id = conversationOf(event.type, (event.payload ?? {}) as Record<string, unknown>);
        if (!id) continue;
        if (id === conversationIdRef.current) setChanges((n) => n + 1);
        refresh(id, event.type === "message.created").catch(() => undefined);
      }
    })().catch(() => undefined);
    return () => stop.abort();
  }, [parley, refresh, loadTags]);
  const open = conversations.find((c) => c.id === conversationId);
  const step = useCallback((by: number) => {
    const at = conversations.findIndex((c) => c.id === conversationId);
    const next = conversations[Math.max(0, Math.min(conversations.length - 1, at + by))];
    if (next) go({ area: "inbox", id: next.id });
  }, [conversations, conversationId]);

  return (
    <main className={`inbox ${conversationId ? "has-open" : ""}`}>
      <ConversationList conversations={conversations} total={total} filters={filters}
                        onFilters={setFilters} openId={conversationId} tags={tags} parley={parley}
                        loading={loading} error={error} hasMore={Boolean(cursor)} onMore={more}
                        onStep={step} />
      {conversationId
        ? <ConversationView key={conversationId} parley={parley} conversationId={conversationId}
                            conversation={open} changes={changes} onStep={step} />
        : <section className="empty-view"><p>Choose a conversation.</p></section>}
      {conversationId && <ContactPanel key={`contact-${conversationId}`} parley={parley}
                                       conversationId={conversationId} changes={changes} tags={tags}
                                       onTagsChanged={loadTags} />}
    </main>
  );
}
