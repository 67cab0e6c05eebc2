import { VerifyError } from './errors.js';

/**
 * Work limits for one verification, shared by path building and validation. Running out is
 * fatal (`budget-exceeded`): the search stops rather than trying further candidates.
 */
export interface BudgetLimits {
  /**
   * Signature verifications (cache hits are free). 100 is Chromium's limit, which rustls-webpki
   * adopted (`Budget::default`); a real chain needs 2–4, a cross-signed web PKI chain ~10.
   */
  signatures: number;
  /**
   * Path-builder steps (one per candidate issuer considered). NSS mozpkix caps path calls at
   * 200 000 (pkixbuild.cpp); we keep that figure.
   */
  buildSteps: number;
  /**
   * Name-constraint comparisons (one per name × subtree). 250 000 is Go crypto/x509's
   * `maxConstraintComparisons` default, also adopted by rustls-webpki.
   */
  nameConstraintComparisons: number;
  /**
   * Nodes + edges in the policy graph over the whole path. Legitimate paths have a handful;
   * 10 000 keeps a mapping bomb (BoringSSL's CVE-2023-0464 family) linear and small.
   */
  policyNodes: number;
}

export const DEFAULT_BUDGET: Readonly<BudgetLimits> = Object.freeze({
  signatures: 100,
  buildSteps: 200_000,
  nameConstraintComparisons: 250_000,
  policyNodes: 10_000,
});

export class Budget {
  signatures: number;
  buildSteps: number;
  nameConstraintComparisons: number;
  policyNodes: number;

  constructor(limits: Partial<BudgetLimits> = {}) {
    this.signatures = limits.signatures ?? DEFAULT_BUDGET.signatures;
    this.buildSteps = limits.buildSteps ?? DEFAULT_BUDGET.buildSteps;
    this.nameConstraintComparisons =
      limits.nameConstraintComparisons ?? DEFAULT_BUDGET.nameConstraintComparisons;
    this.policyNodes = limits.policyNodes ?? DEFAULT_BUDGET.policyNodes;
  }

  consumeSignature(certIndex = -1): void {
    if (--this.signatures < 0)
      throw new VerifyError('budget-exceeded', 'signature-check budget exhausted', certIndex);
  }

  consumeBuildStep(): void {
    if (--this.buildSteps < 0) throw new VerifyError('budget-exceeded', 'path-building budget exhausted');
  }

  consumeNameConstraints(n: number, certIndex = -1): void {
    this.nameConstraintComparisons -= n;
    if (this.nameConstraintComparisons < 0)
      throw new VerifyError('budget-exceeded', 'name-constraint comparison budget exhausted', certIndex);
  }

  consumePolicyNodes(n: number, certIndex = -1): void {
    this.policyNodes -= n;
    if (this.policyNodes < 0)
      throw new VerifyError('budget-exceeded', 'policy graph budget exhausted', certIndex);
  }
}
