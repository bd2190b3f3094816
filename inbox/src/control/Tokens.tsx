/** API tokens (create, shown once; list; revoke), who used the API and when, and custom sources
 *  with their tokens (shown once too). */
import { useCallback, useEffect, useState, type FormEvent } from "react";
import type { Parley } from "@parley/sdk";

import { problem } from "../problems.ts";

const SCOPES = ["read", "write", "admin"];
type Tokens = Awaited<ReturnType<Parley["api"]["tokens"]["listTokens"]>>["data"];
type Users = Awaited<ReturnType<Parley["api"]["users"]["listUsers"]>>["data"];
type Sources = Awaited<ReturnType<Parley["api"]["sources"]["listSources"]>>["data"];

/** A secret shown this once, with a copy button. */
function Once({ what, secret }: { what: string; secret: string }) {
  return (
    <div className="once" role="status">
      <p>The new {what}: copy it now, it is not shown again.</p>
      <code>{secret}</code>
      <button onClick={() => void navigator.clipboard.writeText(secret)}>Copy</button>
    </div>
  );
}

export function Tokens({ parley }: { parley: Parley }) {
  const [tokens, setTokens] = useState<Tokens>([]);
  const [users, setUsers] = useState<Users>([]);
  const [sources, setSources] = useState<Sources>([]);
  const [draft, setDraft] = useState({ name: "", scopes: ["read", "write"], expires: "" });
  const [source, setSource] = useState({ sourceId: "", name: "", actionEndpoint: "" });
  const [shown, setShown] = useState<{ what: string; secret: string } | null>(null);
  const [error, setError] = useState("");
  const load = useCallback(() => Promise.all([
    parley.api.tokens.listTokens({}).then((found) => setTokens(found.data)),
    parley.api.users.listUsers({ pageSize: 100 }).then((found) => setUsers(found.data)),
    parley.api.sources.listSources({}).then((found) => setSources(found.data)),
  ]).catch((r) => setError(problem(r))), [parley]);
  useEffect(() => { void load(); }, [load]);
  const act = (work: Promise<unknown>) => work.then(load).then(() => setError("")).catch((r) => setError(problem(r)));

  function create(event: FormEvent) {
    event.preventDefault();
    act(parley.api.tokens.createToken(draft).then((made) => {
      setShown({ what: `token ${made.apiToken?.name}`, secret: made.token });
      setDraft({ name: "", scopes: ["read", "write"], expires: "" });
    }));
  }
  function createSource(event: FormEvent) {
    event.preventDefault();
    act(parley.api.sources.createSource(source).then((made) => {
      setShown({ what: `token of source ${made.sourceId}`, secret: made.token });
      setSource({ sourceId: "", name: "", actionEndpoint: "" });
    }));
  }
  const seen = new Map(users.map((u) => [u.id, u]));
  return (
    <section aria-label="Tokens">
      <h2>API tokens</h2>
      {error && <p role="alert" className="error">{error}</p>}
      {shown && <Once {...shown} />}
      <form className="connect" onSubmit={create} aria-label="Create a token">
        <label>Name<input required value={draft.name} onChange={(e) => setDraft({ ...draft, name: e.target.value })} /></label>
        <fieldset><legend>Scopes</legend>
          {SCOPES.map((s) => (
            <label key={s}><input type="checkbox" checked={draft.scopes.includes(s)} onChange={() => setDraft({
              ...draft, scopes: draft.scopes.includes(s) ? draft.scopes.filter((x) => x !== s) : [...draft.scopes, s] })} /> {s}</label>
          ))}
        </fieldset>
        <label>Expires<input placeholder="never, or 30d, 12h, an RFC 3339 time" value={draft.expires}
                             onChange={(e) => setDraft({ ...draft, expires: e.target.value })} /></label>
        <button type="submit" className="primary">Create token</button>
      </form>
      <table aria-label="Tokens">
        <thead><tr><th>Name</th><th>Scopes</th><th>Created</th><th>Expires</th><th>Last used</th><th></th></tr></thead>
        <tbody>
          {tokens.map((t) => (
            <tr key={t.name} data-token={t.name} className={t.revoked ? "revoked" : ""}>
              <td>{t.name}</td><td>{t.scopes.join(", ")}</td>
              <td>{new Date(t.createdAt).toLocaleString()}</td><td>{t.expiresAt ? new Date(t.expiresAt).toLocaleString() : "never"}</td>
              <td>{seen.get(t.name) ? new Date(seen.get(t.name)!.lastSeenAt).toLocaleString() : "never"}</td>
              <td>{t.revoked ? <span className="status">revoked</span>
                : <button onClick={() => act(parley.api.tokens.revokeToken({ name: t.name }))}>Revoke</button>}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>Custom sources</h2>
      <form className="connect" onSubmit={createSource} aria-label="Create a source">
        <label>Source id<input required value={source.sourceId} onChange={(e) => setSource({ ...source, sourceId: e.target.value })} /></label>
        <label>Name<input value={source.name} onChange={(e) => setSource({ ...source, name: e.target.value })} /></label>
        <label>Action endpoint<input type="url" value={source.actionEndpoint} onChange={(e) => setSource({ ...source, actionEndpoint: e.target.value })} /></label>
        <button type="submit" className="primary">Create source</button>
      </form>
      <table aria-label="Sources">
        <thead><tr><th>Source</th><th>Name</th><th>Action endpoint</th><th></th></tr></thead>
        <tbody>
          {sources.map((s) => (
            <tr key={s.sourceId} data-source={s.sourceId}>
              <td>{s.sourceId}</td><td>{s.name}</td><td>{s.actionEndpoint}</td>
              <td><button onClick={() => act(parley.api.sources.deleteSource({ sourceId: s.sourceId }))}>Delete</button></td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
