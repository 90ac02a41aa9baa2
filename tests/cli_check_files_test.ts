/**
 * `jabberd check`, `start` and `tree` on configs naming certificate files, and
 * `jabberd check --runtime deploy`, run in-process through `runCli` on real temporary files.
 */
import assert from "node:assert/strict";
import { memoryAdapters } from "../src/adapters/memory/mod.ts";
import { runCli } from "../src/cli/mod.ts";
import { runCaptured } from "../src/cli/_testing.ts";
import { DEPLOY_CONFIG } from "../deploy/config.ts";

const FIXTURES = new URL("./fixtures/tls/", import.meta.url).pathname;

/** Runs the CLI on the Deno adapters (real files), with the memory adapters for `tree`. */
const run = (args: string[]) => runCaptured(args);

/** A temporary folder holding `jabberd.xml` with `xml`, and the test certificate as certs/. */
async function folder(xml: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "jabberd-check-files-" });
  await Deno.mkdir(`${dir}/certs`);
  await Deno.copyFile(`${FIXTURES}localhost.pem`, `${dir}/certs/localhost.pem`);
  await Deno.copyFile(`${FIXTURES}localhost.key`, `${dir}/certs/localhost.key`);
  await Deno.writeTextFile(`${dir}/jabberd.xml`, xml);
  return dir;
}

const c2s = (id: string, port: number, certificate: string) =>
  `<service id="${id}">
    <c2s xmlns="jabberd:config:c2s">
      <domain>${id}.test</domain>
      <listen port="${port}" address="127.0.0.1"/>
      ${certificate}
    </c2s>
  </service>`;

const MISSING = `<jabberd>
  ${c2s("c2s", 15222, `<certificate cert="./missing.pem" key="certs/localhost.key"/>`)}
</jabberd>`;

Deno.test("1 jabberd check reports a certificate file it cannot read, at file:line:column, relative to the config file", async () => {
  const dir = await folder(MISSING);
  try {
    const { code, out, err } = await run(["check", "-c", `${dir}/jabberd.xml`]);
    assert.equal(code, 1);
    assert.doesNotMatch(out, /valid/);
    assert.ok(
      err.includes(
        `${dir}/jabberd.xml:6:7: Cannot read certificate file ./missing.pem ` +
          `(${dir}/missing.pem): No such file or directory; write in cert="./missing.pem" the ` +
          `path of a PEM file, relative to the folder of the config file`,
      ),
      err,
    );
    // The key file exists, relative to the config file's folder: only the certificate is wrong.
    assert.match(err, /1 error\(s\)/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("1 jabberd start refuses the same config with the same sentence, before any section starts", async () => {
  const memory = memoryAdapters({ files: { "/etc/jabberd/jabberd.xml": MISSING } });
  let started = false;
  const code = await runCli(["start", "-c", "/etc/jabberd/jabberd.xml"], {
    adapters: memory.adapters,
    dryAdapters: () => memoryAdapters().adapters,
    start: {
      onStarted: () => {
        // Should not happen; stop it so the test ends and fails on the code below.
        started = true;
        memory.signals.emit("SIGTERM");
      },
    },
  });
  const stderr = memory.output.stderr.join("");
  assert.equal(started, false, stderr);
  assert.notEqual(code, 0);
  assert.match(
    stderr,
    /jabberd\.xml:6:7: Cannot read certificate file \.\/missing\.pem \(\/etc\/jabberd\/missing\.pem\): No such file or directory/,
  );
  assert.doesNotMatch(stderr, /failed to start/);
});

Deno.test("2 jabberd tree reads the certificate files the config names and prints the section that uses them", async () => {
  const dir = await folder(`<jabberd>
  ${c2s("c2s", 15222, `<certificate cert="certs/localhost.pem" key="certs/localhost.key"/>`)}
  ${c2s("other", 15223, "")}
</jabberd>`);
  try {
    const { code, out, err } = await run(["tree", "-c", `${dir}/jabberd.xml`]);
    assert.equal(code, 0, err + out);
    assert.match(out, /^ {2}c2s <service>: .*deliver c2s/m);
    assert.match(out, /^ {2}other <service>: /m);
    assert.doesNotMatch(out, /failed to start/);
    // "other" made its default certificate in memory only: the dry run writes nothing.
    assert.equal(await exists(`${dir}/data`), false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("2 jabberd tree prints a section that fails to start on the dry adapters with its error, and exits 1", async () => {
  // Both ask for the same port: the dry network refuses the second listener.
  const dir = await folder(`<jabberd>
  ${c2s("c2s", 15222, `<certificate cert="certs/localhost.pem" key="certs/localhost.key"/>`)}
  ${c2s("twin", 15222, `<certificate cert="certs/localhost.pem" key="certs/localhost.key"/>`)}
</jabberd>`);
  try {
    const { code, out } = await run(["tree", "-c", `${dir}/jabberd.xml`]);
    assert.equal(code, 1);
    assert.match(out, /^ {2}c2s <service>: /m);
    assert.match(
      out,
      /failed to start \(left out of the tree above\)\n {2}twin: Port 15222 is already in use/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("3 jabberd check --runtime deploy refuses what Deno Deploy cannot run, and passes the Deploy config", async () => {
  const dir = await folder(`<jabberd>
  ${c2s("c2s", 15222, "")}
  <log id="file"><file>jabberd.log</file></log>
</jabberd>`);
  try {
    const deno = await run(["check", "-c", `${dir}/jabberd.xml`]);
    assert.equal(deno.code, 0, deno.err);
    const same = await run(["check", "-c", `${dir}/jabberd.xml`, "--runtime", "deno"]);
    assert.equal(same.code, 0, same.err);

    const deploy = await run(["check", "-c", `${dir}/jabberd.xml`, "--runtime", "deploy"]);
    assert.equal(deploy.code, 1);
    assert.match(deploy.err, /given with -c\), checked for Deno Deploy\n/);
    assert.match(
      deploy.err,
      /jabberd\.xml:5:7: <c2s> listens for clients on TCP, which Deno Deploy cannot do/,
    );
    assert.match(deploy.err, /<file> writes log lines to a file, and Deno Deploy keeps no files/);

    await Deno.writeTextFile(`${dir}/deploy.xml`, DEPLOY_CONFIG);
    const embedded = await run(["check", "-c", `${dir}/deploy.xml`, "--runtime", "deploy"]);
    assert.equal(embedded.code, 0, embedded.err);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("3 jabberd check --runtime refuses an unknown runtime with a usage error and its help names the option", async () => {
  const { code, err } = await run(["check", "--runtime", "lambda"]);
  assert.equal(code, 2);
  assert.match(
    err,
    /Unknown runtime "lambda" for jabberd check --runtime; write one of deno, deploy/,
  );
  const help = await run(["check", "--help"]);
  assert.match(help.out, /--runtime deploy +check for Deno Deploy/);
});

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}
