//! A fixed corpus of names for the agreement test: the same on every run, aimed at every
//! rule the profiles have and at the places implementations usually differ.

use std::collections::HashSet;

use unicode_normalization::UnicodeNormalization;

#[derive(Default)]
struct Corpus {
    names: Vec<String>,
    seen: HashSet<String>,
}

impl Corpus {
    fn push(&mut self, name: impl Into<String>) {
        let name = name.into();
        if self.seen.insert(name.clone()) {
            self.names.push(name);
        }
    }

    fn extend<'a>(&mut self, names: impl IntoIterator<Item = &'a str>) {
        names.into_iter().for_each(|n| self.push(n));
    }
}

/// Builds the corpus. Deterministic: no clock, no OS randomness.
pub fn build() -> Vec<String> {
    let mut c = Corpus::default();
    rfc_examples(&mut c);
    spaces(&mut c);
    width_forms(&mut c);
    code_point_ranges(&mut c);
    context_rules(&mut c);
    composition_and_case(&mut c);
    bidi(&mut c);
    confusables(&mut c);
    long_names(&mut c);
    random_names(&mut c, 900);
    precis_i18n_vectors(&mut c);
    c.names
}

/// precis-i18n's own test inputs (`precis_i18n_golden_source.txt`, Python escapes).
fn precis_i18n_vectors(c: &mut Corpus) {
    let text = include_str!("precis_i18n_golden_source.txt");
    for line in text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        c.push(unescape_python(line));
    }
}

/// Decodes `\\`, `\t`, `\n`, `\r`, `\xHH`, `\uHHHH` and `\UHHHHHHHH`.
fn unescape_python(line: &str) -> String {
    let mut out = String::new();
    let mut chars = line.chars();
    while let Some(ch) = chars.next() {
        if ch != '\\' {
            out.push(ch);
            continue;
        }
        let hex = |chars: &mut std::str::Chars<'_>, n: usize| {
            let digits: String = chars.take(n).collect();
            char::from_u32(u32::from_str_radix(&digits, 16).expect("hex escape"))
                .expect("scalar value")
        };
        match chars.next() {
            Some('\\') => out.push('\\'),
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('x') => out.push(hex(&mut chars, 2)),
            Some('u') => out.push(hex(&mut chars, 4)),
            Some('U') => out.push(hex(&mut chars, 8)),
            other => panic!("unknown escape \\{other:?} in {line}"),
        }
    }
    out
}

#[rustfmt::skip]
fn rfc_examples(c: &mut Corpus) {
    // RFC 8265 section 3.5 and RFC 8266 section 4, plus neighbours of them.
    c.extend([
        "juliet@example.com", "fussball", "fußball", "π", "Σ", "σ", "ς", "foo bar", "",
        "henry\u{2163}", "\u{265A}", "Foo", "foo", "Foo Bar", "  Foo     Bar     ",
        "Richard \u{2163}", "\u{212B}", "\u{FB00}", "\u{01F3}", "\u{01F1}", "\u{00C5}", "Juliet",
        "JULIET", "juliet", "Guybrush Threepwood", "Stuart Foote", "ᾛ", "ᾓ", "I\u{00B7}J",
        "\u{03D4}", "\u{03D2}\u{0308}", "\u{1E9B}\u{0323}", "\u{0130}", "\u{2126}", "\u{212A}", "Ǆ",
        "ǅ", "ǆ",
    ]);
}

#[rustfmt::skip]
const NON_ASCII_SPACES: &[char] = &[
    '\u{00A0}', '\u{1680}', '\u{2000}', '\u{2001}', '\u{2002}', '\u{2003}', '\u{2004}', '\u{2005}',
    '\u{2006}', '\u{2007}', '\u{2008}', '\u{2009}', '\u{200A}', '\u{202F}', '\u{205F}', '\u{3000}',
];

