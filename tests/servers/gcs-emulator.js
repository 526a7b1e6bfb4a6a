// gcs-emulator.js: the Cloud Storage emulator of firebase-tools (pinned in
// package.json) as a plain HTTP server for the gcs tests, without the
// firebase CLI (which needs Java 21 and downloads the rules runtime).
//
//   node gcs-emulator.js PORT [HOST] [DATA_DIR]
//
// Prints "GCS emulator listening on http://HOST:PORT" once it listens.
// Reaches into firebase-tools' lib/ (StorageEmulator, its storage layer and
// its express app): keep the version pinned.
//
// What the launcher adds to the emulator, each where the emulator lacks
// something the JSON API has, so that the client is tested against the
// documented protocol rather than the emulator's gaps:
//   - a leading /storage/v1 is stripped: the emulator routes PATCH, rewriteTo
//     and copyTo only without it;
//   - buckets.insert (POST /storage/v1/b), which the emulator lacks;
//   - objects.get, metadata and alt=media, served here from the file on
//     disk: the emulator reads the whole object into memory for either (and
//     fails past 2 GiB), and answers 200 instead of 416 for a range that
//     starts past the end;
//   - objects.compose (POST .../o/DEST/compose), which the emulator lacks;
//   - uploads stored here: media uploads (the emulator computes a CRC32C
//     in JavaScript, byte by byte), multipart uploads (it refuses a media
//     part without a Content-Type) and resumable uploads in chunks (it
//     finalises one after its first chunk);
//   - ifGenerationMatch on uploads, compose, rewrite and reads (412 when
//     it does not hold), which the emulator ignores;
//   - persistence in DATA_DIR: blobs there and a table of the objects'
//     metadata, written before each answer, so a restart (even after
//     SIGKILL) sees what was stored, as with a real store.  The emulator
//     keeps its metadata in memory only.
"use strict";
const fs = require("fs");
const http = require("http");
const path = require("path");
const crypto = require("crypto");

const port = Number(process.argv[2] || 19052);
const host = process.argv[3] || "127.0.0.1";
const dataDir = path.resolve(process.argv[4] || path.join(process.env.TMPDIR || "/tmp", "gcs-data"));
const lib = path.join(__dirname, "node_modules/firebase-tools/lib");
const { StorageEmulator } = require(path.join(lib, "emulator/storage"));
const { StoredFile } = require(path.join(lib, "emulator/storage/files"));
const { StoredFileMetadata, CloudStorageObjectMetadata } = require(path.join(lib, "emulator/storage/metadata"));
const { createApp } = require(path.join(lib, "emulator/storage/server"));
const { EmulatorRegistry } = require(path.join(lib, "emulator/registry"));

const emu = new StorageEmulator({ projectId: "demo-scopefs", host, port, auto_download: false });
// Bucket metadata and upload URLs ask the registry where "storage" runs.
EmulatorRegistry.set("storage", emu);
const layer = emu.adminStorageLayer;
const files = emu._files;
const persistence = emu._persistence;
const tableDir = path.join(dataDir, "table");
fs.mkdirSync(tableDir, { recursive: true });
persistence.reset(path.join(dataDir, "blobs"));

