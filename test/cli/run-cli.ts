// The `autohedge` command as a user runs it: a real process, its output and its exit code.
import { execFile } from "node:child_process"
import { promisify } from "node:util"

export const runCli = async (args: ReadonlyArray<string>, env: Record<string, string> = {}) => {
  try {
    const { stdout, stderr } = await promisify(execFile)("node", ["bin/autohedge.js", ...args], { env: { ...process.env, ...env } })
    return { code: 0, stdout, stderr }
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string }
    return { code: err.code, stdout: err.stdout, stderr: err.stderr }
  }
}
