/**
 * `Parley`: the API with comforts, one attribute per area (`parley.messages`,
 * `parley.conversations`, ...): paging iterators, messages and conversations as plain-data views,
 * a send that is safe to retry, an event stream that resumes by itself. `parley.api` holds the
 * generated client of every service, typed, for every other call.
 */
import { fromJson, toJson, type JsonObject, type JsonValue } from "@bufbuild/protobuf";
import { ValueSchema } from "@bufbuild/protobuf/wkt";
import { createClient, type Client, type Transport } from "@connectrpc/connect";

import { Code, typedError } from "./errors.js";
import { ChannelsService } from "./gen/parley/v1/channels_pb.js";
import { ChatPluginService } from "./gen/parley/v1/chatplugin_pb.js";
import { ContactsService } from "./gen/parley/v1/contacts_pb.js";
import { ConversationsService } from "./gen/parley/v1/conversations_pb.js";
import { EventsService } from "./gen/parley/v1/events_pb.js";
import { SourceLookupsService } from "./gen/parley/v1/lookups_pb.js";
import { MediaService } from "./gen/parley/v1/media_pb.js";
import { MessagesService } from "./gen/parley/v1/messages_pb.js";
import { MessagingService } from "./gen/parley/v1/messaging_pb.js";
import { MetadataService } from "./gen/parley/v1/metadata_pb.js";
import type { Channel, Contact, Event, Tag } from "./gen/parley/v1/resources_pb.js";
import { SourcesService } from "./gen/parley/v1/sources_pb.js";
import { StatusService, type GetHealthResponse } from "./gen/parley/v1/status_pb.js";
import { TagsService } from "./gen/parley/v1/tags_pb.js";
import { TemplatesService } from "./gen/parley/v1/templates_pb.js";
import { TokensService } from "./gen/parley/v1/tokens_pb.js";
import { UsersService } from "./gen/parley/v1/users_pb.js";
import { WebhooksService } from "./gen/parley/v1/webhooks_pb.js";
import { backoffMs, parleyTransport, sleep, type ParleyOptions } from "./transport.js";
import { conversationView, messageView, pageOf, type Conversation, type Message,
         type Page } from "./views.js";

/** Events a stream carries that are its own business, not the API's. */
const HEARTBEAT = "heartbeat";
const STREAM_ERROR = "stream.error";
/** Stream failures after which `events.subscribe` reconnects (the connection, not the request). */
const RECONNECT_ON = new Set([Code.Unavailable, Code.Internal, Code.Unknown, Code.Canceled]);

/** The API's services, by the name each has in `Api`. */
const SERVICES = {
  channels: ChannelsService,
  chatplugin: ChatPluginService,
  contacts: ContactsService,
  conversations: ConversationsService,
  events: EventsService,
  lookups: SourceLookupsService,
  media: MediaService,
  messages: MessagesService,
  messaging: MessagingService,
  metadata: MetadataService,
  sources: SourcesService,
  status: StatusService,
  tags: TagsService,
  templates: TemplatesService,
  tokens: TokensService,
  users: UsersService,
  webhooks: WebhooksService,
} as const;

/** The generated client of every service of the API, on one transport. */
export type Api = { [Name in keyof typeof SERVICES]: Client<(typeof SERVICES)[Name]> };

/** The generated clients of every service on `transport`. */
export function createApi(transport: Transport): Api {
  return Object.fromEntries(Object.entries(SERVICES).map(
    ([name, service]) => [name, createClient(service, transport)])) as Api;
}

/** Which part of a list to read: where (`cursor`, "" = the first page) and how much. */
export interface PageRequest {
  cursor?: string;
  /** Items per page; the server's default (20) when unset. */
  pageSize?: number;
}

/** Every item of a paginated list, fetched page by page (following `nextCursor`) as it is read. */
async function* each<T>(read: (cursor: string) => Promise<Page<T>>,
                        newestFirst = false): AsyncGenerator<T> {
  let cursor = "";
  do {
    const page = await read(cursor);
    yield* newestFirst ? [...page.data].reverse() : page.data;
    cursor = page.nextCursor;
  } while (cursor);
}

/** Messages: list a conversation's, send, resend, suggest replies. */
export class Messages {
  constructor(private readonly api: Api) {}

  /** One page: the newest `pageSize` messages at `cursor` ("" = the newest page), oldest first,
   *  with `nextCursor` walking back in time. */
  async page(conversationId: string, request: PageRequest = {}): Promise<Page<Message>> {
    return pageOf(await this.api.messages.listMessages({ conversationId, ...request }),
                  messageView);
  }

