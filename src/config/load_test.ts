import assert from "node:assert/strict";
import type { ModuleDefinition, SectionKind } from "../server/module_api.ts";
import { DEFAULT_CONFIG, DEFAULT_CONFIG_PATH } from "./default_config.ts";
import { type ConfigIo, loadConfig, loadConfigText } from "./load.ts";
import { formatProblem } from "./problem.ts";

// Stand-ins for the real modules, with just enough of a validator to produce problems.
function fake(
  element: string,
  sections: SectionKind[],
  validate?: ModuleDefinition["validate"],
): ModuleDefinition {
  return { element, sections, validate, register() {} };
}
const MODULES: ModuleDefinition[] = [
  fake("host", ["service", "xdb", "log"], (element, context) => {
    if (element.text().includes(" ")) context.problem(element, "Host has a space");
  }),
  fake("null", ["service", "xdb", "log"]),
  fake("uplink", ["service", "xdb", "log"]),
  fake("kv", ["xdb"], (element, context) => {
    if (element.text().trim() === "") context.problem(element, "<kv> needs a path");
  }),
  fake("ns", ["xdb"]),
  fake("cache", ["xdb"]),
  fake("format", ["log"]),
  fake("logtype", ["log"]),
  fake("stderr", ["log"]),
  fake("stdout", ["log"]),
  fake("file", ["log"]),
  fake("to", ["log"]),
  fake("syslog", ["log"]),
  fake("jabberd:config:c2s", ["service"]),
  fake("jabberd:config:sm", ["service"]),
  fake("jabberd:config:muc", ["service"]),
  fake("jabberd:config:http", ["service"]),
  fake("jabberd:config:s2s", ["service"]),
  fake("jabberd:config:upload", ["service"]),
];

/** Files and environment in memory; records which paths were read. */
function memoryIo(files: Record<string, string>, env: Record<string, string> = {}) {
  const read: string[] = [];
  const io: ConfigIo = {
    readTextFile(path) {
      read.push(path);
      const text = files[path];
      return text === undefined
        ? Promise.reject(new Error(`No such file or directory: ${path}`))
        : Promise.resolve(text);
    },
    env: (name) => env[name],
  };
  return { io, read };
}

async function problemsOf(files: Record<string, string>, env: Record<string, string> = {}) {
  const { problems } = await loadConfig("etc/jabberd.xml", memoryIo(files, env).io, MODULES);
  return problems.map(formatProblem);
}

Deno.test("loadConfig() loads a valid config into sections and modules", async () => {
  const files = {
    "etc/jabberd.xml": `<jabberd>
  <service id="sessions"><host>example.org</host></service>
  <xdb id="xdb"><host/><kv>./data/jabberd.kv</kv></xdb>
  <log id="elogger"><stderr/></log>
</jabberd>`,
  };
  const { config, problems } = await loadConfig("etc/jabberd.xml", memoryIo(files).io, MODULES);
  assert.deepEqual(problems, []);
  assert.ok(config);
  assert.equal(config.file, "etc/jabberd.xml");
  assert.equal(config.root.name, "jabberd");
  assert.deepEqual(config.sections.map((s) => `${s.kind}:${s.id}`), [
    "service:sessions",
    "xdb:xdb",
    "log:elogger",
  ]);
  assert.deepEqual(config.positions.get(config.sections[1].modules[1].element), {
    file: "etc/jabberd.xml",
    line: 3,
    column: 24,
  });
});

Deno.test("loadConfig() reports a config file it cannot read", async () => {
  assert.deepEqual(await problemsOf({}), [
    "etc/jabberd.xml: Cannot read the config file: No such file or directory: etc/jabberd.xml",
  ]);
});

Deno.test("loadConfig() reports malformed XML with its file, line and column", async () => {
  const problems = await problemsOf({
    "etc/jabberd.xml": "<jabberd>\n  <service id='a'>\n</jabberd>",
  });
  assert.equal(problems.length, 1);
  assert.match(problems[0], /^etc\/jabberd\.xml:3:\d+: /);
});

Deno.test("loadConfig() substitutes environment variables in text and attributes", async () => {
  const files = {
    "etc/jabberd.xml": `<jabberd>
  <service id="\${SM_ID:-sessions}"><host>\${DOMAIN}</host></service>
</jabberd>`,
  };
  const { config, problems } = await loadConfig(
    "etc/jabberd.xml",
    memoryIo(files, { DOMAIN: "example.net" }).io,
    MODULES,
  );
  assert.deepEqual(problems, []);
  assert.equal(config?.sections[0].id, "sessions");
  assert.equal(config?.sections[0].element.getChildText("host"), "example.net");
});

