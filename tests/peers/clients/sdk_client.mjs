// The TypeScript SDK's client against plugbay, for the end-to-end tests.
// Usage: node --experimental-websocket sdk_client.mjs ws|http <url>
//        node sdk_client.mjs stdio <command> [args...]   (run with the server's environment)
// Calls echo_say {"text": "hello"} and prints one JSON line: what the server offers and the
// tool's result, or {"error": "..."}.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { WebSocketClientTransport } from "@modelcontextprotocol/sdk/client/websocket.js";

const [kind, target, ...rest] = process.argv.slice(2);
const transports = {
  ws: () => new WebSocketClientTransport(new URL(target)),
  http: () => new StreamableHTTPClientTransport(new URL(target)),
  stdio: () =>
    new StdioClientTransport({ command: target, args: rest, env: process.env, stderr: "inherit" }),
};
const client = new Client({ name: "ts-sdk-test", version: "1.0.0" });
try {
  await client.connect(transports[kind]());
  const tools = await client.listTools();
  const result = await client.callTool({ name: "echo_say", arguments: { text: "hello" } });
  const resources = await client.listResources();
  const read = await client.readResource({ uri: resources.resources[0].uri });
  const prompts = await client.listPrompts();
  await client.ping();
  console.log(
    JSON.stringify({
      server: client.getServerVersion(),
      tools: tools.tools.map((t) => t.name),
      result,
      resource: read.contents[0],
      prompts: prompts.prompts.map((p) => p.name),
    }),
  );
  await client.close();
} catch (error) {
  console.log(JSON.stringify({ error: String(error?.message ?? error) }));
  process.exit(1); // an open socket or child would keep Node running
}
