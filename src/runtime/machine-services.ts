// The services the machines invoke, bound to the session machine in one place: the engine answers them
// from the world, the verifier from the recorded trail.
import { fromPromise } from "xstate"
import { entryMachine } from "../../machines/entry.ts"
import { carriedHedgeMachine, hedgeMachine } from "../../machines/hedge.ts"
import type {
  AssessDeltaInput,
  AssessExitsInput,
  DeltaDecision,
  AssessOvernightInput,
  ExitDecision,
  OrderRef,
  OvernightAssessment,
  OrderRequest,
  OrderState,
  PlaceResult,
  ProjectEntryInput,
  Projection,
  Quote,
  QuoteInput,
  SelectHedgesInput,
  SelectionResult
} from "../../machines/protocol.ts"
import { sessionMachine } from "../../machines/session.ts"

/** A service as XState invokes it: its input (and the invoking actor, the abort signal) in, a promise out. */
type Service<TInput, TOutput> = Parameters<typeof fromPromise<TOutput, TInput>>[0]

export interface MachineServices {
  readonly assessExits: Service<AssessExitsInput, ExitDecision>
  readonly assessDelta: Service<AssessDeltaInput, DeltaDecision>
  readonly assessOvernight: Service<AssessOvernightInput, OvernightAssessment>
  readonly projectEntry: Service<ProjectEntryInput, Projection>
  readonly selectHedges: Service<SelectHedgesInput, SelectionResult>
  readonly quoteOption: Service<QuoteInput, Quote>
  readonly placeOrder: Service<OrderRequest, PlaceResult>
  readonly findOrder: Service<{ clientOrderId: string }, OrderState | null>
  readonly orderStatus: Service<OrderRef, OrderState>
  readonly cancelOrder: Service<OrderRef, OrderState>
}

/** The session machine with its entries' and hedges' services provided. */
export const sessionMachineWith = (s: MachineServices) =>
  sessionMachine.provide({
    actors: {
      assessExits: fromPromise(s.assessExits),
      assessDelta: fromPromise(s.assessDelta),
      assessOvernight: fromPromise(s.assessOvernight),
      entry: entryMachine.provide({ actors: { projectEntry: fromPromise(s.projectEntry), selectHedges: fromPromise(s.selectHedges) } }),
      hedge: hedgeMachine.provide(hedgeServices(s)),
      carriedHedge: carriedHedgeMachine.provide(hedgeServices(s))
    }
  })

/** What a hedge (bought today or carried in) invokes. */
const hedgeServices = (s: MachineServices) => ({
  actors: {
    quoteOption: fromPromise(s.quoteOption),
    placeOrder: fromPromise(s.placeOrder),
    findOrder: fromPromise(s.findOrder),
    orderStatus: fromPromise(s.orderStatus),
    cancelOrder: fromPromise(s.cancelOrder)
  }
})
