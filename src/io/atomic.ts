/**
 * Atomic file replacement: write a temp file in the target's directory, fsync it, rename it
 * over the target, fsync the directory. A crash or an error at any point leaves either the old
 * file or the new one, never a torn mix, and an error removes the temp file.
 */
import { randomBytes } from 'node:crypto';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Writes everything `bytes` holds at the handle's current end, however many calls that takes. */
export async function writeAll(file: FileHandle, bytes: Uint8Array): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const { bytesWritten } = await file.write(bytes, done, bytes.length - done);
    if (bytesWritten <= 0) throw new Error(`write made no progress after ${done} of ${bytes.length} bytes`);
    done += bytesWritten;
  }
}

/**
 * Replaces `path` with whatever `fill` writes to the handle it is given. If `fill` throws, the
 * temp file is removed, `path` is untouched, and the error propagates.
 */
export async function writeFileAtomic(path: string, fill: (file: FileHandle) => Promise<void>): Promise<void> {
  const dir = dirname(path);
  // Same directory as the target, so rename() never crosses a filesystem; dot-prefixed so
  // directory listings skip it; random so concurrent saves of one path do not collide.
  const temp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const file = await open(temp, 'wx');
  let closed = false;
  try {
    await fill(file);
    await file.sync();
    await file.close();
    closed = true;
    await rename(temp, path);
  } catch (err) {
    if (!closed) await file.close().catch(() => {});
    await unlink(temp).catch(() => {});
    throw err;
  }
  await syncDir(dir);
}

/** Makes the rename itself durable. Not every platform can open a directory (Windows): best effort. */
async function syncDir(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch {
    // The data is already synced and renamed; only the durability of the rename is at stake.
  } finally {
    await handle?.close().catch(() => {});
  }
}
