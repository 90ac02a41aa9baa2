/**
 * `jabberd import` of generated XEP-0227 files into a Deno KV file, through the real command:
 * 10,000 accounts with plain-text passwords (PBKDF2 SHA-1 + SHA-256 at 10000 iterations each,
 * the expensive case) and 10,000 with SCRAM-SHA-1 credentials as Prosody exports them (no
 * derivation). Run alone: `deno run -A bench/import.ts [COUNT]`.
 */
import { denoAdapters } from "../src/adapters/deno/mod.ts";
import { memoryAdapters } from "../src/adapters/memory/mod.ts";
import { deriveCredential } from "../src/accounts/credentials.ts";
import { runCli } from "../src/cli/mod.ts";

const COUNT = Number(Deno.args[0] ?? 10_000);

/** A file of `count` users, each with a two-item roster and a vCard. */
async function generate(count: number, scram: boolean): Promise<string> {
  // One SCRAM credential shared by all users: the import cost does not depend on its values.
  const shared = await deriveCredential("SHA-1", "secret", 10_000);
  const credentials = `<scram-credentials xmlns='urn:xmpp:pie:0#scram' mechanism='SCRAM-SHA-1'>` +
    `<iter-count>10000</iter-count><salt>${shared.salt.toBase64()}</salt>` +
    `<server-key>${shared.serverKey.toBase64()}</server-key>` +
    `<stored-key>${shared.storedKey.toBase64()}</stored-key></scram-credentials>`;
  const parts = ["<server-data xmlns='urn:xmpp:pie:0'><host jid='bench.example'>"];
  for (let i = 0; i < count; i++) {
    parts.push(
      `<user name='user${i}'${scram ? "" : ` password='password-${i}'`}>${
        scram ? credentials : ""
      }` +
        `<query xmlns='jabber:iq:roster'>` +
        `<item jid='user${
          (i + 1) % count
        }@bench.example' subscription='both'><group>G</group></item>` +
        `<item jid='friend${i}@elsewhere.example' subscription='to' name='F'/></query>` +
        `<vCard xmlns='vcard-temp'><FN>User ${i}</FN></vCard></user>`,
    );
  }
  parts.push("</host></server-data>");
  return parts.join("\n");
}

export async function benchImport(count = COUNT) {
  const rows: Record<string, string | number>[] = [];
  for (const scram of [false, true]) {
    const dir = await Deno.makeTempDir({ prefix: "jabberd-bench-import-" });
    try {
      await Deno.writeTextFile(
        `${dir}/jabberd.xml`,
        `<jabberd><service id="sm"><host>bench.example</host></service>` +
          `<xdb id="xdb"><host/><kv>./data/jabberd.kv</kv></xdb>` +
          `<log id="log"><host/><logtype>error</logtype><stderr/></log></jabberd>`,
      );
      await Deno.writeTextFile(`${dir}/users.xml`, await generate(count, scram));
      const out: string[] = [];
      const started = performance.now();
      const code = await runCli(["import", "-c", `${dir}/jabberd.xml`, `${dir}/users.xml`], {
        adapters: { ...denoAdapters(), stdout: (t) => void out.push(t), stderr: () => {} },
        dryAdapters: () => memoryAdapters().adapters,
      });
      const seconds = (performance.now() - started) / 1000;
      if (code !== 0) throw new Error(`import failed: ${out.join("")}`);
      rows.push({
        credentials: scram ? "SCRAM-SHA-1 from the file" : "plain text → PBKDF2 ×2 (10000)",
        accounts: count,
        seconds: Number(seconds.toFixed(1)),
        "accounts/s": Math.round(count / seconds),
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }
  return rows;
}

if (import.meta.main) {
  console.log(`jabberd import of ${COUNT} generated accounts into a Deno KV file`);
  console.table(await benchImport());
}
