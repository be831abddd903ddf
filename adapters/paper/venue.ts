// The internal paper broker as a venue over another (`--mode paper --paper-broker internal`): the
// venue below gives the market, the account's positions and margin; hedge orders never reach it, they
// are filled here against its live prices (live-broker.ts) and kept in the session's database row, so
// a restarted daemon finds them.
import * as PgClient from "@effect/sql-pg/PgClient"
import { Effect, Layer } from "effect"
import type { SpanParameters } from "../../src/domain/span.ts"
import { spanMarginModel } from "../../src/domain/span.ts"
import { Venue } from "../../src/services/venue.ts"
import { postgresPaperBrokerStore } from "../postgres/engine-store.ts"
import { livePaperBroker, type LivePaperState } from "./live-broker.ts"

/** Paper hedges move the account's margin as the exchange's SPAN (`span`) would. */
export const internalPaperVenue = (span: SpanParameters): Layer.Layer<Venue, never, Venue | PgClient.PgClient> =>
  Layer.effect(
    Venue,
    Effect.gen(function*() {
      const venue = yield* Venue
      const database = yield* PgClient.PgClient
      return {
        ...venue,
        name: `internal paper broker over ${venue.name}`,
        day: (p) =>
          Effect.map(venue.day(p), (day) => ({
            ...day,
            trading: (session) =>
              Effect.gen(function*() {
                const real = yield* day.trading(session)
                const store = yield* Effect.provideService(postgresPaperBrokerStore<LivePaperState>(session.sessionId), PgClient.PgClient, database)
                const paper = yield* livePaperBroker({
                  account: real.broker,
                  accountMargin: real.margin,
                  market: session.market,
                  model: spanMarginModel(span),
                  session: { index: session.index, date: session.date, expiry: session.expiry, lotSize: session.lotSize },
                  store
                })
                return { broker: paper.broker, margin: paper.marginMonitor }
              })
          }))
      }
    })
  )
