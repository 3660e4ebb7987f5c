"""The conformance suite's adapter for python-socketio's AsyncClient (docs/client-contract.md).

The runner starts this program once per case. It connects on its own from the settings in its
environment, mirrors what the server sends (`echo` -> `echo-back`, every ack request answered
with the event's arguments), obeys the cues that arrive on standard input (one JSON object per
line) and writes one JSON object per line on standard output for everything the contract asks to
report. Binary values cross both pipes as {"$binary": "<base64>"}.

How the contract maps onto python-socketio 5.18.1 (the version requirements.txt pins):

- Options are in seconds there, in milliseconds in the contract: reconnectionDelay and
  reconnectionDelayMax are divided by 1000. randomizationFactor is passed as it is: python-socketio
  adds a jitter of up to +/- that many *seconds* to each delay (AsyncClient._handle_reconnect),
  which is why the profile declares `backoff: additive`.
- `timeout` bounds two waits in python-socketio where the official client has one: the
  Engine.IO handshake request (`request_timeout`) and the wait for the namespaces' CONNECT
  answers (`wait_timeout` of connect()). Both get the value.
- `ackTimeout` and the cue's `timeout` are the wait of AsyncClient.call(); the adapter waits the
  same way itself (emit with a callback, then a bounded wait for it) because call() folds the
  ack's arguments (one argument comes back bare, none as None) and the report needs them as sent.
- Options the library has no counterpart for are reported `unsupported` and otherwise ignored:
  retries, rememberUpgrade (true), tryAllTransports (true), forceBase64 (true) and
  addTrailingSlash (false; python-engineio always ends the path with a slash). `upgrade: false`
  is honoured by leaving websocket out of a transport list that starts with polling.
- python-socketio connects its namespaces in the connect() call only: a `connect` cue for a
  namespace is carried out when the client holds no connection (it opens a new one for that
  namespace, as the official Manager does once its last socket was disconnected), and reported
  `unsupported` when it would need a second namespace on a live connection. For the same reason
  `disconnect` closes the whole connection (the client only ever holds one namespace).
- Volatile emits do not exist in python-socketio: reported `unsupported`, not sent. Neither
  does binary in the CONNECT payload (the library's packet refuses it): an auth with binary is
  reported `unsupported` ("binary auth") and not sent.
- A `disconnect` or `close` cue also stops a connection still being made (the adapter's
  connect() call, which retries by itself) and the library's reconnection loop.
- Reconnection attempts are no events in python-socketio. Two hooks make them observable: the
  reconnection loop calls the public connect() once per attempt, always with retry=False (the
  adapter's own calls pass retry=True), so an override of connect() sees each attempt start and
  succeed; and the loop logs "Maximum reconnection attempts reached, giving up" on the logger the
  client is given when it gives up, which a logging handler turns into `reconnect_failed`.
- Disconnect reasons are translated to the official client's words where they mean the same:
  "client disconnect" -> "io client disconnect"; "server disconnect" -> "io server disconnect"
  for a Socket.IO DISCONNECT packet and "transport close" for an Engine.IO close packet (the
  library gives both the same word; the adapter tells them apart by where the event comes
  from); "transport error" stays (python-engineio says it for every lost transport, a closed
  one and a ping timeout included).
"""

import asyncio
import base64
import contextvars
import json
import logging
import os
import sys
import urllib.parse

import socketio

#: Set while an incoming EVENT is dispatched: whether it carries an ack id.
EVENT_WANTS_ACK = contextvars.ContextVar('event_wants_ack', default=False)

#: The message python-socketio's reconnection loop logs when it gives up (AsyncClient._handle_reconnect).
GIVING_UP_MESSAGE = 'Maximum reconnection attempts reached, giving up'


def report(obj):
    """Writes one report as one JSON line and flushes it at once."""
    sys.stdout.write(json.dumps(obj, separators=(',', ':')) + '\n')
    sys.stdout.flush()


def log(message):
    """A line for the case's transcript (standard error)."""
    sys.stderr.write(f'[adapter] {message}\n')
    sys.stderr.flush()


