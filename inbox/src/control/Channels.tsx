/** Channels: connect every source with its form (name and image), disconnect, and the chat
 *  plugin's embed snippet with a copy button. */
import { useCallback, useEffect, useState, type FormEvent } from "react";
import type { Channel, Parley } from "@parley/sdk";

import { problem } from "../problems.ts";
import { sourceLabel } from "../inbox/format.tsx";

/** Each kind of channel: its source, the RPCs' name part and the fields its connect takes. */
const KINDS = [
  { source: "facebook", rpc: "Facebook", fields: ["pageId", "pageToken"] },
  { source: "instagram", rpc: "Instagram", fields: ["pageId", "accountId", "pageToken"] },
  { source: "whatsapp", rpc: "Whatsapp", fields: ["phoneNumberId", "userToken"] },
  { source: "twilio.sms", rpc: "TwilioSms", fields: ["phoneNumber"] },
  { source: "twilio.whatsapp", rpc: "TwilioWhatsapp", fields: ["phoneNumber"] },
  { source: "google", rpc: "Google", fields: ["gbmId"] },
  { source: "viber", rpc: "Viber", fields: [] },
  { source: "chatplugin", rpc: "Chatplugin", fields: [] },
] as const;
type Kind = (typeof KINDS)[number];
const SECRET = new Set(["pageToken", "userToken"]);

function label(field: string): string {
  return field.replace(/([A-Z])/g, " $1").replace(/^./, (c) => c.toUpperCase()).replace("Gbm", "GBM");
}

/** The chat plugin's embed snippet for a page of the site. */
export function snippet(channelId: string): string {
  return `<script src="${window.location.origin}/chatplugin/s.js" data-channel-id="${channelId}"></script>`;
}

type Api = Parley["api"]["channels"];
type Call = (request: Record<string, string>) => Promise<unknown>;

function call(api: Api, name: string): Call {
  return (api as unknown as Record<string, Call>)[name].bind(api);
}

export function Channels({ parley }: { parley: Parley }) {
  const [channels, setChannels] = useState<Channel[]>([]);
  const [kind, setKind] = useState<Kind>(KINDS[0]);
  const [form, setForm] = useState<Record<string, string>>({});
  const [error, setError] = useState("");
  const [copied, setCopied] = useState("");
  const load = useCallback(() => parley.channels.list().then(setChannels).catch((r) => setError(problem(r))), [parley]);
  useEffect(() => { void load(); }, [load]);

  async function connect(event: FormEvent) {
    event.preventDefault();
    setError("");
    try {
      await call(parley.api.channels, `connect${kind.rpc}`)(form);
      setForm({});
      await load();
    } catch (reason) { setError(problem(reason)); }
  }
  async function disconnect(channel: Channel) {
    const found = KINDS.find((k) => k.source === channel.source);
    if (!found) return;
    try {
      await call(parley.api.channels, `disconnect${found.rpc}`)({ channelId: channel.id });
      await load();
    } catch (reason) { setError(problem(reason)); }
  }
  async function copy(channelId: string) {
    await navigator.clipboard.writeText(snippet(channelId));
    setCopied(channelId);
  }
  return (
    <section aria-label="Channels">
      <h2>Channels</h2>
      {error && <p role="alert" className="error">{error}</p>}
      <form className="connect" onSubmit={connect} aria-label="Connect a channel">
        <label>Source
          <select value={kind.source} onChange={(e) => { setKind(KINDS.find((k) => k.source === e.target.value)!); setForm({}); }}>
            {KINDS.map((k) => <option key={k.source} value={k.source}>{sourceLabel(k.source)}</option>)}
          </select>
        </label>
        {[...kind.fields, "name", "imageUrl"].map((field) => (
          <label key={field}>{label(field)}
            <input type={SECRET.has(field) ? "password" : "text"} value={form[field] ?? ""}
                   onChange={(e) => setForm({ ...form, [field]: e.target.value })} />
          </label>
        ))}
        <button type="submit" className="primary">Connect</button>
      </form>
      <table>
        <thead><tr><th>Name</th><th>Source</th><th>Source's id</th><th></th></tr></thead>
        <tbody>
          {channels.map((c) => (
            <tr key={c.id} data-channel={c.id}>
              <td>{String(c.metadata?.name ?? "")}</td><td>{sourceLabel(c.source)}</td><td>{c.sourceChannelId}</td>
              <td className="actions">
                {c.source === "chatplugin" && <>
                  <code className="snippet">{snippet(c.id)}</code>
                  <button onClick={() => void copy(c.id)}>{copied === c.id ? "Copied" : "Copy snippet"}</button>
                </>}
                <button onClick={() => void disconnect(c)}>Disconnect</button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
