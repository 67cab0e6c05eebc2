import type { CertificatePolicies, PolicyConstraints, PolicyMappings } from '../x509/extensions/types.js';
import type { Budget } from './budget.js';
import { VerifyError } from './errors.js';
import { ANY_POLICY } from './policy.js';

/**
 * RFC 5280 §6.1.2 (a), (d)–(f), §6.1.3 (d)–(f), §6.1.4 (a)–(b), (h)–(j), §6.1.5 (a)–(b), (g):
 * certificate policy processing.
 *
 * The valid_policy_tree is kept as a level-by-level graph (as BoringSSL and Go 1.22 do): at each
 * depth, one node per valid_policy, with the set of parent policies at the depth above. In the
 * tree, all nodes of one depth with the same valid_policy have the same expected_policy_set and
 * identical subtrees, so merging them loses nothing — and the graph's size is linear in the
 * certificates' policies and mappings, where the tree can grow exponentially (a "mapping bomb").
 * Nodes and edges are still charged to the Budget.
 *
 * Qualifiers are not tracked (RFC 5280 §4.2.1.4 leaves their processing to the application).
 */

interface PolicyNode {
  policy: string;
  expected: string[];
  /** valid_policy values of the parents at the depth above. */
  parents: string[];
}

type Level = Map<string, PolicyNode>;

export interface PolicyInputs {
  initialPolicySet: readonly string[];
  initialExplicitPolicy: boolean;
  initialPolicyMappingInhibit: boolean;
  initialAnyPolicyInhibit: boolean;
}

export class PolicyGraph {
  /** levels[0] is the root {anyPolicy}; levels[i] the nodes of depth i; undefined = NULL tree. */
  private levels: Level[] | undefined;
  explicitPolicy: number;
  policyMapping: number;
  inhibitAnyPolicy: number;

  /** `n` is the path length (certificates after the trust anchor). */
  constructor(
    private readonly n: number,
    private readonly inputs: PolicyInputs,
    private readonly budget: Budget,
  ) {
    // RFC 5280 §6.1.2 (a), (d)–(f)
    const root: Level = new Map([[ANY_POLICY, { policy: ANY_POLICY, expected: [ANY_POLICY], parents: [] }]]);
    this.levels = [root];
    this.explicitPolicy = inputs.initialExplicitPolicy ? 0 : n + 1;
    this.inhibitAnyPolicy = inputs.initialAnyPolicyInhibit ? 0 : n + 1;
    this.policyMapping = inputs.initialPolicyMappingInhibit ? 0 : n + 1;
  }

  get isNull(): boolean {
    return this.levels === undefined;
  }

  /**
   * RFC 5280 §6.1.3 (d)–(f) for certificate `i` (1-based; `i === n` is the leaf).
   * Throws `policy-violation` when (f) fails.
   */
  processCertificate(
    policies: CertificatePolicies | undefined,
    i: number,
    selfIssued: boolean,
    certIndex: number,
  ): void {
    const levels = this.levels;
    if (levels && policies === undefined)
      this.levels = undefined; // (e)
    else if (levels) {
      const prev = levels[i - 1]!;
      const byExpected = new Map<string, string[]>();
      for (const q of prev.values())
        for (const e of q.expected) {
          const list = byExpected.get(e);
          if (list) list.push(q.policy);
          else byExpected.set(e, [q.policy]);
        }
      const anyPrev = prev.has(ANY_POLICY);
      const level: Level = new Map();
      let cost = 0;
      let certHasAny = false;
      // (d)(1)
      for (const p of policies!) {
        const id = p.policyIdentifier;
        if (id === ANY_POLICY) {
          certHasAny = true;
          continue;
        }
        if (level.has(id)) continue;
        const parents = byExpected.get(id) ?? (anyPrev ? [ANY_POLICY] : undefined);
        if (!parents) continue;
        level.set(id, { policy: id, expected: [id], parents: [...parents] });
        cost += 1 + parents.length;
      }
      // (d)(2)
      if (certHasAny && (this.inhibitAnyPolicy > 0 || (i < this.n && selfIssued))) {
        const created = new Set<string>();
        for (const q of prev.values())
          for (const e of q.expected) {
            const node = level.get(e);
            if (!node) {
              level.set(e, { policy: e, expected: [e], parents: [q.policy] });
              created.add(e);
              cost += 2;
            } else if (created.has(e) && !node.parents.includes(q.policy)) {
              node.parents.push(q.policy);
              cost += 1;
            }
          }
      }
      this.budget.consumePolicyNodes(cost, certIndex);
      levels.push(level);
      this.prune(); // (d)(3)
    }
    // (f)
    if (this.explicitPolicy <= 0 && this.levels === undefined)
      throw new VerifyError(
        'policy-violation',
        'no valid certificate policy and an explicit policy is required',
        certIndex,
      );
  }