#[rustfmt::skip]
fn spaces(c: &mut Corpus) {
    for &s in NON_ASCII_SPACES.iter().chain([' '].iter()) {
        c.push(format!("{s}"));
        c.push(format!("{s}Hello"));
        c.push(format!("Hello{s}"));
        c.push(format!("Hello{s}World"));
        c.push(format!("Hello{s}{s}World"));
        c.push(format!("{s} Hello {s}World{s} "));
        c.push(format!("a{s}b{s}c"));
    }
    c.extend([
        "\u{3000}Hello\u{00A0}\u{00A0}World ", "   ", " \u{00A0} ", "a  b", "a \u{2003} b",
        // Not Zs, so not spaces to PRECIS: tabs, line and paragraph separators.
        "a\tb", "a\u{2028}b", "a\u{2029}b", "\u{180E}ab", "a\u{200B}b",
    ]);
}

#[rustfmt::skip]
fn width_forms(c: &mut Corpus) {
    // Every fullwidth and halfwidth form, alone and inside a name.
    for cp in 0xFF00..=0xFFEF {
        if let Some(ch) = char::from_u32(cp) {
            c.push(format!("{ch}"));
            c.push(format!("ab{ch}cd"));
        }
    }
    c.extend([
        "Ａｄｍｉｎ", "ＡＤＭＩＮ", "ｊｕｌｉｅｔ", "Ｊｕｌｉｅｔ１２３", "ｶﾀｶﾅ", "ｶﾞｷﾞ", "ﾍﾟﾝ", "ｌ·ｌ", "Ｈｅｌｌｏ\u{3000}Ｗｏｒｌｄ",
        "\u{FFE3}", "\u{FFE0}\u{FFE1}",
    ]);
}

#[rustfmt::skip]
fn code_point_ranges(c: &mut Corpus) {
    // (first, last, step): every script, symbol block and oddity the rules single out.
    const RANGES: &[(u32, u32, u32)] = &[
        (0x0000, 0x001F, 1), (0x007F, 0x009F, 1), (0x00A0, 0x017F, 1), (0x0180, 0x024F, 5),
        (0x02B0, 0x02FF, 2), (0x0300, 0x036F, 1), (0x0370, 0x03FF, 1), (0x0400, 0x04FF, 2),
        (0x0530, 0x058F, 4), (0x0590, 0x05FF, 1), (0x0600, 0x06FF, 1), (0x0700, 0x074F, 5),
        (0x08A0, 0x08FF, 3), (0x0900, 0x097F, 2), (0x0E00, 0x0E5F, 3), (0x10A0, 0x10FF, 4),
        (0x1100, 0x11FF, 3), (0x13A0, 0x13FF, 3), (0x1680, 0x169F, 4), (0x1800, 0x18AF, 7),
        (0x1C80, 0x1CBF, 3), (0x1D00, 0x1DBF, 5), (0x1E00, 0x1EFF, 3), (0x1F00, 0x1FFF, 2),
        (0x2000, 0x206F, 1), (0x2070, 0x209F, 1), (0x20A0, 0x20C1, 2), (0x2100, 0x218F, 1),
        (0x2190, 0x23FF, 11), (0x2460, 0x24FF, 1), (0x2500, 0x25FF, 13), (0x2600, 0x27BF, 5),
        (0x2C60, 0x2C7F, 2), (0x2E80, 0x2FDF, 17), (0x3000, 0x30FF, 1), (0x3130, 0x318F, 1),
        (0x3190, 0x33FF, 3), (0x3400, 0x3410, 4), (0x4E00, 0x4E3F, 2), (0x9FA0, 0x9FFF, 5),
        (0xA640, 0xA69F, 4), (0xA700, 0xA7FF, 3), (0xAB30, 0xABBF, 3), (0xAC00, 0xAC1F, 3),
        (0xD7B0, 0xD7FF, 4), (0xE000, 0xE002, 1), (0xF900, 0xFAFF, 13), (0xFB00, 0xFB4F, 1),
        (0xFB50, 0xFDFF, 23), (0xFDD0, 0xFDEF, 8), (0xFDF0, 0xFDFF, 1), (0xFE00, 0xFE6F, 1),
        (0xFE70, 0xFEFF, 5), (0xFFF0, 0xFFFF, 1), (0x10000, 0x1007F, 16), (0x10400, 0x1044F, 5),
        (0x110B0, 0x110CF, 3), (0x13430, 0x1343F, 3), (0x1BCA0, 0x1BCA3, 1), (0x1CCD0, 0x1CCF9, 3),
        (0x1D100, 0x1D1FF, 9), (0x1D400, 0x1D7FF, 19), (0x1F000, 0x1F0FF, 29),
        (0x1F100, 0x1F1FF, 3), (0x1F200, 0x1F2FF, 7), (0x1F300, 0x1F64F, 5), (0x1F680, 0x1F6FF, 7),
        (0x1F900, 0x1F9FF, 7), (0x1FA70, 0x1FAFF, 11), (0x1FFFE, 0x1FFFF, 1), (0x20000, 0x2000F, 5),
        (0x2F800, 0x2F80F, 5), (0x30000, 0x30003, 1), (0xE0000, 0xE007F, 9), (0xE0100, 0xE0103, 1),
        (0xF0000, 0xF0001, 1), (0x10FFFD, 0x10FFFF, 1),
    ];
    for &(first, last, step) in RANGES {
        for cp in (first..=last).step_by(step as usize) {
            if let Some(ch) = char::from_u32(cp) {
                c.push(format!("{ch}"));
                c.push(format!("Ab{ch}cd"));
            }
        }
    }
}

