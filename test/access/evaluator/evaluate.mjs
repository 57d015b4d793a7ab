// Evaluates a batch of IAM authorization requests with
// @cloud-copilot/iam-simulate (pinned in package-lock.json beside this file).
// A test tool only: the renderenv app never loads it.
//
// stdin:  {"policies": {NAME: DOCUMENT, ...},
//          "requests": [{"id", "principal", "action", "resource",
//                        "resourceAccount", "context": {KEY: VALUE|[VALUES]},
//                        "identity": [NAME], "boundary": [NAME],
//                        "resourcePolicy": NAME|"", "endpoint": [NAME]}]}
// stdout: {"evaluator": "NAME@VERSION",
//          "decisions": [{"id", "decision", "decisive": [{"kind", "policy",
//                         "sid", "index"}], "ignoredContextKeys", "error"}]}
//
// decision is Allowed, ExplicitlyDenied or ImplicitlyDenied; decisive lists
// the statements that allowed (every layer's allowing statements) or that
// denied (the explicit denies, or the layer that had no allow). index is
// 1-based, as the evaluator reports it.
import { readFileSync } from 'node:fs'
import { getDenialReasons, getGrantReasons, runSimulation } from '@cloud-copilot/iam-simulate'

const pkg = JSON.parse(
  readFileSync(new URL('./node_modules/@cloud-copilot/iam-simulate/package.json', import.meta.url), 'utf8')
)

const kinds = { identity: 'identity', resource: 'resource', pb: 'boundary', vpce: 'endpoint' }

function named(policies, names) {
  return (names || []).map((name) => {
    if (!(name in policies)) throw new Error(`unknown policy ${name}`)
    return { name, policy: policies[name] }
  })
}

async function evaluate(policies, r) {
  const simulation = {
    request: {
      principal: r.principal,
      action: r.action,
      resource: { resource: r.resource, accountId: r.resourceAccount },
      contextVariables: r.context || {}
    },
    identityPolicies: named(policies, r.identity),
    permissionBoundaryPolicies: named(policies, r.boundary),
    vpcEndpointPolicies: named(policies, r.endpoint),
    serviceControlPolicies: [],
    resourceControlPolicies: []
  }
  if (r.resourcePolicy) simulation.resourcePolicy = named(policies, [r.resourcePolicy])[0].policy
  const res = await runSimulation(simulation, { simulationMode: 'Strict' })
  if (res.resultType === 'error') {
    return { id: r.id, decision: 'Error', error: JSON.stringify(res.errors) }
  }
  const results = res.resultType === 'single' ? [res.result] : res.results
  const names = { identity: r.identity, boundary: r.boundary, endpoint: r.endpoint }
  const decisive = []
  const ignored = new Set()
  for (const result of results) {
    for (const k of result.ignoredContextKeys || []) ignored.add(k)
    const a = result.analysis
    const reasons = a.result === 'Allowed' ? getGrantReasons(a) : getDenialReasons(a)
    for (const g of reasons) {
      const kind = kinds[g.policyType]
      if (!kind) continue // the implicit full-access SCP and RCP
      let policy = g.policyIdentifier || g.identifier || ''
      if (kind === 'resource') policy = r.resourcePolicy || '(none)'
      if (!policy) policy = (names[kind] || []).join(', ') || '(none)'
      decisive.push({
        kind,
        policy,
        sid: g.statementId || '',
        index: g.statementIndex || 0,
        explicit: g.denialType === 'Explicit' || a.result === 'Allowed'
      })
    }
  }
  return {
    id: r.id,
    decision: res.overallResult,
    decisive,
    ignoredContextKeys: [...ignored].sort()
  }
}

const input = JSON.parse(readFileSync(0, 'utf8'))
const decisions = []
for (const r of input.requests) {
  try {
    decisions.push(await evaluate(input.policies, r))
  } catch (e) {
    decisions.push({ id: r.id, decision: 'Error', error: String(e && e.stack ? e.stack : e) })
  }
}
process.stdout.write(JSON.stringify({ evaluator: `${pkg.name}@${pkg.version}`, decisions }))
