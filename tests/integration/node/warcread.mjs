// warcread.mjs - read WARC files with warcio.js (a reader nobody here
// wrote) and print one JSON object a record: its WARC headers, offset and
// length as the parser saw them, whether both digests verify, the HTTP
// status, the payload as archived (base64, Content-Encoding and chunk
// framing kept) and the entity-body (chunk framing taken off).
//   node warcread.mjs FILE...              every record of each file
//   node warcread.mjs --at FILE OFF LEN    the one record in that byte range
import { WARCParser } from "warcio";
import crypto from "node:crypto";
import fs from "node:fs";

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

function base32(buf) {
  let bits = 0, value = 0, out = "";
  for (const byte of buf) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

// The entity-body of a chunked payload (RFC 9112 7.1): WARC-Payload-Digest
// is computed over it (WARC 1.1 6.3.2), while the record keeps the framing.
// A cut or broken framing gives what decoded before it.
function dechunk(buf) {
  const parts = [];
  let at = 0;
  for (;;) {
    const eol = buf.indexOf(10, at);
    if (eol < 0) break;
    const size = parseInt(buf.subarray(at, eol).toString("latin1").split(";")[0].trim(), 16);
    if (Number.isNaN(size)) break;
    at = eol + 1;
    if (size === 0) break;
    parts.push(buf.subarray(at, Math.min(at + size, buf.length)));
    at += size;
    if (at >= buf.length) break;
    at += buf[at] === 13 ? 2 : 1;
  }
  return Buffer.concat(parts);
}

const sha1 = (buf) => "sha1:" + base32(crypto.createHash("sha1").update(buf).digest());

async function read(bytes, file, base) {
  // Pass 1: each record's block as stored, for the block digest.
  const blocks = [];
  const raw = new WARCParser([bytes], { parseHttp: false });
  for await (const rec of raw) {
    const block = Buffer.from(await rec.readFully());
    blocks.push({ block, offset: raw.offset, length: raw.recordLength });
  }
  // Pass 2: HTTP headers parsed, the payload as archived.
  const out = [];
  let i = 0;
  const http = new WARCParser([bytes], { parseHttp: true });
  for await (const rec of http) {
    const b = blocks[i++];
    const h = rec.warcHeaders.headers;
    const type = rec.warcType;
    let payload = null, entity = null, status = null, chunked = false;
    if (rec.httpHeaders) {
      payload = Buffer.from(await rec.readFully(false));
      status = rec.httpHeaders.statusCode !== undefined ? Number(rec.httpHeaders.statusCode) : null;
      const te = rec.httpHeaders.headers.get("Transfer-Encoding");
      chunked = te !== null && /(^|[ ,])chunked\s*$/i.test(te);
      entity = chunked ? dechunk(payload) : payload;
    }
    const blockDigest = h.get("WARC-Block-Digest");
    const payloadDigest = h.get("WARC-Payload-Digest");
    out.push({
      file, offset: base + b.offset, length: b.length, type,
      id: h.get("WARC-Record-ID"), uri: rec.warcTargetURI, date: rec.warcDate,
      ip: h.get("WARC-IP-Address"), concurrent_to: h.get("WARC-Concurrent-To"),
      refers_to_uri: h.get("WARC-Refers-To-Target-URI"), refers_to_date: h.get("WARC-Refers-To-Date"),
      profile: h.get("WARC-Profile"), truncated: h.get("WARC-Truncated"),
      content_type: h.get("Content-Type"), filename: h.get("WARC-Filename"),
      block_digest: blockDigest, block_ok: blockDigest ? sha1(b.block) === blockDigest : null,
      payload_digest: payloadDigest,
      payload_ok: type === "response" && payloadDigest ? sha1(entity) === payloadDigest : null,
      status, chunked, payload: payload !== null && type === "response" ? payload.toString("base64") : null,
      entity: entity !== null && type === "response" ? entity.toString("base64") : null,
      block_text: type === "warcinfo" ? b.block.toString("utf8") : undefined,
    });
  }
  return out;
}

async function main(argv) {
  if (argv[0] === "--at") {
    const [file, off, len] = [argv[1], Number(argv[2]), Number(argv[3])];
    const bytes = fs.readFileSync(file).subarray(off, off + len);
    for (const r of await read(new Uint8Array(bytes), file, off))
      process.stdout.write(JSON.stringify(r) + "\n");
    return;
  }
  for (const file of argv) {
    const bytes = new Uint8Array(fs.readFileSync(file));
    for (const r of await read(bytes, file, 0)) process.stdout.write(JSON.stringify(r) + "\n");
  }
}

main(process.argv.slice(2)).catch((e) => {
  process.stderr.write(`warcread: ${e.stack || e}\n`);
  process.exit(1);
});
