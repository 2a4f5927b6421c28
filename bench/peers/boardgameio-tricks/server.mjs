// Benchmark peer only: the boardgame.io server for game.mjs (a minimal Briscola-chiamata-
// shaped trick-taking game), with boardgame.io's default in-memory storage, its Lobby API
// and its socket.io transport, all on one port. Not part of Guildhall.
//
//   node server.mjs [--port 8000] [--host 127.0.0.1]
//
// --port 0 picks a free port. Once listening it prints one line of JSON to stdout:
//   {"ready": true, "port": N, "pid": P}
// Everything else (boardgame.io's INFO/ERROR logs) goes to stderr.
//
// NODE_ENV defaults to "production" (set it to override): that is how a deployment runs
// boardgame.io, and outside production it checks every state for serializability and logs
// each request.

import { parseArgs } from "node:util";
import { createRequire } from "node:module";

process.env.NODE_ENV ??= "production";
// boardgame.io logs with console.log: keep stdout for the one JSON line.
console.log = console.error;

const { values: args } = parseArgs({
  options: {
    port: { type: "string", default: "8000" },
    host: { type: "string", default: "127.0.0.1" },
  },
});

// boardgame.io 0.50 has no "exports" map, so ESM cannot import `boardgame.io/server`
// (a folder with its own package.json): load it with require.
const require = createRequire(import.meta.url);
const { Server, Origins } = require("boardgame.io/server");
const { TricksGame } = await import("./game.mjs");

const server = Server({
  games: [TricksGame],
  // CORS only matters to browsers; the bots (Node) send no Origin header.
  origins: [Origins.LOCALHOST],
});

// `run` hands its `port` to `app.listen`, which koa-socket-2 forwards to
// `http.Server.listen`: a listen-options object binds the host too (run() itself has no
// host option and would listen on every interface).
const { appServer } = await server.run({
  port: { port: Number(args.port), host: args.host },
});
const { port } = appServer.address();
process.stdout.write(JSON.stringify({ ready: true, port, pid: process.pid }) + "\n");

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    server.kill({ appServer });
    process.exit(0);
  });
}
