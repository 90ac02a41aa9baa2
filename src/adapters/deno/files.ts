/** The file adapter on Deno's file API: config files, log files and their rotation, uploads. */

import type { FileAdapter } from "../types.ts";

export class DenoFiles implements FileAdapter {
  readTextFile(path: string): Promise<string> {
    return Deno.readTextFile(path);
  }

  writeTextFile(
    path: string,
    text: string,
    options: { append?: boolean; mode?: number } = {},
  ): Promise<void> {
    return Deno.writeTextFile(path, text, { append: options.append ?? false, mode: options.mode });
  }

  async size(path: string): Promise<number | undefined> {
    try {
      return (await Deno.stat(path)).size;
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return undefined;
      throw error;
    }
  }

  rename(from: string, to: string): Promise<void> {
    return Deno.rename(from, to);
  }

  mkdir(path: string): Promise<void> {
    return Deno.mkdir(path, { recursive: true });
  }

  async exists(path: string): Promise<boolean> {
    try {
      await Deno.stat(path);
      return true;
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return false;
      throw error;
    }
  }

  readFile(path: string): Promise<Uint8Array<ArrayBuffer>> {
    return Deno.readFile(path);
  }

  writeFile(path: string, data: Uint8Array): Promise<void> {
    return Deno.writeFile(path, data);
  }

  async remove(path: string): Promise<void> {
    try {
      await Deno.remove(path);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
}
