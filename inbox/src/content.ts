/**
 * What a message shows, read from its content as each source sends it (pure): text, media,
 * quick replies, postbacks, templates and buttons, Twilio's form fields, WhatsApp's typed
 * messages, Google's and Viber's. What is not recognised is shown as its JSON.
 */
import type { JsonObject, JsonValue } from "@parley/sdk";

export type Part =
  | { kind: "text"; text: string }
  | { kind: "image" | "video" | "audio" | "file"; url: string; name?: string }
  | { kind: "replies"; options: string[] }
  | { kind: "postback"; title: string }
  | { kind: "card"; title: string; subtitle: string; imageUrl: string; buttons: string[] }
  | { kind: "json"; json: string };

function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function text(value: JsonValue | undefined): string {
  return typeof value === "string" ? value : "";
}

function list(value: JsonValue | undefined): JsonObject[] {
  return Array.isArray(value) ? value.filter(isObject) : [];
}

const MEDIA_KINDS = ["image", "video", "audio", "file"] as const;
type MediaKind = (typeof MEDIA_KINDS)[number];

/** A media part; `name` only when there is one. */
function media(kind: MediaKind, url: string, name = ""): Part {
  return name ? { kind, url, name } : { kind, url };
}

function mediaKind(type: string): MediaKind {
  const kind = type.split("/")[0];
  if (kind === "picture" || kind === "sticker") return "image";
  return (MEDIA_KINDS as readonly string[]).includes(kind) ? (kind as MediaKind) : "file";
}

/** Buttons' titles (Meta's `buttons`, Google's `suggestions`, quick replies). */
function titles(items: JsonObject[]): string[] {
  return items.map((item) => text(item.title) || text(isObject(item.reply) ? item.reply.text : "")
    || text(isObject(item.action) ? item.action.text : "")).filter(Boolean);
}

/** Meta's attachments: media by URL, templates as cards. */
function metaAttachment(attachment: JsonObject): Part[] {
  const type = text(attachment.type);
  const payload = isObject(attachment.payload) ? attachment.payload : {};
  if (type === "template") {
    const elements = list(payload.elements);
    if (elements.length) {
      return elements.map((element) => ({
        kind: "card", title: text(element.title), subtitle: text(element.subtitle),
        imageUrl: text(element.image_url), buttons: titles(list(element.buttons)),
      }));
    }
    return [{ kind: "card", title: text(payload.text), subtitle: "", imageUrl: "",
              buttons: titles(list(payload.buttons)) }];
  }
  const url = text(payload.url);
  return url ? [{ kind: mediaKind(type), url }] : [];
}

/** What a media URL is by its extension (a sent message names no type). */
function kindOfUrl(url: string): MediaKind {
  const extension = url.split("?")[0].split(".").pop()?.toLowerCase() ?? "";
  if (["jpg", "jpeg", "png", "gif", "webp"].includes(extension)) return "image";
  if (["mp4", "webm", "mov"].includes(extension)) return "video";
  if (["mp3", "ogg", "wav", "aac", "m4a", "weba"].includes(extension)) return "audio";
  return "file";
}

/** Twilio's form fields: Body and MediaUrl0..n with MediaContentType0..n (received), or
 *  MediaUrl (sent). */
function twilioParts(content: JsonObject): Part[] {
  const parts: Part[] = text(content.Body) ? [{ kind: "text", text: text(content.Body) }] : [];
  if (text(content.MediaUrl)) parts.push({ kind: kindOfUrl(text(content.MediaUrl)), url: text(content.MediaUrl) });
  for (let i = 0; text(content[`MediaUrl${i}`]); i++) {
    parts.push({ kind: mediaKind(text(content[`MediaContentType${i}`])), url: text(content[`MediaUrl${i}`]) });
  }
  return parts;
}

