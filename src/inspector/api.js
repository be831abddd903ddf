// The HTTP API as the page uses it. URLs are relative to the page, so it also works behind a path prefix.

const TOKEN_KEY = "autohedge.token"

/** The API token, kept for this browser tab only (sessionStorage). */
export const token = {
  get: () => sessionStorage.getItem(TOKEN_KEY) ?? "",
  set: (value) => (value === "" ? sessionStorage.removeItem(TOKEN_KEY) : sessionStorage.setItem(TOKEN_KEY, value))
}

/** An API failure carrying the server's own message (and the field it is about, if any). */
export class ApiError extends Error {
  constructor(status, message, field) {
    super(message)
    this.status = status
    this.field = field
  }
}

const readBody = async (response) => {
  const text = await response.text()
  try {
    return text === "" ? null : JSON.parse(text)
  } catch {
    return text
  }
}

const request = async (path, init) => {
  let response
  try {
    response = await fetch(path, init)
  } catch (cause) {
    throw new ApiError(0, `cannot reach the server (${cause instanceof Error ? cause.message : cause})`)
  }
  const body = await readBody(response)
  if (!response.ok) {
    const message = body !== null && typeof body === "object" && typeof body.error === "string" ? body.error : typeof body === "string" && body !== "" ? body : response.statusText
    throw new ApiError(response.status, message || `HTTP ${response.status}`, body?.field)
  }
  return body
}

/** The token as a bearer header when one is set: changes need it, and so do reads off loopback. */
const authorized = (headers) => {
  const t = token.get()
  return t === "" ? headers : { ...headers, Authorization: `Bearer ${t}` }
}

export const getJson = (path) => request(path, { headers: authorized({ Accept: "application/json" }) })

/** A change; without a token it is sent anyway, and the server's refusal says what is missing. */
export const postJson = (path, body) =>
  request(path, { method: "POST", headers: authorized({ "Content-Type": "application/json", Accept: "application/json" }), body: JSON.stringify(body) })

/** A replacing change (the schedule). */
export const putJson = (path, body) =>
  request(path, { method: "PUT", headers: authorized({ "Content-Type": "application/json", Accept: "application/json" }), body: JSON.stringify(body) })

export const api = {
  status: () => getJson("api/hedge/status"),
  actors: () => getJson("api/inspector/actors"),
  utilisation: () => getJson("api/inspector/utilisation"),
  transitions: (actor, after, limit) =>
    getJson(`api/inspector/transitions?${new URLSearchParams({ actor, after: String(after), limit: String(limit) })}`),
  toggle: (enabled, reason) => postJson("api/hedge/toggle", reason ? { enabled, reason } : { enabled }),
  manualExit: (hedgeId) => postJson("api/hedge/manual/exit", { hedgeId })
}

/**
 * The live stream. EventSource reconnects by itself and resends Last-Event-ID, so the server carries on
 * from the last transition seen; `onState` hears "live" / "reconnecting".
 */
export const openStream = ({ onTransition, onUtilisation, onState }) => {
  // EventSource cannot set headers: off loopback the server takes the token as `?token=`.
  const t = token.get()
  const source = new EventSource(t === "" ? "api/inspector/stream" : `api/inspector/stream?${new URLSearchParams({ token: t })}`)
  const parse = (handler) => (event) => {
    try {
      handler(JSON.parse(event.data))
    } catch (error) {
      console.error("inspector: bad stream message", event.data, error)
    }
  }
  source.addEventListener("transition", parse(onTransition))
  source.addEventListener("utilisation", parse(onUtilisation))
  source.addEventListener("open", () => onState("live"))
  source.addEventListener("error", () => onState(source.readyState === EventSource.CLOSED ? "closed" : "reconnecting"))
  return source
}

/** Runs `fn` at most once per `ms`: calls in between are folded into one call at the end of the wait. */
export const throttle = (fn, ms) => {
  let timer = null
  let last = 0
  return () => {
    if (timer !== null) return
    timer = setTimeout(() => {
      timer = null
      last = Date.now()
      fn()
    }, Math.max(0, last + ms - Date.now()))
  }
}
