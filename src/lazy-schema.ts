// Schemas built on first use. The workflow sandbox evaluates every bundled module afresh for each
// workflow run, so module-level zod schemas were built ~1,000 times for 1,000 workflows, each run
// building all of them (upgrade, restore, retention, records...) to use one: about 30 ms of the
// single workflow thread per run (bench P4's CPU profile). Pure, no Node built-ins: bundled.

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
