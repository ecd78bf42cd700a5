'use strict';
/*
 * slow_writes.js - preloaded into s3rver by test_s3_local.py (NODE_OPTIONS=--require): every
 * fs.WriteStream write starts IMAGEGEN_SLOW_WRITE_MS (default 300) late. s3rver stores an
 * object's bytes through a WriteStream and its metadata with fs.writeFile, so this widens the
 * window in which s3rver has acknowledged a PutObject whose bytes are not on disk yet from
 * microseconds (seen on loaded machines) to a certainty.
 */
const fs = require('fs');

const delay = Number(process.env.IMAGEGEN_SLOW_WRITE_MS || 300);
for (const name of ['_write', '_writev']) {
  const write = fs.WriteStream.prototype[name];
  fs.WriteStream.prototype[name] = function slowWrite(...args) {
    setTimeout(() => write.apply(this, args), delay);
  };
}
