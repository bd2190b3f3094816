// Entry point of the Parley chat widget, embedded as
//   <script src="https://PARLEY_HOST/chatplugin/s.js" data-channel-id="CHANNEL_ID"></script>
// or configured by `window.parleyChat = {channelId, host?}` set before it loads.
//
// Flow: authenticate (resuming the conversation kept in localStorage when there is
// one), store a fresh resume token, show the messages so far, then follow the
// conversation over Server-Sent Events. The visitor token expires after about an
// hour: a 401, or the stream closing for good, means authenticate again.

import { ApiError, createApi, type AuthResponse, type Message } from "./api";
import { mountView, type View } from "./view";

interface State {
  conversationId: string | null;
  /** True while authenticated with the event stream open (tests wait on it). */
  ready: boolean;
}

interface Config {
  channelId?: string;
  host?: string;
  state?: State;
}

declare global {
  interface Window {
    parleyChat?: Config;
  }
}

/** Stream event data: {type, payload: {conversation_id, channel_id, message}, timestamp}. */
interface StreamEvent {
  type?: string;
  payload?: { conversation_id?: string; message?: Message };
}

// Only valid while this script runs for the first time: capture it before any await.
const script = document.currentScript as HTMLScriptElement | null;

const MAX_DELAY = 30000;
/** An open stream that lasted this long means the backoff can start over. */
const STABLE_AFTER = 10000;
/** How long a send that hit an expired token waits for a new one. */
const SEND_REAUTH_WAIT = 15000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// localStorage may throw (blocked storage, sandboxed iframes): the widget then still
// works, it only cannot continue the conversation after a reload.
function load(key: string): string {
  try {
    return localStorage.getItem(key) || "";
  } catch {
    return "";
  }
}

function store(key: string, value: string): void {
  try {
    if (value) localStorage.setItem(key, value);
    else localStorage.removeItem(key);
  } catch {
    // see load()
  }
}

function start(channelId: string, host: string, state: State): void {
  const api = createApi(host);
  const key = "parley.chat." + channelId;
  let resume = load(key);
  let token = "";
  let source: EventSource | null = null;
  let stableTimer: ReturnType<typeof setTimeout> | undefined;
  // Wait before the next authentication attempt: 0 at first, then 1 s doubling to 30 s.
  let delay = 0;
  let connecting: Promise<void> | null = null;
  let view: View;

  /** One authentication attempt: resume or start the conversation, then open the stream. */
  async function authenticate(): Promise<void> {
    let auth: AuthResponse | undefined;
    if (resume) {
      try {
        auth = await api.authenticate({ resume_token: resume });
      } catch (e) {
        // The resume token is bad, expired, or its channel is gone: start afresh.
        // Anything else (network, 5xx) is worth retrying with the same token.
        if (!(e instanceof ApiError && [400, 401, 403, 404].includes(e.status))) throw e;
        resume = "";
        store(key, "");
      }
    }
    if (!auth) auth = await api.authenticate({ channel_id: channelId });
    if (!auth.token) throw new Error("authenticate answered no token");
    // Stored before the widget says it is ready, so a reload right after continues
    // the same conversation.
    resume = (await api.resumeToken(auth.token)).resume_token || resume;
    store(key, resume);
    if (state.conversationId !== auth.conversation_id) view.clear();
    token = auth.token;
    state.conversationId = auth.conversation_id;
    view.upsert(auth.messages || []);
    openStream();
  }

  /**
   * Authenticates until it works, backing off between attempts. Concurrent callers
   * (the stream closing, a send hitting a 401) share one attempt loop.
   */
  function reconnect(): Promise<void> {
    if (!connecting) {
      connecting = (async () => {
        closeStream();
        let failed = false;
        for (;;) {
          if (delay) await sleep(delay);
          delay = Math.min(delay * 2 || 1000, MAX_DELAY);
          try {
            await authenticate();
            if (failed) view.error("");
            return;
          } catch (e) {
            failed = true;
            view.error("Chat unavailable, retrying…");
            console.warn("parley chat:", e);
          }
        }
      })().finally(() => {
        connecting = null;
      });
    }
    return connecting;
  }

  function closeStream(): void {
    source?.close();
    source = null;
    state.ready = false;
    clearTimeout(stableTimer);
  }

  function openStream(): void {
    closeStream();
    const es = (source = new EventSource(api.streamUrl(token)));
    es.onopen = () => {
      if (source !== es) return;
      state.ready = true;
      clearTimeout(stableTimer);
      stableTimer = setTimeout(() => (delay = 0), STABLE_AFTER);
    };
    es.onerror = () => {
      if (source !== es) return;
      state.ready = false;
      clearTimeout(stableTimer);
      // CONNECTING: EventSource retries by itself, with Last-Event-ID so nothing is
      // missed (e.g. after a stream.error frame). CLOSED: the server refused the
      // stream, most likely because the token expired. Browsers close before firing
      // the error, some polyfills just after: look once the event is over.
      setTimeout(() => {
        if (source === es && es.readyState === 2 /* CLOSED */) void reconnect();
      });
    };
    const onEvent = (e: MessageEvent) => {
      let event: StreamEvent;
      try {
        event = JSON.parse(e.data);
      } catch {
        return;
      }
      const payload = event && event.payload;
      if (!payload || !payload.message) return;
      if (payload.conversation_id && payload.conversation_id !== state.conversationId) return;
      view.upsert([payload.message]);
    };
    es.addEventListener("message.created", onEvent);
    es.addEventListener("message.updated", onEvent);
  }

  async function send(text: string): Promise<boolean> {
    for (let retried = false; ; retried = true) {
      const used = token;
      if (!used) {
        view.error("Not connected yet, please try again.");
        return false;
      }
      try {
        view.upsert([await api.send(used, text)]);
        view.error("");
        return true;
      } catch (e) {
        if (!retried && e instanceof ApiError && e.status === 401) {
          // Expired token: get a new one (unless the stream already did) and retry
          // once, without waiting on a long backoff.
          if (token === used) {
            token = "";
            await Promise.race([reconnect(), sleep(SEND_REAUTH_WAIT)]);
          }
          continue;
        }
        view.error("Message not sent: " + (e instanceof Error ? e.message : String(e)));
        return false;
      }
    }
  }

  view = mountView(send);
  void reconnect();
}

(() => {
  const config: Config = window.parleyChat || {};
  // Loaded twice (e.g. by a single-page app re-rendering): keep the first widget.
  if (config.state) return;
  const channelId = (script && script.getAttribute("data-channel-id")) || config.channelId;
  if (!channelId) {
    console.warn("parley chat: no data-channel-id attribute nor window.parleyChat.channelId");
    return;
  }
  let host = config.host;
  if (!host) {
    try {
      host = new URL((script && script.src) || "").origin;
    } catch {
      // Inlined or bundled into the page (no src): assume the API is the page's origin.
      host = location.origin;
    }
  }
  const apiHost = host.replace(/\/+$/, "");
  const state: State = { conversationId: null, ready: false };
  config.state = state;
  window.parleyChat = config;
  const run = () => start(channelId, apiHost, state);
  // In <head> there is no body yet to mount into.
  if (document.body) run();
  else document.addEventListener("DOMContentLoaded", run);
})();
