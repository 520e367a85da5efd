//! Variant kanji folding for match keys (`髙`→`高`, `﨑`→`崎`, `邊`→`辺`).
//!
//! The built-in table is `rules/variant_kanji.tsv`; a rule file adds pairs
//! with `[dictionary.variant_kanji]`. Compatibility ideographs (U+F900–FAFF,
//! U+2F800–2FA1F) are first mapped to their unified ideograph by NFC, then the
//! table applies. Display values never go through this: it is for keys only.

use super::text;
use rustc_hash::FxHashMap;

const BUILTIN: &str = include_str!("../../rules/variant_kanji.tsv");

#[derive(Debug, Clone)]
pub struct VariantTable {
    map: FxHashMap<char, char>,
}

impl VariantTable {
    /// The built-in table plus `extra` pairs (variant, standard); extra pairs win.
    pub fn new(extra: &[(char, char)]) -> VariantTable {
        let mut map: FxHashMap<char, char> = builtin_pairs().collect();
        for (v, s) in extra {
            map.insert(text::unify_compat_ideograph(*v), *s);
        }
        VariantTable { map }
    }

    /// The standard form of one character.
    pub fn fold_char(&self, c: char) -> char {
        let c = text::unify_compat_ideograph(c);
        self.map.get(&c).copied().unwrap_or(c)
    }

    pub fn fold(&self, s: &str) -> String {
        s.chars().map(|c| self.fold_char(c)).collect()
    }
}

/// The pairs of `rules/variant_kanji.tsv`, (variant, standard), the variant
/// a unified ideograph.
pub fn builtin_pairs() -> impl Iterator<Item = (char, char)> {
    BUILTIN
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|line| {
            let mut cols = line.split('\t');
            let (v, s) = (single(cols.next()?)?, single(cols.next()?)?);
            Some((text::unify_compat_ideograph(v), s))
        })
}

fn single(s: &str) -> Option<char> {
    let mut it = s.chars();
    match (it.next(), it.next()) {
        (Some(c), None) => Some(c),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_builtin_and_extra_pairs() {
        let t = VariantTable::new(&[('𩸽', '魚')]);
        assert_eq!(t.fold("髙橋"), "高橋");
        assert_eq!(t.fold("山﨑"), "山崎");
        assert_eq!(t.fold("渡邊"), "渡辺");
        assert_eq!(t.fold("𩸽"), "魚");
        // 神 U+FA19 (compatibility) → 神 U+795E
        assert_eq!(t.fold("\u{FA19}"), "\u{795E}");
        assert_eq!(t.fold("佐藤"), "佐藤");
    }
}
