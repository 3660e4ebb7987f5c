#!/usr/bin/env node
// Checks every protocol vector under vectors/ against the OFFICIAL JavaScript parsers
// (npm engine.io-parser and socket.io-parser), so that a vector states what the protocol
// is and not only what this project's reference codec does. See README.md beside this file
// and vectors/README.md for the vector format; this file implements its semantics.
//
//   node check.js [--filter <substring of an id>] [--verbose]
//   VECTORS_DIR=/some/dir node check.js      (default: ../../vectors)
"use strict";

const fs = require("fs");
const path = require("path");
const YAML = require("yaml");

const eio4 = require("engine.io-parser"); // 5.2.3, Engine.IO protocol 4
const eio3 = require("engine.io-parser-v3"); // 2.2.1, Engine.IO protocol 3
const sio5 = require("socket.io-parser"); // 4.2.7, Socket.IO protocol 5
const sio4 = require("socket.io-parser-v4"); // 3.4.5, Socket.IO protocol 4

// ---------------------------------------------------------------------------------------
// What each error class of vectors/README.md looks like in each official parser.
//
// The official Engine.IO parsers have a single way to fail: decodePacket returns the error
// packet {type: "error", data: "parser error"}, and engine.io-parser 2 (v3) also returns a
// packet whose type is undefined for a binary frame or a `b` packet with an unknown type
// byte. The payload decoders deliver the packets before the bad one, then that error packet.
// So every Engine.IO class maps to "an error packet".
//
// socket.io-parser throws from Decoder#add() with a message per failure; socket.io-parser 3
// (v4) does not throw for an unknown type but emits the packet {type: 4, data: "parser
// error: unknown packet type N"} (with no nsp, unlike any really decoded packet).
//
// null: the class does not belong to that protocol (such a vector is malformed).
// ANY:  the official parser has no such check; any rejection counts. Vectors of these
//       classes normally record `official.accepts`, since the official parser accepts them.
// ---------------------------------------------------------------------------------------
const EIO_ERROR = {
  text: 'an error packet ({type: "error"}, or in v3 a packet of undefined type)',
  test: (o) => o.errorPacket !== undefined,
};
const ANY = { text: "any rejection (no official counterpart)", test: () => true };
const throws = (message) => ({
  text: `add() throws "${message}"`,
  test: (o) =>
    o.thrown !== undefined &&
    (message instanceof RegExp ? message.test(o.thrown.message) : o.thrown.message === message),
});
const SIO4_UNKNOWN_TYPE = {
  text: 'emits {type: 4, data: "parser error: unknown packet type N"}',
  test: (o) => o.errorPacket !== undefined && /^parser error: unknown packet type/.test(o.errorPacket.data),
};

const ERROR_CLASSES = {
  // class                       engine.io   socket.io v5                                         socket.io v4
  "empty-packet":             [EIO_ERROR, ANY,                                                   ANY],
  "unknown-packet-type":      [EIO_ERROR, throws(/^unknown packet type/),                        SIO4_UNKNOWN_TYPE],
  "invalid-base64":           [EIO_ERROR, null,                                                  null],
  "empty-payload":            [EIO_ERROR, null,                                                  null],
  "invalid-length":           [EIO_ERROR, null,                                                  null],
  "length-mismatch":          [EIO_ERROR, null,                                                  null],
  "invalid-utf8":             [EIO_ERROR, null,                                                  null],
  "invalid-attachment-count": [null,      throws("Illegal attachments"),                         throws("Illegal attachments")],
  "too-many-attachments":     [null,      throws("too many attachments"),                        throws("too many attachments")],
  "invalid-json":             [null,      throws("invalid payload"),                             throws("invalid payload")],
  "invalid-payload":          [null,      throws("invalid payload"),                             throws("invalid payload")],
  "missing-payload":          [null,      ANY,                                                   ANY],
  "reserved-event-name":      [null,      throws("invalid payload"),                             null],
  "invalid-placeholder":      [null,      throws("illegal attachments"),                         throws("illegal attachments")],
  "unexpected-binary":        [null,      throws("got binary data when not reconstructing a packet"), throws("got binary data when not reconstructing a packet")],
  "unexpected-text":          [null,      throws("got plaintext data when reconstructing a packet"), throws("got plaintext data when reconstructing a packet")],
};

function errorMatcher(errorClass, ctx) {
  const row = ERROR_CLASSES[errorClass];
  if (!row) return undefined;
  if (ctx.protocol === "engine.io") return row[0];
  return ctx.version === 5 ? row[1] : row[2];
}

