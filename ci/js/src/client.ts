// The HTTP client every TypeScript CI front end shares: deployments, verifications, reports.
// It holds no gate logic (the server decides passed/failed); it only creates, follows and reads.

/** Why a call failed; front ends map every kind to a failed step, never to a pass. */
export type VedetteErrorKind = "usage" | "auth" | "connection" | "api" | "timeout";

/** A failed call with a message fit for a CI log (never contains the token). */
export class VedetteError extends Error {
  readonly kind: VedetteErrorKind;
  readonly status?: number;

  constructor(kind: VedetteErrorKind, message: string, status?: number) {
    super(message);
    this.name = "VedetteError";
    this.kind = kind;
    this.status = status;
  }
}

/** The envelope every Vedette resource is answered in. */
export interface ResourceView<Spec, Status = unknown> {
  id: string;
  labels: Record<string, string>;
  spec: Spec;
  status?: Status;
  version?: number;
  created_at?: string;
  updated_at?: string;
}

/** What a deployment records (the server fills in defaults and timestamps). */
export interface DeploymentSpec {
  service: string;
  version: string;
  environment: string;
  commit?: string;
  ref?: string;
  url?: string;
  source?: "github" | "gitlab" | "jenkins" | "azure-devops" | "cli" | "api";
  selector?: string;
  mute?: string;
  status?: DeploymentStatus;
  started_at?: string;
  finished_at?: string;
}

/** A deployment's lifecycle state. */
export type DeploymentStatus = "started" | "succeeded" | "failed" | "rolled_back";

/** The gate's parameters; exactly one of selector / ids. */
export interface VerificationSpec {
  selector?: string;
  ids?: string[];
  consecutive?: number;
  timeout?: string;
  run_now?: boolean;
  fail_fast?: boolean;
  deployment?: string;
}

/** A verification's state; the last four are terminal. */
export type VerificationState = "pending" | "running" | "passed" | "failed" | "timed_out" | "no_monitors";

/** A failing assertion with the value the check saw. */
export interface AssertionFailure {
  assertion: string;
  actual?: string | null;
}

/** One selected monitor's progress inside a verification. */
export interface MonitorProgress {
  id: string;
  name?: string | null;
  state?: string;
  checks?: number;
  consecutive_ok?: number;
  passed?: boolean;
  last_result?: {
    ok: boolean;
    at?: string;
    message?: string | null;
    failures?: AssertionFailure[];
  } | null;
}

/** The server-computed status of a verification. */
export interface VerificationStatus {
  state: VerificationState;
  started_at?: string;
  deadline?: string;
  finished_at?: string | null;
  reason?: string | null;
  monitors?: MonitorProgress[];
}

export type DeploymentView = ResourceView<DeploymentSpec>;
export type VerificationView = ResourceView<VerificationSpec, VerificationStatus>;

/** The states after which a verification no longer changes. */
export const TERMINAL_STATES: readonly VerificationState[] = ["passed", "failed", "timed_out", "no_monitors"];

/** Whether a verification view has reached a terminal state. */
export function isTerminal(view: VerificationView): boolean {
  const state = view.status?.state;
  return state !== undefined && TERMINAL_STATES.includes(state);
}

/** How to reach the server. */
export interface ClientOptions {
  /** The server's base URL, e.g. `https://vedette.example.com` (a trailing `/api/v1` is accepted). */
  url: string;
  /** An API token (`vdt_…`); sent as a bearer token. */
  token: string;
  /** Sent as User-Agent so the server's logs name the front end. */
  userAgent?: string;
  /** Per-request limit; a request that takes longer is a connection error. */
  requestTimeoutMs?: number;
}

/** How to follow a verification. */
export interface FollowOptions {
  /** The verification's own timeout; the client gives up `marginMs` after it. */
  timeoutMs: number;
  /** Extra time the server gets to declare `timed_out` itself. */
  marginMs?: number;
  /** Time between two GETs (at most 2 s). */
  intervalMs?: number;
  /** Called with every view fetched, for progress lines. */
  onProgress?: (view: VerificationView) => void;
  /** Poll failures (connection errors, 5xx) tolerated in a row before giving up. */
  maxPollFailures?: number;
}

const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
/** Largest response body read; a report of many monitors stays far below. */
const MAX_BODY_BYTES = 8 * 1024 * 1024;

/** A Vedette API client over the global `fetch` (Node ≥ 20). */
export class VedetteClient {
  private readonly base: string;
  private readonly token: string;
  private readonly userAgent: string;
  private readonly requestTimeoutMs: number;