#[rustfmt::skip]
fn context_rules(c: &mut Corpus) {
    c.extend([
        // MIDDLE DOT: only between two l.
        "l\u{00B7}l", "L\u{00B7}L", "l\u{00B7}", "\u{00B7}l", "a\u{00B7}b", "\u{00B7}",
        "ｌ\u{00B7}ｌ", "l\u{00B7}l\u{00B7}l", "Para\u{00B7}lel", "paral\u{00B7}lel",
        // Greek KERAIA: only before Greek.
        "\u{0375}\u{03B1}", "\u{0375}a", "\u{03B1}\u{0375}", "\u{0375}",
        // Hebrew GERESH and GERSHAYIM: only after Hebrew.
        "\u{05D0}\u{05F3}", "a\u{05F3}", "\u{05F3}", "\u{05D0}\u{05F4}", "a\u{05F4}b",
        // KATAKANA MIDDLE DOT: needs Hiragana, Katakana or Han somewhere.
        "ア\u{30FB}イ", "ab\u{30FB}cd", "\u{30FB}", "漢\u{30FB}a", "ab\u{FF65}cd",
        // Arabic-Indic and extended Arabic-Indic digits may not be mixed.
        "\u{0661}\u{0662}\u{0663}", "\u{06F1}\u{06F2}", "\u{0661}\u{06F2}", "\u{0628}\u{0661}",
        // ZERO WIDTH NON-JOINER and JOINER: after a virama, or between joining letters.
        "\u{0915}\u{094D}\u{200C}\u{0937}", "\u{0915}\u{094D}\u{200D}\u{0937}", "a\u{200C}b",
        "a\u{200D}b", "\u{200C}",
        "\u{0645}\u{06CC}\u{200C}\u{062E}\u{0648}\u{0627}\u{0647}\u{0645}",
        "\u{0628}\u{200C}\u{0627}", "\u{0627}\u{200C}\u{0628}", "\u{1F468}\u{200D}\u{1F469}",
        "\u{1F3F3}\u{FE0F}\u{200D}\u{1F308}", "\u{0BA8}\u{0BCD}\u{200C}",
        "\u{0D28}\u{0D4D}\u{200D}",
    ]);
}

