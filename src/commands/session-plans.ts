// How coming days' sessions are to be set up, as the operator asked: baskets, budget per basket, and
// whether auto-hedge starts on. The daemon reads them when it sets a day up (09:00 IST); a day without
// one is set up from the configuration's defaults. Kept by the running daemon (a restart forgets them).
export interface SessionPlan {
  readonly date: string
  readonly baskets?: number | undefined
  readonly budgetPerBasket?: number | undefined
  readonly autoHedgeEnabled?: boolean | undefined
}

export class SessionPlans {
  private readonly plans = new Map<string, SessionPlan>()

  /** The plan of a date, if the operator set one up. */
  get(date: string): SessionPlan | undefined {
    return this.plans.get(date)
  }

  /** Set (or change) a date's plan; fields not given keep what was set before. Returns the plan now. */
  set(plan: SessionPlan): SessionPlan {
    const before = this.plans.get(plan.date)
    const merged: SessionPlan = {
      date: plan.date,
      baskets: plan.baskets ?? before?.baskets,
      budgetPerBasket: plan.budgetPerBasket ?? before?.budgetPerBasket,
      autoHedgeEnabled: plan.autoHedgeEnabled ?? before?.autoHedgeEnabled
    }
    this.plans.set(plan.date, merged)
    return merged
  }

  /** The plans of dates from `date` on, in date order. */
  from(date: string): ReadonlyArray<SessionPlan> {
    return [...this.plans.values()].filter((p) => p.date >= date).sort((a, b) => a.date.localeCompare(b.date))
  }
}
