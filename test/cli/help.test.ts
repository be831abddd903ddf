// `autohedge <command> --help` for every command: each flag says what it does, and each flag that may
// be left out says what it is then (effect/cli prints no defaults itself). A switch is off unless given.
import * as NodeServices from "@effect/platform-node/NodeServices"
import { Effect } from "effect"
import { CliOutput, Command } from "effect/cli"
import type { FlagDoc, HelpDoc } from "effect/cli/HelpDoc"
import { describe, expect, it } from "vitest"
import { simulatorCommands } from "../../simulations/cli.ts"
import { tradingCommands } from "../../src/cli/main.ts"

const program = Command.make("autohedge").pipe(Command.withSubcommands([...simulatorCommands(), ...tradingCommands]))

/** The help document `autohedge <path> --help` prints. */
const helpOf = (path: ReadonlyArray<string>): Promise<HelpDoc> => {
  let doc: HelpDoc | undefined
  const capture = { ...CliOutput.defaultFormatter(), formatHelpDoc: (d: HelpDoc) => ((doc = d), "") }
  return Effect.runPromise(
    Command.runWith(program, { version: "test" })([...path, "--help"]).pipe(
      Effect.ignore,
      Effect.provide(CliOutput.layer(capture)),
      Effect.provide(NodeServices.layer)
    )
  ).then(() => {
    if (doc === undefined) throw new Error(`no help for ${path.join(" ")}`)
    return doc
  })
}

/** Every command path under the program, subcommands included. */
const commandPaths = (command: Command.Command.Any, path: ReadonlyArray<string> = []): Array<ReadonlyArray<string>> => [
  path,
  ...command.subcommands.flatMap((group) => group.commands.flatMap((sub) => commandPaths(sub, [...path, sub.name])))
]

const isSwitch = (flag: FlagDoc) => flag.type === "boolean"

/** What is missing from a flag's help: its description, or (when it may be left out) its default. */
const missing = (flag: FlagDoc): string | undefined => {
  const description = flag.description._tag === "Some" ? flag.description.value.trim() : ""
  if (description === "") return "no description"
  if (!flag.required && !isSwitch(flag) && !/default/i.test(description)) return `no default in "${description}"`
  return undefined
}

describe("autohedge --help", () => {
  const paths = commandPaths(program).filter((p) => p.length > 0)

  it("walks every command, subcommands included", () => {
    expect(paths.map((p) => p.join(" "))).toEqual(expect.arrayContaining(["simulate", "generate-days", "record", "schedule show", "margin calibrate", "db migrate"]))
  })

  it("describes every flag of every command and states the default of each that may be left out", async () => {
    const problems: Array<string> = []
    for (const path of paths) {
      for (const flag of (await helpOf(path)).flags) {
        const problem = missing(flag)
        if (problem !== undefined) problems.push(`${path.join(" ")} --${flag.name}: ${problem}`)
      }
    }
    expect(problems).toEqual([])
  })

  it("shows a flag's default in its description", async () => {
    const every = (await helpOf(["record"])).flags.find((f) => f.name === "every")
    expect(every?.description).toEqual(expect.objectContaining({ value: "seconds between market ticks (default 60)" }))
  })
})