// ---------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------

function hexToBuffer(hex) {
  if (typeof hex !== "string" || !/^([0-9a-f]{2})*$/.test(hex)) {
    throw new Error(`not lowercase hex bytes: ${JSON.stringify(hex)}`);
  }
  return Buffer.from(hex, "hex");
}

// A vector input/encoding is either { text } or { hex }; the parsers take string or Buffer.
function wireValue(form) {
  if (typeof form.text === "string") return form.text;
  if (form.hex !== undefined) return hexToBuffer(form.hex);
  throw new Error("an encoding/input needs `text` or `hex`");
}

// Renders parser output for messages: Buffers as {"$binary": hex}, like the vectors.
function show(value) {
  if (value === undefined) return "undefined";
  return JSON.stringify(toShowable(value));
}
function toShowable(v) {
  if (Buffer.isBuffer(v)) return { $binary: v.toString("hex") };
  if (v instanceof ArrayBuffer) return { $binary: Buffer.from(v).toString("hex") };
  if (Array.isArray(v)) return v.map(toShowable);
  if (v && typeof v === "object") {
    const out = {};
    for (const k of Object.keys(v)) if (v[k] !== undefined) out[k] = toShowable(v[k]);
    return out;
  }
  return v;
}
function showForm(form) {
  return form.text !== undefined ? `text ${JSON.stringify(form.text)}` : `hex ${form.hex}`;
}

// Structural equality for decoded data: Buffers by bytes, objects by keys (any order).
function deepEqual(a, b) {
  if (Buffer.isBuffer(a) || Buffer.isBuffer(b)) {
    return Buffer.isBuffer(a) && Buffer.isBuffer(b) && a.equals(b);
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  }
  if (a && b && typeof a === "object" && typeof b === "object") {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && deepEqual(a[k], b[k]));
  }
  return a === b;
}

function containsBuffer(v) {
  if (Buffer.isBuffer(v)) return true;
  if (Array.isArray(v)) return v.some(containsBuffer);
  if (v && typeof v === "object") return Object.values(v).some(containsBuffer);
  return false;
}

// Calls an API that reports through a callback (all these do so synchronously).
function viaCallback(call) {
  let result;
  call((value) => {
    if (result === undefined) result = value;
  });
  return result;
}

// Compares an encoder's output (string or Buffer) with a vector's expected form.
function sameWire(got, form) {
  if (form.text !== undefined) return got === form.text;
  return Buffer.isBuffer(got) && got.equals(hexToBuffer(form.hex));
}

// ---------------------------------------------------------------------------------------
// Engine.IO: the official API of each version behind one shape
// ---------------------------------------------------------------------------------------

// The packet as the official parsers represent it: binary data is a Buffer.
function toEioPacket(p) {
  const packet = { type: p.type };
  if (p.binary !== undefined) packet.data = hexToBuffer(p.binary);
  else if (p.data !== undefined) packet.data = p.data;
  return packet;
}

// Does a decoded packet equal the logical one? Absent text data equals "".
function sameEioPacket(decoded, logical) {
  if (!decoded || decoded.type !== logical.type) return false;
  if (logical.binary !== undefined) {
    return Buffer.isBuffer(decoded.data) && decoded.data.equals(hexToBuffer(logical.binary));
  }
  const text = decoded.data === undefined ? "" : decoded.data;
  return typeof text === "string" && text === (logical.data || "");
}

function sameEioPackets(decoded, logical) {
  return decoded.length === logical.length && decoded.every((p, i) => sameEioPacket(p, logical[i]));
}

// Both error shapes of the Engine.IO parsers (see ERROR_CLASSES).
function isEioRejection(p) {
  return p.type === "error" || p.type === undefined;
}

