//! Reconciling one account: what exists against what is wanted.
//!
//! [`plan`] is the pure decision (observed account + wanted account → actions, or the reason no
//! honest plan exists); [`ensure`] looks the account up through a [`homeserver::Backend`], plans,
//! and carries the plan out unless in check mode; [`ensure_many`] does that for a list, and
//! [`exact`] picks the accounts a list does not name, to prune them.

mod engine;
pub mod exact;
#[cfg(test)]
mod fake;
mod many;
mod plan;
pub mod tokens;
mod wording;

pub use engine::{ensure, Error, Outcome};
pub use many::{ensure_listed, ensure_many, Item, Totals};
pub use plan::{plan, AccountState, Action, Note, Observed, Plan, PlanError, Standing, State, UpdatePassword, Wanted};
pub use wording::Wording;
