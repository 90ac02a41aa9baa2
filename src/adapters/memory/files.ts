/**
 * A Map-backed file system for tests, with the failures that matter: reading or renaming a
 * missing file and writing into a missing directory throw an error named "NotFound", as
 * `Deno.errors.NotFound` is named, so core code can test `error.name` on either adapter.
 */

import type { FileAdapter } from "../types.ts";

export class NotFoundError extends Error {
  override name = "NotFound";
}

/** "/a//b/./c/" and "/a/b/c" are the same path. */
function normalize(path: string): string {
  const absolute = path.startsWith("/");
  const parts: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") parts.pop();
    else parts.push(part);
  }
  const joined = parts.join("/");
  return absolute ? `/${joined}` : joined === "" ? "." : joined;
}

function parentOf(path: string): string {
  const slash = path.lastIndexOf("/");
  if (slash < 0) return ".";
  return slash === 0 ? "/" : path.slice(0, slash);
}

export class MemoryFiles implements FileAdapter {
  readonly files = new Map<string, string>();
  /** Files written as bytes (`writeFile`), apart so `files` stays text. */
  readonly blobs = new Map<string, Uint8Array>();
  readonly directories = new Set<string>(["/", "."]);

  /** Files to start with; their directories are made too. */
  constructor(initial: Record<string, string> = {}) {
    for (const [path, text] of Object.entries(initial)) {
      const normal = normalize(path);
      this.#makeDirectories(parentOf(normal));
      this.files.set(normal, text);
    }
  }

  readTextFile(path: string): Promise<string> {
    const blob = this.blobs.get(normalize(path));
    if (blob) return Promise.resolve(new TextDecoder().decode(blob));
    const text = this.files.get(normalize(path));
    if (text === undefined) return Promise.reject(this.#notFound("open", path));
    return Promise.resolve(text);
  }

  writeTextFile(path: string, text: string, options: { append?: boolean } = {}): Promise<void> {
    const normal = normalize(path);
    if (!this.directories.has(parentOf(normal))) {
      return Promise.reject(this.#notFound("open", path));
    }
    const before = options.append ? this.files.get(normal) ?? "" : "";
    this.files.set(normal, before + text);
    return Promise.resolve();
  }

  size(path: string): Promise<number | undefined> {
    const blob = this.blobs.get(normalize(path));
    if (blob) return Promise.resolve(blob.length);
    const text = this.files.get(normalize(path));
    return Promise.resolve(text === undefined ? undefined : new TextEncoder().encode(text).length);
  }

  rename(from: string, to: string): Promise<void> {
    const source = normalize(from);
    const target = normalize(to);
    const text = this.files.get(source);
    if (text === undefined || !this.directories.has(parentOf(target))) {
      return Promise.reject(this.#notFound("rename", `${from} -> ${to}`));
    }
    this.files.delete(source);
    this.files.set(target, text);
    return Promise.resolve();
  }

  mkdir(path: string): Promise<void> {
    this.#makeDirectories(normalize(path));
    return Promise.resolve();
  }

  exists(path: string): Promise<boolean> {
    const normal = normalize(path);
    return Promise.resolve(
      this.files.has(normal) || this.blobs.has(normal) || this.directories.has(normal),
    );
  }

  readFile(path: string): Promise<Uint8Array<ArrayBuffer>> {
    const normal = normalize(path);
    const blob = this.blobs.get(normal);
    if (blob) return Promise.resolve(blob.slice());
    const text = this.files.get(normal);
    if (text === undefined) return Promise.reject(this.#notFound("open", path));
    return Promise.resolve(new TextEncoder().encode(text));
  }

  writeFile(path: string, data: Uint8Array): Promise<void> {
    const normal = normalize(path);
    if (!this.directories.has(parentOf(normal))) {
      return Promise.reject(this.#notFound("open", path));
    }
    this.files.delete(normal);
    this.blobs.set(normal, data.slice());
    return Promise.resolve();
  }

  remove(path: string): Promise<void> {
    const normal = normalize(path);
    this.files.delete(normal);
    this.blobs.delete(normal);
    return Promise.resolve();
  }

  #makeDirectories(path: string): void {
    for (let dir = path; !this.directories.has(dir); dir = parentOf(dir)) {
      this.directories.add(dir);
    }
  }

  #notFound(operation: string, path: string): NotFoundError {
    // Worded like Deno's own message.
    return new NotFoundError(`No such file or directory (os error 2): ${operation} '${path}'`);
  }
}