const EIO = {
  4: {
    decodePacket: (wire) => eio4.decodePacket(wire),
    encodePacket: (p, supportsBinary) => viaCallback((cb) => eio4.encodePacket(toEioPacket(p), supportsBinary, cb)),
    decodePayload(wire) {
      if (typeof wire !== "string") throw new Error("Engine.IO v4 has no binary payload (hex input)");
      return eio4.decodePayload(wire);
    },
    // v4 payloads are always text: binary packets are forced to b<base64>.
    encodePayload: (packets) => viaCallback((cb) => eio4.encodePayload(packets.map(toEioPacket), cb)),
    payloadHasBinaryMode: false,
  },
  3: {
    decodePacket: (wire) => eio3.decodePacket(wire),
    encodePacket: (p, supportsBinary) =>
      viaCallback((cb) => eio3.encodePacket(toEioPacket(p), supportsBinary, false, cb)),
    // The callback gets each packet as it is decoded, then the error packet if any.
    decodePayload(wire) {
      const packets = [];
      const collect = (packet) => {
        packets.push(packet);
      };
      if (typeof wire === "string") eio3.decodePayload(wire, collect);
      else eio3.decodePayloadAsBinary(wire, collect);
      return packets;
    },
    encodePayload: (packets, supportsBinary) =>
      viaCallback((cb) => eio3.encodePayload(packets.map(toEioPacket), supportsBinary, cb)),
    payloadHasBinaryMode: true,
  },
};

// Splits a payload decoder's output into the delivered packets and the first rejection.
function splitAtRejection(packets) {
  const bad = packets.findIndex(isEioRejection);
  return bad < 0 ? { delivered: packets } : { delivered: packets.slice(0, bad), errorPacket: packets[bad] };
}

function checkEioPacketVector(v, ctx) {
  const api = EIO[ctx.version];
  const problems = [];
  v.encodings.forEach((enc, i) => {
    const where = `encoding #${i + 1} (${showForm(enc)})`;
    const decoded = api.decodePacket(wireValue(enc));
    if (!sameEioPacket(decoded, v.packet)) {
      problems.push(`${where}: expected decode to ${show(v.packet)}, official decodePacket gave ${show(decoded)}`);
    }
    if (!enc.canonical) return;
    // Polling/text forms come from the base64 mode; binary frames from the binary mode.
    const modes = enc.hex !== undefined ? [true] : [false];
    // A text packet in a WebSocket text frame is encoded in binary mode by a WebSocket
    // transport; for a text packet both modes must give the same string.
    if (enc.text !== undefined && v.packet.binary === undefined && (enc.transports || []).includes("websocket")) {
      modes.push(true);
    }
    for (const supportsBinary of modes) {
      const encoded = api.encodePacket(v.packet, supportsBinary);
      if (!sameWire(encoded, enc)) {
        problems.push(
          `${where}: expected encodePacket(supportsBinary=${supportsBinary}) to give it, official gave ${show(encoded)}`,
        );
      }
    }
  });
  return problems;
}

function checkEioPayloadVector(v, ctx) {
  const api = EIO[ctx.version];
  const problems = [];
  const hasBinary = v.packets.some((p) => p.binary !== undefined);
  v.encodings.forEach((enc, i) => {
    const where = `encoding #${i + 1} (${showForm(enc)})`;
    const decoded = api.decodePayload(wireValue(enc));
    if (!sameEioPackets(decoded, v.packets)) {
      problems.push(`${where}: expected decode to ${show(v.packets)}, official decodePayload gave ${show(decoded)}`);
    }
    if (!enc.canonical) return;
    // A canonical text is the base64-mode output, and also the binary-mode output when no
    // packet is binary; a canonical hex is the binary-mode output (v3 only).
    const modes = enc.hex !== undefined ? [true] : [false];
    if (enc.text !== undefined && !hasBinary && api.payloadHasBinaryMode) modes.push(true);
    if (enc.hex !== undefined && !api.payloadHasBinaryMode) {
      problems.push(`${where}: a canonical hex payload, but Engine.IO v${ctx.version} payloads are text`);
      return;
    }
    for (const supportsBinary of modes) {
      const encoded = api.encodePayload(v.packets, supportsBinary);
      if (!sameWire(encoded, enc)) {
        const call = api.payloadHasBinaryMode ? `encodePayload(supportsBinary=${supportsBinary})` : "encodePayload";
        problems.push(`${where}: expected ${call} to give it, official gave ${show(encoded)}`);
      }
    }
  });
  return problems;
}

// ---------------------------------------------------------------------------------------
// Socket.IO
// ---------------------------------------------------------------------------------------

const SIO_TYPES = {
  CONNECT: 0, DISCONNECT: 1, EVENT: 2, ACK: 3, CONNECT_ERROR: 4, ERROR: 4, BINARY_EVENT: 5, BINARY_ACK: 6,
};

// {"$binary": hex} in vector data stands for a binary value: make it a Buffer.
function withBuffers(v) {
  if (Array.isArray(v)) return v.map(withBuffers);
  if (v && typeof v === "object") {
    const keys = Object.keys(v);
    if (keys.length === 1 && keys[0] === "$binary") return hexToBuffer(v.$binary);
    const out = {};
    for (const k of keys) out[k] = withBuffers(v[k]);
    return out;
  }
  return v;
}

