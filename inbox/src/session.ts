/**
 * The signed-in session: the API token, kept in this tab's sessionStorage (never in a URL, gone
 * when the tab closes), and the SDK client that calls with it.
 */
import { Parley } from "@parley/sdk";

const TOKEN_KEY = "parley.token";

export function storedToken(): string {
  return sessionStorage.getItem(TOKEN_KEY) ?? "";
}

export function keepToken(token: string): void {
  sessionStorage.setItem(TOKEN_KEY, token);
}

export function forgetToken(): void {
  sessionStorage.removeItem(TOKEN_KEY);
}

/** A client of this origin's Parley (the app is served by the same Envoy) with `token`. */
export function client(token: string): Parley {
  return new Parley({ baseUrl: window.location.origin, token });
}
