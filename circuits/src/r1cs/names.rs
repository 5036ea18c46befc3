//! Names of the R1CS constraints: every logical block of constraints of the batch and
//! attestation circuits is synthesized inside an arkworks namespace
//! ([`ark_relations::ns!`], a `tracing` span of target `gr1cs`), so that a constraint
//! has a stable, hierarchical name such as `account[3].lane.size[1].range`.
//!
//! # Cost
//!
//! A namespace is a span, and spans are only made when a `tracing` subscriber
//! records the `gr1cs` target: with none (the CLI), or with that target turned off
//! (the prover service's filter), entering a namespace is a cached callsite check and
//! synthesis, keys and proofs are exactly as without names. The constraint system
//! itself is never changed by a name.
//!
//! # Reading the names
//!
//! With arkworks' [`ConstraintLayer`](ark_relations::gr1cs::ConstraintLayer)
//! installed, `cs.which_is_unsatisfied()` reports the spans of the first unsatisfied
//! constraint, innermost first; the tests' `testing::first_unsatisfied` installs it and
//! returns that report as one dotted path of this crate's namespaces
//! (`account[3].id.order`), arkworks' own spans left out.
//!
//! # The names
//!
//! Batch circuit (`B` accounts `account[0]` … `account[B−1]`, markets `m`):
//!
//! | name | constraints |
//! | --- | --- |
//! | `params.hash` | the parameters hash (§5.5) |
//! | `batch.is_last` | `b = K − 1` |
//! | `outputs.hash` | the outputs hash `O` (§6.4) |
//! | `chain.state_in` | the commitment `C_{b−1}` to the state carried in (§6.2) |
//! | `account[j].padding.order` | padding flag: a bit, only in the last batch, never before a real slot |
//! | `account[j].lane.balance.range`, `…lane.size[m].range` | a lane's 64 bits |
//! | `account[j].lane.balance.nonzero`, `…lane.size[m].nonzero` | a signed lane `≠ 0` (`≠ −2^63`) |
//! | `account[j].padding.empty` | a padding slot holds id 0, balance 0, sizes 0 |
//! | `account[j].id.order` | `id − next_id ∈ [0, 2^64)` for a real slot |
//! | `account[j].tv` | the products of `TV = balance·f_q + Σ size_m·uv_m` |
//! | `account[j].mr.abs` | `|size_m| = sign_m · size_m` |
//! | `account[j].mr` | the products of `MR' = Σ |size_m|·ur_m` |
//! | `account[j].tv.sign` | the sign of `TV` (and `|TV| < 2^tv_bits`) |
//! | `account[j].slack.sign` | the sign of `10000·TV − MR'`: the liquidation flag |
//! | `account[j].liability` | `max(TV, 0)` |
//! | `account[j].liquidation` | `P ← P·(z − id)` for a liquidatable account |
//! | `account[j].leaf` | the leaf hash (§5.2) |
//! | `tree` | the batch tree's nodes (§5.3) |
//! | `chain.accounts` | the accounts chain step (§5.4) |
//! | `id.bound` | `next_id ≤ 2^64` |
//! | `chain.state_out` | the commitment `C_b` to the state carried out |
//! | `solvency.reserves`, `solvency.insurance` | the signs of `reserves − L` and `insurance_fund − D` |
//! | `outputs.open` | the last batch opens the final state into the outputs |
//! | `public_input` | `x_b` and its equality with the public input |
//!
//! Risk model v2 shapes (`T > 1` brackets, `A > 0` assets; `docs/SPEC.md` §8.2) add:
//!
//! | name | constraints |
//! | --- | --- |
//! | `params.risk` | `cum'` of each bracket, `uv_c`, `hv_c`, `reserves_c·uv_c` |
//! | `account[j].holding[c].asset.lane.range`, `….nonzero` | an amount's lane |
//! | `account[j].holding[c].asset.value`, `….margin`, `….held` | its value, margin term (haircut by the lane's sign) and held amount |
//! | `account[j].market[m].bracket.select`, `….pick.t[t]` | the one-hot bracket and what it picks |
//! | `account[j].market[m].bracket.lo`, `….hi` | `s_t ≤ |size| < s_{t+1}` |
//! | `account[j].market[m].bracket.mr` | `MR'_m = n·mm_t − cum'_t` |
//! | `solvency.asset[c]` | the sign of `reserves_c − h_c` |
//! | `outputs.asset_total[c]` | a disclosed total is the final one: `is_last·ℓ_c·(ℓ_c − h_c − 1) = 0` (`ℓ_c`'s 96 bits are in `params.unpack`) |
//!
//! The waterfall's gadgets (`docs/SPEC.md` §2.4) name their blocks `waterfall.…`
//! (`waterfall.fee.cap`, `waterfall.cover`, …); they are not yet part of the batch
//! circuit, and their table is in [`super::waterfall`].
//!
//! Attestation circuit (one `account`, path levels `path[0]` … `path[10]`):
//!
//! | name | constraints |
//! | --- | --- |
//! | `params.hash` | as in the batch circuit |
//! | `claim.ratio.range`, `claim.equity.range` | `r < 2^32`, `X < 2^128` |
//! | `account.id.range` | the id lane's 64 bits |
//! | `account.lane.…`, `account.tv`, `account.mr.abs`, `account.mr` | as in the batch circuit |
//! | `account.holding[c].asset.…`, `account.market[m].bracket.…` | risk model v2: as in the batch circuit (no `asset.held`) |
//! | `claim.ratio.slack` | `10^4·MV' − r·MR' ≥ 0` (`10^8·TV − r·MR'` without assets) |
//! | `claim.equity.slack` | `TV − X·f_q ≥ 0` |
//! | `account.leaf` | the leaf hash, no padding flag |
//! | `path[l].position` | the one-hot position of level `l` |
//! | `path[l].select` | the children of level `l` |
//! | `path[l].node` | the node of level `l` |
//! | `path.root` | the last node is `T` |
//! | `public_input` | `x` and its equality with the public input |