// ---- persistence: one JSON file per object, named by the hash of its key --
const tablePath = (key) => path.join(tableDir, crypto.createHash("sha256").update(key).digest("hex") + ".json");
function saveEntry(key, file) {
	const entry = { key, disk: persistence.getDiskFileName(key), meta: JSON.parse(StoredFileMetadata.toJSON(file.metadata)) };
	const tmp = tablePath(key) + ".tmp";
	fs.writeFileSync(tmp, JSON.stringify(entry));
	fs.renameSync(tmp, tablePath(key));
}
for (const f of fs.readdirSync(tableDir)) {
	if (!f.endsWith(".json"))
		continue;
	try {
		const e = JSON.parse(fs.readFileSync(path.join(tableDir, f), "utf8"));
		persistence._diskPathMap.set(e.key, e.disk);
		if (!fs.existsSync(persistence.getDiskPath(e.key))) {
			persistence._diskPathMap.delete(e.key);
			continue;
		}
		layer.createBucket(e.meta.bucket);
		files.set(e.key, new StoredFile(StoredFileMetadata.fromJSON(JSON.stringify(e.meta), emu._cloudFunctions)));
	} catch (err) {
		console.error(`gcs-emulator: skipping table entry ${f}: ${err.message}`);
	}
}
const mapSet = files.set.bind(files), mapDelete = files.delete.bind(files);
files.set = (key, file) => {
	mapSet(key, file);
	saveEntry(key, file);
	return files;
};
files.delete = (key) => {
	fs.rmSync(tablePath(key), { force: true });
	return mapDelete(key);
};
const update = layer.updateObjectMetadata.bind(layer);
layer.updateObjectMetadata = async (req) => {
	const md = await update(req);
	saveEntry(layer.path(req.bucketId, req.decodedObjectId), files.get(layer.path(req.bucketId, req.decodedObjectId)));
	return md;
};

// ---- helpers ---------------------------------------------------------------
function send(res, status, body, headers = {}) {
	const data = typeof body === "string" ? body : JSON.stringify(body);
	res.writeHead(status, { "Content-Type": typeof body === "string" ? "text/plain" : "application/json", "Content-Length": Buffer.byteLength(data), ...headers });
	res.end(data);
}
function error(res, status, reason, message) {
	send(res, status, { error: { code: status, message, errors: [{ message, domain: "global", reason }] } });
}
function readBody(req) {
	return new Promise((resolve, reject) => {
		const parts = [];
		req.on("data", (c) => parts.push(c));
		req.on("end", () => resolve(Buffer.concat(parts)));
		req.on("error", reject);
	});
}
const lookup = (bucket, name) => files.get(layer.path(bucket, name));

// The object's generation must be GEN ("0": no such object), as GCS checks
// ifGenerationMatch.  Answers 412 and returns false when it is not.
function precondition(res, q, bucket, name) {
	const want = q.get("ifGenerationMatch");
	if (want === null)
		return true;
	const f = lookup(bucket, name);
	const have = f ? String(f.metadata.generation) : "0";
	if (have === want)
		return true;
	error(res, 412, "conditionNotMet", "At least one of the pre-conditions you specified did not hold.");
	return false;
}

// The JSON API's object resource, as the emulator's own routes give it.
const resource_of = (md) => new CloudStorageObjectMetadata(md);

function getObject(req, res, q, bucket, name) {
	const f = lookup(bucket, name);
	if (!f)
		return error(res, 404, "notFound", `No such object: ${bucket}/${name}`);
	if (!precondition(res, q, bucket, name))
		return;
	const md = f.metadata;
	if (q.get("alt") !== "media")
		return send(res, 200, resource_of(md));
	const size = Number(md.size);
	const headers = { "Content-Type": md.contentType || "application/octet-stream", "Accept-Ranges": "bytes", ETag: md.etag, "x-goog-generation": String(md.generation), "x-goog-metageneration": String(md.metageneration) };
	let start = 0, end = size - 1, status = 200;
	const range = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range || "");
	if (range && (range[1] !== "" || range[2] !== "")) {
		if (range[1] === "") {
			start = Math.max(0, size - Number(range[2]));
		} else {
			start = Number(range[1]);
			if (range[2] !== "")
				end = Math.min(end, Number(range[2]));
		}
		if (start >= size)
			return send(res, 416, "Request range not satisfiable", { "Content-Range": `bytes */${size}` });
		status = 206;
		headers["Content-Range"] = `bytes ${start}-${end}/${size}`;
	}
	headers["Content-Length"] = size === 0 ? 0 : end - start + 1;
	res.writeHead(status, headers);
	if (size === 0 || req.method === "HEAD")
		return res.end();
	// opened now, before any later upload renames a new version over it:
	// these bytes are the version the headers name
	const fd = fs.openSync(persistence.getDiskPath(layer.path(bucket, name)), "r");
	fs.createReadStream(null, { fd, start, end }).pipe(res);
}

