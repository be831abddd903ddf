// Turning an effect Schema issue into located problems: the key path of each issue, the value found
// there and the message. Shared by the readers of the config, schedule, instrument and day files.
// effect by module path: `autohedge schedule show` loads no more of it than it uses.
import * as Predicate from "effect/Predicate"
import * as SchemaIssue from "effect/SchemaIssue"

/** A key path into a JSON value: object keys and array indices. */
export type KeyPath = ReadonlyArray<PropertyKey>

/** The standard messages, but "unknown key" for an unexpected key and "required" for a missing one. */
const formatter = SchemaIssue.makeFormatterStandardSchemaV1({
  leafHook: (issue) =>
    issue._tag === "UnexpectedKey"
      ? "unknown key"
      : issue._tag === "MissingKey"
        ? "required"
        : SchemaIssue.defaultLeafHook(issue)
})

/** Standard Schema path segments are keys or `{ key }` objects. */
const normalisePath = (path: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }>): Array<PropertyKey> =>
  path.map((k) => (Predicate.isObject(k) ? k.key : k))

export interface SchemaIssueAt {
  readonly path: KeyPath
  /** The formatter's message as it is ("Expected a finite number, got …", "required", "unknown key"). */
  readonly message: string
}

/** Every issue of a decoding failure with its key path, in the formatter's order. */
export const issuesOf = (issue: SchemaIssue.Issue): ReadonlyArray<SchemaIssueAt> =>
  formatter(issue).issues.map((i) => ({ path: normalisePath(i.path ?? []), message: i.message }))

export interface SchemaProblem {
  readonly path: KeyPath
  /** The value at `path` in the decoded input; undefined where there is none (a missing key). */
  readonly value: unknown
  /** The message, first letter lower-cased. */
  readonly problem: string
}

/** Every issue of decoding `root`, with the offending value and the message as a problem. */
export const schemaProblems = (issue: SchemaIssue.Issue, root: unknown): ReadonlyArray<SchemaProblem> =>
  issuesOf(issue).map((i) => ({ path: i.path, value: valueAt(root, i.path), problem: lowerFirst(i.message) }))

/** `["entries", 2, "legs", 0, "side"]` -> `entries[2].legs[0].side`. */
export const keyPath = (path: KeyPath): string =>
  path.map((k, i) => (typeof k === "number" ? `[${k}]` : i === 0 ? String(k) : `.${String(k)}`)).join("")

/** The value at a key path; undefined where the path leaves the value. */
export const valueAt = (root: unknown, path: KeyPath): unknown => {
  let cur: unknown = root
  for (const k of path) {
    if (!Predicate.isObjectOrArray(cur)) return undefined
    cur = (cur as Record<PropertyKey, unknown>)[k]
  }
  return cur
}

export const lowerFirst = (s: string): string => (s.length > 0 ? s[0]!.toLowerCase() + s.slice(1) : s)
