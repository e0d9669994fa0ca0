//! Many accounts in one run: one listing instead of many look-ups, bounded concurrency, and a
//! result per account.

use futures_util::stream::{self, StreamExt};
use homeserver::{Backend, Lookup, UserId};

use crate::engine::{ensure_seen, Error, Outcome};
use crate::plan::{Action, UpdatePassword, Wanted};
use crate::wording::{total_word, FAILED, TOTALS_ORDER, UNCHANGED};

/// One account of a list.
#[derive(Debug, Clone)]
pub struct Item<'a> {
    pub user: UserId,
    pub wanted: Wanted<'a>,
}

/// Ensures every item, at most `concurrency` at a time, each independently: one account's failure
/// does not stop the others. Results come in the order of `items`.
pub async fn ensure_many<B: Backend>(
    backend: &B,
    items: &[Item<'_>],
    concurrency: usize,
    check_mode: bool,
) -> Vec<Result<Outcome, Error>> {
    backend.expect_logins(items.iter().filter(|item| item.wanted.update_password == UpdatePassword::Always).count());
    let listed = match backend.list_accounts(items.len()).await {
        Ok(listed) => listed,
        Err(e) => return items.iter().map(|_| Err(Error::Homeserver(e.clone()))).collect(),
    };
    stream::iter(items)
        .map(|item| {
            let seen = listed.as_ref().map(|accounts| {
                accounts.get(item.user.localpart()).map_or(Lookup::Missing, |account| Lookup::Found(*account))
            });
            ensure_seen(backend, &item.user, &item.wanted, seen, check_mode)
        })
        .buffered(concurrency.max(1))
        .collect()
        .await
}

/// How many accounts ended each way.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub created: usize,
    pub promoted: usize,
    pub demoted: usize,
    /// Existing accounts whose password was set (new ones count as created).
    pub password_changed: usize,
    /// Accounts given an email address.
    pub email_added: usize,
    pub unchanged: usize,
    pub failed: usize,
}

impl Totals {
    /// A failed account: counted as failed, and what was changed before the failure (a
    /// creation whose password was then refused) as done.
    pub fn add_failure(&mut self, done: Option<&Outcome>) {
        self.failed += 1;
        if let Some(done) = done {
            let unchanged = self.unchanged;
            self.add(done);
            self.unchanged = unchanged;
        }
    }

    pub fn add(&mut self, outcome: &Outcome) {
        if !outcome.changed() {
            self.unchanged += 1;
        }
        for action in &outcome.plan.actions {
            match action {
                Action::Create { .. } | Action::CreateUnlessExists { .. } => self.created += 1,
                Action::SetAdmin(true) => self.promoted += 1,
                Action::SetAdmin(false) => self.demoted += 1,
                Action::SetPassword => self.password_changed += 1,
                Action::AddEmail => self.email_added += 1,
            }
        }
    }

    /// "2 created, 1 demoted, 47 unchanged": the counts that are not zero; with `check_mode`,
    /// what would be done ("2 to create").
    pub fn summary(&self, check_mode: bool) -> String {
        let changes = [self.created, self.promoted, self.demoted, self.password_changed, self.email_added];
        let parts: Vec<String> = changes
            .into_iter()
            .zip(TOTALS_ORDER)
            .map(|(n, wording)| (n, total_word(wording, !check_mode)))
            .chain([(self.unchanged, UNCHANGED), (self.failed, FAILED)])
            .filter(|(n, _)| *n > 0)
            .map(|(n, what)| format!("{n} {what}"))
            .collect();
        if parts.is_empty() {
            "no users".to_string()
        } else {
            parts.join(", ")
        }
    }
}
