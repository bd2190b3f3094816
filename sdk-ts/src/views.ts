/**
 * Views of what the API answers: messages and conversations with their JSON parts (content,
 * metadata) as plain data, pages of them, and the payloads of message events.
 */
import { fromJson, toJson, type JsonObject, type JsonValue } from "@bufbuild/protobuf";
import { ValueSchema } from "@bufbuild/protobuf/wkt";

import {
  MessageSchema,
  type Channel,
  type Conversation as ConversationMessage,
  type Event,
  type Message as MessageMessage,
  type PaginationData,
  type Sender,
} from "./gen/parley/v1/resources_pb.js";

/** A message as the API serves it. */
export interface Message {
  id: string;
  /** The conversation it belongs to. */
  conversationId: string;
  /** The source's payload as plain data (for Twilio its form fields; for a sent message what
   *  was given to `send`). */
  content: JsonValue;
  /** The text of the common kinds of content (see `messageText`), else undefined. */
  text: string | undefined;
  /** "pending", "delivered" or "failed". */
  deliveryState: string;
  /** True when the contact sent it. */
  fromContact: boolean;
  /** When the source says it was sent (RFC 3339, UTC). */
  sentAt: string;
  source: string;
  /** Its metadata document: `error` (why sending failed), `source.id`, `suggestions`, ... */
  metadata: JsonObject;
  sender: Sender | undefined;
}

/** A conversation as the API serves it. */
export interface Conversation {
  id: string;
  createdAt: string;
  channel: Channel | undefined;
  /** Its metadata document: `contact` (display_name, avatar_url), `unread_count`, `tags`,
   *  `state`, and whatever was upserted. */
  metadata: JsonObject;
  /** The contact's display name. */
  displayName: string;
  /** Messages of the contact since the last mark-read. */
  unreadCount: number;
  /** Its newest message; undefined before it has one. */
  lastMessage: Message | undefined;
}

/** One page of a list: its items, the cursors to the pages beside it ("" at an end) and the
 *  total of the whole list. */
export interface Page<T> {
  data: T[];
  nextCursor: string;
  previousCursor: string;
  total: number;
}

/** The payload of a `message.created` or `message.updated` event. */
export interface MessageEvent {
  conversationId: string;
  channelId: string;
  message: Message;
}

function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The text of a message's content for the common kinds, undefined for others (media,
 *  templates, ...): `text` (Messenger, Instagram, Viber, Google, the chat plugin, what `send`
 *  takes), `Body` (Twilio's form fields), `text.body` (WhatsApp). */
export function messageText(content: JsonValue | undefined): string | undefined {
  if (typeof content === "string") {
    return content;
  }
  if (!isObject(content)) {
    return undefined;
  }
  for (const key of ["text", "Body"]) {
    const found = content[key];
    if (typeof found === "string") {
      return found;
    }
    if (isObject(found) && typeof found.body === "string") {
      return found.body;
    }
  }
  return undefined;
}

/** The view of a `parley.v1.Message`. */
export function messageView(message: MessageMessage): Message {
  const content = message.content === undefined ? null : toJson(ValueSchema, message.content);
  return {
    id: message.id,
    conversationId: message.conversationId,
    content,
    text: messageText(content),
    deliveryState: message.deliveryState,
    fromContact: message.fromContact,
    sentAt: message.sentAt,
    source: message.source,
    metadata: message.metadata ?? {},
    sender: message.sender,
  };
}

/** The view of a `parley.v1.Conversation`. */
export function conversationView(conversation: ConversationMessage): Conversation {
  const metadata = conversation.metadata ?? {};
  const contact = metadata.contact;
  const unread = metadata.unread_count;
  return {
    id: conversation.id,
    createdAt: conversation.createdAt,
    channel: conversation.channel,
    metadata,
    displayName: isObject(contact) && typeof contact.display_name === "string"
      ? contact.display_name : "",
    unreadCount: typeof unread === "number" ? unread : 0,
    lastMessage: conversation.lastMessage && messageView(conversation.lastMessage),
  };
}

/** A list call's answer as a `Page` of the views of its items. */
export function pageOf<M, T>(answer: { data: M[]; paginationData?: PaginationData },
                             view: (item: M) => T): Page<T> {
  const cursors = answer.paginationData;
  return {
    data: answer.data.map(view),
    nextCursor: cursors?.nextCursor ?? "",
    previousCursor: cursors?.previousCursor ?? "",
    total: cursors?.total ?? 0,
  };
}

/** The message an event is about, typed; undefined for events of other types. */
export function messageEvent(event: Event): MessageEvent | undefined {
  if (!event.type.startsWith("message.")) {
    return undefined;
  }
  const payload = event.payload ?? {};
  const message = fromJson(MessageSchema, isObject(payload.message) ? payload.message : {},
                           { ignoreUnknownFields: true });
  const conversationId = String(payload.conversation_id ?? "");
  return {
    conversationId,
    channelId: String(payload.channel_id ?? ""),
    message: { ...messageView(message), conversationId: message.conversationId || conversationId },
  };
}