Deno.test("loadConfig() reports an unset variable without default at its element", async () => {
  assert.deepEqual(
    await problemsOf({
      "etc/jabberd.xml": `<jabberd>
  <service id="sessions">
    <host>\${DOMAIN}</host>
  </service>
</jabberd>`,
    }),
    [
      "etc/jabberd.xml:3:5: Environment variable DOMAIN is not set; set it or write " +
      "${DOMAIN:-default}",
    ],
  );
});

Deno.test("loadConfig() include: a path relative to the including file, nested", async () => {
  const files = {
    "etc/jabberd.xml": `<jabberd>
  <service id="sessions"><host>example.org</host></service>
  <include>conf.d/storage.xml</include>
</jabberd>`,
    // Same root name as the element around the include: its children are inserted.
    "etc/conf.d/storage.xml": `<jabberd>
  <xdb id="xdb"><host/><include>parts/kv.xml</include></xdb>
  <log id="elogger"><stderr/></log>
</jabberd>`,
    // A different root name: the root itself is inserted.
    "etc/conf.d/parts/kv.xml": `<kv>./data/jabberd.kv</kv>`,
  };
  const { io, read } = memoryIo(files);
  const { config, problems } = await loadConfig("etc/jabberd.xml", io, MODULES);
  assert.deepEqual(problems, []);
  assert.deepEqual(read, ["etc/jabberd.xml", "etc/conf.d/storage.xml", "etc/conf.d/parts/kv.xml"]);
  assert.deepEqual(
    config?.sections.map((s) => [s.id, s.modules.map((m) => m.definition.element)]),
    [["sessions", ["host"]], ["xdb", ["host", "kv"]], ["elogger", ["stderr"]]],
  );
  const kv = config?.sections[1].modules[1].element;
  assert.equal(kv?.parent, config?.sections[1].element);
  assert.equal(config?.root.getChildren("include").length, 0);
});

Deno.test("loadConfig() include: an absolute path is taken as written", async () => {
  const files = {
    "etc/jabberd.xml": `<jabberd><include>/srv/log.xml</include></jabberd>`,
    "/srv/log.xml": `<log id="elogger"><stderr/></log>`,
  };
  const { config, problems } = await loadConfig("etc/jabberd.xml", memoryIo(files).io, MODULES);
  assert.deepEqual(problems, []);
  assert.equal(config?.sections[0].id, "elogger");
});

Deno.test("loadConfig() include: the path may use environment variables", async () => {
  const files = {
    "etc/jabberd.xml": `<jabberd><include>\${CONF_D:-conf.d}/log.xml</include></jabberd>`,
    "etc/other/log.xml": `<log id="elogger"><stderr/></log>`,
  };
  const { config } = await loadConfig(
    "etc/jabberd.xml",
    memoryIo(files, { CONF_D: "other" }).io,
    MODULES,
  );
  assert.equal(config?.sections[0].id, "elogger");
});

Deno.test("loadConfig() include: a cycle is a problem at the include that closes it", async () => {
  assert.deepEqual(
    await problemsOf({
      "etc/jabberd.xml": `<jabberd>
  <include>a.xml</include>
</jabberd>`,
      "etc/a.xml": `<jabberd>
  <log id="elogger"><stderr/></log>
  <include>sub/b.xml</include>
</jabberd>`,
      "etc/sub/b.xml": `<jabberd>

    <include>../a.xml</include>
</jabberd>`,
    }),
    [
      "etc/sub/b.xml:3:5: <include>../a.xml</include> makes a cycle (etc/a.xml → " +
      "etc/sub/b.xml → etc/a.xml); remove one of these includes",
    ],
  );
});

Deno.test("loadConfig() include: a file including itself is a cycle", async () => {
  assert.deepEqual(
    await problemsOf({ "etc/jabberd.xml": `<jabberd><include>./jabberd.xml</include></jabberd>` }),
    [
      "etc/jabberd.xml:1:10: <include>./jabberd.xml</include> makes a cycle (etc/jabberd.xml " +
      "→ etc/jabberd.xml); remove one of these includes",
    ],
  );
});

Deno.test("loadConfig() include: the same file twice, not nested, is no cycle", async () => {
  const files = {
    "etc/jabberd.xml": `<jabberd>
  <xdb id="a"><include>kv.xml</include></xdb>
  <xdb id="b"><include>kv.xml</include></xdb>
</jabberd>`,
    "etc/kv.xml": `<kv>./data/jabberd.kv</kv>`,
  };
  assert.deepEqual(await problemsOf(files), []);
});