/** WhatsApp Cloud's typed messages: text.body, media with a link or an id, interactive ones. */
function whatsappParts(content: JsonObject): Part[] {
  const type = text(content.type);
  const body = content[type];
  if (type === "text" && isObject(body)) return [{ kind: "text", text: text(body.body) }];
  if (isObject(body) && ["image", "video", "audio", "document", "sticker"].includes(type)) {
    const parts: Part[] = [];
    if (text(body.link)) parts.push(media(mediaKind(type === "document" ? "file" : type), text(body.link), text(body.filename)));
    else parts.push({ kind: "text", text: `[${type}${text(body.filename) ? `: ${text(body.filename)}` : ""}]` });
    if (text(body.caption)) parts.push({ kind: "text", text: text(body.caption) });
    return parts;
  }
  if (type === "interactive" && isObject(body)) {
    const reply = isObject(body.button_reply) ? body.button_reply : isObject(body.list_reply) ? body.list_reply : null;
    if (reply) return [{ kind: "postback", title: text(reply.title) }];
    const bodyText = isObject(body.body) ? text(body.body.text) : "";
    const action = isObject(body.action) ? body.action : {};
    const buttons = list(action.buttons).map((b) => isObject(b.reply) ? text(b.reply.title) : "").filter(Boolean);
    return [{ kind: "card", title: bodyText, subtitle: "", imageUrl: "", buttons }];
  }
  if (type === "button" && isObject(body)) return [{ kind: "postback", title: text(body.text) }];
  if (type === "template" && isObject(body)) return [{ kind: "card", title: `Template ${text(body.name)}`, subtitle: "", imageUrl: "", buttons: [] }];
  return [];
}

/** The parts of a message's content from `source`, in the order they show. */
export function contentParts(source: string, content: JsonValue): Part[] {
  if (typeof content === "string") return [{ kind: "text", text: content }];
  if (!isObject(content)) return [{ kind: "json", json: JSON.stringify(content) }];
  let parts: Part[] = [];
  if (source.startsWith("twilio")) parts = twilioParts(content);
  else if (source === "whatsapp" && text(content.type)) parts = whatsappParts(content);
  else {
    if (text(content.text)) parts.push({ kind: "text", text: text(content.text) });
    if (isObject(content.text) && text(content.text.body)) parts.push({ kind: "text", text: text(content.text.body) });
    // Viber: picture, video, file messages carry `media`.
    if (text(content.media)) parts.push(media(mediaKind(text(content.type)), text(content.media), text(content.file_name)));
    // Google: an image by its URL.
    const image = isObject(content.image) && isObject(content.image.contentInfo) ? content.image.contentInfo : null;
    if (image && text(image.fileUrl)) parts.push({ kind: "image", url: text(image.fileUrl) });
    for (const attachment of [...list(content.attachments), ...(isObject(content.attachment) ? [content.attachment] : [])]) {
      parts.push(...metaAttachment(attachment));
    }
    if (!parts.length && text(content.title) && "payload" in content) {
      parts.push({ kind: "postback", title: text(content.title) });
    }
    const replies = titles([...list(content.quick_replies), ...list(content.suggestions)]);
    if (replies.length) parts.push({ kind: "replies", options: replies });
  }
  return parts.length ? parts : [{ kind: "json", json: JSON.stringify(content) }];
}

/** A text message in `source`'s own format, as messages.send forwards it. */
export function textMessage(source: string, body: string): JsonObject {
  if (source.startsWith("twilio")) return { Body: body };
  if (source === "whatsapp") return { type: "text", text: { body } };
  if (source === "viber") return { type: "text", text: body };
  return { text: body };
}

/** What kind of attachment a file of `contentType` is. */
export function attachmentKind(contentType: string): MediaKind {
  return mediaKind(contentType === "application/pdf" || contentType.startsWith("text/") ? "file" : contentType);
}

/** A message carrying the file at `url` (of `contentType`, named `name`) in `source`'s own
 *  format, as messages.send forwards it. */
export function attachmentMessage(source: string, url: string, contentType: string, name: string): JsonObject {
  const kind = attachmentKind(contentType);
  if (source.startsWith("twilio")) return { Body: "", MediaUrl: url };
  if (source === "whatsapp") {
    const type = kind === "file" ? "document" : kind;
    return { type, [type]: kind === "file" ? { link: url, filename: name } : { link: url } };
  }
  if (source === "viber") {
    return kind === "image" ? { type: "picture", text: "", media: url }
      : kind === "video" ? { type: "video", media: url, size: 0 }
      : { type: "file", media: url, file_name: name || "file", size: 0 };
  }
  if (source === "google") return { image: { contentInfo: { fileUrl: url } } };
  return { attachment: { type: kind, payload: { url, is_reusable: true } } };
}