  /** Every message of a conversation, newest first, fetched page by page as it is read.
   *  NotFound for an unknown conversation. */
  list(conversationId: string, pageSize = 100): AsyncGenerator<Message> {
    return each((cursor) => this.page(conversationId, { cursor, pageSize }), true);
  }

  /** Send `message` (the source's payload, e.g. `{text: "Hi"}`) to a conversation, or start one
   *  with `sourceRecipientId` on `channelId` (SMS, WhatsApp). Answers the pending message, with
   *  the id of the conversation it went to; delivery follows (`message.updated` events). Safe to
   *  retry: without an `idempotencyKey` the SDK makes one, so a retried call never sends twice. */
  async send(message: JsonValue, to: { conversationId?: string; channelId?: string;
                                        sourceRecipientId?: string; idempotencyKey?: string }):
      Promise<Message> {
    return messageView(await this.api.messaging.sendMessage({
      ...to, message: fromJson(ValueSchema, message), idempotencyKey: to.idempotencyKey ?? crypto.randomUUID(),
    }));
  }

  /** Send a failed message again. Conflict unless it failed. */
  async resend(messageId: string): Promise<Message> {
    return messageView(await this.api.messaging.resendMessage({ messageId }));
  }

  /** Attach suggested replies (by id) to a message; answers the message. */
  async suggestReplies(messageId: string, suggestions: JsonObject): Promise<Message> {
    return messageView(await this.api.messaging.suggestReplies({ messageId, suggestions }));
  }
}

/** Conversations: list (with filters), read one, and the conversation commands. */
export class Conversations {
  constructor(private readonly api: Api) {}

  /** One page, newest activity first; `filters` is the Lucene-syntax query language
   *  (`unread_count:[1 TO *] AND channel_id:...`). InvalidArgument for a malformed one. */
  async page(filters = "", request: PageRequest = {}): Promise<Page<Conversation>> {
    return pageOf(await this.api.conversations.listConversations({ filters, ...request }),
                  conversationView);
  }

  /** Every conversation matching `filters`, newest activity first, page by page. */
  list(filters = "", pageSize = 100): AsyncGenerator<Conversation> {
    return each((cursor) => this.page(filters, { cursor, pageSize }));
  }

  /** One conversation. NotFound when unknown. */
  async info(conversationId: string): Promise<Conversation> {
    return conversationView(await this.api.conversations.getConversation({ conversationId }));
  }

  /** Mark every message so far read (unreadCount becomes 0). */
  async markRead(conversationId: string): Promise<void> {
    await this.api.conversations.markConversationRead({ conversationId });
  }

  /** Tag a conversation. */
  async tag(conversationId: string, tagId: string): Promise<void> {
    await this.api.conversations.tagConversation({ conversationId, tagId });
  }

  /** Remove a tag from a conversation. */
  async untag(conversationId: string, tagId: string): Promise<void> {
    await this.api.conversations.untagConversation({ conversationId, tagId });
  }

  /** Set the conversation's state (e.g. "OPEN", "CLOSED"). */
  async setState(conversationId: string, state: string): Promise<void> {
    await this.api.conversations.setConversationState({ conversationId, state });
  }

  /** Remove the conversation's state. */
  async removeState(conversationId: string): Promise<void> {
    await this.api.conversations.removeConversationState({ conversationId });
  }

  /** Set the display name of the conversation's contact. */
  async updateContact(conversationId: string, displayName: string): Promise<void> {
    await this.api.conversations.updateConversationContact({ conversationId, displayName });
  }
}

/** Tags: create, list, change, delete. */
export class Tags {
  constructor(private readonly api: Api) {}

  /** A new tag; `color` is one of "tag-red", "tag-blue", ... */
  async create(name: string, color: string): Promise<Tag> {
    return await this.api.tags.createTag({ name, color });
  }

  /** Every tag. */
  async list(): Promise<Tag[]> {
    return (await this.api.tags.listTags({})).data;
  }

  /** Rename a tag or change its colour. */
  async update(id: string, change: { name?: string; color?: string }): Promise<Tag> {
    return await this.api.tags.updateTag({ id, ...change });
  }

  /** Delete a tag (and remove it from every conversation). */
  async delete(id: string): Promise<void> {
    await this.api.tags.deleteTag({ id });
  }
}

/** Channels: list and read (connecting one is `parley.api.channels.connect<Source>`). */
export class Channels {
  constructor(private readonly api: Api) {}

  /** The connected channels (of `source`, e.g. "facebook", when given). */
  async list(source = ""): Promise<Channel[]> {
    return (await this.api.channels.listChannels({ source })).data;
  }

  /** One channel. NotFound when unknown. */
  async info(channelId: string): Promise<Channel> {
    return await this.api.channels.getChannel({ channelId });
  }
}