  constructor(options: ClientOptions) {
    this.base = normalizeBaseUrl(options.url);
    const token = options.token.trim();
    if (token === "") {
      throw new VedetteError("usage", "token: an API token is required (a `vdt_…` token with the needed scope)");
    }
    if (/[\s]/.test(token)) {
      throw new VedetteError("usage", "token: must not contain whitespace");
    }
    this.token = token;
    this.userAgent = options.userAgent ?? "vedette-ci";
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  }

  /** The API root requests go to, e.g. `https://vedette.example.com/api/v1`. */
  get apiRoot(): string {
    return this.base;
  }

  /** Records the start of a deployment; answers the stored deployment (with its id). */
  async createDeployment(spec: DeploymentSpec, labels: Record<string, string> = {}, id?: string): Promise<DeploymentView> {
    const body: Record<string, unknown> = { labels, spec };
    if (id !== undefined && id !== "") {
      body.id = id;
    }
    return (await this.request("POST", "/deployments", body)) as DeploymentView;
  }

  /** Records the end of a deployment with its outcome. */
  async finishDeployment(id: string, status: Exclude<DeploymentStatus, "started">): Promise<DeploymentView> {
    return (await this.request("POST", `/deployments/${encodeURIComponent(id)}/finish`, { status })) as DeploymentView;
  }

  /** Starts a verification (the deployment gate); the server runs it. */
  async createVerification(spec: VerificationSpec, labels: Record<string, string> = {}): Promise<VerificationView> {
    return (await this.request("POST", "/verifications", { labels, spec })) as VerificationView;
  }

  /** Reads a verification's current view. */
  async getVerification(id: string): Promise<VerificationView> {
    return (await this.request("GET", `/verifications/${encodeURIComponent(id)}`)) as VerificationView;
  }

  /** Renders a verification's report (`junit` is XML, `markdown` is text). */
  async report(id: string, format: "junit" | "markdown"): Promise<string> {
    return (await this.request("GET", `/verifications/${encodeURIComponent(id)}/report?format=${format}`, undefined, "text")) as string;
  }

  /**
   * Polls a verification until it reaches a terminal state. Gives up with a `timeout` error when
   * the server has not finished it by its timeout plus the margin, so a stuck server never hangs
   * (nor passes) a pipeline.
   */
  async followVerification(id: string, options: FollowOptions): Promise<VerificationView> {
    const interval = Math.min(Math.max(options.intervalMs ?? 1000, 50), 2000);
    const margin = options.marginMs ?? 30_000;
    const maxFailures = options.maxPollFailures ?? 3;
    const giveUpAt = Date.now() + options.timeoutMs + margin;
    let failures = 0;
    for (;;) {
      let view: VerificationView | undefined;
      try {
        view = await this.getVerification(id);
        failures = 0;
      } catch (err) {
        // A blip while polling is retried a few times; a rejected token or a 4xx is not.
        const transient = err instanceof VedetteError && (err.kind === "connection" || (err.status ?? 0) >= 500);
        failures += 1;
        if (!transient || failures > maxFailures) {
          throw err;
        }
      }
      if (view !== undefined) {
        options.onProgress?.(view);
        if (isTerminal(view)) {
          return view;
        }
      }
      if (Date.now() >= giveUpAt) {
        throw new VedetteError(
          "timeout",
          `verification ${id} did not finish within its timeout plus ${Math.round(margin / 1000)} s ` +
            `(last state: ${view?.status?.state ?? "unknown"}); the server may be overloaded or stopped`,
        );
      }
      await sleep(Math.min(interval, Math.max(giveUpAt - Date.now(), 0)));
    }
  }

