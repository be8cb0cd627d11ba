// Package kernel is the plumbing every Landlord controller shares, so that
// each controller keeps only its own phases and status:
//
//   - Patcher: one status patch per reconcile, observedGeneration, and a
//     Ready=False condition naming the error when a reconcile fails (never a
//     blank status); the paused annotation.
//   - EnsureFinalizer / RemoveFinalizer: finalizers with an optimistic lock.
//   - Apply / Delete: children applied with server-side apply only when they
//     differ from what Landlord would apply (zero writes when converged), and
//     applied again when Landlord stops setting a field, so that it goes.
//   - Run: the phase runner.
//   - AccountOf: which Account a namespace belongs to (one rule).
package kernel
