// The TypeScript SDK's client over its WebSocketClientTransport, for tests/test_e2e_websocket.py.
// Usage: node --experimental-websocket websocket_client.mjs <ws url> <tool> <arguments as JSON>
// Prints one JSON line: what the server offers and the tool's result, or {"error": "..."}.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { WebSocketClientTransport } from "@modelcontextprotocol/sdk/client/websocket.js";

const [url, tool, args] = process.argv.slice(2);
const client = new Client({ name: "ts-websocket-test", version: "1.0.0" });
try {
  await client.connect(new WebSocketClientTransport(new URL(url)));
  const tools = await client.listTools();
  const result = await client.callTool({ name: tool, arguments: JSON.parse(args) });
  const resources = await client.listResources();
  const read = await client.readResource({ uri: resources.resources[0].uri });
  const prompts = await client.listPrompts();
  await client.ping();
  console.log(
    JSON.stringify({
      server: client.getServerVersion(),
      protocol: client.transport?.protocolVersion ?? null,
      tools: tools.tools.map((t) => t.name),
      result,
      resource: read.contents[0],
      prompts: prompts.prompts.map((p) => p.name),
    }),
  );
  await client.close();
} catch (error) {
  console.log(JSON.stringify({ error: String(error?.message ?? error) }));
  process.exit(1); // an open socket would keep Node running
}