// objects.compose: the sources' bytes, in order, into DEST, read and written
// a chunk at a time (a composed object may be larger than memory).
async function compose(req, res, q, bucket, dest) {
	let body;
	try {
		body = JSON.parse((await readBody(req)).toString("utf8") || "{}");
	} catch (err) {
		return error(res, 400, "parseError", "the request body is not JSON");
	}
	const sources = body.sourceObjects || [];
	if (sources.length < 1 || sources.length > 32)
		return error(res, 400, "invalid", "compose takes 1 to 32 source objects");
	const srcs = [];
	for (const s of sources) {
		const f = lookup(bucket, s.name);
		if (!f)
			return error(res, 404, "notFound", `No such object: ${bucket}/${s.name}`);
		srcs.push(layer.path(bucket, s.name));
	}
	if (!precondition(res, q, bucket, dest))
		return;
	const tmpKey = `${layer.path(bucket, dest)}.compose-${crypto.randomUUID()}`;
	const diskName = crypto.randomUUID();
	persistence._diskPathMap.set(tmpKey, diskName);
	const out = fs.openSync(persistence.getDiskPath(tmpKey), "w");
	const md5 = crypto.createHash("md5");
	const buf = Buffer.alloc(8 << 20);
	let size = 0;
	for (const s of srcs) {
		const fd = fs.openSync(persistence.getDiskPath(s), "r");
		for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0;) {
			fs.writeSync(out, buf, 0, n);
			md5.update(buf.subarray(0, n));
			size += n;
		}
		fs.closeSync(fd);
	}
	fs.closeSync(out);
	send(res, 200, resource_of(finish(bucket, dest, tmpKey, size, md5.digest("base64"), body.destination || {})));
}

// Put the bytes of disk file TMPKEY (SIZE bytes, MD5 its digest) in place as
// object DEST with resource RES (contentType, metadata), as an upload does.
function finish(bucket, dest, tmpKey, size, md5, res) {
	const key = layer.path(bucket, dest);
	const md = new StoredFileMetadata({
		name: dest, bucket, contentType: res.contentType, customMetadata: res.metadata,
		size, md5Hash: md5, crc32c: "0", // not computed: nobody reads it here
	}, emu._cloudFunctions);
	persistence.deleteFile(key, true);
	persistence.renameFile(tmpKey, key);
	files.set(key, new StoredFile(md));
	return md;
}

// A multipart upload (multipart/related: the resource as JSON, then the
// bytes), parsed here: the emulator refuses a media part without a
// Content-Type, which the JSON API accepts (rclone 1.60 sends one).
async function multipart(req, res, q, bucket) {
	const m = /boundary="?([^";]+)"?/.exec(req.headers["content-type"] || "");
	if (!m)
		return error(res, 400, "invalid", "multipart upload without a boundary");
	const body = await readBody(req);
	const delim = Buffer.from(`--${m[1]}`);
	const parts = [];
	for (let at = body.indexOf(delim); at >= 0;) {
		const next = body.indexOf(delim, at + delim.length);
		if (next < 0)
			break;
		const part = body.subarray(at + delim.length, next);
		const sep = part.indexOf("\r\n\r\n");
		if (sep >= 0) // drop the CRLF after the delimiter and before the next
			parts.push(part.subarray(sep + 4, part.length - 2));
		at = next;
	}
	if (parts.length < 2)
		return error(res, 400, "invalid", "a multipart upload needs the resource and the data");
	let resource;
	try {
		resource = JSON.parse(parts[0].toString("utf8"));
	} catch (err) {
		return error(res, 400, "parseError", "the resource part is not JSON");
	}
	const name = q.get("name") || resource.name;
	if (!name)
		return error(res, 400, "required", "no object name");
	if (!precondition(res, q, bucket, name))
		return;
	const tmpKey = `${layer.path(bucket, name)}.upload-${crypto.randomUUID()}`;
	persistence.appendBytes(tmpKey, parts[1]);
	const md5 = crypto.createHash("md5").update(parts[1]).digest("base64");
	send(res, 200, resource_of(finish(bucket, name, tmpKey, parts[1].length, md5, resource)));
}

