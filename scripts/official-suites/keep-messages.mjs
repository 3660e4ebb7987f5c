// Preloaded into the official protocol test suites (`node --import`) by
// scripts/official-suites.sh --keep-messages: it keeps the WebSocket messages that arrive while
// no "message" listener is attached, and hands them, in order, to the next listener added.
//
// Why: the suites wait for consecutive messages with a `once` listener each
// (`await waitFor(socket, "message")` twice in a row). When a server's two frames arrive in one
// TCP read, the `ws` library emits both in the same turn of the event loop, and the second is
// emitted before the test has attached the listener for it: the test then waits for a message
// that already came and times out. That is the suite's race, not the server's: nothing in the
// protocol asks a server to spread its frames over separate reads. This preload removes the
// race and changes nothing else: every message is still delivered once, in order.
import { WebSocket } from "ws";

const kept = Symbol("messages kept while no listener was attached");

const emit = WebSocket.prototype.emit;
WebSocket.prototype.emit = function (event, ...args) {
  if (event === "message" && this.listenerCount("message") === 0) {
    (this[kept] ??= []).push(args);
    return false;
  }
  return emit.call(this, event, ...args);
};

const addEventListener = WebSocket.prototype.addEventListener;
WebSocket.prototype.addEventListener = function (type, listener, options) {
  addEventListener.call(this, type, listener, options);
  const queue = this[kept];
  while (type === "message" && queue?.length && this.listenerCount("message") > 0) {
    emit.call(this, "message", ...queue.shift());
  }
};
