/**
 * Follow a conversation's messages as they arrive, one JSON line each, across restarts of Parley
 * and dropped connections (the SDK resumes after the last event it yielded):
 *
 *     PARLEY_URL=http://127.0.0.1:8080 PARLEY_TOKEN=... node dist/examples/follow.js <conversation id>
 */
import { Parley, messageEvent } from "../src/index.js";

const parley = new Parley({
  baseUrl: process.env.PARLEY_URL ?? "http://127.0.0.1:8080",
  token: process.env.PARLEY_TOKEN,
});
const conversationId = process.argv[2] ?? "";

for await (const event of parley.events.subscribe({ types: ["message.created"], conversationId })) {
  const found = messageEvent(event);
  console.log(JSON.stringify({
    conversation_id: found?.conversationId, id: found?.message.id, text: found?.message.text,
  }));
}
