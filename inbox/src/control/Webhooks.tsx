/** Webhooks: subscribe, edit (URL, name, events), disable and enable again, and the delivery
 *  log of each: every event sent, every attempt with its HTTP status, time and error. */
import { useCallback, useEffect, useState, type FormEvent } from "react";
import type { Parley, Webhook } from "@parley/sdk";

import { problem } from "../problems.ts";

const EVENT_TYPES = ["message.created", "message.updated", "metadata.updated", "conversation.updated",
                     "channel.updated", "tag.updated"];

type Deliveries = Awaited<ReturnType<Parley["api"]["webhooks"]["listWebhookDeliveries"]>>["data"];

function Log({ parley, webhook }: { parley: Parley; webhook: Webhook }) {
  const [deliveries, setDeliveries] = useState<Deliveries>([]);
  const read = useCallback(() => parley.api.webhooks.listWebhookDeliveries({ webhookId: webhook.id, pageSize: 50 })
    .then((found) => setDeliveries(found.data)).catch(() => undefined), [parley, webhook.id]);
  useEffect(() => {
    void read();
    const every = setInterval(read, 3000);
    return () => clearInterval(every);
  }, [read]);
  if (!deliveries.length) return <p className="muted">No deliveries yet.</p>;
  return (
    <table className="deliveries" aria-label={`Deliveries of ${webhook.name || webhook.url}`}>
      <thead><tr><th>Event</th><th>Status</th><th>Attempts</th></tr></thead>
      <tbody>
        {deliveries.map((d) => (
          <tr key={d.eventId} data-delivery={d.eventId} className={d.status}>
            <td>{d.eventType}</td><td className="status">{d.status}</td>
            <td>{d.attempts.map((a, i) => (
              <div key={i}>{new Date(a.attemptedAt).toLocaleTimeString()}: {a.httpStatus || "—"} in {a.latencyMs} ms {a.error}</div>
            ))}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

interface Draft { id: string; url: string; name: string; events: string[] }
const EMPTY: Draft = { id: "", url: "", name: "", events: [] };

export function Webhooks({ parley }: { parley: Parley }) {
  const [webhooks, setWebhooks] = useState<Webhook[]>([]);
  const [draft, setDraft] = useState<Draft>(EMPTY);
  const [open, setOpen] = useState("");
  const [error, setError] = useState("");
  const load = useCallback(() => parley.api.webhooks.listWebhooks({}).then((found) => setWebhooks(found.data))
    .catch((r) => setError(problem(r))), [parley]);
  useEffect(() => { void load(); }, [load]);
  const act = (work: Promise<unknown>) => work.then(load).then(() => setError("")).catch((r) => setError(problem(r)));

  function save(event: FormEvent) {
    event.preventDefault();
    const { id, url, name, events } = draft;
    // An update's events are a JSON list (absent: unchanged, [] all types).
    const list = { values: events.map((value) => ({ kind: { case: "stringValue" as const, value } })) };
    act((id ? parley.api.webhooks.updateWebhook({ id, url, name, events: list })
      : parley.api.webhooks.subscribeWebhook({ url, name, events })).then(() => setDraft(EMPTY)));
  }
  const toggle = (type: string) => setDraft({ ...draft, events: draft.events.includes(type)
    ? draft.events.filter((t) => t !== type) : [...draft.events, type] });
  return (
    <section aria-label="Webhooks">
      <h2>Webhooks</h2>
      {error && <p role="alert" className="error">{error}</p>}
      <form className="connect" onSubmit={save} aria-label={draft.id ? "Edit the webhook" : "Subscribe a webhook"}>
        <label>URL<input type="url" required value={draft.url} onChange={(e) => setDraft({ ...draft, url: e.target.value })} /></label>
        <label>Name<input value={draft.name} onChange={(e) => setDraft({ ...draft, name: e.target.value })} /></label>
        <fieldset><legend>Events (none: all)</legend>
          {EVENT_TYPES.map((type) => (
            <label key={type}><input type="checkbox" checked={draft.events.includes(type)} onChange={() => toggle(type)} /> {type}</label>
          ))}
        </fieldset>
        <button type="submit" className="primary">{draft.id ? "Save" : "Subscribe"}</button>
        {draft.id && <button type="button" onClick={() => setDraft(EMPTY)}>Cancel</button>}
      </form>
      <ul className="webhooks">
        {webhooks.map((w) => (
          <li key={w.id} data-webhook={w.id}>
            <div className="row">
              <strong>{w.name || w.url}</strong> <span className="muted">{w.url}</span>
              <span className={`status ${w.status}`}>{w.status}</span>
              <span className="muted">{w.events.length ? w.events.join(", ") : "all events"}</span>
              <button onClick={() => setDraft({ id: w.id, url: w.url, name: w.name, events: [...w.events] })}>Edit</button>
              <button onClick={() => act(parley.api.webhooks.updateWebhook({
                id: w.id, status: w.status === "Subscribed" ? "Unsubscribed" : "Subscribed" }))}>
                {w.status === "Subscribed" ? "Disable" : "Enable"}
              </button>
              <button onClick={() => setOpen(open === w.id ? "" : w.id)}>{open === w.id ? "Hide log" : "Delivery log"}</button>
            </div>
            {open === w.id && <Log parley={parley} webhook={w} />}
          </li>
        ))}
      </ul>
    </section>
  );
}
