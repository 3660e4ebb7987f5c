"""Conformance fixture for python-socketio 5.x (asyncio flavour, served by aiohttp).

It follows the suite's server fixture contract (docs/server-contract.md, runner/README.md):

* listens on 127.0.0.1, on the port in the environment variable PORT (default 0: the OS
  picks a free one), and prints ``listening on http://127.0.0.1:<port>`` once on stdout when
  the aiohttp site accepts connections;
* ``/socket.io/``: a ``socketio.AsyncServer`` (async_mode "aiohttp") with the fixture
  contract's handlers, core and extended;
* ``/engine.io/``: a bare ``engineio.AsyncServer`` on the same aiohttp application that echoes
  every message, text or binary;
* any other path: aiohttp's own 404;
* SIGTERM / SIGINT: a clean shutdown.

What python-socketio cannot express, and how the adapter copes:

* ``connectTimeout``: there is no such option; a session that never sends CONNECT is only
  ever closed by the heartbeat.
* ``upgradeTimeout``: there is no such option either.
* ``pingInterval`` 300 ms: python-engineio pings every 0.3 s, but announces
  ``int(0.3) * 1000 = 0`` in the open packet. The contract's value is kept; the deviation
  is the library's (runner/profiles/python-socketio.baseline.yaml).
* Emits from a connect handler go out *before* the CONNECT answer (``40``): the server only
  sends it once the handler has returned. The ``auth`` event is therefore emitted from a
  background task that waits for the namespace connection to be complete.
* Middleware: python-socketio has no namespace middleware; the closest equivalent, which
  answers the same CONNECT_ERROR, is a connect handler raising ``ConnectionRefusedError``.
* Dynamic namespaces: ``namespaces`` accepts ``'*'`` (every namespace, so unknown namespaces
  would no longer get the library's own refusal) or a collection of names tested with ``in``.
  A list whose ``in`` also matches the ``/dynamic-`` prefix expresses the contract, and
  every other unknown namespace still gets the library's own answer. This relies on
  python-socketio testing acceptance with ``namespace in namespaces`` (true of 5.18.1).
"""

import asyncio
import os
import signal
import sys

import engineio
import socketio
from aiohttp import web

HOST = "127.0.0.1"

# The fixture contract's options. python-socketio / python-engineio take seconds.
PING_INTERVAL_S = 0.3        # pingInterval 300 ms (announced as 0, see above)
PING_TIMEOUT_S = 0.2         # pingTimeout 200 ms
MAX_PAYLOAD = 1_000_000      # maxPayload (maxHttpBufferSize), bytes
ACK_TIMEOUT_S = 1.0          # how long the server waits for the client's ack of emit-with-ack

# Options shared by the Socket.IO server's engine and the bare Engine.IO echo server.
ENGINE_OPTIONS = dict(
    async_mode="aiohttp",
    ping_interval=PING_INTERVAL_S,
    ping_timeout=PING_TIMEOUT_S,
    max_http_buffer_size=MAX_PAYLOAD,
    # Any origin. python-engineio reflects the request's Origin rather than writing `*`;
    # without credentials, as Node's `cors: { origin: "*" }` answers.
    cors_allowed_origins="*",
    cors_credentials=False,
)


class AcceptedNamespaces(list):
    """The namespaces the server accepts without a handler of their own.

    python-socketio accepts a CONNECT when the namespace has handlers, when ``namespaces`` is
    ``'*'``, or when ``namespace in namespaces``. This list also contains, for ``in``, every
    name of the form ``/dynamic-<anything>``, so those are created on their first CONNECT
    while any other unknown namespace keeps the library's own refusal.
    """

    PREFIX = "/dynamic-"

    def __contains__(self, namespace):
        return (isinstance(namespace, str) and namespace.startswith(self.PREFIX)) \
            or super().__contains__(namespace)


sio = socketio.AsyncServer(
    namespaces=AcceptedNamespaces(["/"]),
    logger=False,              # errors only, on stderr
    engineio_logger=False,
    **ENGINE_OPTIONS,
)

# The raw Engine.IO echo server, attached to the same aiohttp application at /engine.io/.
eio = engineio.AsyncServer(logger=False, **ENGINE_OPTIONS)


# --------------------------------------------------------------------------------------------
# Socket.IO: connection handlers

