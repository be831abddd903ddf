// A loopback HTTP server answering each request as the test scripts it: for the client's handling of
// every documented error shape, status and transport failure, byte for byte. (Behaviour of OpenAlgo
// as a whole is the fake server's job; this only replays replies.)
import { createServer, type IncomingMessage } from "node:http"
import type { AddressInfo } from "node:net"

export type ScriptedReply =
  | { readonly status: number; readonly body: string | object; readonly contentType?: string; readonly delayMs?: number }
  /** Close the connection without answering. */
  | "hangUp"

export interface ScriptedRequest {
  readonly path: string
  readonly contentType: string | undefined
  readonly body: Record<string, unknown>
  readonly at: number
}

export interface ScriptedServer {
  /** ".../api/v1" */
  readonly url: string
  readonly requests: Array<ScriptedRequest>
  readonly close: () => Promise<void>
}

const readBody = (req: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    let text = ""
    req.setEncoding("utf8")
    req.on("data", (chunk: string) => (text += chunk))
    req.on("end", () => resolve(text))
    req.on("error", reject)
  })

/** `reply` is asked for each request, with the path under /api/v1 and the decoded body. */
export const startScriptedServer = async (
  reply: (path: string, body: Record<string, unknown>, index: number) => ScriptedReply
): Promise<ScriptedServer> => {
  const requests: Array<ScriptedRequest> = []
  const server = createServer((req, res) => {
    void readBody(req).then((text) => {
      const path = (req.url ?? "").replace(/^\/api\/v1/, "")
      const body = JSON.parse(text === "" ? "{}" : text) as Record<string, unknown>
      requests.push({ path, contentType: req.headers["content-type"], body, at: Date.now() })
      const answer = reply(path, body, requests.length - 1)
      if (answer === "hangUp") {
        req.socket.destroy()
        return
      }
      const send = () => {
        const payload = typeof answer.body === "string" ? answer.body : JSON.stringify(answer.body)
        res.writeHead(answer.status, { "content-type": answer.contentType ?? "application/json" })
        res.end(payload)
      }
      if (answer.delayMs === undefined) send()
      else setTimeout(send, answer.delayMs)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/api/v1`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}
