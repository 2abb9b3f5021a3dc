// deploy/: every Kubernetes document validates against the API's schema (kubernetes-models, the
// OpenAPI schemas compiled), and the documents agree with each other and with born serve: the
// probes hit /healthz and /readyz on the port born serve listens on, the Service targets that
// port and selects the pods, the HPA scales the Deployment on the queue-depth metric born serve
// exports, the adapter rule publishes that same metric, the grace period covers the drain, and
// the Dockerfile runs born serve as a non-root user with a healthcheck on the same port. The
// schemas accept unknown fields (a misspelt `readinesProbe` validates), so the fields this
// deployment depends on are asserted one by one as well.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Service } from 'kubernetes-models/v1';
import type { IContainer, IProbe } from 'kubernetes-models/v1';
import { describe, expect, test } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { QUEUE_DEPTH_METRIC } from './served-metrics.js';

const DEPLOY = fileURLToPath(new URL('../../deploy/', import.meta.url));
const K8S = join(DEPLOY, 'k8s');

interface Validatable { validate(): void }
type Doc = Record<string, unknown> & { apiVersion?: string; kind?: string };
/** The kinds deploy/k8s may hold; any other kind fails the test (add its model here). */
const MODELS: Record<string, new (d: never) => Validatable> = {
  'apps/v1 Deployment': Deployment,
  'autoscaling/v2 HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'policy/v1 PodDisruptionBudget': PodDisruptionBudget,
  'v1 ConfigMap': ConfigMap,
  'v1 Service': Service,
};

/** Every YAML document of deploy/k8s, with the file it came from; a YAML syntax error throws. */
function documents(): { file: string; doc: Doc }[] {
  const out: { file: string; doc: Doc }[] = [];
  for (const file of readdirSync(K8S).filter((f) => /\.ya?ml$/.test(f)).sort()) {
    for (const d of parseAllDocuments(readFileSync(join(K8S, file), 'utf8'))) {
      if (d.errors.length) throw new Error(`${file}: ${d.errors[0]!.message}`);
      const doc = d.toJS() as Doc | null;
      if (doc) out.push({ file, doc });
    }
  }
  return out;
}

/** Schema validation of one document by its apiVersion and kind. */
function validate(doc: Doc): void {
  const key = `${doc.apiVersion} ${doc.kind}`;
  const Model = MODELS[key];
  if (!Model) throw new Error(`no schema for ${key}`);
  new Model(doc as never).validate();
}

const docs = documents();
const only = <T>(kind: string): T => {
  const found = docs.filter((d) => d.doc.kind === kind);
  expect(found, `one ${kind} in deploy/k8s`).toHaveLength(1);
  return found[0]!.doc as T;
};
const deployment = only<Deployment>('Deployment');
const service = only<Service>('Service');
const hpa = only<HorizontalPodAutoscaler>('HorizontalPodAutoscaler');
const adapter = only<ConfigMap>('ConfigMap');
const pod = deployment.spec!.template.spec!;
const container = pod.containers.find((c) => c.name === 'born-serve')!;

/** The value after `flag` in born serve's arguments. */
const flag = (c: IContainer, name: string): string | undefined => {
  const args = c.args ?? [];
  const i = args.indexOf(name);
  return i < 0 ? undefined : args[i + 1];
};
/** A named or numbered probe port, as the container port number it names. */
function probePort(c: IContainer, port: number | string): number {
  if (typeof port === 'number') return port;
  const p = c.ports?.find((q) => q.name === port);
  if (!p) throw new Error(`port '${port}' is not one of the container's ports`);
  return p.containerPort;
}
const httpProbe = (p: IProbe | undefined): { path: string; port: number } => {
  expect(p?.httpGet, 'an httpGet probe').toBeDefined();
  return { path: p!.httpGet!.path!, port: probePort(container, p!.httpGet!.port) };
};

