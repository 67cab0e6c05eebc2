/**
 * fleetpki/verify — certification path validation: `verifyPath`/`verifyPathSync` (verify-path.ts),
 * the `ValidationPolicy` and its profiles (policy.ts), name matching (names.ts), and the building
 * blocks — path building, RFC 5280 §6.1 validation, budgets, caches — for those who assemble
 * their own.
 */
export { Budget, type BudgetLimits, DEFAULT_BUDGET } from './budget.js';
export {
  type Attempt,
  AttemptLog,
  buildPaths,
  type Candidate,
  SignatureCache,
  SignatureChecker,
} from './build.js';
export { CertificateCache } from './certificate-cache.js';
export { errorRank, isFatal, VerifyError, type VerifyErrorCode } from './errors.js';
export { collectNames, NameConstraintState } from './name-constraints.js';
export * from './names.js';
export * from './policy.js';
export { PolicyGraph } from './policy-tree.js';
export { runAsync, runSync, type Step, type Steps, step } from './steps.js';
export { type SignatureVerifier, type ValidateInput, validatePath } from './validate.js';
export {
  type CertInput,
  checkReferenceIdentity,
  type VerifyInputs,
  type VerifyOptions,
  type VerifyResult,
  verifyPath,
  verifyPathSync,
} from './verify-path.js';
