// Package resilience holds only tests: end-to-end proofs, against the emulator and
// through the fault-injecting proxy (internal/awsproxy), that iamwizard survives what
// real AWS does to a first-time setup — propagation delays, throttling, server errors,
// dropped connections, interrupted runs, concurrent runs, hostile input, clock skew —
// without leaking a secret or leaving an orphan access key behind.
package resilience
