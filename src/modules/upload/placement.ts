/**
 * Where the upload service can work (docs/architecture.md, "Components: c2s and the session
 * manager"): the `<upload>` section grants slots and keeps the files, and the http section of the
 * SAME process serves them, finding the section's store through `api.offer(UPLOAD_STORE)`, which
 * is an object in this process's memory. So `<upload>` runs in-process, in a config that has an
 * `<http xmlns="jabberd:config:http">` section; a worker (no offers cross the thread), a `<fork>`
 * child or another jabberd process would grant slots whose PUT nobody can take.
 */
import type { ValidationContext } from "../../server/module_api.ts";
import type { Element } from "../../xml/element.ts";

/** The http component's namespace (modules do not import each other, docs/architecture.md). */
const NS_HTTP_CONFIG = "jabberd:config:http";

/** `jabberd check`: a problem when the config holding `upload` has no http section. */
export function checkUploadPlacement(upload: Element, context: ValidationContext): void {
  let root = upload;
  while (root.parent) root = root.parent;
  const http = root.elements.some((section) =>
    section.local === "service" && section.elements.some((child) => child.ns === NS_HTTP_CONFIG)
  );
  if (http) return;
  context.problem(
    upload,
    `<upload> needs an <http xmlns="${NS_HTTP_CONFIG}"> section in the same config: that ` +
      `section serves the uploaded files, from this process only; add one (README "Web ` +
      `clients, the admin API and metrics"), or remove this <upload>`,
  );
}

/**
 * At start: refuses to run where no http section can reach the store (a `<fork>` child, a
 * worker thread); `<upload xmlns="jabberd:config:upload">` in a `<service>` is the way to write it.
 */
export function refuseOutOfProcess(config: Element): void {
  const how = config.local === "fork"
    ? "in a <fork> child process"
    : config.attrs.thread === "worker"
    ? 'in a worker thread (<load thread="worker">)'
    : undefined;
  if (how === undefined) return;
  throw new Error(
    `The upload service cannot run ${how}: the http section serves its files from the ` +
      `process and thread that run it; write <upload xmlns="jabberd:config:upload"> in a ` +
      `<service> of the config that has the <http> section`,
  );
}
