import { describe, expect, it } from "vitest";

import { filterQuery, NO_FILTERS, searchWords } from "../src/filters.ts";

describe("filterQuery", () => {
  it("narrows nothing without filters", () => {
    expect(filterQuery(NO_FILTERS)).toBe("");
  });
  it("matches every word of a search anywhere in the name", () => {
    expect(filterQuery({ ...NO_FILTERS, search: "  Ada  love" })).toBe("display_name:*Ada* AND display_name:*love*");
  });
  it("drops what Lucene would read as syntax from a search", () => {
    expect(searchWords('a*b (OR) "x" -y:z')).toEqual(["ab", "OR", "x", "yz"]);
  });
  it("combines every filter with AND", () => {
    expect(filterQuery({ search: "ada", unread: true, state: "closed", source: "twilio.sms",
                         channelId: "c-1", tagId: "t 1" }))
      .toBe("display_name:*ada* AND unread_count:[1 TO *] AND source:twilio.sms AND channel_id:c-1 "
            + "AND tag_ids:t1 AND state:CLOSED");
  });
  it("reads open as not closed, alone or with others", () => {
    expect(filterQuery({ ...NO_FILTERS, state: "open" })).toBe("id:* AND NOT state:CLOSED");
    expect(filterQuery({ ...NO_FILTERS, state: "open", unread: true }))
      .toBe("unread_count:[1 TO *] AND NOT state:CLOSED");
  });
});
