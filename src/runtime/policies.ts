// The policies a day is traded or simulated with, and the margin model each decides on. The machines
// know three ways to trade (engine, static, none); the reference policy is the engine's way
// with the original design's choices: the constants table, greedy selection, no look past the next entry, and a
// 30-second polling loop.
import type { Policy } from "../../machines/protocol.ts"
import type { HedgeConfig, MarginEstimate, SelectionMethod } from "../domain/config.ts"
import { constantsMarginModel, type MarginModel } from "../domain/margin.ts"
import { spanMarginModel } from "../domain/span.ts"
import type { Polling } from "./session-plan.ts"

export type PolicyName = Policy | "reference"
export const POLICY_NAMES: ReadonlyArray<PolicyName> = ["engine", "reference", "static", "none"]

/**
 * The original design's loop checks every 30 s from whenever it was started: on average it starts a look-ahead
 * 15 s late (it "can miss a 5-minute look-ahead window's start by up to 30 s").
 */
export const REFERENCE_POLLING: Polling = { everyMs: 30_000, phaseMs: 15_000 }

export interface PolicyPlan {
  /** How reports name it ("engine", "engine-constants", "reference", ...). */
  readonly name: string
  /** Where its days are kept in the database. */
  readonly stored: PolicyName
  /** What the machines run. */
  readonly policy: Policy
  readonly estimate: MarginEstimate
  readonly selection: SelectionMethod
  /** Look past the next entry (the engine does; the original design did not). */
  readonly foresight: boolean
  /** Weigh what a hedge set costs against the breach cost it averts (the engine does; the original design did not). */
  readonly weighsCost: boolean
  readonly polling?: Polling
  /** Run the delta band beside the engine (docs/delta-band.md); absent: as the config says. */
  readonly deltaBand?: boolean
}

export const policyPlan = (name: PolicyName, config: HedgeConfig): PolicyPlan =>
  name === "reference"
    ? { name, stored: name, policy: "engine", estimate: "constants", selection: "greedy", foresight: false, weighsCost: false, polling: REFERENCE_POLLING }
    : { name, stored: name, policy: name, estimate: config.marginEstimate, selection: config.selectionMethod, foresight: true, weighsCost: true }

/** The engine deciding on another margin estimate than the config's (for comparing estimates). */
export const engineWith = (estimate: MarginEstimate, config: HedgeConfig): PolicyPlan => ({
  ...policyPlan("engine", config),
  name: estimate === config.marginEstimate ? "engine" : `engine-${estimate}`,
  estimate
})

/**
 * The engine with the delta band beside it: a second policy (hedging delta, not margin), measured in
 * the league like any other. Its days are kept as the engine's.
 */
export const engineWithDeltaBand = (config: HedgeConfig): PolicyPlan => ({ ...policyPlan("engine", config), name: "engine+delta-band", deltaBand: true })

/** A margin model by name; `broker` is the broker's basket margin (in the simulator, its truth). */
export const marginModelOf = (estimate: MarginEstimate, config: HedgeConfig, broker: () => MarginModel): MarginModel =>
  estimate === "constants" ? constantsMarginModel(config.marginConstants) : estimate === "span" ? spanMarginModel(config.span) : broker()
