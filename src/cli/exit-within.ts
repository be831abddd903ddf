/**
 * Whatever the process still waits on (a database that stopped answering, a pool that cannot close),
 * it exits `seconds` after `why` at the latest, with status 2 and a line saying so. The timer does not
 * keep the process alive: a clean stop exits earlier, as it would have.
 */
export const exitWithin = (seconds: number, why: string, say: (line: string) => void) => {
  setTimeout(() => {
    say(`still not stopped ${seconds} s after ${why} (config deadlines.shutdownSeconds): exiting now; a day resumes from its records at the next start`)
    process.exit(2)
  }, seconds * 1000).unref()
}