use ark_bn254::Fr;
use ark_relations::gr1cs::{ConstraintSystemRef, Namespace};
use std::collections::BTreeMap;
use std::sync::{Mutex, OnceLock, PoisonError};
use tracing::Span;
use tracing_core::callsite::{Callsite, Identifier};
use tracing_core::field::{Field, FieldSet, Value};
use tracing_core::metadata::Kind;
use tracing_core::subscriber::Interest;
use tracing_core::{Level, Metadata};

/// The callsite of a name made at run time (`account[3]`): a span name must be
/// `'static`, so each distinct name gets one leaked callsite, made once.
struct Indexed {
    meta: OnceLock<Metadata<'static>>,
}

impl Callsite for Indexed {
    fn set_interest(&self, _: Interest) {}

    fn metadata(&self) -> &Metadata<'_> {
        self.meta.get().expect("set before the callsite is shared")
    }
}

/// The metadata of the span `name[index]`.
fn indexed_metadata(name: &'static str, index: usize) -> &'static Metadata<'static> {
    type Callsites = BTreeMap<(&'static str, usize), &'static Indexed>;
    static CALLSITES: Mutex<Callsites> = Mutex::new(BTreeMap::new());
    let mut callsites = CALLSITES.lock().unwrap_or_else(PoisonError::into_inner);
    let callsite: &'static Indexed = callsites.entry((name, index)).or_insert_with(|| {
        let callsite: &'static Indexed = Box::leak(Box::new(Indexed {
            meta: OnceLock::new(),
        }));
        let full: &'static str = Box::leak(format!("{name}[{index}]").into_boxed_str());
        let _ = callsite.meta.set(Metadata::new(
            full,
            "gr1cs",
            Level::INFO,
            Some(file!()),
            Some(line!()),
            Some(module_path!()),
            FieldSet::new(&[], Identifier(callsite)),
            Kind::SPAN,
        ));
        tracing_core::callsite::register(callsite);
        callsite
    });
    callsite.metadata()
}