Deno.test("loadConfig() include: a missing file is a problem at the include", async () => {
  assert.deepEqual(
    await problemsOf({
      "etc/jabberd.xml": `<jabberd>
  <include>conf.d/missing.xml</include>
  <include>   </include>
</jabberd>`,
    }),
    [
      'etc/jabberd.xml:2:3: Cannot read included file "etc/conf.d/missing.xml": No such file ' +
      "or directory: etc/conf.d/missing.xml",
      "etc/jabberd.xml:3:3: <include> holds only the path of a file to insert, such as " +
      "<include>jabberd.d/logging.xml</include>",
    ],
  );
});

Deno.test("loadConfig() include: malformed XML in an included file points into it", async () => {
  const problems = await problemsOf({
    "etc/jabberd.xml": `<jabberd>\n  <include>log.xml</include>\n</jabberd>`,
    "etc/log.xml": `<log id="elogger">\n  <stderr>\n</log>`,
  });
  assert.equal(problems.length, 1);
  assert.match(problems[0], /^etc\/log\.xml:3:\d+: /);
});

Deno.test("loadConfig() include: positions keep pointing into the included file", async () => {
  const files = {
    "etc/jabberd.xml": `<jabberd>
  <service id="sessions"><host>example.org</host></service>
  <include>conf.d/log.xml</include>
  <service id="after"><nonsense/></service>
</jabberd>`,
    "etc/conf.d/log.xml": `<jabberd>
  <!-- comment -->
  <log id="elogger">
      <stderr/>
      <bogus/>
      <host>\${NOPE}</host>
  </log>
</jabberd>`,
  };
  const { io } = memoryIo(files);
  const result = await loadConfig("etc/jabberd.xml", io, MODULES);
  assert.deepEqual(result.problems.map(formatProblem), [
    'etc/jabberd.xml:4:23: Unknown element <nonsense> in <service id="after">; base modules ' +
    "here are: <host>, <null>, <uplink>",
    'etc/conf.d/log.xml:5:7: Unknown element <bogus> in <log id="elogger">; base modules ' +
    "here are: <host>, <null>, <uplink>, <format>, <logtype>, <stderr>, <stdout>, <file>, " +
    "<to>, <syslog>",
    "etc/conf.d/log.xml:6:7: Environment variable NOPE is not set; set it or write " +
    "${NOPE:-default}",
  ]);
  // The elements themselves carry their own file's positions.
  const { config } = await loadConfigText(
    files["etc/jabberd.xml"].replace("<nonsense/>", ""),
    "etc/jabberd.xml",
    memoryIo({
      "etc/conf.d/log.xml": files["etc/conf.d/log.xml"].replace(/<bogus\/>|\$\{NOPE\}/g, ""),
    }).io,
    MODULES,
  );
  assert.ok(config);
  const log = config.sections[1];
  assert.deepEqual(config.positions.get(log.element), {
    file: "etc/conf.d/log.xml",
    line: 3,
    column: 3,
  });
  assert.deepEqual(config.positions.get(log.modules[0].element), {
    file: "etc/conf.d/log.xml",
    line: 4,
    column: 7,
  });
  assert.deepEqual(config.positions.get(config.sections[2].element), {
    file: "etc/jabberd.xml",
    line: 4,
    column: 3,
  });
});

Deno.test("loadConfig() returns the config with warnings, and none with an error", async () => {
  const twice = `<jabberd>
  <service id="a"><host>example.org</host></service>
  <service id="b"><host>example.org</host></service>
</jabberd>`;
  const { io } = memoryIo({ "etc/jabberd.xml": twice });
  const warned = await loadConfig("etc/jabberd.xml", io, MODULES);
  assert.ok(warned.config);
  assert.deepEqual(warned.problems.map((p) => p.severity), ["warning"]);
  const failed = await loadConfigText(
    twice.replace("</jabberd>", "<servce/></jabberd>"),
    "x.xml",
    io,
    MODULES,
  );
  assert.equal(failed.config, undefined);
  assert.deepEqual(failed.problems.map((p) => p.severity), ["warning", "error"]);
});

