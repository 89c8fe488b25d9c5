// Regenerates the client's types from contract/openapi.yaml and fails with a diff when the
// committed src/api/schema.d.ts differs: the types follow the contract, never hand edits.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const committed = "src/api/schema.d.ts";
const fresh = join(mkdtempSync(join(tmpdir(), "tessera-schema-")), "schema.d.ts");
execFileSync(process.execPath, ["node_modules/openapi-typescript/bin/cli.js", "../../contract/openapi.yaml", "-o", fresh], { stdio: "ignore" });
if (readFileSync(fresh, "utf8") === readFileSync(committed, "utf8")) {
  console.log("schema.d.ts matches contract/openapi.yaml");
} else {
  try {
    execFileSync("diff", ["-u", committed, fresh], { stdio: "inherit" });
  } catch {
    // diff exits 1 when files differ; its output is the report.
  }
  console.error("src/api/schema.d.ts drifted from contract/openapi.yaml: run `npm run generate` and commit it.");
  process.exit(1);
}
