import { describe, expect, it } from "vitest";

import { attachmentMessage, contentParts, textMessage } from "../src/content.ts";

describe("contentParts", () => {
  it("reads text and quick replies (Messenger, the chat plugin)", () => {
    expect(contentParts("facebook", { text: "Pick one", quick_replies: [{ title: "Yes" }, { title: "No" }] }))
      .toEqual([{ kind: "text", text: "Pick one" }, { kind: "replies", options: ["Yes", "No"] }]);
  });
  it("reads Meta's attachments and templates", () => {
    expect(contentParts("instagram", { attachments: [{ type: "image", payload: { url: "https://x/i.jpg" } }] }))
      .toEqual([{ kind: "image", url: "https://x/i.jpg" }]);
    expect(contentParts("facebook", { attachment: { type: "template", payload: { template_type: "generic",
      elements: [{ title: "Shoe", subtitle: "42", image_url: "https://x/s.jpg", buttons: [{ title: "Buy" }] }] } } }))
      .toEqual([{ kind: "card", title: "Shoe", subtitle: "42", imageUrl: "https://x/s.jpg", buttons: ["Buy"] }]);
  });
  it("reads a postback", () => {
    expect(contentParts("facebook", { title: "Get started", payload: "START" }))
      .toEqual([{ kind: "postback", title: "Get started" }]);
  });
  it("reads Twilio's form fields with their media", () => {
    expect(contentParts("twilio.sms", { Body: "see", NumMedia: "1", MediaUrl0: "https://x/a.png", MediaContentType0: "image/png" }))
      .toEqual([{ kind: "text", text: "see" }, { kind: "image", url: "https://x/a.png" }]);
  });
  it("reads WhatsApp's typed messages", () => {
    expect(contentParts("whatsapp", { type: "text", text: { body: "hi" } })).toEqual([{ kind: "text", text: "hi" }]);
    expect(contentParts("whatsapp", { type: "image", image: { id: "123", caption: "look" } }))
      .toEqual([{ kind: "text", text: "[image]" }, { kind: "text", text: "look" }]);
    expect(contentParts("whatsapp", { type: "interactive", interactive: { type: "button_reply", button_reply: { id: "1", title: "Yes" } } }))
      .toEqual([{ kind: "postback", title: "Yes" }]);
  });
  it("reads Google's and Viber's", () => {
    expect(contentParts("google", { text: "Options", suggestions: [{ reply: { text: "A" } }] }))
      .toEqual([{ kind: "text", text: "Options" }, { kind: "replies", options: ["A"] }]);
    expect(contentParts("viber", { type: "picture", text: "a cat", media: "https://x/c.jpg" }))
      .toEqual([{ kind: "text", text: "a cat" }, { kind: "image", url: "https://x/c.jpg" }]);
  });
  it("shows what it does not know as JSON", () => {
    expect(contentParts("custom", { event: "x" })).toEqual([{ kind: "json", json: '{"event":"x"}' }]);
  });
});

describe("textMessage", () => {
  it("writes text in each source's format", () => {
    expect(textMessage("twilio.sms", "hi")).toEqual({ Body: "hi" });
    expect(textMessage("whatsapp", "hi")).toEqual({ type: "text", text: { body: "hi" } });
    expect(textMessage("viber", "hi")).toEqual({ type: "text", text: "hi" });
    expect(textMessage("facebook", "hi")).toEqual({ text: "hi" });
  });
});

describe("attachmentMessage", () => {
  it("writes a file in each source's format", () => {
    const url = "https://parley.example/media/abc.png";
    expect(attachmentMessage("facebook", url, "image/png", "cat.png"))
      .toEqual({ attachment: { type: "image", payload: { url, is_reusable: true } } });
    expect(attachmentMessage("twilio.sms", url, "image/png", "cat.png")).toEqual({ Body: "", MediaUrl: url });
    expect(attachmentMessage("whatsapp", url, "application/pdf", "bill.pdf"))
      .toEqual({ type: "document", document: { link: url, filename: "bill.pdf" } });
    expect(attachmentMessage("viber", url, "image/png", "cat.png")).toEqual({ type: "picture", text: "", media: url });
    expect(attachmentMessage("google", url, "image/png", "cat.png")).toEqual({ image: { contentInfo: { fileUrl: url } } });
  });
  it("is shown as what it carries", () => {
    const url = "https://parley.example/media/abc.png";
    expect(contentParts("facebook", attachmentMessage("facebook", url, "image/png", ""))).toEqual([{ kind: "image", url }]);
    expect(contentParts("twilio.sms", { Body: "", MediaUrl0: url, MediaContentType0: "image/png" }))
      .toEqual([{ kind: "image", url }]);
    expect(contentParts("twilio.sms", attachmentMessage("twilio.sms", url, "image/png", ""))).toEqual([{ kind: "image", url }]);
  });
});
