//! Properties that must hold for every input, not only the examples we thought of.

use guildhall_names::{
    DisplayName, NameError, ReservedNames, Username, enforce_nickname_case_mapped,
    is_control_or_format, skeleton_key,
};
use proptest::prelude::*;

/// Characters where the rules do something: spaces of every kind, compatibility forms,
/// combining marks, case pairs with special mappings, joiners, bidi, controls.
fn tricky_char() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => proptest::char::range('a', 'z'),
        2 => proptest::char::range('A', 'Z'),
        2 => Just(' '),
        1 => prop::sample::select(vec![
            '\u{00A0}', '\u{1680}', '\u{2000}', '\u{2003}', '\u{200A}', '\u{202F}', '\u{205F}',
            '\u{3000}', '\u{0301}', '\u{0308}', '\u{0345}', '\u{00A8}', '\u{FB01}', '\u{2163}',
            '\u{00B2}', '\u{2474}', '\u{FF21}', '\u{FF41}', '\u{FF76}', '\u{FF9E}', '\u{0130}',
            '\u{0131}', '\u{00DF}', '\u{1E9E}', '\u{03A3}', '\u{03C2}', '\u{03F9}', '\u{01C5}',
            '\u{0410}', '\u{0430}', '\u{00B7}', '\u{0375}', '\u{05D0}', '\u{05BC}', '\u{0627}',
            '\u{0661}', '\u{06F1}', '\u{0915}', '\u{094D}', '\u{200C}', '\u{200D}', '\u{200B}',
            '\u{202E}', '\u{FEFF}', '\u{1100}', '\u{1161}', '\u{11A8}', '\u{30FB}', '\u{6F22}',
            '\u{1F600}', '\u{1F970}', '\u{0007}', '\u{0085}', '\u{13A0}', '\u{1CCD6}', '\u{E0041}',
        ]),
        1 => any::<char>(),
    ]
}

fn tricky_string() -> impl Strategy<Value = String> {
    prop::collection::vec(tricky_char(), 0..40).prop_map(|cs| cs.into_iter().collect())
}

fn any_input() -> impl Strategy<Value = String> {
    prop_oneof![3 => tricky_string(), 1 => any::<String>(), 1 => ".{0,1500}"]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn parsing_never_panics(input in any_input()) {
        let _ = DisplayName::parse(&input);
        let _ = Username::parse(&input);
        let _ = skeleton_key(&input);
        let _ = enforce_nickname_case_mapped(&input);
    }

    #[test]
    fn display_name_enforcement_is_idempotent(input in tricky_string()) {
        if let Ok(name) = DisplayName::parse(&input) {
            prop_assert_eq!(DisplayName::parse(name.as_str()), Ok(name.clone()));
            prop_assert_eq!(DisplayName::parse(name.as_str()).map(|n| n.comparison_key()), Ok(name.comparison_key()));
        }
    }

    #[test]
    fn username_enforcement_is_idempotent(input in tricky_string()) {
        if let Ok(name) = Username::parse(&input) {
            prop_assert_eq!(Username::parse(name.as_str()), Ok(name));
        }
    }

    #[test]
    fn accepted_names_are_within_bounds_and_visible(input in any_input()) {
        if let Ok(name) = DisplayName::parse(&input) {
            let n = name.chars().count();
            prop_assert!((1..=32).contains(&n), "{} chars", n);
            prop_assert!(!name.starts_with(' ') && !name.ends_with(' ') && !name.contains("  "));
            prop_assert!(!name.chars().any(is_control_or_format));
        }
        if let Ok(name) = Username::parse(&input) {
            let n = name.chars().count();
            prop_assert!((3..=20).contains(&n), "{} chars", n);
            prop_assert!(!name.contains(' '));
        }
    }

    #[test]
    fn rejections_name_the_right_limit(input in any_input()) {
        match DisplayName::parse(&input) {
            Err(NameError::TooLong { max }) => prop_assert_eq!(max, 32),
            Err(NameError::TooShort { .. }) => prop_assert!(false, "display names have no TooShort"),
            _ => {}
        }
        match Username::parse(&input) {
            Err(NameError::TooLong { max }) => prop_assert_eq!(max, 20),
            Err(NameError::TooShort { min }) => prop_assert_eq!(min, 3),
            _ => {}
        }
    }

    #[test]
    fn comparison_key_is_lowercase_stable(input in tricky_string()) {
        if let Ok(name) = DisplayName::parse(&input) {
            let key = name.comparison_key();
            prop_assert_eq!(enforce_nickname_case_mapped(&key), Ok(key.clone()));
            prop_assert_eq!(key.to_lowercase(), key);
        }
    }

    #[test]
    fn case_and_width_variants_share_key_and_skeleton(word in "[a-zA-Z]{1,20}") {
        let upper = DisplayName::parse(&word.to_uppercase()).unwrap();
        let lower = DisplayName::parse(&word.to_lowercase()).unwrap();
        let fullwidth: String = word
            .chars()
            .map(|c| char::from_u32(u32::from(c) - 0x21 + 0xFF01).unwrap())
            .collect();
        let fullwidth = DisplayName::parse(&fullwidth).unwrap();
        prop_assert_eq!(upper.comparison_key(), lower.comparison_key());
        prop_assert_eq!(fullwidth.as_str(), word.as_str());
        prop_assert_eq!(upper.skeleton_key(), lower.skeleton_key());
    }

    #[test]
    fn reserved_check_ignores_case_and_padding(pad in " {0,3}", upper in any::<bool>()) {
        let reserved = ReservedNames::with_defaults(&[]);
        let word = if upper { "MODERATOR" } else { "moderator" };
        let name = DisplayName::parse(&format!("{pad}{word}{pad}")).unwrap();
        prop_assert!(reserved.is_reserved(&name));
    }
}

#[test]
fn huge_input_is_refused_quickly() {
    let huge = "a".repeat(10 * 1024 * 1024);
    let start = std::time::Instant::now();
    assert_eq!(
        DisplayName::parse(&huge),
        Err(NameError::TooLong { max: 32 })
    );
    assert_eq!(Username::parse(&huge), Err(NameError::TooLong { max: 20 }));
    // The length check is O(1); anything near a second means normalization ran.
    assert!(
        start.elapsed() < std::time::Duration::from_millis(200),
        "{:?}",
        start.elapsed()
    );
}
