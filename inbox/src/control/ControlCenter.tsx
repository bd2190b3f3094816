/** The Control Center: the operators' part of the app, one part at a time. */
import type { Parley } from "@parley/sdk";

import { Channels } from "./Channels.tsx";
import { Status } from "./Status.tsx";
import { Tokens } from "./Tokens.tsx";
import { Webhooks } from "./Webhooks.tsx";

const PARTS = { status: "Status", channels: "Channels", webhooks: "Webhooks", tokens: "Tokens" } as const;

export function ControlCenter({ parley, part }: { parley: Parley; part: string }) {
  return (
    <main className="control">
      <nav className="tabs" aria-label="Control Center">
        {Object.entries(PARTS).map(([id, label]) => (
          <a key={id} href={`#/control/${id}`} aria-current={part === id ? "page" : undefined}>{label}</a>
        ))}
      </nav>
      {part === "channels" ? <Channels parley={parley} />
        : part === "webhooks" ? <Webhooks parley={parley} />
        : part === "tokens" ? <Tokens parley={parley} />
        : <Status parley={parley} />}
    </main>
  );
}
