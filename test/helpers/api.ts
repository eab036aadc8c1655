/** A small HTTP client for tests: an API token after first-run setup, JSON in and out. */
import type { ApiError, Feed, Feeder, FeederCredentials } from "../../server/src/http/api-types.js";

export interface ApiResponse<T = unknown> {
  status: number;
  body: T;
  headers: Headers;
}

export class TestApi {
  constructor(
    public baseUrl: string,
    public token?: string,
  ) {}

  async request<T = any>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        ...(body !== undefined && { "content-type": "application/json" }),
        ...(this.token && { authorization: `Bearer ${this.token}` }),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON; keep the text
    }
    return { status: res.status, body: parsed as T, headers: res.headers } satisfies ApiResponse<T>;
  }

  /** First-run setup through the API, then an API token for everything else. */
  async setupOwner(username = "owner", password = "a long enough password"): Promise<void> {
    const origin = { origin: this.baseUrl };
    const setup = await fetch(`${this.baseUrl}/api/setup`, {
      method: "POST",
      headers: { "content-type": "application/json", ...origin },
      body: JSON.stringify({ username, password }),
    });
    if (setup.status !== 201) throw new Error(`setup failed: ${setup.status} ${await setup.text()}`);
    const cookie = (setup.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
    const token = await fetch(`${this.baseUrl}/api/tokens`, {
      method: "POST",
      headers: { "content-type": "application/json", cookie, ...origin },
      body: JSON.stringify({ name: "tests" }),
    });
    if (token.status !== 201) throw new Error(`token failed: ${token.status} ${await token.text()}`);
    this.token = ((await token.json()) as { token: string }).token;
  }

  /** Signs in as another user and returns an API client with that user's own token. */
  async signInAs(username: string, password: string): Promise<TestApi> {
    const origin = { origin: this.baseUrl };
    const login = await fetch(`${this.baseUrl}/api/session`, {
      method: "POST",
      headers: { "content-type": "application/json", ...origin },
      body: JSON.stringify({ username, password }),
    });
    if (login.status !== 200) throw new Error(`sign-in failed: ${login.status} ${await login.text()}`);
    const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
    const token = await fetch(`${this.baseUrl}/api/tokens`, {
      method: "POST",
      headers: { "content-type": "application/json", cookie, ...origin },
      body: JSON.stringify({ name: "tests" }),
    });
    if (token.status !== 201) throw new Error(`token failed: ${token.status} ${await token.text()}`);
    return new TestApi(this.baseUrl, ((await token.json()) as { token: string }).token);
  }

  async createFeeder(name = "Kitchen", extra: Record<string, unknown> = {}) {
    const res = await this.request<{ feeder: Feeder; credentials: FeederCredentials }>(
      "POST",
      "/api/feeders",
      {
        name,
        profile: "feedkeeper",
        ...extra,
      },
    );
    if (res.status !== 201) throw new Error(`createFeeder: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  }

  async feed(feederId: string, body: Record<string, unknown>, headers: Record<string, string> = {}) {
    return this.request<{ feed: Feed } & Partial<ApiError>>(
      "POST",
      `/api/feeders/${feederId}/feeds`,
      body,
      headers,
    );
  }

  async getFeed(feedId: string): Promise<Feed> {
    const res = await this.request<{ feed: Feed }>("GET", `/api/feeds/${feedId}`);
    if (res.status !== 200) throw new Error(`getFeed: ${res.status}`);
    return res.body.feed;
  }

  /** Polls a feed until it reaches one of the statuses (or throws after timeoutMs). */
  async waitForFeed(feedId: string, statuses: Feed["status"][], timeoutMs = 10_000): Promise<Feed> {
    const deadline = Date.now() + timeoutMs;
    let feed = await this.getFeed(feedId);
    while (!statuses.includes(feed.status)) {
      if (Date.now() > deadline) throw new Error(`feed ${feedId} stayed ${feed.status}, wanted ${statuses}`);
      await new Promise((r) => setTimeout(r, 50));
      feed = await this.getFeed(feedId);
    }
    return feed;
  }

  async waitForFeeder(
    feederId: string,
    predicate: (f: Feeder) => boolean,
    timeoutMs = 10_000,
  ): Promise<Feeder> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const res = await this.request<{ feeder: Feeder }>("GET", `/api/feeders/${feederId}`);
      if (res.status === 200 && predicate(res.body.feeder)) return res.body.feeder;
      if (Date.now() > deadline)
        throw new Error(`feeder ${feederId} never matched: ${JSON.stringify(res.body)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