// A media upload (the bytes alone), stored here as the others are: the
// emulator computes a CRC32C in JavaScript, byte by byte, which would make
// the server the bottleneck of any measurement.
async function media(req, res, q, bucket) {
	const name = q.get("name");
	if (!name)
		return error(res, 400, "required", "no object name");
	const data = await readBody(req);
	if (!precondition(res, q, bucket, name))
		return;
	const tmpKey = `${layer.path(bucket, name)}.upload-${crypto.randomUUID()}`;
	persistence.appendBytes(tmpKey, data);
	const md5 = crypto.createHash("md5").update(data).digest("base64");
	send(res, 200, resource_of(finish(bucket, name, tmpKey, data.length, md5,
					  { contentType: req.headers["content-type"] })));
}

// Resumable uploads, chunk by chunk as the JSON API takes them (the
// emulator finalises one after its first chunk): POST starts a session,
// each PUT with Content-Range "bytes A-B/TOTAL" (or "/*") appends at A, and
// the chunk that reaches TOTAL finishes the object; 308 with Range until
// then.
const sessions = new Map();
async function resumableStart(req, res, q, bucket) {
	let resource = {};
	const body = (await readBody(req)).toString("utf8");
	try {
		resource = body ? JSON.parse(body) : {};
	} catch (err) {
		return error(res, 400, "parseError", "the resource is not JSON");
	}
	const name = q.get("name") || resource.name;
	if (!name)
		return error(res, 400, "required", "no object name");
	if (!precondition(res, q, bucket, name))
		return;
	const id = crypto.randomUUID();
	const tmpKey = `${layer.path(bucket, name)}.upload-${id}`;
	persistence._diskPathMap.set(tmpKey, crypto.randomUUID());
	fs.writeFileSync(persistence.getDiskPath(tmpKey), "");
	sessions.set(id, { bucket, name, resource, tmpKey, size: 0, md5: crypto.createHash("md5") });
	const loc = `http://${req.headers.host}/upload/storage/v1/b/${encodeURIComponent(bucket)}/o?uploadType=resumable&name=${encodeURIComponent(name)}&upload_id=${id}`;
	res.writeHead(200, { Location: loc, "Content-Length": 0 });
	res.end();
}

async function resumableChunk(req, res, q) {
	const s = sessions.get(q.get("upload_id"));
	if (!s)
		return error(res, 404, "notFound", "no such upload session");
	const data = await readBody(req);
	const cr = /^bytes (?:(\d+)-(\d+)|\*)\/(\d+|\*)$/.exec(req.headers["content-range"] || `bytes 0-${data.length - 1}/${data.length}`);
	if (!cr)
		return error(res, 400, "invalid", "bad Content-Range");
	if (cr[1] !== undefined) {
		if (Number(cr[1]) !== s.size)
			return error(res, 400, "invalid", `chunk at ${cr[1]}, expected ${s.size}`);
		fs.appendFileSync(persistence.getDiskPath(s.tmpKey), data);
		s.md5.update(data);
		s.size += data.length;
	}
	if (cr[3] !== "*" && s.size >= Number(cr[3])) {
		sessions.delete(q.get("upload_id"));
		return send(res, 200, resource_of(finish(s.bucket, s.name, s.tmpKey, s.size, s.md5.digest("base64"), s.resource)));
	}
	const h = s.size ? { Range: `bytes=0-${s.size - 1}`, "Content-Length": 0 } : { "Content-Length": 0 };
	// a client that asks (Go's: X-GUploader-No-308) gets 200 saying 308
	if (req.headers["x-guploader-no-308"] === "yes")
		res.writeHead(200, { ...h, "X-HTTP-Status-Code-Override": "308" });
	else
		res.writeHead(308, h);
	res.end();
}

