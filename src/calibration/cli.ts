// The work of `autohedge margin calibrate` (its flags are in src/cli/main.ts): the SPAN model (and the
// constants table) against the broker, on the margin records of a recorded day (--day) or on the
// account's positions now (--broker).
import { Console, Effect, Option } from "effect"
import { readRecordedDay } from "../domain/recorded-day.ts"
import { loadDaemonSettings } from "../daemon/settings.ts"
import { constantsMarginModel } from "../domain/margin.ts"
import type { IndexName } from "../domain/market.ts"
import { spanMarginModel } from "../domain/span.ts"
import { isIsoDate } from "../domain/time.ts"
import { loadConfigFrom } from "../runtime/load-config.ts"
import { calibrateDay, CalibrationError } from "./day.ts"
import { type CalibrationBroker, calibrateBroker } from "./broker.ts"
import { dayCalibrationJson, formatDayCalibration, formatPortfolioCalibration, portfolioCalibrationJson } from "./report.ts"

const fail = (message: string) => Effect.fail(new CalibrationError({ message }))

/** `--at 2026-02-10T10:30:00` (IST) -> epoch ms. */
const parseAt = (text: string): Effect.Effect<number, CalibrationError> => {
  const at = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/.test(text) ? Date.parse(`${text}+05:30`) : Number.NaN
  return Number.isNaN(at) ? fail(`--at: expected YYYY-MM-DDTHH:MM:SS (IST), got ${JSON.stringify(text)}`) : Effect.succeed(at)
}

const dayCalibration = (file: string, configPath: string | undefined, json: boolean) =>
  Effect.gen(function*() {
    const config = yield* loadConfigFrom(process.env, configPath)
    const day = yield* readRecordedDay(file)
    // The parameters the engine itself would use (config key `span`), so the report calibrates those.
    const models = [spanMarginModel(config.span), constantsMarginModel(config.marginConstants)]
    const result = yield* calibrateDay(day, file, models)
    yield* Console.log(json ? JSON.stringify(dayCalibrationJson(result), null, 2) : formatDayCalibration(result))
  })

interface BrokerFlags {
  readonly broker: CalibrationBroker
  readonly index: IndexName
  readonly expiry: string | undefined
  readonly at: string | undefined
  readonly configPath: string | undefined
  readonly json: boolean
}

const brokerCalibration = (o: BrokerFlags) =>
  Effect.gen(function*() {
    const settings = yield* loadDaemonSettings(process.env, { mode: "recommend", configPath: o.configPath })
    const at = o.at === undefined ? Date.now() : yield* parseAt(o.at)
    if (o.expiry !== undefined && !isIsoDate(o.expiry)) return yield* fail(`--expiry: expected YYYY-MM-DD, got ${JSON.stringify(o.expiry)}`)
    const result = yield* calibrateBroker({
      broker: o.broker,
      openalgo: { baseUrl: settings.openalgoUrl, apiKey: settings.apiKey, rateLimits: settings.rateLimits },
      ...(settings.kite === undefined ? {} : { kite: settings.kite }),
      index: o.index,
      ...(o.expiry === undefined ? {} : { expiry: o.expiry }),
      at,
      spanParams: settings.config.span
    })
    yield* Console.log(o.json ? JSON.stringify(portfolioCalibrationJson(result), null, 2) : formatPortfolioCalibration(result))
  })

/** `autohedge margin calibrate`: exactly one of a recorded day (`day`) or the broker's account now (`broker`). */
export const calibrate = (o: {
  readonly day: Option.Option<string>
  readonly broker: Option.Option<CalibrationBroker>
  readonly index: IndexName
  readonly expiry: Option.Option<string>
  readonly at: Option.Option<string>
  readonly json: boolean
  readonly config: Option.Option<string>
}) =>
  Effect.gen(function*() {
    const day = Option.getOrUndefined(o.day)
    const broker = Option.getOrUndefined(o.broker)
    const configPath = Option.getOrUndefined(o.config)
    if ((day === undefined) === (broker === undefined)) {
      return yield* fail("give one of --day FILE (a recorded day's margin records) or --broker openalgo|kite (the account's positions now)")
    }
    if (day !== undefined) return yield* dayCalibration(day, configPath, o.json)
    return yield* brokerCalibration({ broker: broker!, index: o.index, expiry: Option.getOrUndefined(o.expiry), at: Option.getOrUndefined(o.at), configPath, json: o.json })
  })
