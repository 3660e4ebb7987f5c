// The conformance suite's fixture server on the official Node.js server of the 4.0 line:
// `socket.io` 4.0.2 and the `engine.io` 5.0.0 it depends on (package.json pins both exactly; the
// lock file shows a single, shared copy of engine.io), with the handlers and endpoints of the
// 4.8 adapter (../node-socket.io/serve.mjs, which takes this folder's libraries).
// It has neither connection state recovery (socket.io 4.6) nor engine.io's addTrailingSlash
// (engine.io 6.3), so /socket.io-recovery/ and /engine.io-no-slash are not served.
//
//   npm ci && PORT=0 node fixture.mjs

import { Server as EngineServer } from "engine.io";
import { Server } from "socket.io";
import { serve } from "../node-socket.io/serve.mjs";

serve({ Server, EngineServer, recovery: false, addTrailingSlash: false });
