#!/usr/bin/env node
// Offline checks of the deployment files; scripts/check-deploy.sh calls these subcommands.
// Each prints one "PASS ..." or "FAIL ..." line per check (details indented below) and exits 1 if any failed.
//
//   node check.mjs k8s-render DIR                 render a kustomization without kustomize (fallback:
//                                                 resources, labels, images only) to stdout
//   node check.mjs k8s RENDERED.yaml              schema (+ unknown fields) and policy checks
//   node check.mjs dockerfile Dockerfile COMPOSE  lint, stages, build targets used by compose
//   node check.mjs env --settings FILE --test-env FILE --compose COMPOSE --k8s RENDERED --dockerfile FILE
//                                                 every env var name the deployment sets is one the
//                                                 service (src/config.ts) or the tests read

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';

const HERE = path.dirname(fileURLToPath(import.meta.url));
let failed = 0;

function pass(what) {
  console.log(`PASS ${what}`);
}
function fail(what, details = []) {
  failed++;
  console.log(`FAIL ${what}`);
  for (const d of details) console.log(`     ${d}`);
}
function check(what, problems) {
  if (problems.length === 0) pass(what);
  else fail(what, problems);
}

function readYamlDocs(file) {
  const docs = YAML.parseAllDocuments(fs.readFileSync(file, 'utf8'));
  const errors = docs.flatMap((d) => d.errors.map((e) => `${file}: ${e.message}`));
  if (errors.length) throw new Error(errors.join('\n'));
  return docs.map((d) => d.toJS({ maxAliasCount: 1000 })).filter((d) => d != null);
}

// ---------------------------------------------------------------------------------------------
// Fallback kustomize: only what deploy/k8s/kustomization.yaml uses.
function renderKustomization(dir) {
  const [k] = readYamlDocs(path.join(dir, 'kustomization.yaml'));
  const supported = new Set(['apiVersion', 'kind', 'resources', 'labels', 'images']);
  const unsupported = Object.keys(k).filter((key) => !supported.has(key));
  if (unsupported.length) throw new Error(`fallback renderer does not support: ${unsupported.join(', ')} (install kubectl)`);
  const out = [];
  for (const res of k.resources ?? []) out.push(...readYamlDocs(path.join(dir, res)));
  for (const obj of out) {
    for (const l of k.labels ?? []) {
      obj.metadata ??= {};
      obj.metadata.labels = { ...obj.metadata.labels, ...l.pairs };
      if (l.includeTemplates || l.includeSelectors) {
        const tpl = obj.spec?.template;
        if (tpl) tpl.metadata = { ...tpl.metadata, labels: { ...tpl.metadata?.labels, ...l.pairs } };
      }
      if (l.includeSelectors) throw new Error('fallback renderer does not support labels.includeSelectors');
    }
    for (const c of podSpec(obj)?.containers ?? []) {
      for (const img of k.images ?? []) {
        const [name] = c.image.split(':');
        if (name === img.name) c.image = `${img.newName ?? name}:${img.newTag ?? c.image.split(':')[1] ?? 'latest'}`;
      }
    }
  }
  return out.map((o) => YAML.stringify(o)).join('---\n');
}

function podSpec(obj) {
  return obj?.spec?.template?.spec;
}

// ---------------------------------------------------------------------------------------------
function moduleOf(obj) {
  // apiVersion "apps/v1" → kubernetes-models/apps/v1/Deployment; "v1" → kubernetes-models/v1/ConfigMap
  return `kubernetes-models/${obj.apiVersion}/${obj.kind}`;
}
function nameOf(obj) {
  return `${obj.kind}/${obj.metadata?.name ?? '?'}`;
}