// The logical packet as the official parsers represent it (a fresh object each time,
// because the encoders rewrite the packet they are given).
function toSioPacket(p) {
  if (!(p.type in SIO_TYPES)) throw new Error(`unknown Socket.IO packet type ${JSON.stringify(p.type)}`);
  const packet = { type: SIO_TYPES[p.type], nsp: p.nsp === undefined ? "/" : p.nsp };
  if (p.id !== undefined) packet.id = p.id;
  if (p.data !== undefined) packet.data = withBuffers(p.data);
  return packet;
}

const SIO = {
  5: {
    // socket.io-parser 4 picks the binary type itself from the data, so it is given
    // EVENT/ACK (given BINARY_* it would not extract the attachments).
    encode(p) {
      const packet = toSioPacket(p);
      if (packet.type === 5) packet.type = 2;
      if (packet.type === 6) packet.type = 3;
      return new sio5.Encoder().encode(packet);
    },
    Decoder: sio5.Decoder,
  },
  4: {
    // socket.io-parser 3 leaves the choice to its caller (socket.io 2 sets BINARY_EVENT
    // when the arguments hold binary), so it is given the vector's type unchanged.
    encode: (p) => viaCallback((cb) => new sio4.Encoder().encode(toSioPacket(p), cb)),
    Decoder: sio4.Decoder,
  },
};

// The decoded packet, reduced to the compared fields. socket.io-parser 4 reports a binary
// packet as EVENT/ACK once reconstructed: its Buffers tell it was BINARY_EVENT/BINARY_ACK.
function normalizeDecoded(d) {
  let type = d.type;
  if ((type === 2 || type === 3) && containsBuffer(d.data)) type += 3;
  return { type, nsp: d.nsp, id: d.id, data: d.data };
}

function sameSioPacket(decoded, logical) {
  const want = toSioPacket(logical);
  const got = normalizeDecoded(decoded);
  return got.type === want.type && got.nsp === want.nsp && got.id === want.id && deepEqual(got.data, want.data);
}

// socket.io-parser 3 signals an unknown type by emitting this packet (see ERROR_CLASSES).
function isSio4ErrorPacket(p) {
  return p.type === 4 && !("nsp" in p) && typeof p.data === "string" && p.data.startsWith("parser error");
}

// Feeds wire values in order to one fresh official decoder; returns one outcome per input
// fed, stopping at the first rejection: { packets } or { thrown } or { errorPacket }.
function feedSioDecoder(ctx, wires) {
  const decoder = new SIO[ctx.version].Decoder();
  let emitted = [];
  decoder.on("decoded", (p) => emitted.push(p));
  const outcomes = [];
  for (const wire of wires) {
    emitted = [];
    try {
      decoder.add(wire);
    } catch (e) {
      outcomes.push({ thrown: e });
      break;
    }
    const error = ctx.version === 4 ? emitted.find(isSio4ErrorPacket) : undefined;
    outcomes.push(error ? { errorPacket: error } : { packets: emitted });
    if (error) break;
  }
  return outcomes;
}

function showOutcome(o) {
  if (o.thrown) return `threw "${o.thrown.message}"`;
  if (o.errorPacket) {
    return o.delivered && o.delivered.length
      ? `delivered ${show(o.delivered)} then ${show(o.errorPacket)}`
      : `gave the error ${show(o.errorPacket)}`;
  }
  return o.packets.length ? `accepted it, decoding ${show(o.packets)}` : "accepted it, decoding no packet yet";
}

function checkSioPacketVector(v, ctx) {
  const problems = [];
  v.encodings.forEach((enc, i) => {
    const attachments = enc.attachments || [];
    const where = `encoding #${i + 1} (text ${JSON.stringify(enc.text)}${attachments.length ? ` + ${attachments.join(",")}` : ""})`;
    const wires = [enc.text, ...attachments.map(hexToBuffer)];
    const outcomes = feedSioDecoder(ctx, wires);
    const last = outcomes[outcomes.length - 1];
    const decodedEarly = outcomes.slice(0, -1).some((o) => o.packets && o.packets.length);
    const ok = outcomes.length === wires.length && last.packets && last.packets.length === 1 && !decodedEarly &&
      sameSioPacket(last.packets[0], v.packet);
    if (!ok) {
      const did = outcomes.map((o, k) => `input #${k + 1} ${showOutcome(o)}`).join(", ");
      problems.push(`${where}: expected decode to ${show(v.packet)}, official Decoder: ${did}`);
    }
    if (!enc.canonical) return;
    const encoded = SIO[ctx.version].encode(v.packet);
    const same = Array.isArray(encoded) && encoded.length === wires.length &&
      encoded[0] === enc.text && encoded.slice(1).every((b, k) => Buffer.isBuffer(b) && b.equals(wires[k + 1]));
    if (!same) problems.push(`${where}: expected Encoder#encode to give it, official gave ${show(encoded)}`);
  });
  return problems;
}

