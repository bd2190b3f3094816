/**
 * The conversation list: search by name, filters that combine (unread, open or closed, source,
 * channel, tag), unread badges, newest activity first, more as it scrolls.
 */
import { useEffect, useRef, useState } from "react";
import type { Channel, Conversation, Parley, Tag } from "@parley/sdk";

import type { ListFilters } from "../filters.ts";
import { go } from "../route.ts";
import { contentParts } from "../content.ts";
import { Avatar, sourceLabel, when } from "./format.tsx";

interface Props {
  parley: Parley;
  conversations: Conversation[];
  total: number;
  filters: ListFilters;
  onFilters: (filters: ListFilters) => void;
  openId: string;
  tags: Tag[];
  loading: boolean;
  error: string;
  hasMore: boolean;
  onMore: () => void;
  onStep: (by: number) => void;
}

/** One line of what a conversation's newest message says. */
function preview(conversation: Conversation): string {
  const message = conversation.lastMessage;
  if (!message) return "";
  const part = contentParts(message.source, message.content)[0];
  const said = part?.kind === "text" ? part.text : part?.kind === "json" ? "…" : `[${part?.kind}]`;
  return message.fromContact ? said : `You: ${said}`;
}

export function ConversationList(props: Props) {
  const { parley, conversations, filters, onFilters, tags, onStep } = props;
  const [channels, setChannels] = useState<Channel[]>([]);
  const [search, setSearch] = useState(filters.search);
  const end = useRef<HTMLLIElement>(null);
  const searchBox = useRef<HTMLInputElement>(null);
  useEffect(() => { parley.channels.list().then(setChannels).catch(() => undefined); }, [parley]);
  // Search as the agent types, once they pause.
  useEffect(() => {
    const typed = setTimeout(() => search !== filters.search && onFilters({ ...filters, search }), 300);
    return () => clearTimeout(typed);
  }, [search, filters, onFilters]);
  // More when the end of the list comes into view.
  useEffect(() => {
    const seen = new IntersectionObserver((entries) => entries.some((e) => e.isIntersecting) && props.onMore());
    if (end.current) seen.observe(end.current);
    return () => seen.disconnect();
  }, [props.onMore]);
  // Keys: "/" searches, Escape leaves a field, j and k move through the list.
  useEffect(() => {
    const keys = (event: KeyboardEvent) => {
      const field = (event.target as HTMLElement).closest<HTMLElement>("input, textarea, select");
      if (field) {
        if (event.key === "Escape") field.blur();
        return;
      }
      if (event.key === "/") { event.preventDefault(); searchBox.current?.focus(); }
      if (event.key === "j") onStep(1);
      if (event.key === "k") onStep(-1);
    };
    window.addEventListener("keydown", keys);
    return () => window.removeEventListener("keydown", keys);
  }, [onStep]);
  const sources = [...new Set(channels.map((c) => c.source))].sort();
  const set = (change: Partial<ListFilters>) => onFilters({ ...filters, ...change });
  return (
    <section className="list" aria-label="Conversations">
      <div className="filters">
        <input ref={searchBox} type="search" placeholder="Search names  ( / )" aria-label="Search"
               value={search} onChange={(e) => setSearch(e.target.value)} />
        <div className="chips">
          <label><input type="checkbox" checked={filters.unread}
                        onChange={(e) => set({ unread: e.target.checked })} /> Unread</label>
          <select aria-label="State" value={filters.state}
                  onChange={(e) => set({ state: e.target.value as ListFilters["state"] })}>
            <option value="">Open and closed</option>
            <option value="open">Open</option>
            <option value="closed">Closed</option>
          </select>
          <select aria-label="Source" value={filters.source} onChange={(e) => set({ source: e.target.value })}>
            <option value="">Every source</option>
            {sources.map((s) => <option key={s} value={s}>{sourceLabel(s)}</option>)}
          </select>
          <select aria-label="Channel" value={filters.channelId} onChange={(e) => set({ channelId: e.target.value })}>
            <option value="">Every channel</option>
            {channels.map((c) => <option key={c.id} value={c.id}>{String(c.metadata?.name ?? "") || c.sourceChannelId}</option>)}
          </select>
          <select aria-label="Tag" value={filters.tagId} onChange={(e) => set({ tagId: e.target.value })}>
            <option value="">Every tag</option>
            {tags.map((t) => <option key={t.id} value={t.id}>{t.name}</option>)}
          </select>
        </div>
        <p className="count" aria-live="polite">{props.total} conversations</p>
      </div>
      {props.error && <p role="alert" className="error">{props.error}</p>}
      <ul>
        {conversations.map((c) => (
          <li key={c.id} data-conversation={c.id} aria-current={c.id === props.openId ? "true" : undefined}>
            <a href={`#/inbox/${c.id}`} onClick={() => go({ area: "inbox", id: c.id })}>
              <Avatar name={c.displayName} url={String((c.metadata.contact as Record<string, unknown> | undefined)?.avatar_url ?? "")} />
              <span className="who">
                <span className="name">{c.displayName}</span>
                <span className="preview">{preview(c)}</span>
              </span>
              <span className="side">
                <time>{when(c.lastMessage?.sentAt ?? c.createdAt)}</time>
                <span className="source">{sourceLabel(c.channel?.source ?? "")}</span>
                {c.unreadCount > 0 && <span className="badge" aria-label={`${c.unreadCount} unread`}>{c.unreadCount}</span>}
              </span>
            </a>
          </li>
        ))}
        <li ref={end} className="end">{props.loading ? "Loading…" : props.hasMore ? "" : conversations.length ? "That's all." : "No conversations."}</li>
      </ul>
    </section>
  );
}
