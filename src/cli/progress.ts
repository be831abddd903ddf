// A long command's progress on a terminal: one line on stderr, rewritten in place ("12/48 days, ETA
// 1m20s"). When stderr is no terminal (piped, redirected) or the output is --json, it writes nothing:
// the command's output is then exactly what it is without it.

export interface ProgressTarget {
  /** Whether the stream is a terminal: only then is anything written. */
  readonly isTTY: boolean
  readonly write: (text: string) => void
  /** Wall time in ms, for the ETA only. */
  readonly now: () => number
}

export interface Progress {
  /** `done` of `total` are finished. */
  readonly update: (done: number, total: number) => void
  /** Clears the line, so that what the command prints next starts on a clean line. */
  readonly end: () => void
}

/** "45s", "1m20s", "2h05m". */
export const formatDuration = (ms: number): string => {
  const seconds = Math.max(0, Math.round(ms / 1000))
  if (seconds < 60) return `${seconds}s`
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, "0")}s`
  return `${Math.floor(seconds / 3600)}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, "0")}m`
}

/** The line for `done` of `total` `unit`, `elapsed` ms after the start: the ETA once one is done. */
export const progressLine = (done: number, total: number, unit: string, elapsed: number): string =>
  done === 0 || done >= total ? `${done}/${total} ${unit}` : `${done}/${total} ${unit}, ETA ${formatDuration((elapsed / done) * (total - done))}`

const CLEAR_TO_END = "\x1b[K"

/** Progress counted in `unit` ("days", "ticks"), timed from now. */
export const progressOn = (target: ProgressTarget, unit: string): Progress => {
  if (!target.isTTY) return { update: () => {}, end: () => {} }
  const started = target.now()
  let shown = false
  return {
    update: (done, total) => {
      shown = true
      target.write(`\r${progressLine(done, total, unit, target.now() - started)}${CLEAR_TO_END}`)
    },
    end: () => {
      if (shown) target.write(`\r${CLEAR_TO_END}`)
      shown = false
    }
  }
}

/** Progress on this process's stderr; nothing with `quiet` (--json) or when stderr is no terminal. */
export const stderrProgress = (unit: string, quiet = false): Progress =>
  progressOn({ isTTY: !quiet && process.stderr.isTTY === true, write: (text) => process.stderr.write(text), now: Date.now }, unit)
