// Schemas built on first use. The workflow sandbox evaluates every bundled module afresh for each
// workflow run (the SDK's reusable V8 context gives each run a module cache of its own), so each
// run built every module-level schema of every workflow (upgrade, restore, retention, records...)
// to use one or two. Built lazily, a run keeps ~50 KiB of schemas instead of ~265 KiB (measured
// by requiring the modules afresh in Node; bench/README.md, P4). Pure, no Node built-ins: bundled.

/**
 * Stands for the schema `build` returns, and builds it when first touched (a parse, a method, or
 * being parsed as part of another schema): the same type, the same behaviour, the cost only
 * where it is used. The schema's own members are read with the schema as `this`.
 */
export function lazySchema<T extends object>(build: () => T): T {
  let schema: T | undefined;
  const built = (): T => (schema ??= build());
  return new Proxy({} as T, {
    get: (_, key) => Reflect.get(built(), key, built()),
    set: (_, key, value) => Reflect.set(built(), key, value, built()),
    has: (_, key) => Reflect.has(built(), key),
    getPrototypeOf: () => Reflect.getPrototypeOf(built()),
  });
}
