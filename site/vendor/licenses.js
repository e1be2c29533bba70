// Prints the name, version and licence text of every bundled package (for create-deps-LICENSES.txt).
const fs = require("fs");
const path = require("path");
const bundled = ["@cfworker/json-schema", "dompurify", "fflate", "js-yaml", "marked"];
for (const name of bundled) {
  const dir = path.join(__dirname, "node_modules", name);
  const meta = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8"));
  const file = fs.readdirSync(dir).find((f) => /^LICEN[CS]E(\.|$)/i.test(f));
  const text = file ? fs.readFileSync(path.join(dir, file), "utf8").trim() : `${meta.license} (the package ships no licence file; see its package.json)`;
  console.log(`${"=".repeat(72)}\n${name} ${meta.version} — ${meta.license}\n${meta.homepage || ""}\n${"=".repeat(72)}\n${text}\n`);
}