async def emit_auth_once_connected(sid, namespace, auth):
    """Emit `auth` with the CONNECT payload once the CONNECT answer has been sent.

    python-socketio sends `40...` only after the connect handler returns, and marks the
    socket connected right after queueing it; emitting before that would put the event
    ahead of the `40`. So wait (briefly, bounded) until the manager says it is connected.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 1.0
    while not sio.manager.is_connected(sid, namespace):
        if loop.time() > deadline:
            return              # refused or gone meanwhile: nothing to say
        await asyncio.sleep(0.001)
    # Node emits the handshake's auth, `{}` when the CONNECT carried none.
    await sio.emit("auth", auth if auth is not None else {}, to=sid, namespace=namespace)


# asyncio keeps only weak references to tasks: hold the greeting tasks until they end.
greetings = set()


def greet(sid, namespace, auth):
    task = sio.start_background_task(emit_auth_once_connected, sid, namespace, auth)
    greetings.add(task)
    task.add_done_callback(greetings.discard)


@sio.on("connect")
async def on_connect_main(sid, environ, auth):
    greet(sid, "/", auth)


@sio.on("connect", namespace="/custom")
async def on_connect_custom(sid, environ, auth):
    greet(sid, "/custom", auth)


@sio.on("connect", namespace="/refused")
async def on_connect_refused(sid, environ, auth):
    # The equivalent of a Node middleware `next(err)` with `err.data`: the CONNECT_ERROR
    # payload is {"message": "refused", "data": {"reason": "testing"}}.
    raise socketio.exceptions.ConnectionRefusedError("refused", {"reason": "testing"})


@sio.on("connect", namespace="*")
async def on_connect_dynamic(namespace, sid, environ, auth):
    # Catch-all: only reached for accepted namespaces without handlers of their own,
    # that is the /dynamic-<anything> ones. They behave like /custom.
    greet(sid, namespace, auth)


# --------------------------------------------------------------------------------------------
# Socket.IO: events of the main namespace. A handler receives the event's arguments as
# positional parameters; a tuple given as `data` is sent as several arguments, and a tuple
# returned is the acknowledgement's arguments.

@sio.on("message")
async def on_message(sid, *args):
    await sio.emit("message-back", args, to=sid)


@sio.on("message-with-ack")
async def on_message_with_ack(sid, *args):
    return args


@sio.on("emit-with-ack")
async def on_emit_with_ack(sid, *args):
    # The callback form rather than `sio.call()`: call() unwraps a one-argument answer and
    # turns an empty one into None, which would lose the exact argument list.
    answered = asyncio.get_running_loop().create_future()

    def on_ack(*reply):
        if not answered.done():
            answered.set_result(reply)

    await sio.emit("emit-with-ack", args, to=sid, callback=on_ack)
    try:
        reply = await asyncio.wait_for(answered, ACK_TIMEOUT_S)
    except asyncio.TimeoutError:
        return                  # no ack within the timeout: nothing more
    await sio.emit("emit-with-ack", reply, to=sid)


@sio.on("disconnect-me")
async def on_disconnect_me(sid, *args):
    # The server leaves the namespace: a DISCONNECT packet `41`.
    await sio.disconnect(sid)


@sio.on("close-me")
async def on_close_me(sid, *args):
    # Node's `socket.disconnect(true)`: a DISCONNECT for every namespace the connection has
    # joined, then the Engine.IO session closes. python-socketio has no single call for it;
    # these are its own calls for both halves.
    eio_sid = sio.manager.eio_sid_from_sid(sid, "/")
    if eio_sid is None:
        return
    for namespace in list(sio.manager.get_namespaces()):
        namespace_sid = sio.manager.sid_from_eio_sid(eio_sid, namespace)
        if namespace_sid is not None and sio.manager.is_connected(namespace_sid, namespace):
            await sio.disconnect(namespace_sid, namespace=namespace)
    await sio.eio.disconnect(eio_sid)


@sio.on("join")
async def on_join(sid, room=None, *rest):
    if isinstance(room, str):
        await sio.enter_room(sid, room)
    return ()                   # an ack, if one was asked, with no arguments


@sio.on("to-room")
async def on_to_room(sid, room=None, event=None, *args):
    # The event with the remaining arguments, to the room's other sockets.
    if isinstance(room, str) and isinstance(event, str):
        await sio.emit(event, args, room=room, skip_sid=sid)


# --------------------------------------------------------------------------------------------
# Engine.IO echo

@eio.on("message")
async def on_engine_message(sid, data):
    await eio.send(sid, data)   # str goes back as text, bytes as binary


# --------------------------------------------------------------------------------------------
# Serving

async def serve():
    app = web.Application()
    sio.attach(app, socketio_path="socket.io")
    eio.attach(app, engineio_path="engine.io")

    # No access log; a short grace period for open connections on shutdown.
    runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, HOST, int(os.environ.get("PORT", "0")))
    await site.start()

    port = runner.addresses[0][1]
    print(f"listening on http://{HOST}:{port}", flush=True)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()

    # Stop the servers' background tasks (client monitors), then close every connection.
    for server in (sio, eio):
        try:
            await asyncio.wait_for(server.shutdown(), 2.0)
        except Exception as error:  # a stuck client must not keep the process alive
            print(f"shutdown: {error!r}", file=sys.stderr)
    await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(serve())