describe('deploy/k8s', () => {
  test('every document validates against the Kubernetes schema', () => {
    expect(docs.length).toBeGreaterThanOrEqual(5);
    for (const { file, doc } of docs) {
      expect(() => validate(doc), `${file}: ${doc.kind}`).not.toThrow();
    }
  });

  test('a broken document fails the same check', () => {
    const broken = structuredClone(deployment) as unknown as Doc & { spec: { template: { spec: { containers: { ports: { containerPort: unknown }[] }[] } } } };
    broken.spec.template.spec.containers[0]!.ports[0]!.containerPort = 'http';
    expect(() => validate(broken)).toThrow(/containerPort/);
    expect(() => validate({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' }, spec: {} })).toThrow();
    expect(() => validate({ apiVersion: 'v1', kind: 'Sevrice' })).toThrow(/no schema/);
  });

  test('the probes hit born serve\'s endpoints on the port it listens on', () => {
    const port = Number(flag(container, '--port'));
    expect(port).toBe(8080);
    expect(flag(container, '--host')).toBe('0.0.0.0');
    expect(httpProbe(container.livenessProbe)).toEqual({ path: '/healthz', port });
    expect(httpProbe(container.startupProbe)).toEqual({ path: '/healthz', port });
    expect(httpProbe(container.readinessProbe)).toEqual({ path: '/readyz', port });
    // Prometheus scrapes the same port.
    const ann = deployment.spec!.template.metadata!.annotations!;
    expect(Number(ann['prometheus.io/port'])).toBe(port);
    expect(ann['prometheus.io/path']).toBe('/metrics');
  });

  test('resources are set, and the grace period covers preStop plus the drain', () => {
    for (const k of ['requests', 'limits'] as const) {
      expect(container.resources?.[k]?.['cpu'], k).toBeDefined();
      expect(container.resources?.[k]?.['memory'], k).toBeDefined();
    }
    const cmd = container.lifecycle?.preStop?.exec?.command ?? [];
    expect(cmd[0]).toBe('sleep');
    const preStop = Number(cmd[1]);
    const timeoutS = Number(flag(container, '--timeout-ms')) / 1000;
    expect(preStop).toBeGreaterThan(0);
    expect(timeoutS).toBeGreaterThan(0);
    expect(pod.terminationGracePeriodSeconds!).toBeGreaterThan(preStop + timeoutS);
    expect(pod.securityContext?.runAsNonRoot).toBe(true);
  });

  test('the Service selects the pods and targets the serving port', () => {
    const labels = deployment.spec!.template.metadata!.labels!;
    for (const [k, v] of Object.entries(service.spec!.selector!)) expect(labels[k], k).toBe(v);
    const target = service.spec!.ports![0]!.targetPort!;
    expect(probePort(container, target)).toBe(Number(flag(container, '--port')));
  });

  test('the HPA scales the Deployment on the queue depth born serve exports, via the adapter rule', () => {
    expect(hpa.spec!.scaleTargetRef).toMatchObject({ apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.metadata!.name });
    expect(hpa.spec!.metrics).toHaveLength(1);
    const m = hpa.spec!.metrics![0]!;
    expect(m.type).toBe('Pods');
    expect(m.pods!.metric.name).toBe(QUEUE_DEPTH_METRIC);
    expect(m.pods!.target.type).toBe('AverageValue');
    const rules = (parseAllDocuments(adapter.data!['config.yaml']!)[0]!.toJS() as { rules: { seriesQuery: string; name: { as: string }; resources: { overrides: Record<string, { resource: string }> } }[] }).rules;
    const rule = rules.find((r) => r.name.as === QUEUE_DEPTH_METRIC);
    expect(rule, `an adapter rule publishing ${QUEUE_DEPTH_METRIC}`).toBeDefined();
    expect(rule!.seriesQuery.startsWith(`${QUEUE_DEPTH_METRIC}{`)).toBe(true);
    expect(rule!.resources.overrides['pod']?.resource).toBe('pod');
    expect(rule!.resources.overrides['namespace']?.resource).toBe('namespace');
  });
});

describe('deploy/Dockerfile', () => {
  const text = readFileSync(join(DEPLOY, 'Dockerfile'), 'utf8');
  const lines = text.split('\n').filter((l) => !l.startsWith('#'));
  const json = (directive: string): string[] => {
    const l = lines.find((x) => x.startsWith(directive + ' '));
    expect(l, directive).toBeDefined();
    return JSON.parse(l!.slice(directive.length + 1)) as string[];
  };

  test('slim Node 20 base, production dependencies, a non-root user', () => {
    const froms = lines.filter((l) => l.startsWith('FROM '));
    expect(froms.length).toBeGreaterThan(0);
    for (const f of froms) expect(f).toMatch(/^FROM node:20-[a-z]+-slim\b/);
    expect(text).toMatch(/npm ci --omit=dev/);
    const users = lines.filter((l) => l.startsWith('USER '));
    expect(users.at(-1)).toMatch(/^USER (node|[1-9]\d*)$/);
  });

  test('the entrypoint is born serve and the healthcheck asks /healthz on its port', () => {
    expect(json('ENTRYPOINT')).toEqual(['node', '/app/dist/cli/main.js', 'serve']);
    const cmd = json('CMD');
    const port = cmd[cmd.indexOf('--port') + 1];
    const health = text.slice(text.indexOf('HEALTHCHECK'));
    expect(health).toContain(`http://127.0.0.1:${port}/healthz`);
    expect(text).toContain(`EXPOSE ${port}`);
  });

  test('the ignore file keeps what the Dockerfile copies', () => {
    const ignore = readFileSync(join(DEPLOY, 'Dockerfile.dockerignore'), 'utf8');
    for (const m of text.matchAll(/^COPY (?!--from)(.+) \S+$/gm)) {
      for (const src of m[1]!.split(/\s+/)) expect(ignore, src).toContain(`!${src.replace(/^\.\//, '')}`);
    }
  });
});
