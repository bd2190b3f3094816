/**
 * Where the app is, in the URL's hash (Envoy serves one page at /ui): `#/inbox`,
 * `#/inbox/<conversation id>`, `#/control/<part>`. Never a token.
 */
import { useEffect, useState } from "react";

export interface Route {
  area: "inbox" | "control";
  /** The open conversation (inbox) or the Control Center's part ("status", "channels", ...). */
  id: string;
}

export function parseRoute(hash: string): Route {
  const [area, id = ""] = hash.replace(/^#\/?/, "").split("/");
  return area === "control" ? { area, id: id || "status" } : { area: "inbox", id };
}

export function go(route: Route): void {
  window.location.hash = `#/${route.area}${route.id ? `/${route.id}` : ""}`;
}

/** The current route, following the hash. */
export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash));
  useEffect(() => {
    const follow = () => setRoute(parseRoute(window.location.hash));
    window.addEventListener("hashchange", follow);
    return () => window.removeEventListener("hashchange", follow);
  }, []);
  return route;
}
