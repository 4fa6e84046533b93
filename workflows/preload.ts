// Evaluated once per worker, before any workflow run (src/worker/workflow-bundle.ts preloads it): zod and
// every module zod requires land in the sandbox's shared module cache instead of being evaluated
// again for each run. With the SDK's reusable V8 context each run otherwise gets a module cache
// of its own, and evaluating zod took ~60 ms of the single workflow thread per run (bench/README.md, P4).
//
// The SDK deep-freezes shared modules and the sandbox's globals once this has run, so zod's lazily
// written state is written here, first: its global config (zod registers the English locale and
// its memoizer on first use otherwise, into `globalThis.__zod_globalConfig`, which is frozen by
// then: "Cannot add property localeError, object is not extensible") and its cached probe of
// whether `new Function` is allowed (a box zod fills on first read). Our own schema modules are
// not shared: zod completes a schema on first use by defining properties on it.
import { z } from 'zod';

z.config(z.locales.en());
z.config({ memoizer: z.core.memoizer() });
void z.core.util.allowsEval.value;
