// The venues the daemon trades, by the name AUTOHEDGE_VENUE gives (default openalgo), and the Layer
// each mode runs on (as QuantConnect Lean swaps its brokerage and data handlers per mode): live trades
// the venue; paper trades its own sandbox or, with --paper-broker internal, this process's paper
// broker over its market; recommend sends it nothing. A new broker is a folder under adapters/ with
// its venue Layer, and one line in VENUES.
import type * as PgClient from "@effect/sql-pg/PgClient"
import { Effect, Layer } from "effect"
import type { Instruments } from "../src/domain/instruments.ts"
import { DAEMON_ENV, DEFAULT_VENUE, type DaemonSettings } from "../src/daemon/settings.ts"
import { type Venue, VenueConfigError, type VenueWorld } from "../src/services/venue.ts"
import { openAlgoVenue } from "./openalgo/venue.ts"
import { internalPaperVenue } from "./paper/venue.ts"
import { recommendVenue } from "./recommend/venue.ts"

export interface VenueSetup {
  readonly settings: DaemonSettings
  readonly instruments: Instruments
}

export interface VenueEntry {
  /** The venue in a world: real orders, its own sandbox, or either (for the modes that send it none). */
  readonly layer: (setup: VenueSetup & { readonly world: VenueWorld }) => Layer.Layer<Venue>
  /** Whether it has a sandbox of its own for paper mode. */
  readonly sandbox: boolean
}

export const VENUES: Readonly<Record<string, VenueEntry>> = {
  openalgo: { layer: openAlgoVenue, sandbox: true }
}

const entryOf = (settings: DaemonSettings, venues: Readonly<Record<string, VenueEntry>>) => {
  const name = settings.venue ?? DEFAULT_VENUE
  const entry = venues[name]
  if (entry !== undefined) return Effect.succeed({ name, entry })
  const known = Object.keys(venues).join(", ")
  return Effect.fail(new VenueConfigError({ field: DAEMON_ENV.venue, value: name, message: `${DAEMON_ENV.venue} = ${JSON.stringify(name)}: no such venue (known: ${known})` }))
}

/** The configured venue with every order refused as a recommendation: what `recommend` and `record` run on. */
export const recommendingVenueFor = (setup: VenueSetup, venues = VENUES): Layer.Layer<Venue, VenueConfigError> =>
  Layer.unwrap(Effect.map(entryOf(setup.settings, venues), ({ entry }) => Layer.provide(recommendVenue, entry.layer({ ...setup, world: "either" }))))

/** The Layer the configuration's venue, mode and paper broker choose. */
export const venueLayerFor = (setup: VenueSetup, venues = VENUES): Layer.Layer<Venue, VenueConfigError, PgClient.PgClient> =>
  Layer.unwrap(Effect.gen(function*() {
    const { settings } = setup
    const { name, entry } = yield* entryOf(settings, venues)
    switch (settings.mode) {
      case "live":
        return entry.layer({ ...setup, world: "real" })
      case "recommend":
        return recommendingVenueFor(setup, venues)
      case "paper": {
        if (settings.paperBroker === "internal") return Layer.provide(internalPaperVenue(settings.config.span), entry.layer({ ...setup, world: "either" }))
        if (settings.paperBroker !== name || !entry.sandbox) {
          const why = entry.sandbox ? `paper trading in the venue's own sandbox names the venue (${name})` : `${name} has no paper trading of its own`
          return yield* new VenueConfigError({ field: "--paper-broker", value: settings.paperBroker, message: `--paper-broker = ${JSON.stringify(settings.paperBroker)}: ${why}; or use --paper-broker internal` })
        }
        return entry.layer({ ...setup, world: "sandbox" })
      }
    }
  }))