def to_wire(value):
    """JSON from the pipe to Python values: {"$binary": b64} becomes bytes, recursively."""
    if isinstance(value, dict):
        if len(value) == 1 and '$binary' in value and isinstance(value['$binary'], str):
            return base64.b64decode(value['$binary'])
        return {k: to_wire(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_wire(v) for v in value]
    return value


def to_pipe(value):
    """Python values to JSON for the pipe: bytes become {"$binary": b64}, recursively."""
    if isinstance(value, (bytes, bytearray)):
        return {'$binary': base64.b64encode(bytes(value)).decode('ascii')}
    if isinstance(value, dict):
        return {str(k): to_pipe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_pipe(v) for v in value]
    return value


def contains_binary(value):
    """Whether bytes occur anywhere in a value made by to_wire()."""
    if isinstance(value, (bytes, bytearray)):
        return True
    if isinstance(value, dict):
        return any(contains_binary(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(contains_binary(v) for v in value)
    return False


def connect_error_fields(args):
    """The `message` and `data` of a connect_error report from the handler's arguments.

    A refused CONNECT gives the packet's payload ({"message": ..., "data": ...}); a failed
    Engine.IO connection gives the server's JSON answer or the library's message string.
    """
    if len(args) == 1 and isinstance(args[0], dict) and 'message' in args[0]:
        return str(args[0]['message']), to_pipe(args[0].get('data'))
    if len(args) == 1 and isinstance(args[0], str):
        return args[0], None
    if not args or (len(args) == 1 and args[0] is None):
        return 'connection failed', None
    return 'connection failed', to_pipe(list(args))


class GiveUpWatcher(logging.Handler):
    """Turns the reconnection loop's "giving up" log line into a `reconnect_failed` report."""

    def emit(self, record):
        if record.getMessage() == GIVING_UP_MESSAGE:
            report({'event': 'reconnect_failed'})


class AdapterClient(socketio.AsyncClient):
    """AsyncClient with the observation points the contract needs (see the module's doc)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        #: The reconnection attempt in progress, counted from 1 (0: none).
        self.attempt = 0
        #: True while python-engineio reports the end of the Engine.IO connection, so that the
        #: `disconnect` handler knows its reason comes from the engine, not from a DISCONNECT
        #: packet. An attribute, not a context variable: the reconnection task that this call
        #: starts would inherit a context variable. The handlers run before the first
        #: suspension inside the call, so no other task sees the flag.
        self.in_engine_disconnect = False

    async def connect(self, *args, retry=False, **kwargs):
        # Only the reconnection loop calls connect() with retry=False; the adapter never does.
        from_reconnection_loop = not retry
        if from_reconnection_loop:
            self.attempt += 1
            report({'event': 'reconnect_attempt', 'attempt': self.attempt})
        else:
            self.attempt = 0
        await super().connect(*args, retry=retry, **kwargs)
        if from_reconnection_loop:
            report({'event': 'reconnect', 'attempt': self.attempt})
            self.attempt = 0

    async def _handle_eio_disconnect(self, reason):
        self.in_engine_disconnect = True
        try:
            await super()._handle_eio_disconnect(reason)
        finally:
            self.in_engine_disconnect = False

    async def _handle_event(self, namespace, id, data):
        # The handlers do not see the ack id; the report says whether there was one.
        token = EVENT_WANTS_ACK.set(id is not None)
        try:
            await super()._handle_event(namespace, id, data)
        finally:
            EVENT_WANTS_ACK.reset(token)


def official_reason(reason, from_engine):
    """The official client's word for a python-socketio disconnect reason."""
    words = socketio.AsyncClient.reason
    if reason == words.CLIENT_DISCONNECT:
        return 'io client disconnect'
    if reason == words.SERVER_DISCONNECT:
        return 'transport close' if from_engine else 'io server disconnect'
    return reason


class Adapter:
    """One run of the program: the client, its settings, the cue loop."""

    def __init__(self):
        self.url = os.environ['SIO_URL']
        self.path = os.environ.get('SIO_PATH', '/socket.io/')
        self.namespace = os.environ.get('SIO_NAMESPACE', '/') or '/'
        auth = os.environ.get('SIO_AUTH')
        self.auth = to_wire(json.loads(auth)) if auth else None
        transports = os.environ.get('SIO_TRANSPORTS')
        self.transports = [t.strip() for t in transports.split(',') if t.strip()] \
            if transports is not None else None
        self.options = json.loads(os.environ.get('SIO_OPTIONS') or '{}')
        self.headers = {}
        self.wait_timeout = None
        self.ack_timeout = None
        self.emit_lock = asyncio.Lock()
        self.tasks = set()
        #: The adapter's connect() call in progress (with its retries), and its namespace.
        self.open_task = None
        self.open_namespace = None
        #: connect_error reports so far: a failed connect() that the handler did not report
        #: (no CONNECT answer within wait_timeout) is reported from its exception.
        self.connect_errors = 0
        self.sio = self.make_client()
        self.register_handlers()

    def unsupported(self, what):
        report({'event': 'unsupported', 'what': what})

    def make_client(self):
        """Maps SIO_OPTIONS onto AsyncClient's arguments (absent: the library's default)."""
        opts = self.options
        client_args = {'handle_sigint': False}
        logger = logging.getLogger('adapter.socketio')
        logger.setLevel(logging.INFO)
        logger.propagate = False
        logger.addHandler(GiveUpWatcher())
        stderr = logging.StreamHandler(sys.stderr)
        stderr.setFormatter(logging.Formatter('[socketio] %(message)s'))
        logger.addHandler(stderr)
        client_args['logger'] = logger
        seconds = {'reconnectionDelay': 'reconnection_delay',
                   'reconnectionDelayMax': 'reconnection_delay_max'}
        for name, value in opts.items():
            if name == 'reconnection':
                client_args['reconnection'] = bool(value)
            elif name == 'reconnectionAttempts':
                # 0 means "no limit" to both libraries.
                client_args['reconnection_attempts'] = int(value) if value is not None else 0
            elif name in seconds:
                client_args[seconds[name]] = float(value) / 1000
            elif name == 'randomizationFactor':
                client_args['randomization_factor'] = float(value)
            elif name == 'timeout':
                client_args['request_timeout'] = float(value) / 1000
                self.wait_timeout = float(value) / 1000
            elif name == 'ackTimeout':
                self.ack_timeout = float(value) / 1000
            elif name == 'timestampRequests':
                client_args['timestamp_requests'] = bool(value)
            elif name == 'extraHeaders':
                self.headers = {str(k): str(v) for k, v in (value or {}).items()}
            elif name == 'query':
                query = urllib.parse.urlencode({str(k): str(v) for k, v in (value or {}).items()})
                if query:
                    self.url += ('&' if '?' in self.url else '?') + query
            elif name == 'upgrade':
                if value is False and self.transports and self.transports[0] == 'polling':
                    self.transports = ['polling']
            elif name in ('rememberUpgrade', 'tryAllTransports', 'forceBase64'):
                if value:  # python-socketio never does these; false is what it does
                    self.unsupported(name)
            elif name == 'addTrailingSlash':
                if value is False:  # python-engineio always ends the path with a slash
                    self.unsupported(name)
            else:  # retries, and any option this adapter does not know
                self.unsupported(name)
        if self.transports == []:
            # Set and empty: no transport at all (the contract). python-engineio refuses an
            # empty list in connect() (ValueError 'No valid transports provided'), once,
            # without the official client's failing attempts.
            self.unsupported('transports: []')
            self.transports = None
        if self.transports is not None:
            known = [t for t in self.transports if t in ('polling', 'websocket')]
            for other in self.transports:
                if other not in known:
                    self.unsupported(f'transport {other}')
            self.transports = known or None
        return AdapterClient(**client_args)

    def register_handlers(self):
        sio = self.sio

        # Catch-all namespace handlers: each gets the namespace among its arguments.
        async def on_connect(namespace):
            report({'event': 'connect', 'namespace': namespace, 'id': sio.get_sid(namespace)})

        async def on_connect_error(namespace, *args):
            self.connect_errors += 1
            message, data = connect_error_fields(args)
            report({'event': 'connect_error', 'namespace': namespace, 'message': message,
                    'data': data})

        async def on_disconnect(namespace, reason=None):
            sio.attempt = 0  # a reconnection loop that follows counts from 1
            line = {'event': 'disconnect', 'namespace': namespace}
            if reason is not None:
                line['reason'] = official_reason(reason, sio.in_engine_disconnect)
            report(line)

        async def on_any_event(event, namespace, *args):
            line = {'event': 'event', 'namespace': namespace, 'name': event,
                    'args': to_pipe(list(args))}
            if EVENT_WANTS_ACK.get():
                line['ack'] = True
            report(line)
            if event == 'echo':
                try:
                    async with self.emit_lock:
                        await sio.emit('echo-back', tuple(args), namespace=namespace)
                except Exception as exc:  # the connection went away meanwhile
                    log(f'echo-back failed: {exc!r}')
            # The return value is the ack, when the server asked for one: its arguments.
            return tuple(args)

        sio.on('connect', on_connect, namespace='*')
        sio.on('connect_error', on_connect_error, namespace='*')
        sio.on('disconnect', on_disconnect, namespace='*')
        sio.on('*', on_any_event, namespace='*')

    def spawn(self, coroutine):
        task = asyncio.ensure_future(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    def start_open(self, namespace, auth):
        """Starts a connection for one namespace, unless its auth cannot be sent."""
        if contains_binary(auth):
            # python-socketio's CONNECT packet refuses binary ("Packet does not support binary
            # payload"), and would refuse it again on every reconnection attempt.
            self.unsupported('binary auth')
            return
        self.open_namespace = namespace
        self.open_task = self.spawn(self.open(namespace, auth))

    def opening(self):
        return self.open_task is not None and not self.open_task.done()

    async def stop(self):
        """Stops connecting and reconnecting, and leaves (the disconnect and close cues)."""
        if self.opening():
            self.open_task.cancel()
            await asyncio.gather(self.open_task, return_exceptions=True)
        await self.sio.shutdown()
        if self.sio.eio.state == 'connected':  # a connect() cancelled half-way
            await self.sio.disconnect()

    async def open(self, namespace, auth):
        """connect() as the reconnection-aware start of a connection (retry=True)."""
        kwargs = {'headers': self.headers, 'auth': auth, 'transports': self.transports,
                  'namespaces': [namespace], 'socketio_path': self.path, 'retry': True}
        if self.wait_timeout is not None:
            kwargs['wait_timeout'] = self.wait_timeout
        errors_before = self.connect_errors
        try:
            await self.sio.connect(self.url, **kwargs)
        except Exception as exc:
            log(f'connect() ended without a connection: {exc!r}')
            if self.connect_errors == errors_before:
                report({'event': 'connect_error', 'namespace': namespace,
                        'message': str(exc) or repr(exc), 'data': None})

    async def emit(self, cue):
        cue_id = cue.get('id')
        namespace = cue.get('namespace') or '/'
        event = cue.get('event')
        args = tuple(to_wire(cue.get('args') or []))
        if cue.get('volatile'):
            self.unsupported('volatile')
            return
        wants_ack = bool(cue.get('ack')) or 'timeout' in cue
        timeout = cue.get('timeout')
        timeout = float(timeout) / 1000 if timeout is not None else self.ack_timeout
        arrived = asyncio.get_running_loop().create_future()

        def on_ack(*ack_args):
            if not arrived.done():
                arrived.set_result(list(ack_args))

        try:
            async with self.emit_lock:
                await self.sio.emit(event, args, namespace=namespace,
                                    callback=on_ack if wants_ack else None)
        except Exception as exc:
            report({'event': 'cue_error', 'cue': cue_id, 'message': str(exc) or repr(exc)})
            return
        if wants_ack:
            self.spawn(self.await_ack(cue_id, arrived, timeout))

    async def await_ack(self, cue_id, arrived, timeout):
        try:
            ack_args = await asyncio.wait_for(arrived, timeout)
        except asyncio.TimeoutError:
            report({'event': 'ack_error', 'cue': cue_id, 'message': 'operation has timed out'})
        else:
            report({'event': 'ack', 'cue': cue_id, 'args': to_pipe(ack_args)})

    async def connect_cue(self, cue):
        namespace = cue.get('namespace') or '/'
        auth = to_wire(cue['auth']) if 'auth' in cue else self.auth
        sio = self.sio
        # _reconnect_task: the library's reconnection loop after a lost connection.
        if sio.connected or sio._reconnect_task is not None or self.opening():
            busy = [self.open_namespace] if self.opening() else sio.connection_namespaces
            if namespace not in busy:
                # python-socketio names every namespace in connect(); it cannot add one to a
                # live connection.
                self.unsupported('connect')
            return  # connected already, or being connected
        self.start_open(namespace, auth)

    async def disconnect_cue(self, cue):
        # The client holds one namespace at a time, so disconnecting it closes the connection
        # (python-socketio's disconnect() leaves every namespace); a reconnection in progress
        # is stopped, as socket.disconnect() stops the official client's.
        await self.stop()

    async def handle(self, line):
        try:
            cue = json.loads(line)
        except ValueError:
            log(f'not JSON, ignored: {line!r}')
            return
        if not isinstance(cue, dict):
            log(f'not a cue, ignored: {line!r}')
            return
        kind = cue.get('cue')
        try:
            if kind == 'emit':
                await self.emit(cue)
            elif kind == 'connect':
                await self.connect_cue(cue)
            elif kind == 'disconnect':
                await self.disconnect_cue(cue)
            elif kind == 'close':
                await self.stop()
            else:
                self.unsupported(f'cue {kind}')
        except Exception as exc:
            report({'event': 'cue_error', 'cue': cue.get('id'), 'message': repr(exc)})

    async def run(self):
        self.start_open(self.namespace, self.auth)
        reader = asyncio.StreamReader(limit=16 * 1024 * 1024)
        loop = asyncio.get_running_loop()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        while True:
            line = await reader.readline()
            if not line:
                break  # the end of standard input: the case is over
            line = line.decode('utf-8', errors='replace').strip()
            if line:
                await self.handle(line)
        # Leave politely if that is quick; the runner kills the program 500 ms later anyway.
        try:
            await asyncio.wait_for(self.stop(), 0.2)
        except Exception:
            pass


def main():
    case = os.environ.get('SIO_CASE', '')
    log(f'python-socketio AsyncClient adapter, case {case}')
    try:
        asyncio.run(Adapter().run())
    except KeyboardInterrupt:
        pass
    sys.stdout.flush()
    # Tasks of the library may still wait on the network: leave without waiting for them.
    os._exit(0)


if __name__ == '__main__':
    main()