Deno.test("loadConfig() reports several mistakes all at once with their lines", async () => {
  const files = {
    "etc/jabberd.xml": `<?xml version="1.0"?>
<jabberd>
  <service id="sessions">
    <host>example.org</host>
    <hots>example.net</hots>
  </service>
  <service id="sessions"/>
  <servce id="c2s"/>
  <xdb id="xdb">
    <kv/>
    <format>%s</format>
  </xdb>
  <include>conf.d/log.xml</include>
  <service id="Bad Id">
    <c2s xmlns="jabberd:config:c3s"/>
  </service>
  <log>
    <stderr/>
  </log>
</jabberd>`,
    "etc/conf.d/log.xml": `<log id="elogger">
  <logtype>\${LOG_TYPES}</logtype>
  <include>missing.xml</include>
</log>`,
  };
  assert.deepEqual(await problemsOf(files), [
    'etc/jabberd.xml:5:5: Unknown element <hots> in <service id="sessions">; base modules ' +
    "here are: <host>, <null>, <uplink>",
    'etc/jabberd.xml:7:3: Section id "sessions" is already used by <service id="sessions"> at ' +
    "etc/jabberd.xml:3:3; give each section its own id, as the id is also a host",
    "etc/jabberd.xml:8:3: Unknown element <servce> in <jabberd>; sections are <service id>, " +
    "<xdb id> and <log id> (besides one <pidfile>)",
    "etc/jabberd.xml:10:5: <kv> needs a path",
    'etc/jabberd.xml:11:5: <format> does not belong in <xdb id="xdb">; it works only in <log> ' +
    "sections",
    'etc/jabberd.xml:14:3: Section id "Bad Id" is not a valid host name; use lowercase ' +
    'letters, digits, "-", "_" and ".", such as "sessions" or "sessions.example.org"',
    'etc/jabberd.xml:15:5: Unknown component namespace "jabberd:config:c3s" on <c2s> in ' +
    '<service id="Bad Id">; components here are: jabberd:config:c2s, jabberd:config:sm, ' +
    "jabberd:config:muc, jabberd:config:http, jabberd:config:s2s, jabberd:config:upload",
    'etc/jabberd.xml:17:3: <log> has no id; give it one, such as <log id="elogger">',
    "etc/conf.d/log.xml:2:3: Environment variable LOG_TYPES is not set; set it or write " +
    "${LOG_TYPES:-default}",
    'etc/conf.d/log.xml:3:3: Cannot read included file "etc/conf.d/missing.xml": No such ' +
    "file or directory: etc/conf.d/missing.xml",
  ]);
});

Deno.test("loadConfigText() loads the embedded default config", async () => {
  const { config, problems } = await loadConfigText(
    DEFAULT_CONFIG,
    DEFAULT_CONFIG_PATH,
    memoryIo({}).io,
    MODULES,
  );
  assert.deepEqual(problems, []);
  assert.deepEqual(
    config?.sections.map((s) => [s.kind, s.id, s.modules.map((m) => m.definition.element)]),
    [
      ["service", "c2s", ["jabberd:config:c2s"]],
      ["service", "sessions", ["host", "jabberd:config:sm"]],
      ["service", "muc", ["host", "jabberd:config:muc"]],
      ["service", "http", ["jabberd:config:http"]],
      ["xdb", "xdb", ["host", "kv"]],
      ["log", "elogger", ["host", "logtype", "format", "stderr"]],
    ],
  );
  assert.equal(config?.sections[1].element.getChildText("host"), "localhost");
  assert.equal(config?.sections[4].element.getChildText("kv"), "./data/jabberd.kv");
});

Deno.test("loadConfig() loads jabberd.example.xml with its include", async () => {
  const read = (path: string) => Deno.readTextFile(new URL(`../../${path}`, import.meta.url));
  const files = {
    "jabberd.example.xml": await read("jabberd.example.xml"),
    "jabberd.example.d/logging.xml": await read("jabberd.example.d/logging.xml"),
  };
  const { config, problems } = await loadConfig(
    "jabberd.example.xml",
    memoryIo(files).io,
    MODULES,
  );
  assert.deepEqual(problems.map(formatProblem), []);
  const used = new Set(config?.sections.flatMap((s) => s.modules.map((m) => m.definition.element)));
  // Every base module and every component is shown in the example.
  const elements = MODULES.map((m) => m.element);
  assert.deepEqual(elements.filter((element) => !used.has(element)), []);
  assert.deepEqual(config?.sections.map((s) => s.kind).sort(), [
    "log",
    "log",
    "service",
    "service",
    "service",
    "service",
    "service",
    "service",
    "service",
    "service",
    "xdb",
    "xdb",
  ]);
});