#[rustfmt::skip]
fn composition_and_case(c: &mut Corpus) {
    const MARKS: &[char] = &[
        '\u{0300}', '\u{0301}', '\u{0302}', '\u{0303}', '\u{0308}', '\u{030A}', '\u{030C}',
        '\u{0327}', '\u{0323}', '\u{0345}',
    ];
    for base in "aeiouynAEIOUYNcCsSzZωΩиИ".chars() {
        for &mark in MARKS {
            let decomposed = format!("X{base}{mark}y");
            c.push(decomposed.nfc().collect::<String>());
            c.push(decomposed);
        }
    }
    c.extend([
        // Mark order and stacking (canonical reordering).
        "e\u{0323}\u{0302}", "e\u{0302}\u{0323}", "\u{1EC7}", "a\u{0301}\u{0301}", "\u{0301}abc",
        "\u{0301}", " \u{0301}x",
        // Old Hangul jamo: disallowed alone, composed into syllables by normalization.
        "\u{1100}\u{1161}", "\u{1100}\u{1161}\u{11A8}",
        "\u{1112}\u{1161}\u{11AB}\u{1100}\u{1173}\u{11AF}", "\u{1100}", "\u{1161}",
        "\u{3131}\u{314F}", "\u{AC00}\u{11A8}",
        // Special casing and final sigma.
        "\u{0130}stanbul", "\u{0130}I\u{0131}i", "STRASSE", "Stra\u{00DF}e", "\u{1E9E}", "\u{0149}",
        "\u{0390}", "\u{1FB3}\u{1FBC}", "ΟΔΟΣ", "ΟΔΟΣ ΟΔΟΣ", "ΣΣ", "ΑΣ", "ΑΣ Β", "Σ.", "ΑΣ\u{0308}",
        "ΑΣ\u{0308}Α", "A\u{03A3}", "Ὀδυσσεύς", "ΣΊΣΥΦΟΣ", "Ǳ\u{01F2}\u{01F3}", "ǈ", "ǋ",
        // NFKC that makes spaces, capitals, punctuation or several characters.
        "\u{00A8}", "\u{00A8}abc", "a\u{00A8}", "a\u{00A8}\u{00A8}b", "\u{02DC}x", "\u{00B4}",
        "x\u{FE49}", "\u{2474}", "\u{2474}a", "\u{33A1}", "\u{2122}", "\u{2122}x", "\u{2160}",
        "\u{00BD}", "\u{2A74}", "\u{FDFA}", "\u{FDFB}", "\u{2025}", "\u{1F130}", "\u{3250}",
        "\u{32FF}", "\u{33FF}", "\u{2100}", "x\u{2002}\u{00A8}", "\u{1D400}\u{1D41A}",
        "\u{2070}\u{00B9}\u{00B2}\u{00B3}\u{2074}", "H\u{2082}O", "\u{2460}\u{2461}\u{24EA}",
        "\u{FB01}", "\u{FB01}sh", "\u{FB03}\u{FB04}", "\u{01C4}ur", "\u{2126}mega",
        "\u{212B}ngstrom",
    ]);
}

#[rustfmt::skip]
fn bidi(c: &mut Corpus) {
    const RTL: &[&str] = &[
        "\u{05E9}\u{05E8}\u{05D4}", "\u{0645}\u{062D}\u{0645}\u{062F}",
    ];
    const AROUND: &[&str] = &[
        "1", "a", "-", ".", ",", "!", " ", "\u{0661}", "\u{06F1}", "\u{05BC}", "\u{0301}", "$",
        "%", "\u{0660}",
    ];
    for rtl in RTL {
        c.push(*rtl);
        for x in AROUND {
            c.push(format!("{x}{rtl}"));
            c.push(format!("{rtl}{x}"));
            c.push(format!("{rtl}{x}{rtl}"));
        }
    }
    c.extend([
        "abc\u{05D0}", "\u{05D0}abc", "\u{05D0}1\u{0661}", "\u{0627}1", "\u{0627}\u{0661}\u{06F1}",
        "\u{0627}\u{064E}", "\u{05D0}\u{05B7}", "\u{200F}\u{05D0}", "\u{202B}abc\u{202C}",
        "\u{202E}evil", "\u{2067}x\u{2069}", "\u{061C}\u{0627}",
        // Pointed Hebrew and vowelled Arabic: nonspacing marks inside RTL labels.
        "\u{05E9}\u{05C1}\u{05B8}\u{05DC}\u{05D5}\u{05B9}\u{05DD}",
        "\u{05D9}\u{05B0}\u{05E8}\u{05D5}\u{05BC}",
        "\u{0645}\u{064F}\u{062D}\u{064E}\u{0645}\u{0651}\u{064E}\u{062F}",
        "\u{0639}\u{064E}\u{0644}\u{0650}\u{064A}\u{0651}", "\u{05D0}.\u{05BC}\u{05D1}",
        "\u{05D0}1\u{05BC}", "a\u{0301}b\u{05D0}", "\u{0627}\u{064E}1",
    ]);
}

