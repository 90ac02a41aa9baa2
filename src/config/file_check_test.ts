import assert from "node:assert/strict";
import { builtinModules } from "../modules/mod.ts";
import { formatProblem, loadConfigText } from "./mod.ts";

const FIXTURES = new URL("../../tests/fixtures/tls/", import.meta.url);
const CERT = Deno.readTextFileSync(new URL("localhost.pem", FIXTURES));
const KEY = Deno.readTextFileSync(new URL("localhost.key", FIXTURES));

/** Loads `xml` as /etc/jabberd/jabberd.xml with `files` (absolute paths) as the only files. */
async function problemsOf(xml: string, files: Record<string, string>): Promise<string[]> {
  const io = {
    readTextFile: (path: string) =>
      path in files
        ? Promise.resolve(files[path])
        : Promise.reject(new Error(`No such file or directory (os error 2): readfile '${path}'`)),
    env: () => undefined,
  };
  const { problems } = await loadConfigText(xml, "/etc/jabberd/jabberd.xml", io, builtinModules);
  return problems.map(formatProblem);
}

const C2S = (certificate: string) =>
  `<jabberd>
  <service id="c2s">
    <c2s xmlns="jabberd:config:c2s">
      <domain>localhost</domain>
      ${certificate}
    </c2s>
  </service>
</jabberd>`;

Deno.test("1 the config check refuses a c2s <certificate> whose files cannot be read, at file:line:column, relative to the config file's folder", async () => {
  const problems = await problemsOf(
    C2S(`<certificate cert="./missing.pem" key="certs/missing.key"/>`),
    {},
  );
  assert.deepEqual(problems, [
    "/etc/jabberd/jabberd.xml:5:7: Cannot read certificate file ./missing.pem " +
    '(/etc/jabberd/missing.pem): No such file or directory; write in cert="./missing.pem" the ' +
    "path of a PEM file, relative to the folder of the config file",
    "/etc/jabberd/jabberd.xml:5:7: Cannot read key file certs/missing.key " +
    "(/etc/jabberd/certs/missing.key): No such file or directory; write in " +
    'key="certs/missing.key" the path of a PEM file, relative to the folder of the config file',
  ]);
});

Deno.test("1 the config check accepts readable PEM files, relative or absolute", async () => {
  const files = { "/etc/jabberd/certs/a.pem": CERT, "/srv/a.key": KEY };
  assert.deepEqual(
    await problemsOf(C2S(`<certificate cert="certs/a.pem" key="/srv/a.key"/>`), files),
    [],
  );
});

Deno.test("1 the config check refuses a readable file that is not the PEM certificate or key it should be", async () => {
  const files = { "/etc/jabberd/a.pem": KEY, "/etc/jabberd/a.key": "not a key\n" };
  const problems = await problemsOf(C2S(`<certificate cert="a.pem" key="a.key"/>`), files);
  assert.equal(problems.length, 2);
  assert.match(
    problems[0],
    /:5:7: The certificate file a\.pem \(\/etc\/jabberd\/a\.pem\) is not a PEM certificate file: it holds no CERTIFICATE block/,
  );
  assert.match(
    problems[1],
    /:5:7: The key file a\.key .* is not a PEM private key file: it holds no PEM block/,
  );
});

Deno.test("1 the config check reads the PEM files of s2s <tls> and <ca>, <accept><tls> and <connect><tls ca>", async () => {
  const xml = `<jabberd>
  <service id="s2s">
    <s2s xmlns="jabberd:config:s2s">
      <tls cert="s2s.pem" key="s2s.key"/>
      <ca>anchors.pem</ca>
    </s2s>
  </service>
  <service id="in">
    <accept><secret>s</secret><port>5347</port><tls cert="in.pem" key="in.key"/></accept>
  </service>
  <service id="out">
    <connect><ip>127.0.0.1</ip><port>5347</port><secret>s</secret><tls ca="out-ca.pem"/></connect>
  </service>
</jabberd>`;
  const problems = await problemsOf(xml, {});
  const named = problems.map((line) =>
    /^\S+:(\d+):\d+: Cannot read (\w+) file (\S+)/.exec(line)?.slice(1).join(" ")
  );
  assert.deepEqual(named, [
    "4 certificate s2s.pem",
    "4 key s2s.key",
    "5 CA anchors.pem",
    "9 certificate in.pem",
    "9 key in.key",
    "12 CA out-ca.pem",
  ]);
  const files = {
    "/etc/jabberd/s2s.pem": CERT,
    "/etc/jabberd/s2s.key": KEY,
    "/etc/jabberd/anchors.pem": CERT,
    "/etc/jabberd/in.pem": CERT,
    "/etc/jabberd/in.key": KEY,
    "/etc/jabberd/out-ca.pem": CERT,
  };
  assert.deepEqual(await problemsOf(xml, files), []);
});

Deno.test("1 a certificate named in an included file is still relative to the main config file's folder, as at start", async () => {
  const files: Record<string, string> = {
    "/etc/jabberd/parts/c2s.xml": C2S(`<certificate cert="certs/a.pem" key="certs/a.key"/>`),
    "/etc/jabberd/certs/a.pem": CERT,
    "/etc/jabberd/certs/a.key": KEY,
  };
  assert.deepEqual(
    await problemsOf(`<jabberd><include>parts/c2s.xml</include></jabberd>`, files),
    [],
  );
});