/** Contacts: list, read. */
export class Contacts {
  constructor(private readonly api: Api) {}

  /** Every contact, page by page. */
  list(pageSize = 100): AsyncGenerator<Contact> {
    return each(async (cursor) => pageOf(
      await this.api.contacts.listContacts({ cursor, pageSize }), (contact: Contact) => contact));
  }

  /** One contact, by its id or by a conversation of it. NotFound when unknown. */
  async info(by: { id: string } | { conversationId: string }): Promise<Contact> {
    return await this.api.contacts.getContact(by);
  }
}

/** What `events.subscribe` streams. Filters combine with AND. */
export interface Subscription {
  /** Event types, e.g. "message.created"; all when empty. */
  types?: string[];
  /** Only events of this conversation. */
  conversationId?: string;
  /** Only events of this channel. */
  channelId?: string;
  /** Resume token of the last event seen: the stream starts after it. */
  resumeToken?: string;
  /** Ends the stream (the iterator then finishes). */
  signal?: AbortSignal;
}

/** Realtime events. */
export class Events {
  constructor(private readonly api: Api) {}

  /** Events as they happen, after `resumeToken` when given. The stream never ends by itself:
   *  when Parley is restarted or the connection drops, it reconnects with backoff and resumes
   *  after the last event it yielded, so none is missed or repeated. OutOfRange when the token
   *  is older than the events Parley keeps. Heartbeats are not yielded. */
  async* subscribe(subscription: Subscription = {}): AsyncGenerator<Event> {
    const { signal, ...request } = subscription;
    let resumeToken = request.resumeToken ?? "";
    for (let attempt = 1; ; attempt++) {
      try {
        for await (const event of this.api.events.subscribe({ ...request, resumeToken },
                                                            { signal })) {
          if (event.type === HEARTBEAT) {
            continue;
          }
          if (event.type === STREAM_ERROR) {
            break; // the server ended the stream (stopping, or we were too slow)
          }
          attempt = 1;
          resumeToken = event.resumeToken || resumeToken;
          yield event;
        }
      } catch (reason) {
        const error = typedError(reason);
        if (signal?.aborted) {
          return;
        }
        if (!RECONNECT_ON.has(error.code)) {
          throw error;
        }
      }
      if (signal?.aborted) {
        return;
      }
      try {
        await sleep(backoffMs(attempt), signal);
      } catch {
        return; // aborted while waiting
      }
    }
  }
}

/** A template as plain data: its `content` is a message of its source, ready for `send`. */
export interface TemplateView {
  id: string;
  name: string;
  source: string;
  content: JsonValue;
}

/** Templates: ready-made messages of each source. */
export class Templates {
  constructor(private readonly api: Api) {}

  /** The templates of `source` ("facebook", ...), those whose name contains `name` if given. */
  async list(source: string, name = ""): Promise<TemplateView[]> {
    const found = await this.api.templates.listTemplates({ source, name });
    return found.data.map((t) => ({ id: t.id, name: t.name, source: t.source,
                                    content: t.content === undefined ? null : toJson(ValueSchema, t.content) }));
  }
}

/** Health of the install. */
export class Status {
  constructor(private readonly api: Api) {}

  /** Every component's health and the overall status. */
  async health(): Promise<GetHealthResponse> {
    return await this.api.status.getHealth({});
  }
}

/**
 * Parley's API:
 *
 *     const parley = new Parley({ baseUrl: "http://127.0.0.1:8080", token });
 *     for await (const conversation of parley.conversations.list("unread_count:[1 TO *]")) {
 *       console.log(conversation.id, conversation.displayName, conversation.unreadCount);
 *     }
 *
 * Calls go as gRPC-web through Parley's public port, in browsers and Node alike. Failures reject
 * with the typed errors of `errors` (`NotFound`, ...).
 */
export class Parley {
  /** The generated client of every service, typed (same transport, token and errors). */
  readonly api: Api;
  readonly messages: Messages;
  readonly conversations: Conversations;
  readonly tags: Tags;
  readonly channels: Channels;
  readonly contacts: Contacts;
  readonly events: Events;
  readonly status: Status;
  readonly templates: Templates;

  constructor(options: ParleyOptions) {
    this.api = createApi(parleyTransport(options));
    this.messages = new Messages(this.api);
    this.conversations = new Conversations(this.api);
    this.tags = new Tags(this.api);
    this.channels = new Channels(this.api);
    this.contacts = new Contacts(this.api);
    this.events = new Events(this.api);
    this.status = new Status(this.api);
    this.templates = new Templates(this.api);
  }
}
