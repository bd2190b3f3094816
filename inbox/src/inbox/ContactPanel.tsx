/**
 * Beside the conversation: its state (close, reopen), its tags (apply, remove, create with a
 * colour), and its contact, whose details an agent edits.
 */
import { useCallback, useEffect, useState, type FormEvent } from "react";
import type { Contact, Conversation, Parley, Tag } from "@parley/sdk";

import { problem } from "../problems.ts";

const COLORS = ["tag-red", "tag-blue", "tag-green", "tag-purple"];
/** The contact's fields an agent edits, with their labels. */
const FIELDS = [["displayName", "Name"], ["title", "Title"], ["organizationName", "Organization"],
                ["locale", "Locale"], ["timezone", "Time zone"]] as const;
type Field = (typeof FIELDS)[number][0];

interface Props {
  parley: Parley;
  conversationId: string;
  changes: number;
  tags: Tag[];
  onTagsChanged: () => void;
}

export function ContactPanel({ parley, conversationId, changes, tags, onTagsChanged }: Props) {
  const [conversation, setConversation] = useState<Conversation>();
  const [contact, setContact] = useState<Contact>();
  const [editing, setEditing] = useState<Record<Field, string> | null>(null);
  const [newTag, setNewTag] = useState({ name: "", color: COLORS[0] });
  const [error, setError] = useState("");
  const fail = (reason: unknown) => setError(problem(reason));

  const load = useCallback(async () => {
    const [info, found] = await Promise.all([parley.conversations.info(conversationId),
                                             parley.contacts.info({ conversationId })]);
    setConversation(info);
    setContact(found);
  }, [parley, conversationId]);
  useEffect(() => { load().catch(fail); }, [load, changes]);

  const applied = new Set(Object.keys((conversation?.metadata.tags ?? {}) as object));
  const closed = conversation?.metadata.state === "CLOSED";
  const act = (work: Promise<unknown>) => work.then(load).catch(fail);
  const toggleState = useCallback(() => {
    act(parley.conversations.setState(conversationId, closed ? "OPEN" : "CLOSED"));
  }, [parley, conversationId, closed]);
  // Key: "e" closes the conversation, or reopens it.
  useEffect(() => {
    const keys = (event: KeyboardEvent) => {
      if (!(event.target as HTMLElement).closest("input, textarea, select") && event.key === "e") toggleState();
    };
    window.addEventListener("keydown", keys);
    return () => window.removeEventListener("keydown", keys);
  }, [toggleState]);

  async function createTag(event: FormEvent) {
    event.preventDefault();
    try {
      const tag = await parley.tags.create(newTag.name.trim(), newTag.color);
      await parley.conversations.tag(conversationId, tag.id);
      setNewTag({ name: "", color: COLORS[0] });
      onTagsChanged();
      await load();
    } catch (reason) { fail(reason); }
  }
  async function save(event: FormEvent) {
    event.preventDefault();
    if (!contact || !editing) return;
    try {
      await parley.api.contacts.updateContact({ id: contact.id, ...editing });
      if (editing.displayName) await parley.conversations.updateContact(conversationId, editing.displayName);
      setEditing(null);
      await load();
    } catch (reason) { fail(reason); }
  }
  return (
    <aside className="contact" aria-label="Contact">
      {error && <p role="alert" className="error">{error}</p>}
      <section>
        <h3>State</h3>
        <p className="state">{closed ? "Closed" : "Open"}</p>
        <button onClick={toggleState}>{closed ? "Reopen" : "Close"} <kbd>e</kbd></button>
      </section>
      <section aria-label="Tags">
        <h3>Tags</h3>
        <ul className="tags">
          {tags.map((tag) => (
            <li key={tag.id}>
              <label className={tag.color}>
                <input type="checkbox" checked={applied.has(tag.id)} onChange={(e) => act(e.target.checked
                  ? parley.conversations.tag(conversationId, tag.id)
                  : parley.conversations.untag(conversationId, tag.id))} /> {tag.name}
              </label>
            </li>
          ))}
        </ul>
        <form onSubmit={createTag} className="new-tag">
          <input aria-label="New tag" placeholder="New tag" value={newTag.name}
                 onChange={(e) => setNewTag({ ...newTag, name: e.target.value })} />
          <select aria-label="Colour" value={newTag.color} onChange={(e) => setNewTag({ ...newTag, color: e.target.value })}>
            {COLORS.map((c) => <option key={c} value={c}>{c.replace("tag-", "")}</option>)}
          </select>
          <button type="submit" disabled={!newTag.name.trim()}>Add</button>
        </form>
      </section>
      <section aria-label="Contact details">
        <h3>Contact</h3>
        {contact && !editing && <>
          <dl>
            {FIELDS.map(([field, label]) => contact[field] && <div key={field}><dt>{label}</dt><dd>{contact[field]}</dd></div>)}
          </dl>
          <button onClick={() => setEditing(Object.fromEntries(FIELDS.map(([f]) => [f, contact[f]])) as Record<Field, string>)}>
            Edit contact
          </button>
        </>}
        {editing && (
          <form onSubmit={save} className="edit">
            {FIELDS.map(([field, label]) => (
              <label key={field}>{label}
                <input value={editing[field]} onChange={(e) => setEditing({ ...editing, [field]: e.target.value })} />
              </label>
            ))}
            <button type="submit" className="primary">Save</button>
            <button type="button" onClick={() => setEditing(null)}>Cancel</button>
          </form>
        )}
      </section>
    </aside>
  );
}
