//! Many accounts in one run: one listing instead of many look-ups, bounded concurrency, and a
//! result per account.

use futures_util::stream::{self, StreamExt};
use std::collections::HashMap;

use homeserver::{Account, Backend, Lookup, UserId};

use crate::engine::{ensure_seen, Error, Outcome};
use crate::plan::{AccountState, Action, UpdatePassword, Wanted};
use crate::wording::{total_word, FAILED, TOTALS_ORDER, UNCHANGED};

/// One account of a list.
#[derive(Debug, Clone)]
pub struct Item<'a> {
    pub user: UserId,
    pub wanted: Wanted<'a>,
}

/// Ensures every item, at most `concurrency` at a time, each independently: one account's failure
/// does not stop the others. Results come in the order of `items`; `on_done` sees each as it
/// comes (a progress display).
pub async fn ensure_many<B: Backend>(
    backend: &B,
    items: &[Item<'_>],
    concurrency: usize,
    check_mode: bool,
    on_done: impl FnMut(&Result<Outcome, Error>),
) -> Vec<Result<Outcome, Error>> {
    match backend.list_accounts(items.len()).await {
        Ok(listed) => ensure_listed(backend, items, listed.as_ref(), concurrency, check_mode, on_done).await,
        Err(e) => items.iter().map(|_| Err(Error::Homeserver(e.clone()))).collect(),
    }
}

/// [`ensure_many`] on a listing of the server's accounts already made (exact mode's), or none:
/// each item is then looked up.
pub async fn ensure_listed<B: Backend>(
    backend: &B,
    items: &[Item<'_>],
    listed: Option<&HashMap<String, Account>>,
    concurrency: usize,
    check_mode: bool,
    mut on_done: impl FnMut(&Result<Outcome, Error>),
) -> Vec<Result<Outcome, Error>> {
    // Only a user to be present has its password checked.
    let checks =
        |wanted: &Wanted<'_>| wanted.update_password == UpdatePassword::Always && wanted.state == AccountState::Present;
    backend.expect_logins(items.iter().filter(|item| checks(&item.wanted)).count());
    stream::iter(items)
        .map(|item| {
            let seen = listed.map(|accounts| {
                accounts.get(item.user.localpart()).map_or(Lookup::Missing, |account| Lookup::Found(account.clone()))
            });
            ensure_seen(backend, &item.user, &item.wanted, seen, check_mode)
        })
        .buffered(concurrency.max(1))
        .inspect(|result| on_done(result))
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
    /// Existing accounts whose display name was set (new ones count as created).
    pub displayname_set: usize,
    pub locked: usize,
    pub unlocked: usize,
    pub deactivated: usize,
    /// Accounts deactivated and erased (not counted in `deactivated`).
    pub erased: usize,
    pub reactivated: usize,
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
                Action::SetDisplayname => self.displayname_set += 1,
                Action::Lock => self.locked += 1,
                Action::Unlock => self.unlocked += 1,
                Action::Deactivate { erase: false } => self.deactivated += 1,
                Action::Deactivate { erase: true } => self.erased += 1,
                Action::Reactivate => self.reactivated += 1,
            }
        }
    }

    /// "2 created, 1 demoted, 47 unchanged": the counts that are not zero; with `check_mode`,
    /// what would be done ("2 to create").
    pub fn summary(&self, check_mode: bool) -> String {
        let changes = [
            self.created,
            self.promoted,
            self.demoted,
            self.password_changed,
            self.email_added,
            self.displayname_set,
            self.locked,
            self.unlocked,
            self.deactivated,
            self.erased,
            self.reactivated,
        ];
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

#[cfg(test)]
mod tests {
    use homeserver::Secret;

    use super::*;
    use crate::fake::{refused, user, want, Call, Fake, Stored};
    use UpdatePassword::{Always, OnCreate};

    const PASSWORD: &str = "wanted-pw";

    fn items<'a>(names: &[&str], wanted: &Wanted<'a>) -> Vec<Item<'a>> {
        names.iter().map(|name| Item { user: user(name), wanted: wanted.clone() }).collect()
    }

    fn actions(result: &Result<Outcome, Error>) -> Vec<Action> {
        match result {
            Ok(outcome) => outcome.plan.actions.clone(),
            Err(e) => panic!("expected an outcome, got {e}"),
        }
    }

    fn totals(results: &[Result<Outcome, Error>]) -> Totals {
        let mut totals = Totals::default();
        for result in results {
            match result {
                Ok(outcome) => totals.add(outcome),
                Err(e) => totals.add_failure(e.done()),
            }
        }
        totals
    }

    /// bob is to be promoted, dave is as wanted, erin is locked (unlocked when wanted present);
    /// the others are missing.
    fn team(fake: Fake) -> Fake {
        fake.with("bob", Stored::new(PASSWORD, false))
            .with("dave", Stored::new(PASSWORD, true))
            .with("erin", Stored { locked: true, ..Stored::new(PASSWORD, true) })
    }

    #[tokio::test]
    async fn one_failure_does_not_stop_the_others_and_results_keep_the_order() {
        let password = Secret::new(PASSWORD);
        let names = ["alice", "bob", "carol", "dave", "erin", "frank"];
        let fake = team(Fake::new()).failing(Call::Create, Some("carol"), refused("creating @carol:example.com"));
        let results =
            ensure_many(&fake, &items(&names, &want(&password, Some(true), OnCreate)), 2, false, |_| ()).await;

        assert_eq!(results.len(), names.len());
        assert_eq!(actions(&results[0]), vec![Action::Create { admin: true }]);
        assert_eq!(actions(&results[1]), vec![Action::SetAdmin(true)]);
        assert_eq!(results[2], Err(Error::Homeserver(refused("creating @carol:example.com"))));
        assert_eq!(actions(&results[3]), vec![]);
        assert_eq!(actions(&results[4]), vec![Action::Unlock]);
        assert_eq!(actions(&results[5]), vec![Action::Create { admin: true }]);
        for (result, name) in results.iter().zip(names) {
            if let Ok(outcome) = result {
                assert_eq!(outcome.user_id, user(name));
            }
        }
        // The ones after the failures were done all the same.
        assert_eq!(fake.account("frank"), Some(Stored::new(PASSWORD, true)));
        assert_eq!(fake.account("carol"), None);
        assert_eq!(totals(&results).summary(false), "2 created, 1 promoted, 1 unlocked, 1 unchanged, 1 failed");
    }

    #[tokio::test]
    async fn at_most_concurrency_accounts_are_worked_on_at_once() {
        let password = Secret::new(PASSWORD);
        let names: Vec<String> = (0..8).map(|i| format!("user{i}")).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let list = items(&names, &want(&password, None, OnCreate));
        for (concurrency, most) in [(0, 1), (1, 1), (3, 3), (8, 8), (50, 8)] {
            // The first users answer slowest, so with room to overlap they finish last.
            let fake = names.iter().enumerate().fold(Fake::new(), |fake, (i, name)| fake.slow(name, 3 * (8 - i)));
            let results = ensure_many(&fake, &list, concurrency, false, |_| ()).await;
            assert_eq!(fake.max_in_flight(), most, "concurrency {concurrency}");
            let ids: Vec<UserId> = results.iter().map(|r| r.as_ref().unwrap().user_id.clone()).collect();
            assert_eq!(ids, names.iter().map(|name| user(name)).collect::<Vec<_>>(), "concurrency {concurrency}");
            let created: Vec<String> =
                fake.calls().into_iter().filter(|(call, _)| *call == Call::Create).map(|(_, name)| name).collect();
            assert_eq!(created.len(), names.len());
            // Finished out of order exactly when they could overlap; reported in order anyway.
            assert_eq!(created == names, most == 1, "concurrency {concurrency}: {created:?}");
        }
    }

    #[tokio::test]
    async fn a_listing_replaces_the_look_ups_when_the_backend_offers_one() {
        let password = Secret::new(PASSWORD);
        let names = ["alice", "bob", "dave"];
        let list = items(&names, &want(&password, Some(true), OnCreate));
        let expected = vec![vec![Action::Create { admin: true }], vec![Action::SetAdmin(true)], vec![]];

        let listed = team(Fake::new().listing());
        let results = ensure_many(&listed, &list, 2, false, |_| ()).await;
        assert_eq!(results.iter().map(actions).collect::<Vec<_>>(), expected);
        assert_eq!((listed.count(Call::List), listed.count(Call::LookUp)), (1, 0));

        let looked_up = team(Fake::new());
        let results = ensure_many(&looked_up, &list, 2, false, |_| ()).await;
        assert_eq!(results.iter().map(actions).collect::<Vec<_>>(), expected);
        assert_eq!((looked_up.count(Call::List), looked_up.count(Call::LookUp)), (1, 3));

        // The listing says how locked accounts are, too.
        let results =
            ensure_many(&team(Fake::new().listing()), &items(&["erin"], &list[0].wanted), 1, false, |_| ()).await;
        assert_eq!(actions(&results[0]), vec![Action::Unlock]);
    }

    #[tokio::test]
    async fn a_user_created_after_the_listing_is_looked_up_again() {
        let password = Secret::new(PASSWORD);
        let fake = Fake::new().listing().racing("alice", Stored::new("theirs", false));
        let results =
            ensure_many(&fake, &items(&["alice"], &want(&password, Some(true), OnCreate)), 1, false, |_| ()).await;
        let outcome = results[0].as_ref().unwrap();
        assert_eq!(outcome.plan.actions, vec![Action::SetAdmin(true)]);
        assert!(!outcome.created());
        assert_eq!(fake.count(Call::LookUp), 1);
        assert_eq!(fake.account("alice"), Some(Stored::new("theirs", true)));
    }

    #[tokio::test]
    async fn a_failed_listing_fails_every_account_and_asks_nothing_else() {
        let password = Secret::new(PASSWORD);
        let fake = team(Fake::new().listing()).failing(Call::List, None, refused("listing users"));
        let results =
            ensure_many(&fake, &items(&["alice", "bob"], &want(&password, None, OnCreate)), 2, false, |_| ()).await;
        assert_eq!(results, vec![Err(Error::Homeserver(refused("listing users"))); 2]);
        assert_eq!(fake.calls(), vec![(Call::List, String::new())]);
        assert_eq!(totals(&results).summary(false), "2 failed");
    }

    #[tokio::test]
    async fn check_mode_over_a_list_changes_nothing_and_reports_as_the_real_run() {
        let password = Secret::new(PASSWORD);
        let names = ["alice", "bob", "dave", "erin", "gina"];
        let build = || team(Fake::new()).with("gina", Stored::new("old-pw", true));
        let list = items(&names, &want(&password, Some(true), Always));

        let checked = build();
        let check = ensure_many(&checked, &list, 3, true, |_| ()).await;
        assert_eq!(checked.writes(), vec![]);
        let real = build();
        let done = ensure_many(&real, &list, 3, false, |_| ()).await;
        assert!(!real.writes().is_empty());
        for (i, (check, done)) in check.iter().zip(&done).enumerate() {
            match (check, done) {
                (Ok(check), Ok(done)) => {
                    assert_eq!(check.plan, done.plan, "{i}");
                    assert!(check.check_mode && !done.check_mode);
                }
                (Err(check), Err(done)) => assert_eq!(check, done, "{i}"),
                other => panic!("{i}: {other:?}"),
            }
        }
        assert_eq!(totals(&check), totals(&done));
        assert_eq!(totals(&done).summary(false), "1 created, 1 promoted, 2 password changed, 1 unlocked, 1 unchanged");
    }

    #[tokio::test]
    async fn each_result_is_seen_as_it_comes() {
        let password = Secret::new(PASSWORD);
        let fake = team(Fake::new()).failing(Call::Create, Some("carol"), refused("creating @carol:example.com"));
        let list = items(&["alice", "bob", "carol", "dave"], &want(&password, Some(true), OnCreate));
        let mut seen = Vec::new();
        let results = ensure_many(&fake, &list, 2, false, |result| seen.push(result.clone())).await;
        assert_eq!(seen, results);
    }

    #[tokio::test]
    async fn the_backend_is_told_how_many_passwords_will_be_checked() {
        let password = Secret::new(PASSWORD);
        let always = want(&password, None, Always);
        let on_create = want(&password, None, OnCreate);
        let mut list = items(&["alice", "bob", "carol"], &always);
        list.extend(items(&["dave"], &on_create));
        // A user to be locked checks no password, whatever update_password says.
        list.extend(items(&["erin"], &Wanted { state: AccountState::Locked, ..always.clone() }));
        let fake = Fake::new();
        ensure_many(&fake, &list, 2, false, |_| ()).await;
        assert_eq!(fake.expected_logins(), 3);
    }

    #[test]
    fn totals_count_what_a_failed_account_had_done() {
        let done = Outcome {
            user_id: user("john"),
            plan: crate::plan::Plan {
                actions: vec![Action::SetAdmin(false)],
                before: Default::default(),
                after: Default::default(),
                password_changes: Some(false),
                note: None,
            },
            check_mode: false,
            caveats: Vec::new(),
        };
        let mut totals = Totals::default();
        totals.add_failure(Some(&done));
        totals.add_failure(None);
        assert_eq!(totals, Totals { demoted: 1, failed: 2, ..Totals::default() });
        assert_eq!(Totals::default().summary(false), "no users");
    }
}
