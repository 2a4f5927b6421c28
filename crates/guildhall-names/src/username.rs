//! Usernames: RFC 8265 UsernameCaseMapped plus length limits.

use std::fmt;
use std::ops::Deref;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::precis;
use crate::{MAX_INPUT_BYTES, NameError};

/// A username in its enforced (lowercased) form: equal usernames are equal strings, so
/// this is the form to store, index and look up.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String")]
pub struct Username(String);

impl Username {
    /// The fewest characters a username may have.
    pub const MIN_CHARS: usize = 3;
    /// The most characters a username may have.
    pub const MAX_CHARS: usize = 20;

    /// Enforces `input` (RFC 8265 `UsernameCaseMapped`) and checks the length.
    pub fn parse(input: &str) -> Result<Username, NameError> {
        if input.len() > MAX_INPUT_BYTES {
            return Err(NameError::TooLong {
                max: Self::MAX_CHARS,
            });
        }
        let enforced = precis::enforce_username_precis(input)?;
        let chars = enforced.chars().count();
        if chars < Self::MIN_CHARS {
            return Err(NameError::TooShort {
                min: Self::MIN_CHARS,
            });
        }
        if chars > Self::MAX_CHARS {
            return Err(NameError::TooLong {
                max: Self::MAX_CHARS,
            });
        }
        Ok(Username(enforced))
    }

    /// The enforced username.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The confusable skeleton, in the same space as display names' skeletons
    /// ([`crate::skeleton_key`]), so a display name imitating a username is caught too.
    pub fn skeleton_key(&self) -> String {
        crate::skeleton_key(&self.0)
    }

    /// The enforced username, by value.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl Deref for Username {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Username {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Username {
    type Err = NameError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Username::parse(s)
    }
}

impl TryFrom<String> for Username {
    type Error = NameError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        Username::parse(&s)
    }
}

impl From<Username> for String {
    fn from(name: Username) -> String {
        name.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(input: &str) -> String {
        match Username::parse(input) {
            Ok(name) => name.into_string(),
            Err(e) => panic!("{input:?} was rejected: {e}"),
        }
    }

    #[test]
    fn usernames_are_lowercased() {
        assert_eq!(ok("Alice"), "alice");
        assert_eq!(ok("ΟΔΟΣ"), "οδος");
        assert_eq!(ok("juliet"), "juliet");
    }

    #[test]
    fn fullwidth_is_mapped_to_halfwidth() {
        assert_eq!(ok("Ａｌｉｃｅ１２"), "alice12");
        // Halfwidth katakana is widened to the ordinary form.
        assert_eq!(ok("\u{FF76}\u{FF80}\u{FF76}\u{FF85}"), "カタカナ");
    }

    #[test]
    fn nfc_composes_accents() {
        assert_eq!(ok("Jose\u{0301}"), "jos\u{00E9}");
    }

    #[test]
    fn spaces_and_symbols_are_rejected() {
        for input in [
            "alice smith",
            " alice",
            "alice\u{3000}",
            "al\u{00A0}ice",
            "al♥ce",
            "ab\u{200B}cd",
        ] {
            assert!(
                matches!(Username::parse(input), Err(NameError::Disallowed { .. })),
                "{input:?}"
            );
        }
    }

    #[test]
    fn compatibility_characters_are_rejected_not_folded() {
        // IdentifierClass disallows characters with compatibility decompositions
        // (other than the width mapping), unlike the display-name profile.
        assert!(Username::parse("\u{FB01}sh").is_err());
        assert!(Username::parse("abc\u{2163}").is_err());
    }

    #[test]
    fn length_limits() {
        assert_eq!(Username::parse(""), Err(NameError::Empty));
        assert_eq!(Username::parse("ab"), Err(NameError::TooShort { min: 3 }));
        assert_eq!(ok("abc"), "abc");
        assert_eq!(ok(&"a".repeat(20)).len(), 20);
        assert_eq!(
            Username::parse(&"a".repeat(21)),
            Err(NameError::TooLong { max: 20 })
        );
        assert_eq!(
            Username::parse(&"a".repeat(10 * 1024 * 1024)),
            Err(NameError::TooLong { max: 20 })
        );
    }

    #[test]
    fn bidi_rule_applies_to_right_to_left_names() {
        assert_eq!(ok("שרה"), "שרה");
        // An RTL label may not start with a digit.
        assert!(Username::parse("1שרה").is_err());
        // Nor mix European and Arabic-Indic digits.
        assert!(Username::parse("\u{0645}1\u{0661}").is_err());
    }

    #[test]
    fn nonspacing_marks_inside_right_to_left_names_are_allowed() {
        // RFC 5893 rule 2 allows NSM anywhere in an RTL label; precis-profiles' own rule
        // only at the end, which would refuse every pointed or vowelled name.
        for input in ["שָׁלוֹם", "مُحَمَّد", "عَلِيّ"] {
            assert_eq!(ok(input), input);
        }
    }

    #[test]
    fn skeleton_matches_display_name_look_alike() {
        let user = Username::parse("Admin").unwrap();
        let display = crate::DisplayName::parse("\u{0410}dmin").unwrap();
        assert_eq!(user.skeleton_key(), display.skeleton_key());
    }

    #[test]
    fn serializes_as_a_string() {
        let user = Username::parse("Alice").unwrap();
        assert_eq!(serde_json::to_string(&user).unwrap(), "\"alice\"");
        assert!(serde_json::from_str::<Username>("\"a b\"").is_err());
    }
}
