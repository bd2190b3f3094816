/**
 * Parley's TypeScript SDK: `Parley` (the API with comforts), the typed errors, the views of
 * messages and conversations, and the generated messages and services of `parley.v1` for
 * everything else.
 */
export { Channels, Contacts, Conversations, Events, Messages, Parley, Status, Tags, Templates,
         createApi, type Api, type PageRequest, type Subscription, type TemplateView } from "./client.js";
export { Code, Conflict, DeadlineExceeded, FailedPrecondition, InvalidArgument, NotFound,
         OutOfRange, ParleyError, PermissionDenied, ResourceExhausted, Unauthenticated,
         Unavailable, typedError } from "./errors.js";
export { parleyTransport, type ParleyOptions } from "./transport.js";
export { conversationView, messageEvent, messageText, messageView, type Conversation,
         type Message, type MessageEvent, type Page } from "./views.js";
export type { Channel, Contact, Event, Sender, Tag, Template, Webhook } from
  "./gen/parley/v1/resources_pb.js";
export type { JsonObject, JsonValue } from "@bufbuild/protobuf";
