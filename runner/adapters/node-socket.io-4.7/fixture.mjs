// The conformance suite's fixture server on the official Node.js server of the 4.7 line:
// `socket.io` 4.7.5 and the `engine.io` 6.5.5 it depends on (package.json pins both exactly; the
// lock file shows a single, shared copy of engine.io), with the handlers and endpoints of the
// 4.8 adapter (../node-socket.io/serve.mjs, which takes this folder's libraries).
// It has connection state recovery (socket.io 4.6) and engine.io's addTrailingSlash (6.3):
// every endpoint of the fixture is served.
//
//   npm ci && PORT=0 node fixture.mjs

import { Server as EngineServer } from "engine.io";
import { Server } from "socket.io";
import { serve } from "../node-socket.io/serve.mjs";

serve({ Server, EngineServer, recovery: true, addTrailingSlash: true });