async function checkK8s(file) {
  const objs = readYamlDocs(file);
  check(`k8s: ${objs.length} objects rendered`, objs.length ? [] : ['no objects']);

  // 1. JSON-schema validation (types, formats, required fields, enums) against the official OpenAPI.
  const schemaProblems = [];
  for (const obj of objs) {
    let Model;
    try {
      Model = (await import(moduleOf(obj)))[obj.kind];
    } catch {
      schemaProblems.push(`${nameOf(obj)}: unknown apiVersion/kind ${obj.apiVersion} ${obj.kind}`);
      continue;
    }
    try {
      new Model(obj).validate();
    } catch (err) {
      schemaProblems.push(`${nameOf(obj)}: ${err.message}`);
    }
  }
  check('k8s: every object valid against the Kubernetes OpenAPI schema (kubernetes-models)', schemaProblems);

  // 2. Unknown fields (typos such as `readinessProbes`): the schemas above allow extra properties, so
  //    type-check every object as an object literal of its TypeScript model (excess property check).
  const strictProblems = await strictFieldCheck(objs.filter((o) => !schemaProblems.some((p) => p.startsWith(nameOf(o)))));
  check('k8s: no unknown fields (TypeScript excess-property check against the models)', strictProblems);

  // 3. Policy of this service.
  const byKind = (kind) => objs.filter((o) => o.kind === kind);
  const deployments = byKind('Deployment');
  const configMaps = byKind('ConfigMap');
  const secrets = byKind('Secret');
  const config = Object.assign({}, ...configMaps.map((c) => c.data ?? {}));
  const shutdownMs = Number(config.SHUTDOWN_TIMEOUT_MS ?? 15000);
  const problems = [];
  if (objs.some((o) => o.metadata?.namespace)) problems.push('base must be namespace-agnostic: remove metadata.namespace');
  const roles = new Set();
  for (const d of deployments) {
    const spec = podSpec(d);
    const n = nameOf(d);
    const grace = spec.terminationGracePeriodSeconds ?? 30;
    for (const c of spec.containers) {
      const env = Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value]));
      const role = env.ROLES;
      if (!role) problems.push(`${n}: container ${c.name} sets no ROLES`);
      for (const r of (role ?? '').split(',')) roles.add(r.trim());
      const sc = { ...spec.securityContext, ...c.securityContext };
      if (sc.runAsNonRoot !== true) problems.push(`${n}: runAsNonRoot is not true`);
      if (!(Number.isInteger(sc.runAsUser) && sc.runAsUser > 0)) problems.push(`${n}: runAsUser must be a non-zero UID (the image's USER is a name)`);
      if (sc.allowPrivilegeEscalation !== false) problems.push(`${n}: allowPrivilegeEscalation must be false`);
      for (const kind of ['requests', 'limits']) {
        for (const res of ['cpu', 'memory']) if (!c.resources?.[kind]?.[res]) problems.push(`${n}: resources.${kind}.${res} missing`);
      }
      const preStop = c.lifecycle?.preStop?.exec?.command;
      const preStopS = preStop?.[0] === 'sleep' ? Number(preStop[1]) : 0;
      const needed = (shutdownMs + 5000) / 1000 + preStopS;
      if (!(grace > needed)) problems.push(`${n}: terminationGracePeriodSeconds ${grace} must exceed preStop ${preStopS}s + SHUTDOWN_TIMEOUT_MS ${shutdownMs / 1000}s + 5s`);
      for (const from of c.envFrom ?? []) {
        if (from.configMapRef && !configMaps.some((x) => x.metadata.name === from.configMapRef.name)) problems.push(`${n}: envFrom ConfigMap ${from.configMapRef.name} not in the base`);
        if (from.secretRef && !secrets.some((x) => x.metadata.name === from.secretRef.name)) problems.push(`${n}: envFrom Secret ${from.secretRef.name} not in the base`);
      }
      // Every role has HTTP probes: the api role on PORT, the others on their ops listener (OPS_PORT, src/http/ops-server.ts).
      const isApi = (role ?? '').split(',').map((r) => r.trim()).includes('api');
      const opsPort = Number(env.OPS_PORT ?? config.OPS_PORT ?? 9464);
      const port = isApi ? Number(env.PORT ?? config.PORT ?? 3000) : opsPort;
      const what = isApi ? `the api port (PORT ${port})` : `the ops port (OPS_PORT ${port})`;
      if (!isApi && !(opsPort > 0)) problems.push(`${n}: role ${role} needs OPS_PORT > 0 for its probes and metrics`);
      const named = Object.fromEntries((c.ports ?? []).map((p) => [p.name, p.containerPort]));
      if (!Object.values(named).includes(port)) problems.push(`${n}: no containerPort ${port} (${what})`);
      const probePort = (probe) => (typeof probe?.httpGet?.port === 'string' ? named[probe.httpGet.port] : probe?.httpGet?.port);
      if (c.readinessProbe?.httpGet?.path !== '/health/ready' || probePort(c.readinessProbe) !== port) problems.push(`${n}: readinessProbe must GET /health/ready on ${what}`);
      if (c.livenessProbe?.httpGet?.path !== '/health/live' || probePort(c.livenessProbe) !== port) problems.push(`${n}: livenessProbe must GET /health/live on ${what}`);
      // Prometheus scrape annotations on the pod template, pointing at the port that serves /metrics.
      const annotations = d.spec.template.metadata?.annotations ?? {};
      if (annotations['prometheus.io/scrape'] !== 'true') problems.push(`${n}: pod annotation prometheus.io/scrape: "true" missing`);
      if (Number(annotations['prometheus.io/port']) !== port) problems.push(`${n}: pod annotation prometheus.io/port must be ${port} (${what})`);
      if ((annotations['prometheus.io/path'] ?? '/metrics') !== '/metrics') problems.push(`${n}: pod annotation prometheus.io/path must be /metrics`);
    }
    const labels = d.spec.template.metadata?.labels ?? {};
    const matches = (sel) => sel && Object.entries(sel).every(([k, v]) => labels[k] === v);
    if (!byKind('PodDisruptionBudget').some((p) => matches(p.spec.selector?.matchLabels))) problems.push(`${n}: no PodDisruptionBudget selects its pods`);
    const pdb = byKind('PodDisruptionBudget').find((p) => matches(p.spec.selector?.matchLabels));
    if (pdb && pdb.spec.minAvailable !== undefined && Number(pdb.spec.minAvailable) >= (d.spec.replicas ?? 1)) problems.push(`${n}: PDB minAvailable ${pdb.spec.minAvailable} ≥ replicas blocks every node drain`);
    if (!matches(d.spec.selector.matchLabels)) problems.push(`${n}: selector does not match the pod template labels`);
  }
  for (const r of ['api', 'actors', 'projections']) if (!roles.has(r)) problems.push(`no Deployment runs role ${r}`);
  for (const s of byKind('Service')) {
    const targets = deployments.filter((d) => Object.entries(s.spec.selector ?? {}).every(([k, v]) => d.spec.template.metadata?.labels?.[k] === v));
    if (targets.length === 0) problems.push(`${nameOf(s)}: selector matches no Deployment`);
    for (const p of s.spec.ports ?? []) {
      for (const d of targets) {
        const ports = podSpec(d).containers.flatMap((c) => c.ports ?? []);
        if (!ports.some((cp) => cp.name === p.targetPort || cp.containerPort === p.targetPort)) problems.push(`${nameOf(s)}: targetPort ${p.targetPort} is no port of ${nameOf(d)}`);
      }
    }
  }
  check('k8s: policy (non-root, resources, HTTP probes and Prometheus annotations on every role, grace period > shutdown budget, PDBs, selectors)', problems);
}

