#!/usr/bin/env node
'use strict';
/*
 * s3-local.js - the local stack's S3: s3rver (npm, pinned in package-lock.json), started with
 * s3rver's own command line (same options: s3-local.js --help), with one correction.
 *
 * s3rver 3.7.1 answers a PutObject as soon as its MD5 stream has seen the last byte, while the
 * file stream it pipes into may not have written it yet. A HEAD or GET right after the 200 can
 * then see a short object: under load, a presigned URL fetched at once can download a
 * truncated PNG. Amazon S3 has strong read-after-write consistency and bootstrap's answer
 * promises the object is there, so the stand-in must too. After s3rver's own putObject, this
 * waits until the stored file holds every byte that was acknowledged (a stat, normally at once)
 * before the 200 goes out; a file still short after WAIT_MS is a 500, never a 200.
 */
const fs = require('fs/promises');
const FilesystemStore = require('s3rver/lib/stores/filesystem');

// How long a stored file may lag behind its acknowledgement (IMAGEGEN_S3_WRITE_WAIT_MS).
const WAIT_MS = Number(process.env.IMAGEGEN_S3_WRITE_WAIT_MS) || 10000;

const putObject = FilesystemStore.prototype.putObject;
FilesystemStore.prototype.putObject = async function putObjectWhenWritten(object) {
  const result = await putObject.call(this, object);
  const file = this.getResourcePath(object.bucket, object.key, 'object');
  const deadline = Date.now() + WAIT_MS;
  for (let delay = 1; ; delay = Math.min(delay * 2, 50)) {
    let size;
    try {
      ({ size } = await fs.stat(file));
    } catch (err) {
      if (err.code === 'ENOENT') return result; // deleted meanwhile by a DeleteObject
      throw err;
    }
    if (size === result.size) return result;
    // A write that never completes (a full disk) must not be acknowledged: s3rver answers 500.
    if (Date.now() > deadline) {
      throw new Error(`${object.key}: ${size} of ${result.size} bytes on disk after ${WAIT_MS} ms`);
    }
    await new Promise(resolve => setTimeout(resolve, delay));
  }
};

require('s3rver/bin/s3rver.js');