// ---------------------------------------------------------------------------------------
// Must-reject vectors (and their recorded `official` deviations)
// ---------------------------------------------------------------------------------------

// Engine.IO decoders are stateless, so "one decoder" is one call per input.
function feedEioDecoder(ctx, decoderKind, wires) {
  const api = EIO[ctx.version];
  const outcomes = [];
  for (const wire of wires) {
    let outcome;
    if (decoderKind === "packet") {
      const p = api.decodePacket(wire);
      outcome = isEioRejection(p) ? { errorPacket: p } : { packets: [p] };
    } else {
      const { delivered, errorPacket } = splitAtRejection(api.decodePayload(wire));
      outcome = errorPacket ? { delivered, errorPacket } : { packets: delivered };
    }
    outcomes.push(outcome);
    if (outcome.errorPacket) break;
  }
  return outcomes;
}

function checkRejectVector(v, ctx) {
  const r = v.reject;
  const isEio = ctx.protocol === "engine.io";
  const decoderKind = r.decoder || (isEio ? undefined : "packet");
  if (isEio ? !["packet", "payload"].includes(decoderKind) : decoderKind !== "packet") {
    return [`malformed vector: decoder ${JSON.stringify(r.decoder)} is not valid for ${ctx.protocol}`];
  }
  if (r.delivered !== undefined && decoderKind !== "payload") {
    return ["malformed vector: `delivered` is for payload decoders only"];
  }
  const matcher = errorMatcher(r.error, ctx);
  if (!matcher) return [`malformed vector: error class ${JSON.stringify(r.error)} does not apply to ${ctx.name}`];

  const wires = r.inputs.map(wireValue);
  const outcomes = isEio ? feedEioDecoder(ctx, decoderKind, wires) : feedSioDecoder(ctx, wires);
  const problems = [];
  // Every input but the last must be accepted.
  if (outcomes.length < wires.length) {
    const k = outcomes.length - 1;
    return [`input #${k + 1} (${showForm(r.inputs[k])}): expected acceptance (it is not the last), official ${showOutcome(outcomes[k])}`];
  }
  const last = outcomes[outcomes.length - 1];
  const lastWhere = `last input (${showForm(r.inputs[r.inputs.length - 1])})`;

  if (v.official !== undefined) {
    // A recorded deviation: the official parser accepts and decodes exactly `accepts`.
    if (!last.packets) {
      problems.push(`${lastWhere}: official.accepts says the official parser accepts it, official ${showOutcome(last)}`);
    } else if (!sameAccepted(last.packets, v.official.accepts, ctx, decoderKind)) {
      problems.push(`${lastWhere}: expected official parser to decode ${show(v.official.accepts)} (official.accepts), official ${showOutcome(last)}`);
    }
    return problems;
  }

  if (last.packets) {
    problems.push(`${lastWhere}: expected rejection (${r.error}: ${matcher.text}), official ${showOutcome(last)}`);
  } else if (!matcher.test(last)) {
    problems.push(`${lastWhere}: expected ${r.error} (${matcher.text}), official ${showOutcome(last)}`);
  } else if (decoderKind === "payload" && !sameEioPackets(last.delivered, r.delivered || [])) {
    problems.push(`${lastWhere}: expected delivered ${show(r.delivered || [])} before the error, official ${showOutcome(last)}`);
  }
  return problems;
}

// `accepts` is one packet, or a list of packets for an Engine.IO payload decoder.
function sameAccepted(packets, accepts, ctx, decoderKind) {
  if (ctx.protocol === "engine.io" && decoderKind === "payload") {
    return Array.isArray(accepts) && sameEioPackets(packets, accepts);
  }
  if (!accepts || typeof accepts !== "object" || Array.isArray(accepts) || packets.length !== 1) return false;
  return ctx.protocol === "engine.io" ? sameEioPacket(packets[0], accepts) : sameSioPacket(packets[0], accepts);
}