// ---- the server --------------------------------------------------------------
const seg = "([^/]+)";
const objectRe = new RegExp(`^(?:/download/storage/v1)?/b/${seg}/o/${seg}$`);
const composeRe = new RegExp(`^/b/${seg}/o/${seg}/compose$`);
const rewriteRe = new RegExp(`^/b/${seg}/o/${seg}/(?:rewriteTo|copyTo)/b/${seg}/o/${seg}$`);
const uploadRe = new RegExp(`^/upload/storage/v1/b/${seg}/o$`);

createApp("demo-scopefs", emu).then((app) => {
	const server = http.createServer(async (req, res) => {
		try {
			const u = new URL(req.url, "http://x");
			let p = u.pathname;
			if (p.startsWith("/storage/v1/"))
				p = p.slice("/storage/v1".length);
			const q = u.searchParams;
			// a client given ".../storage/v1/" as its endpoint uploads to
			// /storage/v1/b/B/o?uploadType=... (rclone 1.60)
			if (/^\/b\/[^/]+\/o$/.test(p) && q.get("uploadType") !== null)
				p = "/upload/storage/v1" + p;
			let m;
			if (req.method === "POST" && p === "/b") {
				const b = JSON.parse((await readBody(req)).toString("utf8") || "{}");
				if (!b.name)
					return error(res, 400, "invalid", "buckets.insert needs a name");
				layer.createBucket(b.name);
				return send(res, 200, { kind: "storage#bucket", id: b.name, name: b.name });
			}
			if ((req.method === "GET" || req.method === "HEAD") && (m = objectRe.exec(p)))
				return getObject(req, res, q, decodeURIComponent(m[1]), decodeURIComponent(m[2]));
			if (req.method === "POST" && (m = composeRe.exec(p)))
				return await compose(req, res, q, decodeURIComponent(m[1]), decodeURIComponent(m[2]));
			if (req.method === "POST" && (m = rewriteRe.exec(p)) &&
			    !precondition(res, q, decodeURIComponent(m[3]), decodeURIComponent(m[4])))
				return;
			if (req.method === "POST" && (m = uploadRe.exec(p)) && q.get("uploadType") === "media")
				return await media(req, res, q, decodeURIComponent(m[1]));
			if (req.method === "POST" && (m = uploadRe.exec(p)) && q.get("uploadType") === "multipart")
				return await multipart(req, res, q, decodeURIComponent(m[1]));
			// a session's chunks come as PUT (or POST: Go's client)
			if ((req.method === "PUT" || req.method === "POST") && uploadRe.exec(p) && q.get("upload_id"))
				return await resumableChunk(req, res, q);
			if (req.method === "POST" && (m = uploadRe.exec(p)) && q.get("uploadType") === "resumable")
				return await resumableStart(req, res, q, decodeURIComponent(m[1]));
			req.url = p + u.search;
			app(req, res);
		} catch (err) {
			console.error(`gcs-emulator: ${req.method} ${req.url}: ${err.stack}`);
			if (!res.headersSent)
				error(res, 500, "backendError", String(err.message));
			else
				res.destroy();
		}
	});
	server.listen(port, host, () => console.log(`GCS emulator listening on http://${host}:${port}`));
	const stop = () => { server.close(() => process.exit(0)); server.closeAllConnections(); };
	process.on("SIGTERM", stop);
	process.on("SIGINT", stop);
}).catch((err) => {
	console.error(`gcs-emulator: ${err.stack}`);
	process.exit(1);
});
