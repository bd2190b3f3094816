/** Every component's health (from /health), what is down and since when; read every 5 s. */
import { useEffect, useState } from "react";
import type { Parley } from "@parley/sdk";

import { problem } from "../problems.ts";

type Health = Awaited<ReturnType<Parley["status"]["health"]>>;

export function Status({ parley }: { parley: Parley }) {
  const [health, setHealth] = useState<Health>();
  const [error, setError] = useState("");
  useEffect(() => {
    const read = () => parley.status.health().then((h) => { setHealth(h); setError(""); })
      .catch((reason) => setError(problem(reason)));
    read();
    const every = setInterval(read, 5000);
    return () => clearInterval(every);
  }, [parley]);
  const components = Object.entries(health?.components ?? {}).sort(([a], [b]) => a.localeCompare(b));
  return (
    <section aria-label="Status">
      <h2>Status: <span className={`status ${health?.status ?? ""}`}>{health?.status ?? "…"}</span></h2>
      {error && <p role="alert" className="error">{error}</p>}
      <table>
        <thead><tr><th>Component</th><th>Status</th><th>Since</th><th>Detail</th></tr></thead>
        <tbody>
          {components.map(([name, c]) => (
            <tr key={name} data-component={name} className={c.status}>
              <td>{name}</td><td className="status">{c.status}</td>
              <td>{c.since ? new Date(c.since).toLocaleString() : ""}</td><td>{c.detail}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