/// Enters the namespace `name[index]` below the current one, like
/// [`ark_relations::ns!`] (whose names must be literals); leaving it when the
/// returned namespace is dropped. Makes no span unless a subscriber records the
/// `gr1cs` target.
pub(crate) fn indexed(
    cs: &ConstraintSystemRef<Fr>,
    name: &'static str,
    index: usize,
) -> Namespace<Fr> {
    if !tracing::enabled!(target: "gr1cs", Level::INFO) {
        return Namespace::from(cs.clone());
    }
    let meta = indexed_metadata(name, index);
    let values: [(&Field, Option<&dyn Value>); 0] = [];
    let span = Span::new(meta, &meta.fields().value_set(&values));
    let id = span.id();
    // As `ns!`: the span stays entered until the namespace is dropped (which exits it).
    core::mem::forget(span.enter());
    core::mem::forget(span);
    Namespace::new(cs.clone(), id)
}

/// Test support: synthesis with the names recorded, the first unsatisfied
/// constraint's name, and witnesses tampered with block by block.
#[cfg(test)]
pub(crate) mod testing {
    use ark_bn254::Fr;
    use ark_relations::gr1cs::{
        ConstraintLayer, ConstraintSynthesizer, ConstraintSystem, ConstraintSystemRef,
        ConstraintTrace, OptimizationGoal, R1CS_PREDICATE_LABEL, SynthesisError, SynthesisMode,
        TracingMode,
    };
    use std::collections::BTreeSet;
    use tracing::Dispatch;
    use tracing_subscriber::layer::SubscriberExt;

    /// The module path of this crate's namespaces (arkworks' own spans are left out).
    const CRATE: &str = "backstop_circuits";

    /// The subscriber recording the constraint names: one for the whole test
    /// process, never dropped.
    ///
    /// `tracing` caches, per callsite, whether any live dispatcher wants its spans.
    /// While at most one dispatcher is alive, tracing-core asks only the default
    /// dispatcher *of the thread that registers or rebuilds the callsite*; tests run
    /// on parallel threads, so a namespace first entered by a test without a
    /// recorder was cached as disabled for every thread, and its constraints then
    /// had no trace (reported as `R1CS - <index>`; seen once in CI). A second
    /// dispatcher kept alive beside the recorder makes tracing-core ask every live
    /// dispatcher instead, so a callsite is enabled wherever the recorder is the
    /// default; the cache is rebuilt on every use so that no callsite registered
    /// before the two existed stays disabled.
    fn recorder() -> Dispatch {
        static RECORDERS: std::sync::LazyLock<[Dispatch; 2]> = std::sync::LazyLock::new(|| {
            [
                Dispatch::new(
                    tracing_subscriber::Registry::default()
                        .with(ConstraintLayer::new(TracingMode::OnlyConstraints)),
                ),
                Dispatch::new(tracing_core::subscriber::NoSubscriber::default()),
            ]
        });
        let recorder = RECORDERS[0].clone();
        tracing::callsite::rebuild_interest_cache();
        recorder
    }

    /// The dotted name of a constraint's namespaces, outermost first.
    fn trace_name(trace: Option<&ConstraintTrace>) -> String {
        trace
            .map(|t| {
                t.path()
                    .iter()
                    .filter(|step| step.module_path.starts_with(CRATE))
                    .map(|step| step.name)
                    .collect::<Vec<_>>()
                    .join(".")
            })
            .unwrap_or_default()
    }

