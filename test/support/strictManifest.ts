// A strict schema check of Kubernetes manifests with kubernetes-models. Its validators (Kubernetes' OpenAPI schemas,
// compiled) accept any field they do not know, as the API server's non-strict decoding does: a misspelt
// `livenesProbe` passes and the pod silently runs without a liveness probe. `kubectl --validate=strict` needs a
// cluster, so this finds the unknown fields itself: the manifest is validated through proxies that note every
// field the validator looks up; a field it never looked up is one its schema does not have. An object whose keys
// the validator enumerates (a map: labels, annotations, ConfigMap data, …) takes any key.

/** What kubernetes-models generates for every kind: construct from plain data, validate() throws. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each generated model takes its own typed data
export type ManifestModel = new (data: any) => { validate(): void };

/** The paths (`spec.template.spec.containers[0].livenesProbe`) of fields the kind's schema does not have. */
export function unknownFields(Model: ManifestModel, manifest: unknown): string[] {
  const read = new Map<object, Set<PropertyKey>>();
  const maps = new Set<object>();
  const targets = new Map<object, object>(); // proxy → target
  const wrap = (value: unknown): unknown => {
    if (value === null || typeof value !== 'object') return value;
    const target = value as object;
    read.set(target, new Set());
    const proxy = new Proxy(target, {
      get(t, key, receiver) {
        read.get(t)!.add(key);
        return Reflect.get(t, key, receiver) as unknown;
      },
      has(t, key) {
        read.get(t)!.add(key);
        return Reflect.has(t, key);
      },
      ownKeys(t) {
        maps.add(t);
        return Reflect.ownKeys(t);
      },
    });
    targets.set(proxy, target);
    return proxy;
  };
  // A deep copy whose every object is a proxy (the copy is made first, so the proxies see only the validator).
  const copy = (value: unknown): unknown => {
    if (Array.isArray(value)) return wrap(value.map(copy));
    if (value !== null && typeof value === 'object')
      return wrap(Object.fromEntries(Object.entries(value).map(([k, v]) => [k, copy(v)])));
    return value;
  };
  const root = copy(manifest);
  // The model's own validate(), run on the proxied data (not on the model, whose constructor reads every field).
  Model.prototype.validate.call(root);
  const out: string[] = [];
  const visit = (proxy: unknown, path: string): void => {
    if (proxy === null || typeof proxy !== 'object') return;
    const target = targets.get(proxy)!;
    const isArray = Array.isArray(target);
    for (const [key, child] of Object.entries(target)) {
      const at = isArray ? `${path}[${key}]` : path ? `${path}.${key}` : key;
      if (!isArray && !maps.has(target) && !read.get(target)!.has(key)) {
        out.push(at);
        continue;
      }
      visit(child, at);
    }
  };
  visit(root, '');
  return out;
}

/** validate() and no unknown field: throws with every unknown field's path. */
export function validateStrict(Model: ManifestModel, manifest: unknown): void {
  new Model(manifest).validate();
  const unknown = unknownFields(Model, manifest);
  if (unknown.length > 0) throw new Error(`fields the schema does not have: ${unknown.join(', ')}`);
}
