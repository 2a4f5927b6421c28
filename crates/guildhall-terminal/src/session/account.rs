//! The account forms: log in, register, change password, log out. Each goes through
//! auth, with its rules and rate limits; a refusal shows auth's own message.

use guildhall_auth::api::{Login, PasswordChange, Register};
use guildhall_core::ApiError;

use super::{App, MAX_EMAIL, MAX_PASSWORD, MAX_USERNAME, Step};
use crate::identity::{Account, Identity};
use crate::term::Term;

impl App {
    pub(super) async fn login(&mut self, term: &mut Term) -> Step {
        self.login_form(term).await.err().unwrap_or(Step::Stay)
    }

    async fn login_form(&mut self, term: &mut Term) -> Result<(), Step> {
        let intro = [" Log in (Esc to go back)."];
        let username = self
            .ask(term, &intro, " Username: ", MAX_USERNAME, false)
            .await?;
        if username.is_empty() {
            return Ok(());
        }
        let password = self
            .ask(term, &intro, " Password: ", MAX_PASSWORD, true)
            .await?;
        let login = Login {
            username: username.clone(),
            password,
        };
        match self.shared().auth.login(login, self.context.ip).await {
            Ok(tokens) => {
                let account = Account::new(&username, tokens);
                self.notice = Some(format!("Welcome back, {}.", account.name));
                self.identity = Identity::Account(account);
                metrics::counter!("terminal_logins_total", "via" => "menu").increment(1);
            }
            Err(error) => self.notice = Some(auth_notice(&error)),
        }
        Ok(())
    }

    pub(super) async fn register(&mut self, term: &mut Term) -> Step {
        self.register_form(term).await.err().unwrap_or(Step::Stay)
    }

    async fn register_form(&mut self, term: &mut Term) -> Result<(), Step> {
        let intro = [
            " Register (Esc to go back).",
            " Usernames: 3 to 20 characters; to play, ASCII letters, digits and _.",
        ];
        let username = self
            .ask(term, &intro, " Username: ", MAX_USERNAME, false)
            .await?;
        if username.is_empty() {
            return Ok(());
        }
        // Refused here with the reason, before the password is typed.
        if let Err(error) = guildhall_names::Username::parse(&username) {
            self.notice = Some(format!("That username cannot be used: {error}."));
            return Ok(());
        }
        let label = " Password (8 to 128 characters): ";
        let password = self.ask(term, &intro, label, MAX_PASSWORD, true).await?;
        let again = self
            .ask(term, &intro, " Password again: ", MAX_PASSWORD, true)
            .await?;
        if again != password {
            self.notice = Some("The passwords differ; nothing was registered.".into());
            return Ok(());
        }
        let email = self.ask(term, &intro, " Email: ", MAX_EMAIL, false).await?;
        let request = Register {
            username: username.clone(),
            password,
            email,
        };
        match self
            .shared()
            .auth
            .register(request, None, self.context.ip)
            .await
        {
            Ok(tokens) => {
                let account = Account::new(&username, tokens);
                self.notice = Some(format!("Welcome, {}: your account is ready.", account.name));
                self.identity = Identity::Account(account);
                metrics::counter!("terminal_registrations_total").increment(1);
            }
            Err(error) => self.notice = Some(auth_notice(&error)),
        }
        Ok(())
    }

    /// A fresh access token for an account call (access tokens live minutes; a
    /// session in a menu can be older). Rotates the refresh token.
    async fn fresh_tokens(&mut self) -> Result<String, ApiError> {
        let Identity::Account(account) = &mut self.identity else {
            return Err(ApiError::new(
                guildhall_core::ErrorCode::Unauthorized,
                "not logged in",
            ));
        };
        let tokens = self
            .context
            .shared
            .auth
            .refresh(account.tokens.refresh_token.clone(), self.context.ip)
            .await?;
        let access = tokens.session_token.clone();
        account.tokens = tokens;
        Ok(access)
    }

    pub(super) async fn change_password(&mut self, term: &mut Term) -> Step {
        self.password_form(term).await.err().unwrap_or(Step::Stay)
    }

    async fn password_form(&mut self, term: &mut Term) -> Result<(), Step> {
        let intro = [" Change password (Esc to go back)."];
        let current = self
            .ask(term, &intro, " Current password: ", MAX_PASSWORD, true)
            .await?;
        let new = self
            .ask(term, &intro, " New password: ", MAX_PASSWORD, true)
            .await?;
        let again = self
            .ask(term, &intro, " New password again: ", MAX_PASSWORD, true)
            .await?;
        if new != again {
            self.notice = Some("The new passwords differ; the password is unchanged.".into());
            return Ok(());
        }
        let changed = match self.fresh_tokens().await {
            Ok(access) => {
                let request = PasswordChange {
                    current_password: current,
                    new_password: new,
                };
                self.shared().auth.change_password(access, request).await
            }
            Err(error) => Err(error),
        };
        match changed {
            Ok(tokens) => {
                if let Identity::Account(account) = &mut self.identity {
                    account.tokens = tokens;
                }
                self.notice = Some("Password changed; your other sessions are logged out.".into());
            }
            Err(error) => self.notice = Some(auth_notice(&error)),
        }
        Ok(())
    }

    pub(super) async fn logout(&mut self) -> Step {
        if let Ok(access) = self.fresh_tokens().await {
            let _ = self.shared().auth.logout(access).await;
        }
        self.identity = Identity::Anonymous;
        self.notice = Some("Logged out.".into());
        Step::Stay
    }
}

/// What a player is told when auth refused: auth's own message (it never says which
/// of username or password was wrong).
fn auth_notice(error: &ApiError) -> String {
    match error.retry_after {
        Some(secs) => format!("{} Try again in {secs} s.", error.message),
        None => error.message.clone(),
    }
}
