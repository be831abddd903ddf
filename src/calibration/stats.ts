// How far a model is from the broker: per comparison the signed error in percent of the broker's
// number, and over many the mean absolute error, the worst one and the bias (the mean signed error:
// positive = the model asks for more margin than the broker).

export interface Comparison {
  readonly model: string
  /** The model's margin, rupees; null when it could not price the portfolio. */
  readonly margin: number | null
  /** (model − broker) / broker × 100; null when either side is missing or the broker's number is not above 0. */
  readonly errorPct: number | null
  /** Why the model could not price it. */
  readonly problem?: string
}

export const errorPct = (model: number, broker: number): number | null => (broker > 0 ? ((model - broker) / broker) * 100 : null)

export const compare = (model: string, margin: number, broker: number): Comparison => ({ model, margin, errorPct: errorPct(margin, broker) })

export interface ModelSummary {
  readonly model: string
  /** Comparisons with an error (the others: the model failed, or the broker's number was 0). */
  readonly compared: number
  readonly meanAbsErrorPct: number | null
  readonly biasPct: number | null
  readonly worst: { readonly time: string; readonly errorPct: number } | null
}

export const summarise = (model: string, comparisons: ReadonlyArray<{ readonly time: string; readonly comparison: Comparison }>): ModelSummary => {
  const errors = comparisons.flatMap((c) => (c.comparison.errorPct === null ? [] : [{ time: c.time, errorPct: c.comparison.errorPct }]))
  if (errors.length === 0) return { model, compared: 0, meanAbsErrorPct: null, biasPct: null, worst: null }
  const worst = errors.reduce((w, e) => (Math.abs(e.errorPct) > Math.abs(w.errorPct) ? e : w))
  return {
    model,
    compared: errors.length,
    meanAbsErrorPct: errors.reduce((s, e) => s + Math.abs(e.errorPct), 0) / errors.length,
    biasPct: errors.reduce((s, e) => s + e.errorPct, 0) / errors.length,
    worst
  }
}
