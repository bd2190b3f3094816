/**
 * The conversation list's filters as the query `conversations.list` takes (Lucene syntax over
 * display_name, unread_count, state, source, channel_id, tag_ids). Pure, so it is tested alone.
 */

/** What an agent narrowed the list to; empty fields narrow nothing. */
export interface ListFilters {
  /** Words of the contact's name, each matched anywhere in it, case-insensitively. */
  search: string;
  unread: boolean;
  state: "" | "open" | "closed";
  source: string;
  channelId: string;
  tagId: string;
}

export const NO_FILTERS: ListFilters = {
  search: "", unread: false, state: "", source: "", channelId: "", tagId: "",
};

/** A value as one Lucene term: ids and source names are letters, digits, '.', '-' and '_'. */
function term(value: string): string {
  return value.replace(/[^A-Za-z0-9._-]/g, "");
}

/** The words of a search, without what Lucene would read as syntax. */
export function searchWords(search: string): string[] {
  return search.split(/\s+/).map((word) => word.replace(/[^\p{L}\p{N}]/gu, "")).filter(Boolean);
}

/** The `filters` query of `filters` ("" when it narrows nothing). */
export function filterQuery(filters: ListFilters): string {
  const terms = searchWords(filters.search).map((word) => `display_name:*${word}*`);
  if (filters.unread) terms.push("unread_count:[1 TO *]");
  if (filters.source) terms.push(`source:${term(filters.source)}`);
  if (filters.channelId) terms.push(`channel_id:${term(filters.channelId)}`);
  if (filters.tagId) terms.push(`tag_ids:${term(filters.tagId)}`);
  if (filters.state === "closed") terms.push("state:CLOSED");
  if (filters.state === "open") {
    // "Open": not closed (a conversation nobody set a state on is open).
    terms.push(terms.length ? "NOT state:CLOSED" : "id:* AND NOT state:CLOSED");
  }
  return terms.join(" AND ");
}
