// How many kill points the kill-and-restart tests try: a sample by default, spread over the day and
// holding the points that once found a bug; every point they know with AUTOHEDGE_KILL_SWEEP=full
// (slow: run it after touching restore, checkpoints or the journal, and before a release).
export const FULL_KILL_SWEEP = process.env.AUTOHEDGE_KILL_SWEEP === "full"
