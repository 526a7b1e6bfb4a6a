#!/usr/bin/env node
// Make @20minutes/s3rver 4.0.4 answer as AWS S3 does where our S3 plugin
// depends on it.  The client follows AWS; the test server is what bends.
//
//   node patch-s3rver.js [node_modules/@20minutes/s3rver]
//
// Idempotent: a patch already applied (its marker is present) is skipped.
// Exits 1 when the code a patch expects is not found (another version?).
//
// A  ListObjectsV2: a "directory" holding only sub-directories was missing
//    from CommonPrefixes (the walk never looked below a delimiter), keys
//    came in file-system order rather than S3's byte order (which lost keys
//    across pages: "a.txt" sorts after "a/b" on disk), and common prefixes
//    did not count against max-keys (repeated on later pages).  Listing now
//    sorts every key under the prefix, rolls up common prefixes, counts both
//    against max-keys and continues after the last entry of either kind.
// B  SigV4 canonical request, two differences from AWS:
//    1. a bucket-level request sent as "/bucket/?list-type=2" was
//       canonicalised without its trailing slash;
//    2. query values were encoded with encodeURIComponent, which leaves
//       ! ' ( ) * unencoded (AWS encodes them: RFC 3986).
// C  XML answers were escaped twice (a key "a&b" was listed as
//    "a&amp;amp;b"): the builder escaped text the value processor had
//    already escaped.
// D  x-amz-copy-source was decoded with decodeURI, which leaves %2B %26
//    %3D %24 %2C %3A %3B %3F %40 %23 encoded: copying "a+b" looked for
//    "a%2Bb".  AWS decodes the whole value.
// E  GET/HEAD ignored If-Match; AWS answers 412 PreconditionFailed.
// F  ListObjects ignored encoding-type=url, so a key with a character
//    XML 1.0 cannot carry (a control character) made the whole listing
//    unreadable.  Keys, prefixes, delimiter and start-after are now
//    encoded as S3 does (space as '+') and EncodingType says so.
// G  A ranged GET of an empty object announced one byte and sent none,
//    so the client waited for its timeout; AWS answers 416 InvalidRange.
// H  A PUT rewrote the object's file in place, then its metadata: a GET
//    in between read the old metadata (ETag, length) with the new or
//    half-written bytes, so If-Match passed and a reader got a mix of two
//    versions (test_contention caught it).  S3 swaps whole versions
//    atomically.  Now a PUT writes a file of its own and renames it into
//    place with its metadata, and a GET reads metadata and opens the file,
//    each pair under a per-key lock.
'use strict';

const fs = require('fs');
const path = require('path');

const root = path.resolve(
  process.argv[2] ||
    path.join(__dirname, 'node_modules', '@20minutes', 's3rver'),
);

