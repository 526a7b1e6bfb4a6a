// gcs_token.js: what the gcs tests check the plugin's OAuth side with, since
// the Cloud Storage emulator takes any token or none.
//
//   node gcs_token.js --public-key PEM --upstream PORT [--ttl S]
//                     [--first-ttl S] [--count-file F] [--deny]
//
// Prints its port on stdout once listening, then serves:
//   POST /token  a service account's token URI (RFC 7523): the form body's
//                grant_type must be urn:ietf:params:oauth:grant-type:
//                jwt-bearer, and assertion a JWT with header alg RS256
//                whose signature verifies with --public-key, with iss,
//                scope, aud (this URL) and iat/exp (exp - iat <= 3600,
//                iat within 5 minutes of now).  Answers
//                {"access_token": "gcs-token-N", "expires_in": S,
//                "token_type": "Bearer"}, else 400 {"error":
//                "invalid_grant", "error_description": WHY}.  --deny
//                refuses every assertion.
//   GET /computeMetadata/v1/instance/service-accounts/default/token
//                the GCE metadata server: needs "Metadata-Flavor: Google"
//                (else 403); answers a token as above.
//   anything else: proxied to 127.0.0.1:--upstream (the emulator), after
//                checking that it carries "Authorization: Bearer T" with a
//                token T this server issued and that has not expired.
// The first token lives --first-ttl seconds, later ones --ttl.  Before
// each answer --count-file holds "tokens=N jwt_ok=N jwt_bad=N
// metadata=N authorized=N unauthorized=N".
"use strict";
const crypto = require("crypto");
const fs = require("fs");
const http = require("http");

const args = {};
for (let i = 2; i < process.argv.length; i++) {
	const a = process.argv[i].replace(/^--/, "");
	args[a] = a === "deny" ? true : process.argv[++i];
}
const publicKey = args["public-key"] ? fs.readFileSync(args["public-key"], "utf8") : null;
const ttl = Number(args.ttl || 3600), firstTtl = Number(args["first-ttl"] || ttl);
const counts = { tokens: 0, jwt_ok: 0, jwt_bad: 0, metadata: 0, authorized: 0, unauthorized: 0 };
const live = new Map(); // token -> expiry, ms
let lastWhy = "";

function save() {
	if (!args["count-file"])
		return;
	const line = Object.entries(counts).map(([k, v]) => `${k}=${v}`).join(" ") + (lastWhy ? ` last_bad="${lastWhy}"` : "") + "\n";
	fs.writeFileSync(args["count-file"] + ".tmp", line);
	fs.renameSync(args["count-file"] + ".tmp", args["count-file"]);
}

function issue() {
	const s = counts.tokens++ === 0 ? firstTtl : ttl;
	const token = `gcs-token-${counts.tokens}`;
	live.set(token, Date.now() + s * 1000);
	return { access_token: token, expires_in: s, token_type: "Bearer" };
}

function reply(res, status, obj) {
	save();
	const body = JSON.stringify(obj);
	res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) });
	res.end(body);
}

const b64url = (s) => Buffer.from(s, "base64url");

// Why ASSERTION is not a good JWT for AUD, or "".
function checkJwt(assertion, aud) {
	const parts = (assertion || "").split(".");
	if (parts.length !== 3)
		return "not three dot-separated parts";
	let header, claims;
	try {
		header = JSON.parse(b64url(parts[0]).toString("utf8"));
		claims = JSON.parse(b64url(parts[1]).toString("utf8"));
	} catch (e) {
		return "header or claims not base64url JSON";
	}
	if (header.alg !== "RS256" || header.typ !== "JWT")
		return `header ${JSON.stringify(header)} is not RS256 JWT`;
	if (!crypto.verify("RSA-SHA256", Buffer.from(`${parts[0]}.${parts[1]}`), publicKey, b64url(parts[2])))
		return "the signature does not verify with the public key";
	const now = Date.now() / 1000;
	if (!claims.iss || !claims.scope || claims.aud !== aud)
		return `claims ${JSON.stringify(claims)}: iss, scope or aud (${aud}) wrong`;
	if (!(claims.exp > claims.iat && claims.exp - claims.iat <= 3600 && Math.abs(claims.iat - now) < 300))
		return `iat ${claims.iat} / exp ${claims.exp} not within the rules (now ${Math.floor(now)})`;
	return "";
}

function proxy(req, res) {
	const m = /^Bearer (.+)$/.exec(req.headers.authorization || "");
	const exp = m ? live.get(m[1]) : undefined;
	if (exp === undefined || exp <= Date.now()) {
		counts.unauthorized++;
		return reply(res, 401, { error: { code: 401, message: m ? "the token is unknown or expired" : "no Bearer token", errors: [{ reason: "authError", message: "bad token" }] } });
	}
	counts.authorized++;
	save();
	const up = http.request({ host: "127.0.0.1", port: Number(args.upstream), method: req.method, path: req.url, headers: req.headers }, (ur) => {
		res.writeHead(ur.statusCode, ur.headers);
		ur.pipe(res);
	});
	up.on("error", (e) => reply(res, 502, { error: { code: 502, message: e.message } }));
	req.pipe(up);
}

const server = http.createServer((req, res) => {
	const url = new URL(req.url, "http://x");
	if (req.method === "POST" && url.pathname === "/token") {
		const chunks = [];
		req.on("data", (c) => chunks.push(c));
		req.on("end", () => {
			const form = new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
			const aud = `http://127.0.0.1:${server.address().port}/token`;
			let why = form.get("grant_type") !== "urn:ietf:params:oauth:grant-type:jwt-bearer" ? "wrong grant_type" : checkJwt(form.get("assertion"), aud);
			if (!why && args.deny)
				why = "this service account is disabled (--deny)";
			if (why) {
				counts.jwt_bad++;
				lastWhy = why;
				return reply(res, 400, { error: "invalid_grant", error_description: why });
			}
			counts.jwt_ok++;
			reply(res, 200, issue());
		});
		return;
	}
	if (req.method === "GET" && url.pathname === "/computeMetadata/v1/instance/service-accounts/default/token") {
		if (req.headers["metadata-flavor"] !== "Google")
			return reply(res, 403, { error: "missing Metadata-Flavor: Google" });
		counts.metadata++;
		return reply(res, 200, issue());
	}
	proxy(req, res);
});
server.listen(0, "127.0.0.1", () => {
	save();
	console.log(server.address().port);
});
process.on("SIGTERM", () => process.exit(0));
