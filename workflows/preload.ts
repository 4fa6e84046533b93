// Evaluated once per worker, before any workflow run (src/worker/workflow-bundle.ts preloads it): zod,
// the SSH signature checks' curves and hashes, and every module they require land in the sandbox's
// shared module cache instead of being evaluated again for each run. With the SDK's reusable V8
// context each run otherwise gets a module cache of its own, and evaluating zod took ~60 ms of the
// single workflow thread per run (bench/README.md, P4).
//
// The SDK deep-freezes shared modules and the sandbox's globals once this has run, so zod's lazily
// written state is written here, first: its global config (zod registers the English locale and
// its memoizer on first use otherwise, into `globalThis.__zod_globalConfig`, which is frozen by
// then: "Cannot add property localeError, object is not extensible") and its cached probe of
// whether `new Function` is allowed (a box zod fills on first read). Our own schema modules are
// not shared: zod completes a schema on first use by defining properties on it.
//
// The curves keep each base point's multiplication table (computed on a curve's first use, ~70-400
// ms) in a module-level WeakMap, which the freeze leaves writable: shared, it is computed once per
// worker, not in every restore's approval. Both packages say `"sideEffects": false`, so webpack
// keeps an import only where it is used: hence `shared` below.
import { ed25519 } from '@noble/curves/ed25519';
import { p256, p384, p521 } from '@noble/curves/nist';
import { sha256, sha512 } from '@noble/hashes/sha2';
import { bytesToHex } from '@noble/hashes/utils';
import { z } from 'zod';

z.config(z.locales.en());
z.config({ memoizer: z.core.memoizer() });
void z.core.util.allowsEval.value;

/** What the approval checks import (src/domain/ssh-signature.ts, workflows/approval-proof.ts), referenced so that it is bundled here. */
export const shared = [ed25519, p256, p384, p521, sha256, sha512, bytesToHex];