    /// The dotted name in a `which_is_unsatisfied` report: its lines
    /// `   i: module::name` (innermost first, each followed by `at file:line`), this
    /// crate's only, outermost first; the report itself if it names none.
    fn report_name(report: &str) -> String {
        let mut names: Vec<&str> = report
            .lines()
            .filter_map(|line| {
                let (index, span) = line.trim().split_once(": ")?;
                index.parse::<usize>().ok()?;
                let (module, name) = span.rsplit_once("::")?;
                module.starts_with(CRATE).then_some(name)
            })
            .collect();
        if names.is_empty() {
            return report.to_owned();
        }
        names.reverse();
        names.join(".")
    }

    fn cs_for(mode: SynthesisMode) -> ConstraintSystemRef<Fr> {
        let cs = ConstraintSystem::<Fr>::new_ref();
        cs.set_optimization_goal(OptimizationGoal::Constraints);
        cs.set_mode(mode);
        cs
    }

    /// Synthesizes `circuit` with the names recorded and returns the name of its first
    /// unsatisfied constraint (`None`: satisfied), from `cs.which_is_unsatisfied()`.
    /// A synthesis that refuses the assignment outright is reported as `"synthesis"`.
    pub(crate) fn first_unsatisfied(circuit: impl ConstraintSynthesizer<Fr>) -> Option<String> {
        tracing::dispatcher::with_default(&recorder(), || {
            let cs = cs_for(SynthesisMode::Prove {
                construct_matrices: true,
                generate_lc_assignments: true,
            });
            match circuit.generate_constraints(cs.clone()) {
                Ok(()) => {}
                Err(SynthesisError::Unsatisfiable) => return Some("synthesis".to_owned()),
                Err(e) => panic!("synthesis failed: {e}"),
            }
            cs.finalize();
            let report = cs.which_is_unsatisfied().expect("a proving system");
            report.map(|r| report_name(&r))
        })
    }

    /// How many witnesses [`Probe::tamper`] tries.
    const TRIES: usize = 16;

    /// An honest circuit synthesized with its names into a constraint system that,
    /// like Groth16's prover, does not cache linear-combination values, so that
    /// witnesses can be tampered with afterwards.
    pub(crate) struct Probe {
        recorder: Dispatch,
        cs: ConstraintSystemRef<Fr>,
        /// The name of each constraint.
        names: Vec<String>,
        /// The witnesses each constraint is the first to use.
        fresh: Vec<Vec<usize>>,
    }

    impl Probe {
        /// Synthesizes `circuit`, which must be satisfied.
        pub(crate) fn new(circuit: impl ConstraintSynthesizer<Fr>) -> Self {
            let recorder = recorder();
            let (cs, names) = tracing::dispatcher::with_default(&recorder, || {
                let cs = cs_for(SynthesisMode::Prove {
                    construct_matrices: true,
                    generate_lc_assignments: false,
                });
                circuit.generate_constraints(cs.clone()).expect("synthesis");
                cs.finalize();
                assert_eq!(cs.which_is_unsatisfied().expect("prove mode"), None);
                let names: Vec<String> = cs.borrow().expect("a constraint system").predicate_traces
                    [R1CS_PREDICATE_LABEL]
                    .iter()
                    .map(|t| trace_name(t.as_ref()))
                    .collect();
                (cs, names)
            });
            let instances = cs.num_instance_variables();
            let matrices = &cs.to_matrices().expect("matrices")[R1CS_PREDICATE_LABEL];
            let mut seen = BTreeSet::new();
            let fresh = (0..names.len())
                .map(|k| {
                    let mut first = Vec::new();
                    for (_, v) in matrices.iter().flat_map(|m| &m[k]) {
                        if *v >= instances && seen.insert(*v) {
                            first.push(*v - instances);
                        }
                    }
                    first
                })
                .collect();
            Self {
                recorder,
                cs,
                names,
                fresh,
            }
        }

        /// The distinct names, in the order of their first constraint.
        pub(crate) fn names(&self) -> Vec<&str> {
            let mut seen = BTreeSet::new();
            self.names
                .iter()
                .map(String::as_str)
                .filter(|n| seen.insert(*n))
                .collect()
        }