// ---------------------------------------------------------------------------------------
// Files, dispatch and report
// ---------------------------------------------------------------------------------------

function checkVector(v, ctx) {
  if (v.reject !== undefined) return checkRejectVector(v, ctx);
  if (ctx.protocol === "engine.io" && v.packet !== undefined) return checkEioPacketVector(v, ctx);
  if (ctx.protocol === "engine.io" && v.packets !== undefined) return checkEioPayloadVector(v, ctx);
  if (ctx.protocol === "socket.io" && v.packet !== undefined) return checkSioPacketVector(v, ctx);
  return ["malformed vector: not a packet, payload or reject vector"];
}

function findYamlFiles(dir) {
  if (!fs.existsSync(dir)) return [];
  const found = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...findYamlFiles(full));
    else if (/\.ya?ml$/.test(entry.name)) found.push(full);
  }
  return found;
}

// Parses one file; returns { doc } or { errors: [printable lines] }.
function loadFile(file) {
  const doc = YAML.parseDocument(fs.readFileSync(file, "utf8"));
  if (doc.errors.length) {
    return { errors: doc.errors.map((e) => `line ${e.linePos ? e.linePos[0].line : "?"}: ${e.message.split("\n")[0]}`) };
  }
  const data = doc.toJS();
  const known = { "engine.io": [3, 4], "socket.io": [4, 5] };
  if (!data || !known[data.protocol] || !known[data.protocol].includes(data.version) || !Array.isArray(data.vectors)) {
    return { errors: ["not a vector file: needs protocol, version (engine.io 3|4, socket.io 4|5) and vectors"] };
  }
  return { doc: data };
}

function parseArgs(argv) {
  const opts = { filter: undefined, verbose: false };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--verbose") opts.verbose = true;
    else if (argv[i] === "--filter" && i + 1 < argv.length) opts.filter = argv[++i];
    else {
      console.error(`usage: node check.js [--filter <substring>] [--verbose]   (unknown argument ${argv[i]})`);
      process.exit(2);
    }
  }
  return opts;
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  const root = process.env.VECTORS_DIR || path.join(__dirname, "..", "..", "vectors");
  const files = ["engine.io", "socket.io"].flatMap((p) => findYamlFiles(path.join(root, p)));
  const total = { checked: 0, deviations: 0, failed: 0 };
  let brokenFiles = 0;

  for (const file of files) {
    const rel = path.relative(root, file);
    const { doc, errors } = loadFile(file);
    if (errors) {
      brokenFiles++;
      for (const e of errors) console.log(`ERROR ${rel}: ${e}`);
      continue;
    }
    const ctx = { protocol: doc.protocol, version: doc.version, name: `${doc.protocol} v${doc.version}` };
    const tally = { checked: 0, deviations: 0, failed: 0 };
    for (const v of doc.vectors) {
      const id = v && v.id;
      if (opts.filter !== undefined && !(typeof id === "string" && id.includes(opts.filter))) continue;
      let problems;
      try {
        problems = checkVector(v, ctx);
      } catch (e) {
        problems = [`could not check: ${e.message}`];
      }
      tally.checked++;
      if (v.official !== undefined) tally.deviations++;
      if (problems.length) {
        tally.failed++;
        console.log(`FAIL ${rel} ${id}: ${problems.join(" | ")}`);
      } else if (opts.verbose) {
        console.log(`ok   ${rel} ${id}${v.official !== undefined ? " (official deviation recorded)" : ""}`);
      }
    }
    if (tally.checked > 0 || opts.filter === undefined) {
      console.log(`${rel}: ${tally.checked} checked, ${tally.deviations} deviations, ${tally.failed} failed`);
    }
    for (const k of Object.keys(total)) total[k] += tally[k];
  }

  if (total.checked === 0) console.log(`no vectors found under ${root}${opts.filter !== undefined ? ` matching ${JSON.stringify(opts.filter)}` : ""}`);
  if (brokenFiles) console.log(`${brokenFiles} file(s) could not be read`);
  console.log(`official parsers: ${total.checked} vectors checked, ${total.deviations} deviations recorded, ${total.failed} failed`);
  // The plain closing line CI tools read as a test count.
  console.log(`vectors: ${total.checked - total.failed} passed, ${total.failed} failed`);
  process.exit(total.failed === 0 && total.checked > 0 && brokenFiles === 0 ? 0 : 1);
}

main();
