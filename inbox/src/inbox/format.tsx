/** Small pieces of how things look: times, sources' names, avatars. */

const SOURCES: Record<string, string> = {
  facebook: "Messenger", instagram: "Instagram", whatsapp: "WhatsApp", "twilio.sms": "SMS",
  "twilio.whatsapp": "WhatsApp (Twilio)", google: "Google", viber: "Viber", chatplugin: "Chat",
};

export function sourceLabel(source: string): string {
  return SOURCES[source] ?? source;
}

/** A time as people read it: the hour today, else the day. */
export function when(rfc3339: string): string {
  if (!rfc3339) return "";
  const at = new Date(rfc3339);
  const today = new Date().toDateString() === at.toDateString();
  return today ? at.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })
    : at.toLocaleDateString([], { day: "numeric", month: "short" });
}

/** The day of a time, for the separators between days. */
export function day(rfc3339: string): string {
  return new Date(rfc3339).toLocaleDateString([], { weekday: "long", day: "numeric", month: "long", year: "numeric" });
}

export function Avatar({ name, url }: { name: string; url: string }) {
  if (url) return <img className="avatar" src={url} alt="" />;
  return <span className="avatar" aria-hidden="true">{(name.trim()[0] ?? "?").toUpperCase()}</span>;
}
