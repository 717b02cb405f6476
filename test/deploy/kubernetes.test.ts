// deploy/kubernetes/: the ptp-sidecar DaemonSet, its ConfigMap and metrics Service fit together: probes hit the
// daemon's health endpoints on the metrics port, the socket / ConfigMap / config-dir volumes are mounted where the
// configuration points, NODE_NAME comes from the downward API, and the arguments plus env form a valid configuration.
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Service } from 'kubernetes-models/v1/Service';
import { loadConfig } from '../../src/config/load.js';
import { unknownFields, validateStrict, type ManifestModel } from '../support/strictManifest.js';

const dir = resolve(import.meta.dirname, '../../deploy/kubernetes');

/* eslint-disable @typescript-eslint/no-explicit-any -- Kubernetes objects are checked field by field below. */
function docs(file: string): any[] {
  const parsed = parseAllDocuments(readFileSync(join(dir, file), 'utf8'));
  for (const d of parsed) expect(d.errors, file).toEqual([]);
  return parsed.map((d) => d.toJS());
}
const [daemonSet] = docs('daemonset.yaml');
const [configMap] = docs('configmap.yaml');
const [service] = docs('service.yaml');
const [namespace] = docs('namespace.yaml');
const [serviceMonitor] = docs('servicemonitor.yaml');
const pod = daemonSet.spec.template.spec;
const container = pod.containers.find((c: any) => c.name === 'syncvisor');
const volume = (name: string): any => pod.volumes.find((v: any) => v.name === name);
const mountAt = (path: string): any => container.volumeMounts.find((m: any) => m.mountPath === path);
const env = (name: string): any => container.env.find((e: any) => e.name === name);
const flag = (name: string): string | undefined => container.args[container.args.indexOf(name) + 1];

