// At start, every connection the daemon needs is tried once, so an unreachable OpenAlgo is reported
// now rather than at the next trading day's 09:00 set-up. A failure is logged as an error and the
// daemon carries on: planning tries the broker again, and the operator has been told.
import { Effect, Redacted } from "effect"
import { SqlClient } from "effect/sql/SqlClient"
import type { DaemonLog } from "./log.ts"

/** How long a start-up check waits for an answer. */
export const CONNECTION_CHECK_SECONDS = 5

const reasonOf = (e: unknown): string => {
  const cause = e instanceof Error && e.cause instanceof Error ? e.cause : e
  return cause instanceof Error ? (cause.message || cause.name) : String(cause)
}

/** OpenAlgo's /ping (it checks the API key too): undefined when it answers, else why not. */
const pingOpenAlgo = async (apiRoot: string, apiKey: Redacted.Redacted<string>): Promise<string | undefined> => {
  try {
    const reply = await fetch(`${apiRoot}/ping`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ apikey: Redacted.value(apiKey) }),
      signal: AbortSignal.timeout(CONNECTION_CHECK_SECONDS * 1000)
    })
    if (reply.ok) return undefined
    const body = await reply.text().catch(() => "")
    return `answered HTTP ${reply.status}${body === "" ? "" : `: ${body.slice(0, 200)}`}`
  } catch (e) {
    return `unreachable: ${reasonOf(e)}`
  }
}

/** Try OpenAlgo (base URL and API key) and the database; log each outcome at once. */
export const checkConnections = (settings: { readonly openalgoUrl: string; readonly apiKey: Redacted.Redacted<string> }, log: DaemonLog): Effect.Effect<void, never, SqlClient> =>
  Effect.gen(function*() {
    const openalgo = yield* Effect.promise(() => pingOpenAlgo(settings.openalgoUrl, settings.apiKey))
    if (openalgo === undefined) log.write("info", "daemon", `OpenAlgo answers at ${settings.openalgoUrl}`)
    else log.write("error", "daemon", `OpenAlgo at ${settings.openalgoUrl} ${openalgo} (check OPENALGO_BASE_URL and OPENALGO_API_KEY)`, { connection: "openalgo" })
    const sql = yield* SqlClient
    const database = yield* sql`SELECT 1`.pipe(
      Effect.timeout(`${CONNECTION_CHECK_SECONDS} seconds`),
      Effect.match({ onSuccess: () => undefined, onFailure: (e) => reasonOf(e) })
    )
    if (database === undefined) log.write("info", "daemon", "the database answers")
    else log.write("error", "daemon", `the database does not answer: ${database}`, { connection: "database" })
  })
