/**
 * The files of a dry run (`jabberd tree`): reads see what the dry run itself wrote, else the real
 * file system, read-only; every write stays in memory. So a section that reads the certificates
 * its config names starts as it would for real, and one that makes files (c2s's default
 * certificate, XDB files) leaves nothing on disk (docs/architecture.md "The runtime boundary").
 */
import type { FileAdapter } from "../adapters/types.ts";

/** `written` (the dry adapters' memory files) in front of `real`, which is only read. */
export function readThrough(written: FileAdapter, real: FileAdapter): FileAdapter {
  /** What `written` holds at `path`, else what `real` holds there. */
  const read = async <T>(path: string, get: (files: FileAdapter) => Promise<T>): Promise<T> =>
    await written.exists(path) ? await get(written) : await get(real);
  /** A file written into a real folder (a log file's) needs that folder in memory too. */
  const mirrorFolder = async (path: string) => {
    const slash = path.lastIndexOf("/");
    const folder = path.slice(0, slash);
    if (slash > 0 && !await written.exists(folder) && await real.exists(folder)) {
      await written.mkdir(folder);
    }
  };
  return {
    readTextFile: (path) => read(path, (files) => files.readTextFile(path)),
    readFile: (path) => read(path, (files) => files.readFile(path)),
    size: (path) => read(path, (files) => files.size(path)),
    exists: async (path) => await written.exists(path) || await real.exists(path),
    writeTextFile: async (path, text, options) => {
      await mirrorFolder(path);
      await written.writeTextFile(path, text, options);
    },
    writeFile: async (path, data) => {
      await mirrorFolder(path);
      await written.writeFile(path, data);
    },
    mkdir: (path) => written.mkdir(path),
    // A real file "renamed" or removed by a dry run stays where it is: only memory changes.
    rename: async (from, to) => {
      await mirrorFolder(to);
      await written.rename(from, to);
    },
    remove: (path) => written.remove(path),
  };
}
