// The conformance suite's fixture server on the official Node.js implementation: `socket.io`
// 4.8.x and the `engine.io` it depends on (package.json pins both exactly; the lock file shows
// a single, shared copy of engine.io). What it serves: ./serve.mjs, shared with the adapters of
// the older 4.x lines (../node-socket.io-4.*/).
//
//   npm ci && PORT=0 node fixture.mjs

import { Server as EngineServer } from "engine.io";
import { Server } from "socket.io";
import { serve } from "./serve.mjs";

serve({ Server, EngineServer, recovery: true, addTrailingSlash: true });
