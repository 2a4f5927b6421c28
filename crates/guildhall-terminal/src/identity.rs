//! Who is at the keyboard: nobody in particular, or a signed-in account.

use guildhall_auth::api::TokenPair;
use guildhall_gamehost::UserName;

#[derive(Clone, Debug)]
pub(crate) enum Identity {
    Anonymous,
    Account(Account),
}

/// A signed-in account and its session with auth.
#[derive(Clone, Debug)]
pub(crate) struct Account {
    /// The account's username in its canonical form (RFC 8265 case-mapped), as typed
    /// names are compared.
    pub name: String,
    /// The name games know the player by: the username, or for a username games
    /// cannot take (they take ASCII letters, digits and `_`) a stable name derived
    /// from it ([`UserName::for_account`]).
    pub player: UserName,
    pub tokens: TokenPair,
}

impl Account {
    /// `login` is the name the user typed; auth accepted it, so it enforces cleanly.
    pub(crate) fn new(login: &str, tokens: TokenPair) -> Self {
        let name = guildhall_names::Username::parse(login)
            .map(|name| name.as_str().to_owned())
            .unwrap_or_else(|_| login.to_owned());
        let player = UserName::for_account(&name);
        Account {
            name,
            player,
            tokens,
        }
    }
}