#[rustfmt::skip]
fn confusables(c: &mut Corpus) {
    c.extend([
        "admin", "Admin", "ADMIN", "\u{0410}dmin", "\u{0430}dmin", "adm\u{0456}n", "\u{0391}DMIN",
        "\u{0251}dmin", "adm1n", "adrnin", "\u{0430}\u{0501}min", "r\u{043E}\u{043E}t",
        "r\u{03BF}\u{03BF}t", "r00t", "\u{0455}\u{0443}stem", "m\u{03BF}d",
        "\u{1D5BA}\u{1D5BD}\u{1D5C6}\u{1D5C2}\u{1D5C7}",
        "\u{0440}\u{0430}\u{0443}\u{0440}\u{0430}l", "paypal", "g\u{043E}\u{043E}gle",
        "\u{13AA}\u{13B7}", "\u{FF41}\u{FF44}\u{FF4D}\u{FF49}\u{FF4E}", "\u{24D0}dmin",
        "\u{1D00}\u{1D05}\u{1D0D}\u{026A}\u{0274}",
    ]);
}

fn long_names(c: &mut Corpus) {
    for n in [
        1usize, 2, 3, 19, 20, 21, 31, 32, 33, 64, 100, 511, 512, 1024, 1025, 2000, 5000,
    ] {
        c.push("a".repeat(n));
        c.push("\u{00E9}".repeat(n));
        c.push("e\u{0301}".repeat(n));
        c.push("ab ".repeat(n));
        c.push(format!("  {}  ", "x".repeat(n)));
        c.push("\u{6F22}".repeat(n));
        c.push("\u{FF41}".repeat(n));
    }
    c.push("a\u{0301}".to_owned() + &"\u{0301}".repeat(300));
    c.push(" ".repeat(3000));
}

/// xorshift64*: a few lines, a fixed seed, the same names on every run and platform.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn random_names(c: &mut Corpus, count: usize) {
    let pool: Vec<char> = concat!(
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
        "     _-.!@#$%&*()[]{}'\"+=~^",
        "\u{00A0}\u{1680}\u{2000}\u{2003}\u{2009}\u{200A}\u{202F}\u{205F}\u{3000}",
        "\u{0300}\u{0301}\u{0308}\u{030A}\u{0327}\u{0323}\u{0345}\u{20DD}",
        "éÉñÑåÅøßçÇœŒıİ",
        "\u{0430}\u{0435}\u{043E}\u{0440}\u{0441}\u{0410}\u{0415}\u{041E}\u{0456}\u{0455}",
        "\u{03B1}\u{03BF}\u{03C1}\u{03A3}\u{03C3}\u{03C2}\u{0391}\u{039F}\u{0390}",
        "漢字中文日本語한국어ひらがなカタカナ\u{30FB}\u{1100}\u{1161}\u{11A8}",
        "\u{05D0}\u{05D1}\u{05E9}\u{05BC}\u{05F3}\u{0627}\u{0628}\u{0645}\u{064E}\u{0661}\u{06F1}",
        "\u{0915}\u{094D}\u{0937}\u{200C}\u{200D}",
        "😀😎🎮🐉❤\u{2764}\u{FE0F}♥♚★\u{1F970}\u{1F3FB}",
        "ＡＢａｂ０１！ｶﾞ\u{FF9E}\u{FFE3}",
        "\u{FB01}\u{FB00}\u{00B2}\u{00B9}\u{2074}\u{2460}\u{2474}\u{2163}\u{2122}\u{00BD}\u{00A8}\u{33A1}",
        "\u{00B7}lL\u{0375}\u{2126}\u{212B}",
        "\u{0000}\u{0007}\u{0009}\u{000A}\u{001B}\u{007F}\u{0085}\u{009F}",
        "\u{00AD}\u{200B}\u{200E}\u{200F}\u{202A}\u{202E}\u{2060}\u{2066}\u{FEFF}\u{E0041}",
        "\u{E000}\u{FFFD}\u{FDD0}\u{0378}\u{1CCD6}",
    )
    .chars()
    .collect();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut made = 0;
    while made < count {
        let len = rng.below(15);
        let name: String = (0..len).map(|_| pool[rng.below(pool.len())]).collect();
        if !c.seen.contains(&name) {
            made += 1;
        }
        c.push(name);
    }
}
