/**
 * The app's shell: sign-in with an API token, then the Inbox (agents) and the Control Center
 * (operators) under one bar.
 */
import { useMemo, useState, type FormEvent } from "react";
import type { Parley } from "@parley/sdk";

import { ControlCenter } from "./control/ControlCenter.tsx";
import { Inbox } from "./inbox/Inbox.tsx";
import { go, useRoute } from "./route.ts";
import { client, forgetToken, keepToken, storedToken } from "./session.ts";
import { problem } from "./problems.ts";

function SignIn({ onSignedIn }: { onSignedIn: (token: string) => void }) {
  const [token, setToken] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError("");
    try {
      await client(token.trim()).tags.list();  // any call that needs a token says if it works
      keepToken(token.trim());
      onSignedIn(token.trim());
    } catch (reason) {
      setError(problem(reason));
    } finally {
      setBusy(false);
    }
  }
  return (
    <main className="signin">
      <form onSubmit={submit} aria-label="Sign in">
        <h1>Parley</h1>
        <p>Sign in with an API token (<code>parley token create</code>, or the Control Center).</p>
        <label>API token
          <input type="password" autoComplete="off" value={token} autoFocus
                 onChange={(e) => setToken(e.target.value)} placeholder="pat_..." />
        </label>
        {error && <p role="alert" className="error">{error}</p>}
        <button type="submit" disabled={busy || !token.trim()}>Sign in</button>
      </form>
    </main>
  );
}

export function App() {
  const [token, setToken] = useState(storedToken);
  const parley = useMemo<Parley | null>(() => (token ? client(token) : null), [token]);
  const route = useRoute();
  if (!parley) return <SignIn onSignedIn={setToken} />;
  return (
    <div className="app">
      <header className="bar">
        <strong>Parley</strong>
        <nav>
          <a href="#/inbox" aria-current={route.area === "inbox" ? "page" : undefined}>Inbox</a>
          <a href="#/control" aria-current={route.area === "control" ? "page" : undefined}>Control Center</a>
        </nav>
        <button className="link" onClick={() => { forgetToken(); setToken(""); go({ area: "inbox", id: "" }); }}>
          Sign out
        </button>
      </header>
      {route.area === "inbox"
        ? <Inbox parley={parley} conversationId={route.id} />
        : <ControlCenter parley={parley} part={route.id} />}
    </div>
  );
}
