// One subscription through the reference graphql-ws client, as an application would run it.
// Usage: node graphql_ws_subscribe.mjs <ws-url> <token> <query> <variables-json> <count>
// Prints {"connected": true} once the connection is acknowledged, then each result the
// client hands over ({data, errors?, extensions?}) as one JSON line, and exits after
// <count> results.
import { createClient } from "graphql-ws";
import WebSocket from "ws";

const [url, token, query, variables, count] = process.argv.slice(2);

const client = createClient({
  url,
  webSocketImpl: WebSocket,
  connectionParams: { authorization: `Bearer ${token}` },
  retryAttempts: 0,
  on: { connected: () => console.log(JSON.stringify({ connected: true })) },
});

let seen = 0;
for await (const result of client.iterate({ query, variables: JSON.parse(variables) })) {
  console.log(JSON.stringify(result));
  seen += 1;
  if (seen >= Number(count)) break;
}
await client.dispose();
process.exit(0);
