#!/usr/bin/env node
// Composes the vidgraph supergraph.
//
// Reads supergraph.yaml (Rover's format), loads every subgraph's SDL from its `schema.file`,
// composes them with @theguild/federation-composition (Apollo Federation v2) and writes the
// supergraph SDL that Hive Router loads.
//
// Usage:
//   node scripts/compose.mjs                 write schema/supergraph.graphql
//   node scripts/compose.mjs --stdout        print the supergraph instead of writing it
//   node scripts/compose.mjs --check         exit 1 when the file on disk is missing or stale
//   node scripts/compose.mjs --config other/supergraph.yaml --out /tmp/supergraph.graphql
//   node scripts/compose.mjs --url content=http://127.0.0.1:5001/graphql   (repeatable)
//
// Paths in supergraph.yaml (`schema.file`) are relative to the directory of supergraph.yaml,
// as with Rover. `--out` defaults to <that directory>/schema/supergraph.graphql.
//
// Exit codes: 0 ok, 1 composition failed or --check found a stale file, 2 usage/input error.

import { readFileSync, writeFileSync, existsSync, mkdirSync } from "node:fs";
import { dirname, resolve, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseGraphQL } from "graphql";
import { parse as parseYaml } from "yaml";
import { composeServices } from "@theguild/federation-composition";

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

function usage(message) {
  if (message) console.error(`compose: ${message}`);
  console.error(
    "usage: node scripts/compose.mjs [--config supergraph.yaml] [--out FILE] [--stdout] [--check] [--url NAME=URL ...]",
  );
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { config: resolve(REPO_ROOT, "supergraph.yaml"), out: null, stdout: false, check: false, urls: {} };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) usage(`${arg} needs a value`);
      return argv[++i];
    };
    switch (arg) {
      case "--config":
        opts.config = resolve(value());
        break;
      case "--out":
        opts.out = resolve(value());
        break;
      case "--stdout":
        opts.stdout = true;
        break;
      case "--check":
        opts.check = true;
        break;
      case "--url": {
        const v = value();
        const eq = v.indexOf("=");
        if (eq <= 0) usage(`--url expects NAME=URL, got ${v}`);
        opts.urls[v.slice(0, eq)] = v.slice(eq + 1);
        break;
      }
      case "-h":
      case "--help":
        usage();
        break;
      default:
        usage(`unknown argument ${arg}`);
    }
  }
  if (opts.stdout && opts.check) usage("--stdout and --check are exclusive");
  return opts;
}

function fail(message) {
  console.error(`compose: ${message}`);
  process.exit(2);
}

function loadServices(configPath, urlOverrides) {
  if (!existsSync(configPath)) fail(`${configPath} not found`);
  let config;
  try {
    config = parseYaml(readFileSync(configPath, "utf8"));
  } catch (err) {
    fail(`cannot parse ${configPath}: ${err.message}`);
  }
  if (!config || typeof config !== "object") fail(`${configPath} is empty`);

  const fedVersion = String(config.federation_version ?? "");
  if (!/^=?2(\.|$)/.test(fedVersion)) {
    fail(`${configPath}: federation_version must be 2.x (Rover format, e.g. "=2.3.2"), got "${fedVersion}"`);
  }

  const subgraphs = config.subgraphs;
  if (!subgraphs || typeof subgraphs !== "object" || Object.keys(subgraphs).length === 0) {
    fail(`${configPath}: no subgraphs listed`);
  }
  for (const name of Object.keys(urlOverrides)) {
    if (!(name in subgraphs)) fail(`--url ${name}=...: no such subgraph in ${configPath}`);
  }

  const baseDir = dirname(configPath);
  const services = [];
  for (const [name, sg] of Object.entries(subgraphs)) {
    const url = urlOverrides[name] ?? sg?.routing_url;
    if (!url) fail(`subgraph ${name}: routing_url is missing`);
    const file = sg?.schema?.file;
    if (!file) {
      fail(`subgraph ${name}: only 'schema: { file: ... }' is supported (no introspection or graphref sources)`);
    }
    const schemaPath = resolve(baseDir, file);
    if (!existsSync(schemaPath)) {
      fail(`subgraph ${name}: ${relative(process.cwd(), schemaPath)} not found (export the subgraph's SDL first)`);
    }
    let typeDefs;
    try {
      typeDefs = parseGraphQL(readFileSync(schemaPath, "utf8"));
    } catch (err) {
      fail(`subgraph ${name}: ${relative(process.cwd(), schemaPath)} is not valid GraphQL: ${err.message}`);
    }
    services.push({ name, url, typeDefs });
  }
  return { services, baseDir };
}

function formatError(err) {
  const code = err.extensions?.code ? `[${err.extensions.code}] ` : "";
  return `  - ${code}${err.message}`;
}

const opts = parseArgs(process.argv.slice(2));
const { services, baseDir } = loadServices(opts.config, opts.urls);
const outPath = opts.out ?? resolve(baseDir, "schema", "supergraph.graphql");

const result = composeServices(services);
if (result.errors && result.errors.length > 0) {
  console.error(`compose: composition of ${services.map((s) => s.name).join(", ")} failed with ${result.errors.length} error(s):`);
  for (const err of result.errors) console.error(formatError(err));
  process.exit(1);
}

const sdl = result.supergraphSdl.endsWith("\n") ? result.supergraphSdl : `${result.supergraphSdl}\n`;

if (opts.stdout) {
  process.stdout.write(sdl);
} else if (opts.check) {
  const shown = relative(process.cwd(), outPath) || outPath;
  if (!existsSync(outPath)) {
    console.error(`compose: ${shown} is missing; run: node scripts/compose.mjs`);
    process.exit(1);
  }
  if (readFileSync(outPath, "utf8") !== sdl) {
    console.error(`compose: ${shown} is stale (differs from composing the subgraph schemas); run: node scripts/compose.mjs`);
    process.exit(1);
  }
  console.error(`compose: ${shown} is up to date (${services.length} subgraphs)`);
} else {
  mkdirSync(dirname(outPath), { recursive: true });
  writeFileSync(outPath, sdl);
  console.error(`compose: wrote ${relative(process.cwd(), outPath) || outPath} (${services.length} subgraphs)`);
}