const patches = [
  {
    id: 'A',
    file: 'lib/stores/filesystem.js',
    find: `    const it = walk(bucketPath, (dirPath) => {
      // avoid directories occurring before the startAfter parameter
      if (dirPath < startAfterPath && startAfterPath.indexOf(dirPath) === -1) {
        return false;
      }
      if (dirPath.startsWith(prefixPath)) {
        if (
          delimiterEnc &&
          dirPath.slice(prefixPath.length).indexOf(delimiterEnc) !== -1
        ) {
          // avoid directories occurring beneath a common prefix
          return false;
        }
      } else if (!prefixPath.startsWith(dirPath)) {
        // avoid directories that do not intersect with any part of the prefix
        return false;
      }
      return true;
    });

    const commonPrefixes = new Set();
    const objectSuffix = format(S3RVER_SUFFIX, '', 'object');
    const keys = [];
    let isTruncated = false;
    for (const keyPath of it) {
      if (!keyPath.endsWith(objectSuffix)) {
        continue;
      }

      const key = FilesystemStore.decodeKeyPath(
        keyPath.slice(bucketPath.length + 1, -objectSuffix.length),
      );

      if (key <= startAfter || !key.startsWith(prefix)) {
        continue;
      }

      if (delimiter) {
        const idx = key.slice(prefix.length).indexOf(delimiter);
        if (idx !== -1) {
          // add to common prefixes before filtering this key out
          commonPrefixes.add(key.slice(0, prefix.length + idx + 1));
          continue;
        }
      }

      if (keys.length < maxKeys) {
        keys.push(key);
      } else {
        isTruncated = true;
        break;
      }
    }
`,
    replace: `    // scopefs patch A: list as S3 does (see patch-s3rver.js).
    const objectSuffix = format(S3RVER_SUFFIX, '', 'object');
    const byteCmp = (a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b));
    const all = [];
    const it = walk(
      bucketPath,
      (dirPath) =>
        dirPath.startsWith(prefixPath) || prefixPath.startsWith(dirPath),
    );
    for (const keyPath of it) {
      if (!keyPath.endsWith(objectSuffix)) continue;
      const key = FilesystemStore.decodeKeyPath(
        keyPath.slice(bucketPath.length + 1, -objectSuffix.length),
      );
      if (key.startsWith(prefix)) all.push(key);
    }
    all.sort(byteCmp);
    const commonPrefixes = [];
    const keys = [];
    let isTruncated = false;
    let lastEntry;
    for (const key of all) {
      let entry = key;
      let isPrefix = false;
      if (delimiter) {
        const idx = key.slice(prefix.length).indexOf(delimiter);
        if (idx !== -1) {
          entry = key.slice(0, prefix.length + idx + delimiter.length);
          isPrefix = true;
        }
      }
      if (entry === lastEntry) continue; // the same common prefix
      if (startAfter && byteCmp(entry, startAfter) <= 0) continue;
      if (keys.length + commonPrefixes.length >= maxKeys) {
        isTruncated = true;
        break;
      }
      lastEntry = entry;
      (isPrefix ? commonPrefixes : keys).push(entry);
    }
`,
  },
  {
    id: 'A',
    file: 'lib/stores/filesystem.js',
    find: `      commonPrefixes: [...commonPrefixes].sort(),
      isTruncated,
`,
    replace: `      commonPrefixes, // scopefs patch A
      isTruncated,
      lastEntry,
`,
  },
  {
    id: 'A',
    file: 'lib/controllers/bucket.js',
    find: `              NextContinuationToken: result.isTruncated
                ? generateContinuationToken(
                    ctx.params.bucket,
                    result.objects[result.objects.length - 1].key,`,
    replace: `              NextContinuationToken: result.isTruncated
                ? generateContinuationToken(
                    ctx.params.bucket,
                    result.lastEntry, // scopefs patch A`,
  },
  {
    id: 'A',
    file: 'lib/controllers/bucket.js',
    find: `                options.delimiter && result.isTruncated
                  ? result.objects[result.objects.length - 1].key`,
    replace: `                options.delimiter && result.isTruncated
                  ? result.lastEntry // scopefs patch A`,
  },
  {
    id: 'B1',
    file: 'lib/middleware/authentication.js',
    find: `    canonicalizedResource = canonicalizedResource
      .split('/')`,
    replace: `    // scopefs patch B1: "/bucket/" is signed with its slash.
    if (
      ctx.params.bucket &&
      !ctx.params.key &&
      !ctx.state.vhost &&
      ctx.path.endsWith('/') &&
      !canonicalizedResource.endsWith('/')
    ) {
      canonicalizedResource += '/';
    }
    canonicalizedResource = canonicalizedResource
      .split('/')`,
  },
  {
    id: 'B2',
    file: 'lib/middleware/authentication.js',
    find: `            : [param, value].map(encodeURIComponent).join('='),`,
    replace: `            : [param, value].map(encodeURIComponentRFC3986).join('='), // scopefs patch B2`,
  },
  {
    id: 'C',
    file: 'lib/s3rver.js',
    find: `      const builder = new XMLBuilder({
        ignoreAttributes: false,`,
    replace: `      const builder = new XMLBuilder({
        processEntities: false, // scopefs patch C
        ignoreAttributes: false,`,
  },
  {
    id: 'C',
    file: 'lib/models/error.js',
    find: `    const builder = new XMLBuilder({
      tagValueProcessor:`,
    replace: `    const builder = new XMLBuilder({
      processEntities: false, // scopefs patch C
      tagValueProcessor:`,
  },
  {
    id: 'D',
    file: 'lib/controllers/object.js',
    all: 2,
    find: `  let copySource = decodeURI(ctx.headers['x-amz-copy-source']);`,
    replace: `  let copySource = decodeURIComponent(ctx.headers['x-amz-copy-source']); // scopefs patch D`,
  },
  {
    id: 'E',
    file: 'lib/controllers/object.js',
    find: `  const noneMatch = ctx.headers['if-none-match'];`,
    replace: `  // scopefs patch E
  const ifMatch = ctx.headers['if-match'];
  if (ifMatch && ifMatch !== '*' && ifMatch !== object.metadata.etag) {
    if (object.content) object.content.destroy();
    throw new S3Error(
      'PreconditionFailed',
      'At least one of the pre-conditions you specified did not hold',
      { Condition: 'If-Match' },
    );
  }
  const noneMatch = ctx.headers['if-none-match'];`,
  },
  {
    id: 'F',
    file: 'lib/controllers/bucket.js',
    find: `        CommonPrefixes: result.commonPrefixes.map((prefix) => ({
          Prefix: prefix,
        })),
      },
    };
`,
    replace: `        CommonPrefixes: result.commonPrefixes.map((prefix) => ({
          Prefix: prefix,
        })),
      },
    };
    // scopefs patch F
    if (ctx.query['encoding-type'] === 'url') {
      const enc = (s) => encodeURIComponent(s).replace(/%20/g, '+');
      const r = ctx.body.ListBucketResult;
      r.EncodingType = 'url';
      r.Prefix = enc(r.Prefix);
      if (r.Delimiter) r.Delimiter = enc(r.Delimiter);
      if (r.StartAfter) r.StartAfter = enc(r.StartAfter);
      for (const c of r.Contents) c.Key = enc(c.Key);
      for (const p of r.CommonPrefixes) p.Prefix = enc(p.Prefix);
    }
`,
  },
  {
    id: 'G',
    file: 'lib/stores/filesystem.js',
    find: `      if (range.start < 0 || Math.min(range.end, lastByte) < range.start) {`,
    replace: `      if (
        range.start < 0 ||
        Math.min(range.end, lastByte) < range.start ||
        // scopefs patch G: no range of an empty object is satisfiable
        (Number(metadata['content-length']) === 0 &&
          options &&
          (options.start !== undefined || options.end))
      ) {`,
  },
  {
    id: 'H0',
    file: 'lib/stores/filesystem.js',
    find: `const S3RVER_SUFFIX = '%s._S3rver_%s';
`,
    replace: `const S3RVER_SUFFIX = '%s._S3rver_%s';

// scopefs patch H: one version's metadata and bytes change together
const keyLocks = new Map();
function keyLock(name, fn) {
  const prev = keyLocks.get(name) || Promise.resolve();
  const run = prev.then(fn, fn);
  const tail = run.catch(() => {});
  keyLocks.set(name, tail);
  tail.then(() => {
    if (keyLocks.get(name) === tail) keyLocks.delete(name);
  });
  return run;
}
`,
  },
  {
    id: 'H1',
    file: 'lib/stores/filesystem.js',
    find: `  async getObject(bucket, key, options) {
    try {`,
    replace: `  async getObject(bucket, key, options) {
    // scopefs patch H
    return keyLock(bucket + '/' + key, () =>
      this.getObjectUnlocked(bucket, key, options),
    );
  }

  async getObjectUnlocked(bucket, key, options) {
    try {`,
  },
  {
    id: 'H2',
    file: 'lib/stores/filesystem.js',
    find: `    const [size, md5] = await this.putContent(objectPath, object.content);
    await this.putMetadata(object.bucket, object.key, object.metadata, md5);
    return { size, md5 };`,
    replace: `    // scopefs patch H: a file of its own, swapped in with its metadata
    const tmpPath =
      objectPath + '.put-' + crypto.randomBytes(8).toString('hex');
    const [size, md5] = await this.putContent(tmpPath, object.content);
    await keyLock(object.bucket + '/' + object.key, async () => {
      await fs.rename(tmpPath, objectPath);
      await this.putMetadata(object.bucket, object.key, object.metadata, md5);
    });
    return { size, md5 };`,
  },
];

let failed = false;
const files = new Map();
for (const p of patches) {
  const file = path.join(root, p.file);
  if (!files.has(file)) {
    if (!fs.existsSync(file)) {
      console.error(`patch-s3rver: ${file} not found`);
      process.exit(1);
    }
    files.set(file, fs.readFileSync(file, 'utf8'));
  }
  let text = files.get(file);
  const want = p.all || 1;
  // The replacement may contain the code it patches: look for it first.
  if (text.split(p.replace).length - 1 === want) {
    continue; // applied before
  }
  const count = text.split(p.find).length - 1;
  if (count !== want) {
    console.error(
      `patch-s3rver: patch ${p.id}: expected code not found ${want} time(s) in ${p.file} (found ${count})`,
    );
    failed = true;
    continue;
  }
  text = text.split(p.find).join(p.replace);
  files.set(file, text);
  console.log(`patch-s3rver: applied ${p.id} to ${p.file}`);
}
if (failed) process.exit(1);
for (const [file, text] of files) {
  if (fs.readFileSync(file, 'utf8') !== text) fs.writeFileSync(file, text);
}
