/**
 * The TypeScript SDK against a running Parley (PARLEY_URL, PARLEY_TOKEN: an admin token), over
 * gRPC-web through Envoy: a chat plugin visitor writes, the SDK pages, filters, tags, sends, follows
 * and resumes the event stream, and fails with typed errors. `make test` runs it
 * (tests/integration/test_sdk_typescript.py).
 */
import assert from "node:assert/strict";
import { before, test } from "node:test";

import { ConnectError } from "@connectrpc/connect";

import {
  InvalidArgument, NotFound, Parley, Unauthenticated, messageEvent, type Event,
} from "../src/index.js";

const baseUrl = process.env.PARLEY_URL ?? "http://127.0.0.1:8080";
const parley = new Parley({ baseUrl, token: process.env.PARLEY_TOKEN });
const VISITOR_TEXTS = ["m0", "m1", "m2", "m3", "m4"];

let channelId = "";
let conversationId = "";

/** `check()` once it holds (eventual consistency: projections follow the writes). */
async function eventually<T>(check: () => Promise<T | undefined>, what: string): Promise<T> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const found = await check();
    if (found !== undefined) {
      return found;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** The first `count` events of `stream` (matching `keep`). */
async function take(stream: AsyncIterable<Event>, count: number,
                    keep: (event: Event) => boolean = () => true): Promise<Event[]> {
  const taken: Event[] = [];
  for await (const event of stream) {
    if (keep(event)) {
      taken.push(event);
    }
    if (taken.length === count) {
      break;
    }
  }
  return taken;
}

before(async () => {
  // A chat plugin channel and a visitor's conversation of five messages.
  const channel = await parley.api.channels.connectChatplugin({ name: `ts-sdk-${Date.now()}` });
  channelId = channel.id;
  const visitor = await new Parley({ baseUrl }).api.chatplugin.authenticate({ channelId });
  conversationId = visitor.conversationId;
  const asVisitor = new Parley({ baseUrl, token: visitor.token });
  for (const text of VISITOR_TEXTS) {
    await asVisitor.api.chatplugin.sendVisitorMessage({ message: { kind: {
      case: "structValue", value: { fields: { text: { kind: { case: "stringValue", value: text } } } },
    } } });
  }
  await eventually(async () => {
    const page = await parley.messages.page(conversationId).catch((error: unknown) => {
      if (error instanceof NotFound) {
        return undefined; // not projected yet
      }
      throw error;
    });
    return page?.total === VISITOR_TEXTS.length ? page : undefined;
  }, "the visitor's messages");
});

test("list iterators follow the cursors, newest first, with messages as plain data", async () => {
  const listed = [];
  for await (const message of parley.messages.list(conversationId, 2)) {
    listed.push(message);
  }
  assert.deepEqual(listed.map((m) => m.text), [...VISITOR_TEXTS].reverse());
  assert.deepEqual(listed[0].content, { text: "m4" });
  assert.equal(listed[0].conversationId, conversationId);
  assert.equal(listed[0].fromContact, true);
  assert.equal(listed[0].source, "chatplugin");

  const page = await parley.messages.page(conversationId, { pageSize: 2 });
  assert.deepEqual([page.data.length, page.total, page.nextCursor !== ""], [2, 5, true]);
});

test("conversations filter, tag, count unread and mark read", async () => {
  const conversation = await parley.conversations.info(conversationId);
  assert.equal(conversation.unreadCount, VISITOR_TEXTS.length);
  assert.equal(conversation.metadata.unread_count, VISITOR_TEXTS.length);
  assert.equal(conversation.lastMessage?.text, "m4");
  assert.equal(conversation.channel?.id, channelId);

  const tag = await parley.tags.create(`ts-${Date.now()}`, "tag-blue");
  await parley.conversations.tag(conversationId, tag.id);
  await parley.conversations.markRead(conversationId);
  const found = await eventually(async () => {
    const ids = [];
    for await (const c of parley.conversations.list(`tag_ids:${tag.id} AND unread_count:0`)) {
      ids.push(c.id);
    }
    return ids.length ? ids : undefined;
  }, "the tagged and read conversation");
  assert.deepEqual(found, [conversationId]);
  assert.ok((await parley.tags.list()).some((t) => t.id === tag.id));

  // Every page of a filter is walked: more conversations than one page holds.
  let walked = 0;
  for await (const c of parley.conversations.list(`channel_id:${channelId}`, 1)) {
    walked += c.id === conversationId ? 1 : 0;
  }
  assert.equal(walked, 1);
});

test("a send answers the pending message; its event follows, and a stream resumes after a token",
  async () => {
    // (A chat plugin message stays pending until the visitor's stream takes it.)
    const controller = new AbortController();
    const stream = parley.events.subscribe({
      conversationId, types: ["message.created"], signal: controller.signal,
    });
    const first = take(stream, 2);
    await new Promise((resolve) => setTimeout(resolve, 500)); // subscribed
    const sent = [];
    for (const text of ["hello from TypeScript", "and again"]) {
      sent.push(await parley.messages.send({ text }, { conversationId }));
    }
    assert.deepEqual(sent.map((m) => [m.conversationId, m.fromContact, m.deliveryState, m.text]), [
      [conversationId, false, "pending", "hello from TypeScript"],
      [conversationId, false, "pending", "and again"]]);

    const events = await first;
    controller.abort();
    const messages = events.map(messageEvent);
    assert.deepEqual(messages.map((m) => [m?.conversationId, m?.message.id, m?.message.text]), [
      [conversationId, sent[0].id, "hello from TypeScript"],
      [conversationId, sent[1].id, "and again"]]);

    // Subscribing with the first event's token starts right after it.
    const resumed = await take(parley.events.subscribe({
      conversationId, resumeToken: events[0].resumeToken, types: ["message.created"],
    }), 1);
    assert.equal(resumed[0].resumeToken, events[1].resumeToken);
    assert.equal(messageEvent(resumed[0])?.message.id, sent[1].id);
  });

test("failures are typed errors", async () => {
  await assert.rejects(parley.conversations.info("00000000-0000-4000-8000-000000000000"),
    (error: unknown) => error instanceof NotFound && error instanceof ConnectError
      && /not found/.test(error.rawMessage));
  await assert.rejects(parley.conversations.page("unread_count:[1 TO"),
                       (error: unknown) => error instanceof InvalidArgument);
  await assert.rejects(new Parley({ baseUrl, token: "not-a-token" }).tags.list(),
                       (error: unknown) => error instanceof Unauthenticated);
  await assert.rejects(new Parley({ baseUrl }).conversations.info(conversationId),
                       (error: unknown) => error instanceof Unauthenticated);
});

test("every service has its generated, typed client", async () => {
  const health = await parley.status.health();
  assert.equal(health.status, "ok");
  const channel = await parley.channels.info(channelId);
  assert.equal(channel.source, "chatplugin");
  const contact = await parley.contacts.info({ conversationId });
  assert.equal(contact.conversations[conversationId], "chatplugin");
});