describe('deploy/kubernetes', () => {
  it('declares a DaemonSet, ConfigMap, Service and Namespace in one namespace', () => {
    expect(daemonSet).toMatchObject({ apiVersion: 'apps/v1', kind: 'DaemonSet' });
    expect(configMap).toMatchObject({ apiVersion: 'v1', kind: 'ConfigMap' });
    expect(service).toMatchObject({ apiVersion: 'v1', kind: 'Service' });
    expect(namespace).toMatchObject({ apiVersion: 'v1', kind: 'Namespace' });
    for (const o of [daemonSet, configMap, service]) expect(o.metadata.namespace).toBe(namespace.metadata.name);
    expect(daemonSet.spec.template.metadata.labels).toMatchObject(daemonSet.spec.selector.matchLabels);
  });

  it('runs only the ptp service with metrics on 0.0.0.0:9101', () => {
    expect(container.args[0]).toBe('run');
    expect(flag('--services')).toBe('ptp');
    expect(flag('--http')).toBe('0.0.0.0:9101');
    expect(container.ports).toContainEqual({ name: 'metrics', containerPort: 9101, protocol: 'TCP' });
  });

  it('probes /healthz for liveness and /readyz for readiness on the metrics port', () => {
    const port = (p: number | string): number =>
      typeof p === 'number' ? p : container.ports.find((x: any) => x.name === p).containerPort;
    expect(container.livenessProbe.httpGet.path).toBe('/healthz');
    expect(port(container.livenessProbe.httpGet.port)).toBe(9101);
    expect(container.readinessProbe.httpGet.path).toBe('/readyz');
    expect(port(container.readinessProbe.httpGet.port)).toBe(9101);
  });

  it('takes NODE_NAME from the downward API and points the sidecar at its mounts', () => {
    expect(env('NODE_NAME').valueFrom.fieldRef.fieldPath).toBe('spec.nodeName');
    expect(env('PTP_PROFILE_PATH').value).toBe('/etc/linuxptp');
    expect(env('SYNCVISOR_PTP_SOCKET_PATH').value).toBe('/cloud-native/events.sock');
    expect(env('SYNCVISOR_PTP_CONFIG_DIR').value).toBe('/var/run');
  });

  it('shares the socket directory with linuxptp-daemon and mounts the ConfigMap and the config dir', () => {
    const socket = mountAt('/cloud-native');
    expect(socket).toBeDefined();
    expect(socket.readOnly ?? false).toBe(false);
    const socketVolume = volume(socket.name);
    expect(socketVolume.hostPath ?? socketVolume.emptyDir).toBeDefined();

    const profiles = mountAt('/etc/linuxptp');
    expect(profiles.readOnly).toBe(true);
    expect(volume(profiles.name).configMap.name).toBe(configMap.metadata.name);

    const run = mountAt('/var/run');
    expect(run.readOnly).toBe(true);
    expect(volume(run.name).hostPath.path).toMatch(/^\/var\/run\//);
  });

  it('the ConfigMap holds a JSON array of profiles per node', () => {
    const keys = Object.keys(configMap.data);
    expect(keys.length).toBeGreaterThan(0);
    for (const k of keys) {
      const profiles = JSON.parse(configMap.data[k]);
      expect(Array.isArray(profiles)).toBe(true);
      for (const p of profiles) expect(p).toHaveProperty('name');
    }
  });

  it('the Service selects the pods and exposes the metrics port', () => {
    expect(daemonSet.spec.template.metadata.labels).toMatchObject(service.spec.selector);
    expect(service.spec.ports).toContainEqual(expect.objectContaining({ port: 9101, targetPort: 'metrics' }));
  });

  it('has no init container and no capability at all, a read-only root filesystem, and resource bounds', () => {
    expect(pod.initContainers).toBeUndefined();
    expect(pod.hostNetwork ?? false).toBe(false);
    expect(pod.securityContext.seccompProfile.type).toBe('RuntimeDefault');
    expect(container.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true });
    expect(container.securityContext.privileged ?? false).toBe(false);
    expect(container.securityContext.capabilities.add).toBeUndefined();
    expect(container.securityContext.capabilities.drop).toEqual(['ALL']);
    expect(container.resources.requests).toBeDefined();
    expect(container.resources.limits.memory).toBeDefined();
  });

  it('its arguments and environment form a valid syncvisor configuration', () => {
    const plain: Record<string, string> = { NODE_NAME: 'node1' };
    for (const e of container.env) if (typeof e.value === 'string') plain[e.name] = e.value;
    const config = loadConfig({ env: plain, flags: { services: flag('--services')!, 'http.listen': flag('--http')! } });
    expect(config.services).toEqual(['ptp']);
    expect(config.ptp.nodeName).toBe('node1');
    expect(config.ptp.socketPath).toBe('/cloud-native/events.sock');
    expect(config.ptp.profilePath).toBe('/etc/linuxptp');
  });

  it('every manifest validates against its Kubernetes (or Prometheus Operator) schema, with no unknown field', () => {
    const models: Record<string, ManifestModel> = {
      DaemonSet,
      ConfigMap,
      Service,
      Namespace,
      ServiceMonitor,
    };
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml'))) {
      for (const o of docs(file)) {
        const Model = models[o.kind];
        expect(Model, `${file}: a schema for ${o.kind}`).toBeDefined();
        expect(() => validateStrict(Model!, o), `${file}: ${o.kind}`).not.toThrow();
      }
    }
  });

  it('the schema check fails on a broken manifest (it really validates)', () => {
    const broken = structuredClone(daemonSet);
    broken.spec.template.spec.containers[0].ports[0].containerPort = 'metrics';
    expect(() => new DaemonSet(broken).validate()).toThrow(/containerPort/);
    const noSelector = structuredClone(serviceMonitor);
    delete noSelector.spec.selector;
    expect(() => new ServiceMonitor(noSelector).validate()).toThrow(/selector/);
  });

  it('the schema check is strict: a misspelt or unknown field fails, wherever it is', () => {
    const misspelt = structuredClone(daemonSet);
    const c = misspelt.spec.template.spec.containers[0];
    expect(c.livenessProbe, 'the manifest has a liveness probe to misspell').toBeDefined();
    c.livenesProbe = c.livenessProbe;
    delete c.livenessProbe;
    // kubernetes-models alone accepts it (as a non-strict API server would): the pod would run without the probe.
    expect(() => new DaemonSet(misspelt).validate()).not.toThrow();
    expect(() => validateStrict(DaemonSet, misspelt)).toThrow(
      'fields the schema does not have: spec.template.spec.containers[0].livenesProbe',
    );
    const extra = structuredClone(daemonSet);
    extra.spec.updateStrategy.rollingUpdat = { maxUnavailable: 1 };
    extra.metadata.lables = { app: 'x' };
    expect(unknownFields(DaemonSet, extra).sort()).toEqual(['metadata.lables', 'spec.updateStrategy.rollingUpdat']);
    const monitor = structuredClone(serviceMonitor);
    monitor.spec.endpoints[0].intervall = '30s';
    expect(() => validateStrict(ServiceMonitor, monitor)).toThrow(/spec\.endpoints\[0\]\.intervall/);
    // Maps take any key: labels, annotations, a ConfigMap's data.
    const labelled = structuredClone(daemonSet);
    labelled.metadata.labels = { ...labelled.metadata.labels, 'example.com/anything': 'yes' };
    expect(unknownFields(DaemonSet, labelled)).toEqual([]);
  });

  it('the namespace enforces the Pod Security level the pod needs (privileged: hostPath) and audits at baseline', () => {
    const labels = namespace.metadata.labels;
    expect(labels['pod-security.kubernetes.io/enforce']).toBe('privileged');
    expect(labels['pod-security.kubernetes.io/audit']).toBe('baseline');
    expect(labels['pod-security.kubernetes.io/warn']).toBe('baseline');
    // privileged is needed only because of hostPath volumes: nothing else in the pod goes beyond baseline.
    expect(pod.volumes.some((v: any) => v.hostPath)).toBe(true);
    expect(pod.hostPID ?? false).toBe(false);
    expect(pod.hostIPC ?? false).toBe(false);
  });

  it('a ServiceMonitor scrapes the metrics port of the Service', () => {
    expect(serviceMonitor.metadata.namespace).toBe(namespace.metadata.name);
    expect(service.metadata.labels).toMatchObject(serviceMonitor.spec.selector.matchLabels);
    expect(serviceMonitor.spec.endpoints[0].port).toBe(service.spec.ports[0].name);
    expect(serviceMonitor.spec.endpoints[0].path).toBe('/metrics');
  });

  it('pins the image to the package version', () => {
    const { version } = JSON.parse(readFileSync(resolve(dir, '../../package.json'), 'utf8')) as { version: string };
    for (const c of pod.containers) expect(c.image).toBe(`syncvisor:${version}`);
  });
});