        /// Tampers with the witnesses first used by a constraint of block `name`, one
        /// at a time (adding 2, which also moves a bit off `{0, 1}`), until the first
        /// unsatisfied constraint is one of `name`, and returns that name; otherwise
        /// the name where the first unsatisfied tampering was caught (`None`: no
        /// constraint of `name` has a witness of its own, or every tampering was
        /// satisfied). At most [`TRIES`] witnesses are tried. The witnesses are
        /// restored.
        pub(crate) fn tamper(&self, name: &str) -> Option<String> {
            tracing::dispatcher::with_default(&self.recorder, || {
                let mut first = None;
                let candidates = self
                    .fresh
                    .iter()
                    .zip(&self.names)
                    .filter(|(_, n)| *n == name)
                    .flat_map(|(fresh, _)| fresh)
                    .take(TRIES);
                for &w in candidates {
                    let witness = |f: &dyn Fn(&mut Fr)| {
                        let mut cs = self.cs.borrow_mut().expect("a constraint system");
                        f(&mut cs.assignments.witness_assignment[w]);
                    };
                    witness(&|x| *x += Fr::from(2u64));
                    let report = self.cs.which_is_unsatisfied().expect("prove mode");
                    witness(&|x| *x -= Fr::from(2u64));
                    match report.map(|r| report_name(&r)) {
                        Some(caught) if caught == name => return Some(caught),
                        Some(caught) => {
                            first.get_or_insert(caught);
                        }
                        None => {}
                    }
                }
                first
            })
        }

        /// The witnesses first used by a constraint of block `name` or of a block
        /// below it (`name.…`), in the order of their allocation.
        pub(crate) fn witnesses_under(&self, name: &str) -> Vec<usize> {
            let below = format!("{name}.");
            let mut witnesses: Vec<usize> = self
                .fresh
                .iter()
                .zip(&self.names)
                .filter(|(_, n)| *n == name || n.starts_with(&below))
                .flat_map(|(fresh, _)| fresh.iter().copied())
                .collect();
            witnesses.sort_unstable();
            witnesses
        }

        /// Sets public input `i` (0-based, after the constant one) to `v`, as a
        /// verifier handed another instance would, and returns the name of the
        /// first unsatisfied constraint. The input is restored.
        pub(crate) fn with_input(&self, i: usize, v: Fr) -> Option<String> {
            let swap = |v: Fr| {
                let mut cs = self.cs.borrow_mut().expect("a constraint system");
                std::mem::replace(&mut cs.assignments.instance_assignment[i + 1], v)
            };
            tracing::dispatcher::with_default(&self.recorder, || {
                let old = swap(v);
                let report = self.cs.which_is_unsatisfied().expect("prove mode");
                swap(old);
                report.map(|r| report_name(&r))
            })
        }

        /// Sets each witness `w` of `values` to its `v`, as an attacker writing the
        /// proving system's witness vector would, and returns the name of the
        /// first unsatisfied constraint (`None`: satisfied). The witnesses are
        /// restored.
        pub(crate) fn with_witnesses(&self, values: &[(usize, Fr)]) -> Option<String> {
            let swap = |values: &[(usize, Fr)]| -> Vec<(usize, Fr)> {
                let mut cs = self.cs.borrow_mut().expect("a constraint system");
                values
                    .iter()
                    .map(|&(w, v)| {
                        let old = std::mem::replace(&mut cs.assignments.witness_assignment[w], v);
                        (w, old)
                    })
                    .collect()
            };
            tracing::dispatcher::with_default(&self.recorder, || {
                let old = swap(values);
                let report = self.cs.which_is_unsatisfied().expect("prove mode");
                swap(&old);
                report.map(|r| report_name(&r))
            })
        }
    }
}

#[cfg(test)]
mod tests;
