// The reference graphql-ws client (graphql-transport-ws) against a running gateway.
// Usage: node graphql_ws_client.mjs <ws-url> <good-token> <bad-token>
// Prints one JSON object: the query's result, the subscription's results, the pings
// seen, and the close code a connection with the bad token got.
import { createClient } from "graphql-ws";
import WebSocket from "ws";

const [url, goodToken, badToken] = process.argv.slice(2);

function connect(token, extra = {}) {
  return createClient({
    url,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
    retryAttempts: 0,
    lazy: true,
    ...extra,
  });
}

async function collect(client, payload) {
  const results = [];
  for await (const result of client.iterate(payload)) results.push(result);
  return results;
}

async function rejected(token) {
  return new Promise((resolve) => {
    const client = connect(token, {
      on: { closed: (event) => resolve({ code: event.code, reason: event.reason }) },
    });
    collect(client, { query: "{ role }" }).catch(() => {});
  });
}

let pings = 0;
const client = connect(goodToken, { on: { ping: (received) => { if (received) pings += 1; } } });
const query = await collect(client, { query: "{ role }" });
const subscription = await collect(client, { query: "subscription { count(to: 5, delay: 0.2) }" });
await client.dispose();
const refused = await rejected(badToken);
console.log(JSON.stringify({ query, subscription, pings, refused }));
process.exit(0);
