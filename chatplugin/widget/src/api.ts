// HTTP calls to Parley's chat plugin visitor API. The page embedding the widget is on
// another origin than the API, so every call is a CORS request without cookies: the
// visitor is identified only by the bearer token that authenticate hands out.

/** A chat message as the API serves it (snake_case, as on the wire). */
export interface Message {
  id: string;
  /** The payload as sent; usually {"text": "..."}, but any JSON value. */
  content: unknown;
  delivery_state?: "pending" | "delivered" | "failed";
  /** True for the visitor's own messages, false for the agent's replies. */
  from_contact: boolean;
  /** RFC 3339 UTC with milliseconds; messages are ordered by it. */
  sent_at: string;
  sender?: { id: string; name: string };
  metadata?: Record<string, unknown>;
  source?: string;
}

export interface AuthResponse {
  token: string;
  messages?: Message[];
  conversation_id: string;
}

/** An HTTP error answer; status 0 is never used (network failures stay TypeErrors). */
export class ApiError extends Error {
  status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

export type Api = ReturnType<typeof createApi>;

export function createApi(host: string) {
  async function post<T>(method: string, body: object, token?: string): Promise<T> {
    const headers: Record<string, string> = { "Content-Type": "application/json" };
    if (token) headers.Authorization = "Bearer " + token;
    const res = await fetch(host + "/chatplugin." + method, {
      method: "POST",
      mode: "cors",
      credentials: "omit",
      headers,
      body: JSON.stringify(body),
    });
    // Errors are JSON {code, message, details}; a proxy's HTML error page is not, so
    // a body that does not parse must not hide the status.
    const data = await res.json().catch(() => null);
    if (!res.ok || !data || typeof data !== "object") {
      throw new ApiError(res.status, (data && typeof data.message === "string" && data.message) || "HTTP " + res.status);
    }
    return data as T;
  }

  return {
    /** Starts a conversation (channel_id) or continues one (resume_token). */
    authenticate: (body: { channel_id: string } | { resume_token: string }) =>
      post<AuthResponse>("authenticate", body),
    /** A long-lived token to authenticate the same conversation again later. */
    resumeToken: (token: string) => post<{ resume_token: string }>("resumeToken", {}, token),
    send: (token: string, text: string) => post<Message>("send", { message: { text } }, token),
    /** EventSource cannot set headers, so the stream takes the token as a query parameter. */
    streamUrl: (token: string) => host + "/chatplugin.stream?token=" + encodeURIComponent(token),
  };
}