async function strictFieldCheck(objs) {
  if (objs.length === 0) return [];
  const ts = (await import('typescript')).default;
  // Inside this folder so that `kubernetes-models` resolves from its node_modules.
  const dir = fs.mkdtempSync(path.join(HERE, '.strict-'));
  try {
    const lines = objs.map((obj, i) => `import type { I${obj.kind} as T${i} } from '${moduleOf(obj)}';`);
    const ranges = []; // 1-based line range of each object literal, to name the object in messages
    objs.forEach((obj, i) => {
      const literal = `export const o${i}: T${i} = ${JSON.stringify(obj, null, 2)};`.split('\n');
      ranges.push({ start: lines.length + 1, end: lines.length + literal.length, name: nameOf(obj) });
      lines.push(...literal);
    });
    const file = path.join(dir, 'objects.ts');
    fs.writeFileSync(file, lines.join('\n') + '\n');
    const program = ts.createProgram([file], {
      strict: true, noEmit: true, skipLibCheck: true, types: [],
      module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022,
    });
    return ts.getPreEmitDiagnostics(program).map((d) => {
      const msg = ts.flattenDiagnosticMessageText(d.messageText, ' ');
      if (!d.file) return msg;
      const { line } = d.file.getLineAndCharacterOfPosition(d.start ?? 0);
      const r = ranges.find((x) => line + 1 >= x.start && line + 1 <= x.end);
      return `${r ? r.name : path.basename(d.file.fileName)}: ${msg}`;
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
async function checkDockerfile(file, composeFile) {
  const { DockerfileParser } = await import('dockerfile-ast');
  const { validate } = await import('dockerfile-utils');
  const text = fs.readFileSync(file, 'utf8');
  const diags = validate(text).filter((d) => d.severity === 1);
  check(`Dockerfile: lint (dockerfile-utils)`, diags.map((d) => `line ${d.range.start.line + 1}: ${d.message}`));

  const df = DockerfileParser.parse(text);
  const froms = df.getFROMs();
  const stages = froms.map((f) => f.getBuildStage()).filter(Boolean);
  const problems = [];
  froms.forEach((f, i) => {
    const image = f.getImageName();
    if (stages.includes(image) && stages.indexOf(image) >= i) problems.push(`FROM ${image}: stage defined later`);
  });
  for (const ins of df.getInstructions()) {
    const from = ins.getKeyword() === 'COPY' ? ins.getFromFlag?.()?.getValue() : undefined;
    if (from && !stages.includes(from)) problems.push(`line ${ins.getRange().start.line + 1}: COPY --from=${from} names no stage`);
  }
  const compose = readYamlDocs(composeFile)[0];
  for (const [name, svc] of Object.entries(compose.services ?? {})) {
    const target = svc.build?.target;
    if (svc.build && !target) problems.push(`compose service ${name}: build without target (would build the last stage implicitly)`);
    if (target && !stages.includes(target)) problems.push(`compose service ${name}: build target ${target} is no stage of the Dockerfile`);
  }
  // The runtime stage (last) must be the one the services use, non-root, with tini and a health check.
  const last = froms[froms.length - 1];
  const lastStart = last.getRange().start.line;
  const runtime = df.getInstructions().filter((i) => i.getRange().start.line >= lastStart);
  const kw = (k) => runtime.filter((i) => i.getKeyword() === k);
  const user = kw('USER').at(-1)?.getArguments().map((a) => a.getValue()).join(' ');
  if (!user || user === 'root' || user === '0') problems.push('runtime stage: USER must be a non-root user');
  if (!kw('ENTRYPOINT').at(-1)?.getTextContent().includes('tini')) problems.push('runtime stage: ENTRYPOINT should run tini');
  if (kw('HEALTHCHECK').length === 0) problems.push('runtime stage: no HEALTHCHECK');
  if (!kw('CMD').at(-1)?.getTextContent().includes('dist/main.js')) problems.push('runtime stage: CMD should run dist/main.js');
  check(`Dockerfile: stages ${stages.join(', ')}; COPY --from and compose build targets resolve; runtime stage non-root, tini, HEALTHCHECK`, problems);
}

// ---------------------------------------------------------------------------------------------
async function checkEnv(opts) {
  const settings = new Set(fs.readFileSync(opts.settings, 'utf8').split(/\s+/).filter(Boolean));
  const testEnv = new Set([...fs.readFileSync(opts['test-env'], 'utf8').matchAll(/process\.env\[['"]([A-Z0-9_]+)['"]\]/g)].map((m) => m[1]));
  // Names that are not the service's settings but are fine for a Node process to receive.
  const runtimeExtras = new Set(['NODE_ENV', 'NODE_OPTIONS']);
  check(`env: src/config.ts declares ${settings.size} settings`, settings.size >= 10 ? [] : [`only ${settings.size} names: ${[...settings].join(', ')}`]);

  const problems = [];
  const unknown = (where, names, allowed) => {
    for (const n of names) if (!allowed.has(n) && !runtimeExtras.has(n)) problems.push(`${where}: ${n} is not read by the service`);
  };
  const compose = readYamlDocs(opts.compose)[0];
  let serviceCount = 0;
  for (const [name, svc] of Object.entries(compose.services ?? {})) {
    const env = svc.environment ?? {};
    const names = Array.isArray(env) ? env.map((e) => e.split('=')[0]) : Object.keys(env);
    const image = svc.image ?? '';
    if (svc.build?.target === 'test') unknown(`compose ${name}`, names, testEnv);
    else if (svc.build || image.startsWith('chat-service')) {
      serviceCount++;
      unknown(`compose ${name}`, names, settings);
    }
  }
  if (serviceCount === 0) problems.push('compose: no service built from the Dockerfile found');

  for (const obj of readYamlDocs(opts.k8s)) {
    if (obj.kind === 'ConfigMap') unknown(`k8s ${nameOf(obj)}`, Object.keys(obj.data ?? {}), settings);
    if (obj.kind === 'Secret') unknown(`k8s ${nameOf(obj)}`, Object.keys({ ...obj.data, ...obj.stringData }), settings);
    for (const c of podSpec(obj)?.containers ?? []) unknown(`k8s ${nameOf(obj)}`, (c.env ?? []).map((e) => e.name), settings);
  }

  const { DockerfileParser } = await import('dockerfile-ast');
  const df = DockerfileParser.parse(fs.readFileSync(opts.dockerfile, 'utf8'));
  const froms = df.getFROMs();
  const lastStart = froms[froms.length - 1].getRange().start.line;
  const envs = df.getInstructions().filter((i) => i.getKeyword() === 'ENV' && i.getRange().start.line >= lastStart);
  unknown('Dockerfile runtime stage ENV', envs.flatMap((i) => i.getProperties().map((p) => p.getName())), settings);

  check(`env: every variable set by docker-compose.yml, deploy/k8s and the runtime image is one src/config.ts reads (test service: test/support/env.ts)`, problems);
}

// ---------------------------------------------------------------------------------------------
function parseOpts(args) {
  const opts = {};
  for (let i = 0; i < args.length; i += 2) opts[args[i].replace(/^--/, '')] = args[i + 1];
  return opts;
}

const [cmd, ...args] = process.argv.slice(2);
try {
  switch (cmd) {
    case 'k8s-render':
      process.stdout.write(renderKustomization(args[0]));
      break;
    case 'k8s':
      await checkK8s(args[0]);
      break;
    case 'dockerfile':
      await checkDockerfile(args[0], args[1]);
      break;
    case 'env':
      await checkEnv(parseOpts(args));
      break;
    default:
      console.error(`usage: check.mjs k8s-render DIR | k8s FILE | dockerfile FILE COMPOSE | env --settings F --test-env F --compose F --k8s F --dockerfile F`);
      process.exit(2);
  }
} catch (err) {
  fail(`${cmd}: ${err.message}`);
}
process.exit(failed ? 1 : 0);