  private async request(method: string, path: string, body?: unknown, expect: "json" | "text" = "json"): Promise<unknown> {
    const url = this.base + path;
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.token}`,
      accept: expect === "json" ? "application/json" : "*/*",
      "user-agent": this.userAgent,
    };
    if (body !== undefined) {
      headers["content-type"] = "application/json";
    }
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.requestTimeoutMs),
        redirect: "error",
      });
    } catch (err) {
      throw new VedetteError("connection", `cannot reach Vedette at ${this.base} (${method} ${path}): ${describeFetchError(err)}`);
    }
    const text = await readLimited(response, `${method} ${path}`);
    if (response.status === 401 || response.status === 403) {
      const what = response.status === 401 ? "rejected the token" : "refused the token's access";
      throw new VedetteError(
        "auth",
        `Vedette ${what} (${response.status} on ${method} ${path}): ${problemText(text) || response.statusText}. ` +
          "Check the token input: it must be a valid API token with the read and write scopes.",
        response.status,
      );
    }
    if (!response.ok) {
      throw new VedetteError(
        "api",
        `Vedette answered ${response.status} to ${method} ${path}: ${problemText(text) || response.statusText}`,
        response.status,
      );
    }
    if (expect === "text") {
      return text;
    }
    try {
      return JSON.parse(text);
    } catch {
      throw new VedetteError("api", `Vedette answered ${method} ${path} with a body that is not JSON: ${excerpt(text)}`, response.status);
    }
  }
}

/** Validates a server URL and returns its API root (`…/api/v1`, no trailing slash). */
export function normalizeBaseUrl(raw: string): string {
  const trimmed = raw.trim();
  if (trimmed === "") {
    throw new VedetteError("usage", "url: the Vedette server's URL is required (e.g. https://vedette.example.com)");
  }
  let parsed: URL;
  try {
    parsed = new URL(trimmed);
  } catch {
    throw new VedetteError("usage", `url: expected an absolute http(s) URL, got ${JSON.stringify(trimmed)}`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new VedetteError("usage", `url: expected an http or https URL, got scheme ${parsed.protocol.replace(/:$/, "")}`);
  }
  if (parsed.username !== "" || parsed.password !== "") {
    throw new VedetteError("usage", "url: must not carry credentials; pass the API token in the token input");
  }
  if (parsed.search !== "" || parsed.hash !== "") {
    throw new VedetteError("usage", "url: must not have a query or fragment");
  }
  const path = parsed.pathname.replace(/\/+$/, "").replace(/\/api\/v1$/, "");
  return `${parsed.origin}${path}/api/v1`;
}

/** The readable part of a problem+json body: title, detail and each field error. */
export function problemText(body: string): string {
  let problem: unknown;
  try {
    problem = JSON.parse(body);
  } catch {
    return excerpt(body);
  }
  if (typeof problem !== "object" || problem === null) {
    return excerpt(body);
  }
  const p = problem as { title?: unknown; detail?: unknown; errors?: unknown };
  const parts: string[] = [];
  if (typeof p.title === "string" && p.title !== "") {
    parts.push(p.title);
  }
  if (typeof p.detail === "string" && p.detail !== "" && p.detail !== p.title) {
    parts.push(p.detail);
  }
  let text = parts.join(": ");
  if (Array.isArray(p.errors) && p.errors.length > 0) {
    // Field errors the detail already spells out are not repeated.
    const fields = p.errors
      .map((e: unknown) => {
        const fe = e as { field?: unknown; message?: unknown };
        const field = typeof fe.field === "string" ? fe.field : "?";
        const message = typeof fe.message === "string" ? fe.message : JSON.stringify(e);
        return `${field}: ${message}`;
      })
      .filter((fieldError) => !text.includes(fieldError))
      .join("; ");
    if (fields !== "") {
      text = text === "" ? fields : `${text} (${fields})`;
    }
  }
  return text === "" ? excerpt(body) : text;
}

function excerpt(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > 300 ? `${flat.slice(0, 300)}…` : flat;
}

async function readLimited(response: Response, what: string): Promise<string> {
  const declared = Number(response.headers.get("content-length") ?? "0");
  if (declared > MAX_BODY_BYTES) {
    throw new VedetteError("api", `the answer to ${what} is too large (${declared} bytes, limit ${MAX_BODY_BYTES})`);
  }
  try {
    const buffer = await response.arrayBuffer();
    if (buffer.byteLength > MAX_BODY_BYTES) {
      throw new VedetteError("api", `the answer to ${what} is too large (more than ${MAX_BODY_BYTES} bytes)`);
    }
    return new TextDecoder().decode(buffer);
  } catch (err) {
    if (err instanceof VedetteError) {
      throw err;
    }
    throw new VedetteError("connection", `the connection broke while reading the answer to ${what}: ${describeFetchError(err)}`);
  }
}

function describeFetchError(err: unknown): string {
  if (err instanceof Error) {
    if (err.name === "TimeoutError") {
      return "no answer in time";
    }
    const cause = (err as { cause?: unknown }).cause;
    if (cause instanceof Error) {
      const code = (cause as { code?: string }).code;
      return code !== undefined ? `${code} (${cause.message})` : cause.message;
    }
    return err.message;
  }
  return String(err);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