  /** RFC 5280 §6.1.4 (a)–(b) and (h)–(j) for an intermediate certificate `i`. */
  prepareNext(
    mappings: PolicyMappings | undefined,
    constraints: PolicyConstraints | undefined,
    inhibitAny: number | undefined,
    selfIssued: boolean,
    certIndex: number,
  ): void {
    if (mappings) {
      // (a)
      for (const m of mappings)
        if (m.issuerDomainPolicy === ANY_POLICY || m.subjectDomainPolicy === ANY_POLICY)
          throw new VerifyError('policy-violation', 'policy mapping to or from anyPolicy', certIndex);
      const levels = this.levels;
      if (levels) {
        const level = levels[levels.length - 1]!;
        const grouped = new Map<string, string[]>();
        for (const m of mappings) {
          const list = grouped.get(m.issuerDomainPolicy);
          if (!list) grouped.set(m.issuerDomainPolicy, [m.subjectDomainPolicy]);
          else if (!list.includes(m.subjectDomainPolicy)) list.push(m.subjectDomainPolicy);
        }
        if (this.policyMapping > 0) {
          // (b)(1)
          let cost = 0;
          const anyNode = level.get(ANY_POLICY);
          for (const [p, subjects] of grouped) {
            const node = level.get(p);
            if (node) node.expected = subjects;
            else if (anyNode) level.set(p, { policy: p, expected: subjects, parents: [ANY_POLICY] });
            cost += 1 + subjects.length;
          }
          this.budget.consumePolicyNodes(cost, certIndex);
        } else {
          // (b)(2)
          for (const p of grouped.keys()) level.delete(p);
          this.prune();
        }
      }
    }
    // (h)
    if (!selfIssued) {
      if (this.explicitPolicy > 0) this.explicitPolicy--;
      if (this.policyMapping > 0) this.policyMapping--;
      if (this.inhibitAnyPolicy > 0) this.inhibitAnyPolicy--;
    }
    // (i)
    if (constraints) {
      const r = constraints.requireExplicitPolicy;
      if (r !== undefined && r < this.explicitPolicy) this.explicitPolicy = r;
      const m = constraints.inhibitPolicyMapping;
      if (m !== undefined && m < this.policyMapping) this.policyMapping = m;
    }
    // (j)
    if (inhibitAny !== undefined && inhibitAny < this.inhibitAnyPolicy) this.inhibitAnyPolicy = inhibitAny;
  }

  /**
   * RFC 5280 §6.1.5 (a), (b), (g) for the leaf. Returns the user-constrained policy set
   * (`[anyPolicy]` when every policy is acceptable); throws `policy-violation` if empty while
   * an explicit policy is required.
   */
  finish(constraints: PolicyConstraints | undefined, certIndex: number): string[] {
    if (this.explicitPolicy > 0) this.explicitPolicy--; // (a)
    if (constraints?.requireExplicitPolicy === 0) this.explicitPolicy = 0; // (b)
    const result = this.userConstrainedPolicySet();
    if (this.explicitPolicy <= 0 && result.length === 0)
      throw new VerifyError('policy-violation', 'no certificate policy acceptable to the user', certIndex);
    return result;
  }

  /**
   * §6.1.5 (g): the intersection of the tree with the user-initial-policy-set, expressed (as
   * PKITS and BoringSSL do) in the trust anchor's policy domain: the policies of the
   * valid_policy_node_set (nodes whose parent is anyPolicy) that still reach depth n and are
   * acceptable to the user, plus — when an all-anyPolicy branch reaches depth n — the user's
   * policies not named by any such node (or anyPolicy itself when the user accepts any).
   */
  private userConstrainedPolicySet(): string[] {
    const levels = this.levels;
    if (!levels) return [];
    const n = levels.length - 1;
    const initial = this.inputs.initialPolicySet;
    const userAny = initial.length === 0 || initial.includes(ANY_POLICY);
    const initialSet = new Set(initial);
    const nodeSet = new Set<string>(); // policies of the whole valid_policy_node_set
    for (let k = 1; k <= n; k++)
      for (const node of levels[k]!.values())
        if (node.policy !== ANY_POLICY && node.parents.length === 1 && node.parents[0] === ANY_POLICY)
          nodeSet.add(node.policy);
    // Walk up from depth n, marking the nodes that have a descendant there.
    const out: string[] = [];
    let reach = new Set<string>(levels[n]!.keys());
    for (let k = n; k >= 1 && reach.size > 0; k--) {
      const up = new Set<string>();
      for (const p of reach) {
        const node = levels[k]!.get(p);
        if (!node || p === ANY_POLICY) continue;
        if (node.parents.length === 1 && node.parents[0] === ANY_POLICY) {
          if ((userAny || initialSet.has(p)) && !out.includes(p)) out.push(p);
        } else for (const q of node.parents) up.add(q);
      }
      reach = up;
    }
    if (levels[n]!.has(ANY_POLICY)) {
      if (userAny) out.push(ANY_POLICY);
      else for (const p of initial) if (!nodeSet.has(p) && !out.includes(p)) out.push(p);
    }
    return out;
  }

  /** Deletes nodes without children, bottom-up; a level left empty makes the tree NULL. */
  private prune(): void {
    const levels = this.levels;
    if (!levels) return;
    for (let k = levels.length - 1; k >= 1; k--) {
      const level = levels[k]!;
      if (level.size === 0) {
        this.levels = undefined;
        return;
      }
      const above = levels[k - 1]!;
      const referenced = new Set<string>();
      for (const node of level.values()) for (const p of node.parents) referenced.add(p);
      let removed = false;
      for (const p of [...above.keys()])
        if (!referenced.has(p)) {
          above.delete(p);
          removed = true;
        }
      if (!removed) break;
    }
    // Parents that were pruned above must also disappear from the lists below.
    for (let k = 1; k < levels.length; k++) {
      const above = levels[k - 1]!;
      for (const [p, node] of levels[k]!) {
        node.parents = node.parents.filter((q) => above.has(q));
        if (node.parents.length === 0) levels[k]!.delete(p);
      }
      if (levels[k]!.size === 0) {
        this.levels = undefined;
        return;
      }
    }
  }
}
