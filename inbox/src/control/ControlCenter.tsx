/** The Control Center: the operators' part of the app. */
import type { Parley } from "@parley/sdk";

export function ControlCenter({ parley, part }: { parley: Parley; part: string }) {
  void parley;
  return <main className="control"><h2>Control Center</h2><p>{part}</p></main>;
}
