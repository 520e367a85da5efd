//! Address normalizer: a Japanese address as people write it → the canonical
//! display form of DESIGN.md ("Canonical forms"), with its parts and match key.
//!
//! ```text
//! 千代田区霞が関1-2-1霞が関ビル5F  →  東京都千代田区霞が関一丁目2-1 霞が関ビル5F
//! └city──┘└town─┘└lot┘└building┘      pref  city    town (official)  lot  building
//! ```
//!
//! What it understands:
//! - bracketed notes before the address (`(前期)長野県…`, `【本社】…`) and a
//!   postal code in front of it (`〒100-0013 …`), set aside into the `note`
//!   part and the postal hint;
//! - a prefecture, or none (completed from the city, or from a postal code
//!   given beside the address or written in front of it);
//! - a city with or without its 郡 (`ニセコ町` → `虻田郡ニセコ町`), a ward of a
//!   designated city with or without its city (`上京区…` → `京都府京都市上京区…`),
//!   in any of the variant spellings of `rules/address_variants.tsv`
//!   (`鯵ヶ沢`/`鰺ケ沢`, `龍ヶ崎`/`龍ケ崎`, old kanji forms) and with variation
//!   selectors;
//! - a name several cities share (`北区`, `中央区`, `府中市`): settled by the
//!   prefecture, else by the whole town that follows when exactly one of them
//!   has it (`北区紫野大徳寺町88` is Kyoto's, `中央区北2条西23丁目` Sapporo's),
//!   else by an exact official spelling (`鹿島市` is Saga's, `鹿嶋市`
//!   Ibaraki's), else by the postal code; otherwise `ambiguous_city`, never a
//!   guess. "The whole town" means the town is followed by the lot, a space,
//!   a building or the end: part of a town name settles nothing;
//! - a designated city without its ward (`横浜市日本大通1` → `横浜市中区…`)
//!   on the same terms;
//! - a town matched against the registry's towns of that city with the same
//!   tolerance, 大字/字/小字 omitted or written, 丁目 and 条 numbers in kanji,
//!   Arabic or full-width digits, or as the first number of `1-2-3`
//!   (Sapporo's `東茨戸1-2-314` is `東茨戸一条二丁目314`), numbers that are
//!   part of the name (`第1地割`, `第1号`, `2線`); the longest name wins
//!   (`鴨居町` over `鴨居`); a 小字 the registry lists straight under the
//!   city (`秩父別町字秩父別`) only when no 大字 fits;
//! - Kyoto's streets and directions (`寺町通御池上る`, `四条通烏丸東入`,
//!   `2筋目`, with `5丁目` inside) before the town, after it, or in brackets
//!   after the lot: moved to the `street` part; the display value writes the
//!   town as the registry does, without them (the raw value keeps them);
//! - the lot: `2番1号`, `1798番地1`, `1の2`, `1之2`, `1丿2`, `1-2-3`, kanji
//!   numerals (`一の三`, `九十五`) → `N-N[-N]`, with any 小字 written before it
//!   (`字平山14番地1`) kept as written;
//! - a building or room after the lot, with or without a space, including one
//!   whose name starts with a number (`5-1番館`, `2号棟`).
//!
//! Parts: `prefecture`, `city`, `town` (official, in the chosen 丁目 style),
//! `street` (Kyoto only), `lot` (小字 + numbers), `building`, `note`
//! (bracketed notes before the address or between the town and the lot). The
//! match key is prefecture + city + official town + lot through
//! [`address_key`] (variant kanji folded), without spaces; it leaves out the
//! street, the building, the notes and the 丁目 style, so every notation of
//! one place gets one key.
//!
//! Where the master has a town both with and without 丁目 (`下多良` and
//! `下多良一丁目`), `下多良1-1` is read as the town without 丁目 and lot `1-1`;
//! only a third number (`下多良1-1-1`) or a written `丁目` makes it a 丁目.
//! Where the town without 丁目 needs a 大字 the input left out (`浅木1-16`,
//! official `大字浅木` and `浅木一丁目`), the 丁目 reading wins.
//!
//! What it deliberately does not do: guess. A town that is not in the master
//! is kept as written (`unknown_town`); a name that several cities share is
//! not completed unless the town, the spelling or a postal code decides
//! (`ambiguous_city`). Numerals inside town, 小字 and building names are never
//! converted; only the 丁目/条 of a town the master writes that way and the
//! lot numbers are. `tests/properties.rs` (`address_completion`) checks that
//! leaving out the prefecture, or the prefecture and the city, never gives
//! another place.
//!
//! Speed: the town index of a city is built the first time that city is seen
//! and kept; a lookup then touches only the towns sharing the first character
//! (`cargo bench --bench normalizers` times one address; figures in
//! `benches/RESULTS.md`).

use super::IssueKind;
use super::{text, Normalized};
use crate::master::{address_key, key_char, master, City, Town, TownSource};
use crate::normalize::postal;
use crate::rules::{AddressOptions, ChomeStyle};
use rustc_hash::FxHashMap;
use std::sync::OnceLock;

/// Normalize an address. See the module docs.
pub fn normalize(raw: &str, opts: &AddressOptions) -> Normalized {
    normalize_with_postal(raw, None, opts)
}

/// Normalize an address, using its postal code (when known) to complete a
/// missing prefecture or city and to decide between same-named cities.
pub fn normalize_with_postal(
    raw: &str,
    postal_code: Option<&str>,
    opts: &AddressOptions,
) -> Normalized {
    let folded = text::fold(raw);
    if folded.is_empty() {
        return Normalized::empty();
    }
    let (notes, written_code, body) = split_head(&folded);
    let hint = postal_code
        .map(postal::lookup)
        .filter(|rows| !rows.is_empty())
        .or_else(|| written_code.map(postal::lookup))
        .and_then(|rows| rows.first())
        .map(|e| (e.prefecture, e.city));
    let input = Input::new(body);
    parse(&input, hint, notes, opts)
}

/// The folded input as chars, beside their address keys (one key per char, so
/// an index into one is an index into the other).
struct Input {
    chars: Vec<char>,
    keys: Vec<char>,
}

impl Input {
    fn new(s: &str) -> Input {
        let chars: Vec<char> = s.chars().collect();
        let keys = chars.iter().map(|&c| key_char(c)).collect();
        Input { chars, keys }
    }

    fn text(&self, from: usize, to: usize) -> String {
        self.chars[from..to].iter().collect()
    }

    /// Does the input at `at` spell `name` (compared on keys)?
    fn has(&self, at: usize, name: &str) -> Option<usize> {
        let mut i = at;
        for c in name.chars() {
            // Same character: no need to fold (the common case, and the
            // cheap way to reject most names at their first character).
            let same = self.chars.get(i) == Some(&c);
            if !same && self.keys.get(i) != Some(&key_char(c)) {
                return None;
            }
            i += 1;
        }
        Some(i)
    }

    /// Does the input at `at` spell `key`, a name already turned into an address key?
    fn has_key(&self, at: usize, key: &str) -> Option<usize> {
        let mut i = at;
        for k in key.chars() {
            if self.keys.get(i) != Some(&k) {
                return None;
            }
            i += 1;
        }
        Some(i)
    }

    fn skip_spaces(&self, mut at: usize) -> usize {
        while self.chars.get(at) == Some(&' ') {
            at += 1;
        }
        at
    }
}

/// What comes before the address proper: notes in brackets (`(前期)`,
/// `【本社】`) and a postal code (`〒100-0013`), in either order. Returns
/// the notes (joined by a space), the code and the address.
fn split_head(folded: &str) -> (String, Option<&str>, &str) {
    let mut notes: Vec<&str> = Vec::new();
    let mut code = None;
    let mut rest = folded.trim_start();
    loop {
        if let Some(len) = bracket_len(rest.chars()) {
            let bytes = rest.char_indices().nth(len).map_or(rest.len(), |(b, _)| b);
            let after = rest[bytes..].trim_start();
            if !after.is_empty() {
                notes.push(&rest[..bytes]);
                rest = after;
                continue;
            }
        }
        if code.is_none() {
            if let (Some(c), after) = split_leading_postal_code(rest) {
                code = Some(c);
                rest = after;
                continue;
            }
        }
        break;
    }
    (notes.join(" "), code, rest)
}

/// Brackets that enclose notes, after [`text::fold`] (which makes `（` `(`).
const BRACKETS: [(char, char); 8] = [
    ('(', ')'),
    ('[', ']'),
    ('【', '】'),
    ('〔', '〕'),
    ('「', '」'),
    ('〈', '〉'),
    ('《', '》'),
    ('<', '>'),
];

/// A note longer than this is not a note but the address in brackets.
const MAX_NOTE_CHARS: usize = 40;

/// The length in chars of the bracketed note `chars` starts with, closing
/// bracket included; `None` when it does not start with one, or the bracket
/// is not closed within [`MAX_NOTE_CHARS`].
fn bracket_len(chars: impl IntoIterator<Item = char>) -> Option<usize> {
    let mut chars = chars.into_iter();
    let first = chars.next()?;
    let &(_, close) = BRACKETS.iter().find(|(open, _)| *open == first)?;
    let at = chars.take(MAX_NOTE_CHARS - 1).position(|c| c == close)?;
    Some(at + 2)
}

/// `〒100-0013 東京都…` or `100-0013 東京都…`: the code, and the address after it.
fn split_leading_postal_code(folded: &str) -> (Option<&str>, &str) {
    let s = folded.trim_start_matches(['〒', ' ']);
    let digits_then_dash = s.len() > 8
        && s.as_bytes()[..3].iter().all(u8::is_ascii_digit)
        && s.as_bytes()[3] == b'-'
        && s.as_bytes()[4..8].iter().all(u8::is_ascii_digit);
    if digits_then_dash && !s.as_bytes()[8].is_ascii_digit() {
        return (Some(&s[..8]), s[8..].trim_start());
    }
    // Seven digits with no dash only count after a 〒: a bare number in front
    // of an address is more likely a lot or a customer number.
    let seven = s.len() > 7
        && s.as_bytes()[..7].iter().all(u8::is_ascii_digit)
        && !s.as_bytes()[7].is_ascii_digit();
    if seven && folded.starts_with('〒') {
        return (Some(&s[..7]), s[7..].trim_start());
    }
    (None, folded)
}

enum CityFound {
    One(&'static City, usize),
    /// Several cities the address could name, all ending at the same place.
    Ambiguous(Vec<&'static City>, usize),
    None,
}

/// An address in four steps — prefecture, city, town, lot and building —
/// each from what is written, a postal code (`hint`: its prefecture and
/// city) filling only what is not.
/// `notes`: what [`split_head`] set aside, kept in the `note` part.
fn parse(
    input: &Input,
    hint: Option<(&str, &str)>,
    notes: String,
    opts: &AddressOptions,
) -> Normalized {
    let mut n = Normalized::default();
    let mut notes: Vec<String> = [notes].into_iter().filter(|s| !s.is_empty()).collect();

    // 1. Prefecture, as written.
    let (prefecture, mut pos) = written_prefecture(input);

    // 2. City, as written, else from the postal code.
    let hint_prefecture = prefecture.or(hint.map(|h| h.0));
    // Whether the city is the postal code's alone (nothing written named it).
    let mut city_from_postal = false;
    let city = match written_city(input, pos, prefecture, hint) {
        CityFound::One(c, end) => {
            pos = input.skip_spaces(end);
            Some(c)
        }
        CityFound::Ambiguous(cities, _) => {
            let names: Vec<String> = cities
                .iter()
                .map(|c| format!("{}{}", c.prefecture, c.name))
                .collect();
            n.issue(
                IssueKind::AmbiguousCity,
                format!(
                    "the address could be in any of {}; add the city or the prefecture",
                    names.join(", ")
                ),
            );
            return keep_as_written(n, input, "", "", &notes);
        }
        CityFound::None => match ward_by_town(input, pos, hint_prefecture, hint) {
            Some((c, end)) => {
                pos = end;
                Some(c)
            }
            None => {
                city_from_postal = true;
                hint.filter(|h| prefecture.is_none_or(|p| p == h.0))
                    .and_then(|(p, c)| master().city(p, c))
            }
        },
    };
    let Some(city) = city else {
        let pref = prefecture.unwrap_or("");
        if prefecture.is_none() {
            n.issue(IssueKind::UnknownPrefecture, "no prefecture found");
        }
        n.issue(IssueKind::UnknownCity, "no city found in the master");
        n.push_part("prefecture", pref);
        return keep_as_written(n, input, pref, &input.text(pos, input.chars.len()), &notes);
    };
    if let Some((hp, hc)) = hint {
        if postal_disagrees(city, hp, hc) {
            n.issue(
                IssueKind::PostalCodeMismatch,
                format!(
                    "the postal code is for {hp}{hc}, the address is in {}{}",
                    city.prefecture, city.name
                ),
            );
        }
    }
    let prefecture = city.prefecture;
    n.push_part("prefecture", prefecture);
    n.push_part("city", city.name);
    let head = format!("{prefecture}{}", city.name);

    // 3. Town, with Kyoto's streets before or after it.
    let Some(found) = written_town(input, pos, city) else {
        let rest = input.text(pos, input.chars.len());
        if city_from_postal && !rest.is_empty() {
            // Only a town of the postal code's city would confirm that city;
            // without one, putting it in front of what is written would be a
            // guess (`富山岩市瀬福来町` is no town of 富山市: a misspelt city,
            // not a missing one). Keep the address as written.
            n.parts.clear();
            let written = written_prefecture(input).0.unwrap_or("");
            n.push_part("prefecture", written);
            n.issue(
                IssueKind::UnknownCity,
                format!(
                    "no city found in the master; `{rest}` is no town of the postal code's {prefecture}{}",
                    city.name
                ),
            );
            return keep_as_written(n, input, written, &rest, &notes);
        }
        if !rest.is_empty() {
            n.issue(
                IssueKind::UnknownTown,
                format!("`{rest}` is not a town of {prefecture}{}", city.name),
            );
        }
        return keep_as_written(n, input, &head, &rest, &notes);
    };
    let town_display = match opts.chome {
        ChomeStyle::Kanji => format!("{}{}", found.kept_prefix, found.town),
        ChomeStyle::Arabic => format!("{}{}", found.kept_prefix, chome_in_arabic(found.town)),
    };

    // 4. Lot and building; a note in brackets between town and lot
    // (`八坂(旧八坂村)1090`) is set aside.
    let mut lot_start = found.end;
    loop {
        let at = input.skip_spaces(lot_start);
        let Some(len) = bracket_len(input.chars[at..].iter().copied()) else {
            break;
        };
        let after = input.skip_spaces(at + len);
        if !starts_lot_number(&input.chars, after, At::Start) {
            break;
        }
        notes.push(input.text(at, at + len));
        lot_start = after;
    }
    let mut lot = split_lot(&input.chars[lot_start..]);
    let mut street = found.street;
    if city.name.starts_with("京都市") && street.is_empty() {
        // `紫野宮西町19-1(堀川通鞍馬口上ル)`: the street in brackets after
        // the lot is no building.
        let b: Vec<char> = lot.building.chars().collect();
        if bracket_len(b.iter().copied()) == Some(b.len()) && b.len() > 2 {
            let inner: String = b[1..b.len() - 1].iter().collect();
            let written = Input::new(&inner);
            if kyoto_street_end(&written, 0) == Some(written.chars.len()) {
                street = inner;
                lot.building.clear();
            }
        }
    }
    n.push_part("street", street.as_str());
    n.push_part("town", town_display.as_str());
    n.push_part("lot", lot.lot.as_str());
    n.push_part("building", lot.building.as_str());
    n.push_part("note", notes.join(" "));

    let mut value = format!("{head}{town_display}{}", lot.lot);
    if !lot.building.is_empty() {
        value.push(' ');
        value.push_str(&lot.building);
    }
    // The key leaves out the street (the town and lot already say where) and
    // the building (written too freely to compare exactly).
    let key = address_key(&format!("{head}{}{}", found.town, lot.lot));
    n.key = Some(text::without_spaces(&key));
    n.value = Some(value);
    n
}

/// The prefecture the address starts with, and where what follows starts.
/// `東京千代田区…`, `大阪 大阪市…`: a prefecture without 都/府/県 counts only
/// when one of its cities follows, so `京都市…` is not read as 京都(府) +
/// `市…`.
fn written_prefecture(input: &Input) -> (Option<&'static str>, usize) {
    let m = master();
    for p in m.prefectures() {
        if let Some(end) = input.has_key(0, &p.key) {
            return (Some(p.name), input.skip_spaces(end));
        }
    }
    for p in m.prefectures() {
        let Some(short) = p.key.strip_suffix(['都', '府', '県']) else {
            continue;
        };
        if let Some(end) = input.has_key(0, short) {
            let at = input.skip_spaces(end);
            if matches!(find_city(input, at, Some(p.name)), CityFound::One(..)) {
                return (Some(p.name), at);
            }
        }
    }
    (None, 0)
}

/// The city written at `pos`, in the written prefecture when there is one.
///
/// A name several cities answer to (`府中市`; a ward name such as `北区`,
/// which Tokyo and eleven designated cities have) is settled by the town
/// that follows when exactly one of them has it; among several with the
/// town, by an exact spelling (`鹿島市` is Saga's, `鹿嶋市` Ibaraki's) or by
/// the postal code. Otherwise it stays ambiguous: nothing is guessed. A
/// postal code can be stale or mistyped, so it never outweighs a town the
/// address writes out: `北区滝野川` is Tokyo's 北区 whatever the code says.
fn written_city(
    input: &Input,
    pos: usize,
    prefecture: Option<&'static str>,
    hint: Option<(&str, &str)>,
) -> CityFound {
    let mut found = find_city(input, pos, prefecture);
    if matches!(found, CityFound::None) {
        // Japan Post writes two Tokyo island towns after their island, as if
        // it were a 郡: `八丈島八丈町`, `三宅島三宅村`.
        if let Some(island_end) = (pos + 2..pos + 5).find(|&e| input.keys.get(e - 1) == Some(&'島'))
        {
            if let CityFound::One(c, end) = find_city(input, island_end, prefecture) {
                if c.prefecture == "東京都" {
                    found = CityFound::One(c, end);
                }
            }
        }
    }
    let CityFound::Ambiguous(cities, end) = found else {
        return found;
    };
    let written = input.text(pos, end);
    let settle = |among: Vec<&'static City>| -> CityFound {
        if let [one] = among.as_slice() {
            return CityFound::One(one, end);
        }
        let exact: Vec<&&City> = among
            .iter()
            .filter(|c| c.name == written || c.short_name == written)
            .collect();
        if let [one] = exact.as_slice() {
            return CityFound::One(one, end);
        }
        if let Some((hp, hc)) = hint {
            let agreeing: Vec<&&City> = among
                .iter()
                .filter(|c| !postal_disagrees(c, hp, hc))
                .collect();
            if let [one] = agreeing.as_slice() {
                return CityFound::One(one, end);
            }
        }
        CityFound::Ambiguous(among, end)
    };
    let with_town: Vec<&'static City> = cities
        .iter()
        .copied()
        .filter(|c| town_settles(input, input.skip_spaces(end), c))
        .collect();
    if with_town.is_empty() {
        settle(cities)
    } else {
        settle(with_town)
    }
}

/// A town of the city, found in the address.
struct TownFound {
    /// The official name.
    town: &'static str,
    /// Where the town ends in the input.
    end: usize,
    /// 大字/字 as the official name writes it, when the input had one.
    kept_prefix: &'static str,
    /// Kyoto's street directions before the town (`烏丸通今出川上る`).
    street: String,
}

/// The town written at `pos`, with Kyoto's streets before or after it
/// (`寺町通御池上る上本能寺前町`, `東裏辻町釜座通下立売下る`); a lot number
/// alone where the master says part of the city has no town names.
fn written_town(input: &Input, pos: usize, city: &'static City) -> Option<TownFound> {
    let towns = city_towns(city);
    let found = |(town, end, kept_prefix), street| TownFound {
        town,
        end,
        kept_prefix,
        street,
    };
    let kyoto = city.name.starts_with("京都市");
    if kyoto {
        if let Some(after) = kyoto_street_end(input, pos) {
            let mut at = input.skip_spaces(after);
            // `…七条下る5丁目下池田町`: a 丁目 counted along the street
            // belongs to the street when a town follows it.
            for _ in 0..2 {
                if let Some(t) = towns.find(input, at) {
                    let street = input.text(pos, at).trim_end().to_string();
                    return Some(found(t, street));
                }
                match street_chome_end(input, at) {
                    Some(e) => at = input.skip_spaces(e),
                    None => break,
                }
            }
        }
    }
    if let Some(t) = towns.find(input, pos) {
        // In Kyoto a name followed by 通 or 筋 is a street (`寺町通`), not the town.
        let street_name = kyoto && matches!(input.chars.get(t.1), Some('通' | '筋'));
        if !street_name {
            if kyoto {
                let at = input.skip_spaces(t.1);
                if let Some(e) = kyoto_street_end(input, at) {
                    return Some(found((t.0, e, t.2), input.text(at, e)));
                }
            }
            return Some(found(t, String::new()));
        }
    }
    if kyoto {
        // Streets without a direction (`高辻通堀川富永町692`): the town is the
        // first one that runs up to the lot number, after a street (`…通`,
        // `…筋`): without one, `新大黒町5` would be read as 新 + `大黒町`, a
        // guess.
        let mut at = pos + 1;
        while at < input.chars.len() && !input.chars[at].is_ascii_digit() {
            let after_street = input.chars[pos..at].iter().any(|&c| c == '通' || c == '筋');
            if let Some((t, end, kept)) = towns.find(input, at).filter(|_| after_street) {
                if matches!(input.chars.get(end), None | Some(' '))
                    || starts_lot_number(&input.chars, end, At::Start)
                {
                    return Some(found((t, end, kept), input.text(pos, at)));
                }
            }
            at += 1;
        }
    }
    if towns.lots_without_town && input.chars.get(pos).is_some_and(|c| c.is_ascii_digit()) {
        // `南箕輪村3930`: the master says part of the city has no town name.
        return Some(found(("", pos, ""), String::new()));
    }
    None
}

/// Is a town of `city` written at `pos`, whole? Settling which city an
/// address means needs more than a town name's start (`東` of `東雲町`): what
/// follows the town must be the end, a space, a lot number, a 字, a note or a
/// building.
fn town_settles(input: &Input, pos: usize, city: &'static City) -> bool {
    let Some(found) = written_town(input, pos, city) else {
        return false;
    };
    if found.town.is_empty() {
        // `南箕輪村3930`, lots without a town: no town to settle anything.
        return false;
    }
    let at = found.end;
    match input.chars.get(at) {
        None | Some(' ' | '字') => true,
        Some(&c) if is_lot_joiner(c) => {
            c == '-' || input.chars.get(at + 1).is_some_and(char::is_ascii_digit)
        }
        Some(&c) if c.is_ascii_digit() => place_number_end(&input.chars, at).is_none(),
        Some(_) if starts_lot_number(&input.chars, at, At::Start) => {
            // A lot in kanji (`一の三`, `二番一号`) must be all there is:
            // `二番町`, `九号北` are more town, and `一番1-2` (kanji, then
            // digits) is more likely a name the master lacks than a lot.
            let lot = split_lot(&input.chars[at..]);
            let mut word = input.chars[at..].iter().take_while(|&&c| c != ' ');
            !lot.lot.is_empty()
                && lot.lot.chars().all(|c| c.is_ascii_digit() || c == '-')
                && (lot.building.is_empty() || input.chars[at..].contains(&' '))
                && !word.any(char::is_ascii_digit)
        }
        Some(_) => {
            names_building(&input.chars, at)
                || bracket_len(input.chars[at..].iter().copied()).is_some()
        }
    }
}

/// The result when the address cannot be fully understood: `head` (what was
/// understood) followed by `rest` as written.
fn keep_as_written(
    mut n: Normalized,
    input: &Input,
    head: &str,
    rest: &str,
    notes: &[String],
) -> Normalized {
    n.push_part("note", notes.join(" "));
    let value = if head.is_empty() && rest.is_empty() {
        input.text(0, input.chars.len())
    } else {
        format!("{head}{rest}")
    };
    n.key = Some(text::without_spaces(&address_key(&value)));
    n.value = Some(value);
    n
}

/// Does the postal code's place (`prefecture`, `city` as the postal master
/// writes it) name another city than the address? Names are compared as
/// address keys (`龍ケ崎市` is `龍ヶ崎市`); a designated city and its ward
/// (`札幌市` / `札幌市中央区`) agree, and so does a city with or without its 郡.
fn postal_disagrees(found: &City, prefecture: &str, city: &str) -> bool {
    if found.prefecture != prefecture {
        return true;
    }
    if let Some(c) = master().city(prefecture, city) {
        if c.id == found.id {
            return false;
        }
    }
    let related = |a: &str, b: &str| {
        let (a, b) = (address_key(a), address_key(b));
        a.starts_with(&b) || b.starts_with(&a) || a.ends_with(&b) || b.ends_with(&a)
    };
    // A ward's short name (`北区`) is shared: only a 郡-less name counts.
    !related(found.name, city) && (found.is_ward() || !related(found.short_name, city))
}

fn find_city(input: &Input, pos: usize, prefecture: Option<&str>) -> CityFound {
    let m = master();
    let available = input.keys.len().saturating_sub(pos);
    let longest = m.max_city_chars().min(available);
    // The keys of the longest window, and where each character ends in it.
    let mut window = String::new();
    let mut ends = Vec::with_capacity(longest + 1);
    ends.push(0);
    for &k in &input.keys[pos..pos + longest] {
        window.push(k);
        ends.push(window.len());
    }
    // Longest first: `名古屋市中川区` must not stop at a shorter name.
    for len in (2..=longest).rev() {
        if !m.city_key_ends_with(input.keys[pos + len - 1]) {
            continue;
        }
        let cities = m.find_cities_by_key(&window[..ends[len]], prefecture);
        match cities.as_slice() {
            [] => continue,
            [one] => return CityFound::One(one, pos + len),
            many => {
                // Same key in several prefectures: an exact spelling decides
                // (`鹿島市` is Saga's, `鹿嶋市` Ibaraki's), nothing else does.
                let written = input.text(pos, pos + len);
                let exact: Vec<&&City> = many
                    .iter()
                    .filter(|c| c.name == written || c.short_name == written)
                    .collect();
                if let [one] = exact.as_slice() {
                    return CityFound::One(one, pos + len);
                }
                return CityFound::Ambiguous(cities, pos + len);
            }
        }
    }
    CityFound::None
}

/// A designated city written without its ward (`横浜市日本大通1`,
/// `大阪市梅田3-1-3`): the ward is the one whose town list has the town that
/// follows — or the postal code's ward, when it is one of the city's — and
/// only when exactly one ward qualifies; otherwise nothing is guessed.
/// Returns the ward and where its town starts.
fn ward_by_town(
    input: &Input,
    pos: usize,
    prefecture: Option<&str>,
    hint: Option<(&str, &str)>,
) -> Option<(&'static City, usize)> {
    let m = master();
    let end = (pos + 6).min(input.keys.len());
    let shi = (pos + 1..end).find(|&i| input.keys[i] == '市')?;
    let city_key: String = input.keys[pos..=shi].iter().collect();
    let after = input.skip_spaces(shi + 1);
    let wards = m.wards_of(&city_key, prefecture);
    if wards.is_empty() {
        return None;
    }
    if let Some((hp, hc)) = hint {
        if let Some(w) = wards.iter().find(|w| w.prefecture == hp && w.name == hc) {
            return Some((w, after));
        }
    }
    let mut with_town = wards.iter().filter(|w| town_settles(input, after, w));
    match (with_town.next(), with_town.next()) {
        (Some(w), None) => Some((w, after)),
        _ => None,
    }
}

/// Kyoto writes streets and the directions from their crossing:
/// `寺町通御池上る` (up from 御池 along 寺町通), `四条通烏丸東入`,
/// `松原通烏丸西入2筋目下る`. The end of the last direction at or after
/// `pos`, before any lot number or space.
fn kyoto_street_end(input: &Input, pos: usize) -> Option<usize> {
    const DIRECTIONS: [&str; 12] = [
        "上る",
        "下る",
        "上ル",
        "下ル",
        "上がる",
        "下がる",
        "上ガル",
        "下ガル",
        "東入",
        "西入",
        "北入",
        "南入",
    ];
    let mut end = None;
    let mut i = pos;
    while i < input.chars.len() {
        if let Some(e) = DIRECTIONS.iter().find_map(|d| input.has(i, d)) {
            let mut e = e;
            if matches!(input.chars.get(e), Some('る' | 'ル')) {
                e += 1;
            }
            end = Some(e);
            i = e;
        } else if input.chars[i].is_ascii_digit() {
            // `2筋目`, `下る3丁目`: side streets and blocks counted along
            // the street are part of it.
            let digits_end = (i..input.chars.len())
                .find(|&j| !input.chars[j].is_ascii_digit())
                .unwrap_or(input.chars.len());
            match input
                .has(digits_end, "筋目")
                .or_else(|| input.has(digits_end, "丁目"))
            {
                Some(e) => i = e,
                None => break,
            }
        } else if input.chars[i] == ' ' {
            break;
        } else {
            i += 1;
        }
    }
    end
}

/// `5丁目` or `五丁目` at `at`: where it ends.
fn street_chome_end(input: &Input, at: usize) -> Option<usize> {
    let (_, after) = read_number(&input.chars, at)?;
    input.has(after, "丁目")
}

/// `大通西十丁目` → `大通西10丁目`.
fn chome_in_arabic(town: &str) -> String {
    let chars: Vec<char> = town.chars().collect();
    let mut out = String::with_capacity(town.len());
    let mut i = 0;
    while i < chars.len() {
        let start = i;
        while i < chars.len() && text::is_kanji_numeral(chars[i]) {
            i += 1;
        }
        if i > start && chars.get(i) == Some(&'丁') && chars.get(i + 1) == Some(&'目') {
            let numeral: String = chars[start..i].iter().collect();
            if let Some(v) = text::parse_number(&numeral) {
                out.push_str(&v.to_string());
                continue;
            }
        }
        if i == start {
            out.push(chars[i]);
            i += 1;
        } else {
            out.extend(&chars[start..i]);
        }
    }
    out
}

// ---- towns ------------------------------------------------------------------

/// The suffixes (as address keys) after which a number in a town name is
/// a number people write in digits or kanji alike: `北三条西六丁目` is written
/// `北3条西6-…`, `西堀通六番町` `西堀通6番町`, `安原下第一号` `安原下第1号`,
/// `第1地割` (as the registry writes it) `第一地割`. Longest first. `丁`
/// alone is how a few towns write 丁目 officially (`家原寺町一丁`).
const NUMBERED: [&str; 8] = ["丁目", "丁", "条", "線", "地割", "番町", "ノ町", "号"];

/// Suffixes read as 丁目: either may be written for the other, or left out
/// before a dash (`霞が関1-2-1`).
fn is_chome(suffix: &str) -> bool {
    matches!(suffix, "丁目" | "丁")
}

#[derive(Debug)]
enum Token {
    /// One character, as an address key.
    Char(char),
    /// A number and the suffix that makes it one (`六` + `丁目`).
    Number { value: u32, suffix: &'static str },
    /// `大字` inside an official name (`嘉瀬町大字中原`), often left out.
    Oaza,
}

#[derive(Debug)]
struct TownPattern {
    name: &'static str,
    source: TownSource,
    /// `大字` or `字` at the start of the official name: people often leave it out.
    prefix: &'static str,
    tokens: Vec<Token>,
}

/// A city's towns, indexed by the first character after 大字/字.
struct CityTowns {
    patterns: Vec<TownPattern>,
    by_first: FxHashMap<char, Vec<u32>>,
    /// The master lists `（大字なし）`: part of the city has lot numbers
    /// directly after the city name (`南箕輪村3930`).
    lots_without_town: bool,
}

/// Index key of patterns that start with a number.
const NUMBER_FIRST: char = '#';

fn city_towns(city: &City) -> &'static CityTowns {
    static CACHE: OnceLock<Vec<OnceLock<CityTowns>>> = OnceLock::new();
    let cache = CACHE.get_or_init(|| {
        (0..master().cities().len())
            .map(|_| OnceLock::new())
            .collect()
    });
    cache[city.id].get_or_init(|| CityTowns::build(master().towns(city)))
}

impl CityTowns {
    fn build(towns: &[Town]) -> CityTowns {
        let mut patterns = Vec::with_capacity(towns.len());
        let mut by_first: FxHashMap<char, Vec<u32>> = FxHashMap::default();
        let mut lots_without_town = false;
        for town in towns {
            let name = town.name;
            if name.starts_with(['（', '(']) {
                lots_without_town |= name.contains("大字なし");
                continue;
            }
            let mut pattern = TownPattern::new(name);
            pattern.source = town.source;
            let first = match pattern.tokens.first() {
                Some(Token::Char(c)) => *c,
                Some(Token::Number { .. }) => NUMBER_FIRST,
                Some(Token::Oaza) | None => continue,
            };
            by_first
                .entry(first)
                .or_default()
                .push(patterns.len() as u32);
            patterns.push(pattern);
        }
        CityTowns {
            patterns,
            by_first,
            lots_without_town,
        }
    }

    /// The best official town written at `pos`, where it ends in the input,
    /// and the 大字/字 written before a Japan Post name (which has none). A
    /// 小字 listed under the city ([`TownSource::Koaza`]) counts only where
    /// no town matches.
    fn find(&self, input: &Input, pos: usize) -> Option<(&'static str, usize, &'static str)> {
        // The input may write 大字/字/小字, whether the official name has it or not.
        let written_prefix: Option<(&'static str, usize)> = ["大字", "小字", "字"]
            .into_iter()
            .find_map(|p| input.has_key(pos, p).map(|end| (p, end)));
        let mut starts = [Some(pos), None];
        if let Some((_, end)) = written_prefix {
            starts[1] = Some(end);
        }
        let mut matches: Vec<(usize, TownMatch)> = Vec::new();
        for start in starts.into_iter().flatten() {
            let Some(&first) = input.keys.get(start) else {
                continue;
            };
            let numeral = first.is_ascii_digit() || text::is_kanji_numeral(first);
            let lists = [
                self.by_first.get(&first),
                self.by_first.get(&NUMBER_FIRST).filter(|_| numeral),
            ];
            for &i in lists.into_iter().flatten().flatten() {
                if let Some(tm) = self.patterns[i as usize].match_at(input, pos, written_prefix) {
                    if !matches.iter().any(|(j, _)| *j == i as usize) {
                        matches.push((i as usize, tm));
                    }
                }
            }
        }
        if matches
            .iter()
            .any(|(i, _)| self.patterns[*i].source != TownSource::Koaza)
        {
            matches.retain(|(i, _)| self.patterns[*i].source != TownSource::Koaza);
        }
        // Longest match first; then a registry name over a Japan Post one;
        // then the name spelled as written (the registry lists some towns in
        // two spellings: `木月祗園町` and `木月祇園町`); then a name matched
        // with its 大字/字 as written; then the shorter name (stable: index
        // order).
        let as_written = |i: usize, m: &TownMatch| {
            let name = self.patterns[i].name;
            let written = &input.chars[pos..m.end];
            name.chars().count() <= written.len()
                && name
                    .chars()
                    .rev()
                    .zip(written.iter().rev())
                    .all(|(a, &b)| a == b)
        };
        let best = matches.iter().max_by(|(ia, a), (ib, b)| {
            a.end
                .cmp(&b.end)
                .then(self.patterns[*ib].source.cmp(&self.patterns[*ia].source))
                .then(as_written(*ia, a).cmp(&as_written(*ib, b)))
                .then(b.prefix_omitted.cmp(&a.prefix_omitted))
                .then(
                    self.patterns[*ib]
                        .name
                        .len()
                        .cmp(&self.patterns[*ia].name.len()),
                )
                .then(ib.cmp(ia))
        })?;
        let (mut best_i, mut best_m) = (best.0, best.1);
        // `下多良1-1`: a town `下多良` exists beside `下多良一丁目`. When the 丁目
        // was only inferred from a dash and the input has no third number,
        // read the numbers as the lot of the town without 丁目.
        if let Some(number_at) = best_m.inferred_chome_at {
            let numbers = count_lot_numbers(&input.chars[number_at..]);
            if numbers <= 2 {
                if let Some((i, m)) = matches
                    .iter()
                    .find(|(_, m)| m.end == number_at && !m.prefix_omitted)
                {
                    best_i = *i;
                    best_m = *m;
                }
            }
        }
        let pattern = &self.patterns[best_i];
        let kept_prefix = match written_prefix {
            Some((p, _)) if pattern.source == TownSource::Postal && pattern.prefix.is_empty() => p,
            _ => "",
        };
        Some((pattern.name, best_m.end, kept_prefix))
    }
}

#[derive(Debug, Clone, Copy)]
struct TownMatch {
    end: usize,
    prefix_omitted: bool,
    /// Where the number of a 丁目 starts when the input wrote no `丁目`
    /// (`霞が関1-2-1`): that reading competes with the town without 丁目.
    inferred_chome_at: Option<usize>,
}

impl TownPattern {
    fn new(name: &'static str) -> TownPattern {
        let prefix = ["大字", "字"]
            .into_iter()
            .find(|p| name.starts_with(p) && name.len() > p.len())
            .unwrap_or("");
        let chars: Vec<char> = name[prefix.len()..].chars().collect();
        let mut tokens = Vec::with_capacity(chars.len());
        let mut i = 0;
        while i < chars.len() {
            if i > 0 && chars[i] == '大' && chars.get(i + 1) == Some(&'字') {
                tokens.push(Token::Oaza);
                i += 2;
                continue;
            }
            // A number (kanji or, as the registry writes some, digits)
            // before a suffix that makes it one (`六丁目`, `第1地割`).
            if let Some((value, end)) = read_number(&chars, i) {
                let rest: String = chars[end..].iter().take(2).map(|&c| key_char(c)).collect();
                if let Some(suffix) = NUMBERED.into_iter().find(|s| rest.starts_with(s)) {
                    tokens.push(Token::Number { value, suffix });
                    i = end + suffix.chars().count();
                    continue;
                }
                tokens.extend(chars[i..end].iter().map(|&c| Token::Char(key_char(c))));
                i = end;
                continue;
            }
            tokens.push(Token::Char(key_char(chars[i])));
            i += 1;
        }
        TownPattern {
            name,
            source: TownSource::Registry,
            prefix,
            tokens,
        }
    }

    /// Match at `pos`; `written_prefix` is the 大字/字 the input has there.
    fn match_at(
        &self,
        input: &Input,
        pos: usize,
        written_prefix: Option<(&str, usize)>,
    ) -> Option<TownMatch> {
        let mut i = pos;
        let mut prefix_omitted = false;
        match written_prefix {
            Some((p, end)) if p == self.prefix => i = end,
            // 大字 written where the official name says 字, or none: the
            // official name is what the output shows, so accept either.
            Some((_, end)) => i = end,
            None => prefix_omitted = !self.prefix.is_empty(),
        }
        let mut inferred_chome_at = None;
        for (t, token) in self.tokens.iter().enumerate() {
            match token {
                Token::Char(c) => {
                    if input.keys.get(i) != Some(c) {
                        return None;
                    }
                    i += 1;
                }
                Token::Oaza => match input.has_key(i, "大字") {
                    Some(e) => i = e,
                    None => prefix_omitted = true,
                },
                Token::Number { value, suffix } => {
                    let at = input.skip_spaces(i);
                    let (v, after) = read_number(&input.chars, at)?;
                    if v != *value {
                        return None;
                    }
                    let is_last = t + 1 == self.tokens.len();
                    let written = if is_chome(suffix) {
                        input
                            .has_key(after, "丁目")
                            .or_else(|| input.has_key(after, "丁"))
                    } else {
                        input.has_key(after, suffix)
                    };
                    if let Some(e) = written {
                        i = e;
                    } else if is_chome(suffix) && is_last {
                        // `霞が関1-2-1`, `霞が関1` with 丁目 left out.
                        match input.chars.get(after) {
                            Some('-') => i = after + 1,
                            None | Some(' ') => i = after,
                            _ => return None,
                        }
                        inferred_chome_at = Some(at);
                    } else if *suffix == "条"
                        && input.chars.get(after) == Some(&'-')
                        && matches!(self.tokens.get(t + 1), Some(Token::Number { suffix, .. }) if is_chome(suffix))
                        && count_lot_numbers(&input.chars[at..]) >= 3
                    {
                        // `東茨戸1-2-314`: 条, 丁目 and lot in dashes, as
                        // Sapporo writes them (東茨戸一条二丁目314).
                        i = after + 1;
                    } else if (is_chome(suffix) || *suffix == "条") && !is_last {
                        // `南郷通1南`, `北3西6`: the next character must still match.
                        i = after;
                    } else {
                        return None;
                    }
                }
            }
        }
        Some(TownMatch {
            end: i,
            prefix_omitted,
            inferred_chome_at,
        })
    }
}

/// A number at `at`: ASCII digits, or a kanji numeral. Returns its value and end.
/// Runs once per candidate town, so it does not allocate.
fn read_number(chars: &[char], at: usize) -> Option<(u32, usize)> {
    let mut i = at;
    if chars.get(i).is_some_and(|c| c.is_ascii_digit()) {
        let mut v: u32 = 0;
        while let Some(d) = chars.get(i).and_then(|c| c.to_digit(10)) {
            v = v.checked_mul(10)?.checked_add(d)?;
            i += 1;
        }
        return Some((v, i));
    }
    let mut buf = [0u8; 48];
    let mut len = 0;
    while let Some(&c) = chars.get(i).filter(|&&c| text::is_kanji_numeral(c)) {
        if len + 3 > buf.len() {
            return None;
        }
        len += c.encode_utf8(&mut buf[len..]).len();
        i += 1;
    }
    if i == at {
        return None;
    }
    let s = std::str::from_utf8(&buf[..len]).ok()?;
    Some((text::parse_number(s)?, i))
}

/// How many dash-separated digit runs start at the beginning of `chars`.
fn count_lot_numbers(chars: &[char]) -> usize {
    let mut n = 0;
    let mut i = 0;
    loop {
        let start = i;
        while chars.get(i).is_some_and(|c| c.is_ascii_digit()) {
            i += 1;
        }
        if i == start {
            return n;
        }
        n += 1;
        if chars.get(i) != Some(&'-') {
            return n;
        }
        i += 1;
    }
}

// ---- lot and building -------------------------------------------------------

#[derive(Debug, Default, PartialEq, Eq)]
struct Lot {
    /// 小字 (as written) and the numbers as `N-N[-N]`: `字平山14-1`.
    lot: String,
    building: String,
}

/// Words after a lot number (`2番1号`, `1798番地1`), longest first.
const LOT_WORDS: [&str; 4] = ["番地", "番", "号", "丁目"];

/// Characters that join lot numbers (`1-2`, `1の2`, `1之2`, `1丿2`).
fn is_lot_joiner(c: char) -> bool {
    matches!(c, '-' | 'の' | 'ノ' | '之' | '丿')
}

/// The separator after a lot number at `i`: a word (`番地`), a joiner
/// (`の`), or both (`番地の`, `4番-4`). Its length, and whether it is dropped
/// when no number follows (`8番地` → `8`; a `の` with nothing after it is
/// kept as written).
fn lot_separator(chars: &[char], i: usize) -> Option<(usize, bool)> {
    let word = LOT_WORDS
        .iter()
        .find(|w| starts_with_str(&chars[i..], w))
        .map_or(0, |w| w.chars().count());
    let joiner = chars.get(i + word).copied().filter(|&c| is_lot_joiner(c));
    if word == 0 && joiner.is_none() {
        return None;
    }
    let len = word + usize::from(joiner.is_some());
    Some((len, matches!(joiner, None | Some('-'))))
}

/// Marks that make the number before them part of the building (`5F`, `3階`,
/// `101号室`), not of the lot.
fn is_floor_or_room(rest: &[char]) -> bool {
    matches!(rest.first(), Some('F' | 'f' | '階' | '室' | 'B')) || rest.starts_with(&['号', '室'])
}

/// Words that make the numbers before them a building's name (`5-1番館`,
/// `2号棟`), not a lot.
const BUILDING_WORDS: [&str; 6] = ["番館", "号館", "番棟", "号棟", "棟", "館"];

/// Does the number at `i` name a building (`1番館`, `3号棟`)? In
/// `2-1-2号館` only the last number does: the lot is `2-1`.
fn names_building(chars: &[char], i: usize) -> bool {
    let end = (i..chars.len())
        .find(|&j| !chars[j].is_ascii_digit())
        .unwrap_or(chars.len());
    end > i
        && BUILDING_WORDS
            .iter()
            .any(|w| starts_with_str(&chars[end..], w))
}

fn split_lot(chars: &[char]) -> Lot {
    let text_of = |a: usize, b: usize| chars[a..b].iter().collect::<String>();
    let mut i = 0;
    let space_after_town = chars.first() == Some(&' ');
    // Leading separators left by the town match (`霞が関一丁目-2-1`), and
    // a joiner between a town and its lot (`旭市ハの74-2`).
    loop {
        match chars.get(i) {
            Some('-' | ' ') => i += 1,
            Some(&c) if is_lot_joiner(c) && chars.get(i + 1).is_some_and(char::is_ascii_digit) => {
                i += 1
            }
            _ => break,
        }
    }
    let mut lot = String::new();
    if names_building(chars, i) || (space_after_town && !starts_lot_number(chars, i, At::Start)) {
        // `霞が関一丁目 霞が関ビル`: after a space, what is not a lot number
        // is a building; so is `5-1番館`.
        return Lot {
            lot,
            building: text_of(i, chars.len()),
        };
    }
    // 小字 and other place text written before the first number.
    let koaza_start = i;
    let at_first = |i: usize| {
        if i == koaza_start {
            At::Start
        } else {
            At::AfterText
        }
    };
    while i < chars.len() && chars[i] != ' ' {
        if matches!(chars[i], '(' | '（') {
            // `(…郵便局私書箱第3号)` and other notes: not part of the lot.
            return Lot {
                lot: text_of(koaza_start, i),
                building: text_of(i, chars.len()),
            };
        }
        if starts_lot_number(chars, i, at_first(i)) {
            // `第11地割`, `東2線`, `1区`: a number that names a place is part
            // of the 小字, not of the lot.
            match place_number_end(chars, i) {
                Some(end) => i = end,
                None => break,
            }
        } else {
            i += 1;
        }
    }
    lot.push_str(&text_of(koaza_start, i));
    if i < chars.len() && chars[i] == ' ' {
        return Lot {
            lot,
            building: text_of(i + 1, chars.len()),
        };
    }
    // The numbers.
    let mut numbers: Vec<u32> = Vec::new();
    let mut end_of_lot = i;
    let first = at_first(i);
    loop {
        if names_building(chars, i) {
            break;
        }
        let at = if numbers.is_empty() { first } else { At::InLot };
        let Some((v, after)) = read_lot_number(chars, i, at) else {
            break;
        };
        if is_floor_or_room(&chars[after..]) {
            break;
        }
        numbers.push(v);
        end_of_lot = after;
        i = after;
        let Some((len, drop_at_end)) = lot_separator(chars, i) else {
            break;
        };
        let after_sep = i + len;
        if read_lot_number(chars, after_sep, At::InLot).is_some() {
            i = after_sep;
        } else {
            if drop_at_end {
                end_of_lot = after_sep;
            }
            break;
        }
    }
    let joined: Vec<String> = numbers.iter().map(u32::to_string).collect();
    lot.push_str(&joined.join("-"));
    let mut b = end_of_lot;
    while matches!(chars.get(b), Some(' ' | ',' | '、' | '-')) {
        b += 1;
    }
    Lot {
        lot,
        building: text_of(b, chars.len()),
    }
}

/// Suffixes that make a number part of a place name inside the lot's 小字.
const PLACE_NUMBER_SUFFIXES: [&str; 6] = ["地割", "街区", "線", "区", "条", "番町"];

/// Where `第11地割` ends, when the number at `i` is followed by such a suffix;
/// after `第`, `号` names a place too (`第3号`), where alone it ends a lot.
fn place_number_end(chars: &[char], i: usize) -> Option<usize> {
    let (_, after) = read_number(chars, i)?;
    if i > 0 && chars[i - 1] == '第' && chars.get(after) == Some(&'号') {
        return Some(after + 1);
    }
    PLACE_NUMBER_SUFFIXES
        .iter()
        .find(|s| starts_with_str(&chars[after..], s))
        .map(|s| after + s.chars().count())
}

fn starts_with_str(chars: &[char], s: &str) -> bool {
    let mut it = chars.iter();
    s.chars().all(|c| it.next() == Some(&c))
}

/// Where a lot number stands, which decides how much a kanji numeral needs
/// around it to be read as one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum At {
    /// Right after the town (`紀尾井町一の三`, `上木町九十五`): nothing but
    /// the lot can follow there.
    Start,
    /// After place text (a 小字): `字十三塚` is a name, `字平山十四番地` a lot.
    AfterText,
    /// After another lot number and its separator (`二番一号`, `2番地一`).
    InLot,
}

/// Does a lot number start at `i`? Digits always; a kanji numeral as
/// [`read_lot_number`] says, so `三軒茶屋` stays a name.
fn starts_lot_number(chars: &[char], i: usize, at: At) -> bool {
    read_lot_number(chars, i, at).is_some()
}

/// A lot number at `i`. Kanji numerals count when `番`/`号` follows; where
/// the lot can end there (at the start or inside a lot), when it does, or
/// when a joiner and another number follow (`一の三`); never before other
/// text (`一ツ橋`, `三の輪`, `十日市`).
fn read_lot_number(chars: &[char], i: usize, at: At) -> Option<(u32, usize)> {
    let c = *chars.get(i)?;
    if c.is_ascii_digit() {
        return read_number(chars, i);
    }
    if !text::is_kanji_numeral(c) {
        return None;
    }
    let (v, after) = read_number(chars, i)?;
    let ok = match chars.get(after) {
        Some('番' | '号') => true,
        None | Some(' ') => at != At::AfterText,
        Some('-') if at == At::InLot => true,
        Some(&j) if is_lot_joiner(j) => {
            at != At::AfterText
                && chars.get(after + 1).is_some_and(|&n| {
                    n.is_ascii_digit()
                        || (text::is_kanji_numeral(n)
                            && read_lot_number(chars, after + 1, At::InLot).is_some())
                })
        }
        _ => false,
    };
    ok.then_some((v, after))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kanji() -> AddressOptions {
        AddressOptions::default()
    }

    fn norm(s: &str) -> String {
        normalize(s, &kanji()).value.unwrap_or_default()
    }

    fn kinds(n: &Normalized) -> Vec<&'static str> {
        n.issues.iter().map(|i| i.kind.as_str()).collect()
    }

    #[test]
    fn issue_examples() {
        assert_eq!(norm("千代田区霞が関1-2-1"), "東京都千代田区霞が関一丁目2-1");
        assert_eq!(
            norm("東京都千代田区霞が関一丁目2番1号"),
            "東京都千代田区霞が関一丁目2-1"
        );
        assert_eq!(
            norm("福岡市中央区地行浜2-2-3"),
            "福岡県福岡市中央区地行浜二丁目2-3"
        );
        assert_eq!(norm("八潮市伊勢野208-1"), "埼玉県八潮市大字伊勢野208-1");
    }

    #[test]
    fn arabic_chome_style() {
        let opts = AddressOptions {
            chome: ChomeStyle::Arabic,
        };
        let n = normalize("福岡市中央区地行浜2-2-3", &opts);
        assert_eq!(n.value.as_deref(), Some("福岡県福岡市中央区地行浜2丁目2-3"));
        let again = normalize(n.value.as_deref().unwrap(), &opts);
        assert_eq!(again.value, n.value);
        // The key does not depend on the style.
        assert_eq!(n.key, normalize("福岡市中央区地行浜2-2-3", &kanji()).key);
    }

    #[test]
    fn lot_notations() {
        assert_eq!(
            norm("京都府与謝郡与謝野町岩滝1798番地1"),
            "京都府与謝郡与謝野町字岩滝1798-1"
        );
        assert_eq!(
            norm("埼玉県さいたま市浦和区常盤１０－１９－２３"),
            "埼玉県さいたま市浦和区常盤十丁目19-23"
        );
        assert_eq!(
            norm("東京都千代田区霞が関一丁目2の1"),
            "東京都千代田区霞が関一丁目2-1"
        );
        assert_eq!(
            norm("東京都千代田区霞が関一丁目二番一号"),
            "東京都千代田区霞が関一丁目2-1"
        );
        assert_eq!(
            norm("東京都千代田区霞が関1丁目2番地ノ1"),
            "東京都千代田区霞が関一丁目2-1"
        );
        assert_eq!(
            norm("東京都港区六本木5-5-1 405号室"),
            "東京都港区六本木五丁目5-1 405号室"
        );
        assert_eq!(
            norm("東京都港区六本木5-5-1-405号室"),
            "東京都港区六本木五丁目5-1 405号室"
        );
        assert_eq!(
            norm("岩手県岩手郡岩手町大字五日市第11地割53番地3"),
            "岩手県岩手郡岩手町大字五日市第11地割53-3"
        );
    }

    #[test]
    fn names_with_numerals_stay() {
        assert_eq!(
            norm("東京都世田谷区三軒茶屋2-11-22"),
            "東京都世田谷区三軒茶屋二丁目11-22"
        );
        assert_eq!(
            norm("新潟県十日町市千歳町3-3"),
            "新潟県十日町市千歳町三丁目3"
        );
        assert_eq!(
            norm("千代田区霞が関1-2-1 第2ビル"),
            "東京都千代田区霞が関一丁目2-1 第2ビル"
        );
        assert_eq!(
            norm("愛媛県松山市一番町4-4-2"),
            "愛媛県松山市一番町四丁目4-2"
        );
    }

    #[test]
    fn hokkaido_jo_and_kyoto_streets() {
        assert_eq!(
            norm("札幌市中央区北3条西6-1"),
            "北海道札幌市中央区北三条西六丁目1"
        );
        assert_eq!(
            norm("札幌市中央区北3西6-1"),
            "北海道札幌市中央区北三条西六丁目1"
        );
        assert_eq!(
            norm("北海道札幌市白石区南郷通１南８ー１"),
            "北海道札幌市白石区南郷通一丁目南8-1"
        );
        let n = normalize("京都市中京区寺町通御池上る上本能寺前町488", &kanji());
        assert_eq!(
            n.value.as_deref(),
            Some("京都府京都市中京区上本能寺前町488")
        );
        assert_eq!(n.part("town"), Some("上本能寺前町"));
        assert_eq!(n.part("street"), Some("寺町通御池上る"));
        assert!(n.issues.is_empty(), "{:?}", n.issues);
    }

    #[test]
    fn kyoto_never_guesses_a_street() {
        assert_eq!(
            norm("京都府京都市下京区高辻通堀川富永町692"),
            "京都府京都市下京区富永町692"
        );
        let n = normalize("京都府京都市下京区新富永町692", &kanji());
        assert_eq!(n.part("town"), None);
        assert_eq!(kinds(&n), ["unknown_town"]);
    }

    #[test]
    fn building_split() {
        assert_eq!(
            norm("千代田区霞が関1-2-1 霞が関ビル5F"),
            "東京都千代田区霞が関一丁目2-1 霞が関ビル5F"
        );
        assert_eq!(
            norm("千代田区霞が関1-2-1霞が関ビル"),
            "東京都千代田区霞が関一丁目2-1 霞が関ビル"
        );
        assert_eq!(
            norm("千代田区霞が関1-2-1-5F"),
            "東京都千代田区霞が関一丁目2-1 5F"
        );
        let n = normalize("東京都千代田区霞が関一丁目2番1号　霞が関ビル 5F", &kanji());
        assert_eq!(n.part("building"), Some("霞が関ビル 5F"));
        assert_eq!(n.part("lot"), Some("2-1"));
        assert_eq!(n.key.as_deref(), Some("東京都千代田区霞ケ関一丁目2-1"));
    }

    #[test]
    fn city_variants_and_gun() {
        assert_eq!(
            norm("北海道ニセコ町字富士見55番地"),
            "北海道虻田郡ニセコ町字富士見55"
        );
        assert_eq!(
            norm("青森県鯵ヶ沢町大字舞戸町"),
            "青森県西津軽郡鰺ヶ沢町大字舞戸町"
        );
        assert_eq!(
            norm("東京都葛\u{E0100}飾区立石5-13-1"),
            "東京都葛飾区立石五丁目13-1"
        );
    }

    #[test]
    fn prefecture_without_suffix() {
        assert_eq!(
            norm("東京千代田区霞が関1-2-1"),
            "東京都千代田区霞が関一丁目2-1"
        );
        assert_eq!(
            norm("大阪 大阪市北区梅田3-1-3"),
            "大阪府大阪市北区梅田三丁目1-3"
        );
        assert_eq!(
            norm("京都市中京区寺町通御池上る上本能寺前町488"),
            "京都府京都市中京区上本能寺前町488"
        );
    }

    #[test]
    fn towns_only_japan_post_lists() {
        // 代官山 is missing from the registry snapshot; Japan Post has it.
        let n = normalize("昭島市代官山1-1", &kanji());
        assert_eq!(n.value.as_deref(), Some("東京都昭島市代官山1-1"));
        assert!(n.issues.is_empty(), "{:?}", n.issues);
        // The snapshot has 権堂町 only as a 小字 under the city: found too.
        let n = normalize("長野市権堂町2201番地", &kanji());
        assert_eq!(n.value.as_deref(), Some("長野県長野市権堂町2201"));
        assert!(n.issues.is_empty(), "{:?}", n.issues);
        // Japan Post leaves out 大字; one written is kept, the key is the same.
        let with = normalize("長野県長野市大字稲葉中千田2142", &kanji());
        let without = normalize("長野県長野市稲葉中千田2142", &kanji());
        assert_eq!(
            with.value.as_deref(),
            Some("長野県長野市大字稲葉中千田2142")
        );
        assert_eq!(with.key, without.key);
    }

    #[test]
    fn a_postal_code_completes_the_city_only_before_a_town_of_it() {
        // The city is missing and the town is one of the postal code's city:
        // completed.
        let n = normalize_with_postal("富山県新桜町7-38", Some("930-0005"), &kanji());
        assert_eq!(n.part("city"), Some("富山市"), "{n:?}");
        assert!(
            n.value
                .as_deref()
                .unwrap()
                .starts_with("富山県富山市新桜町"),
            "{n:?}"
        );
        // A misspelt city (`富山岩市`, `みりど市`) is no town of the postal
        // code's city: kept as written, not `富山県富山市富山岩市…`.
        for (written, postal) in [
            ("富山県富山岩市瀬福来町259-1", "931-8357"),
            ("群馬県みりど市大間々町浅原1398-26 光ビル5F", "376-0114"),
        ] {
            let n = normalize_with_postal(written, Some(postal), &kanji());
            assert_eq!(n.value.as_deref(), Some(written), "{n:?}");
            assert_eq!(kinds(&n), ["unknown_city"], "{n:?}");
            assert_eq!(n.part("city"), None);
            assert_eq!(
                n.part("prefecture"),
                Some(&written[..written.find('県').unwrap() + 3])
            );
        }
    }

    #[test]
    fn shared_ward_names_are_settled_by_the_whole_town() {
        // 浜松市東区 has a town `東`; `東雲町` is not it.
        let n = normalize("東区東雲町1-1", &kanji());
        assert_eq!(kinds(&n), ["ambiguous_city"]);
        // A 小字 after the town still settles it.
        let n = normalize("北区太夫浜字新崎1", &kanji());
        assert_eq!(n.part("city"), Some("新潟市北区"), "{n:?}");
        // A stale postal code does not outweigh a town only one 北区 has.
        let n = normalize_with_postal("北区紫野宮西町19-1", Some("114-0001"), &kanji());
        assert_eq!(n.part("city"), Some("京都市北区"));
        assert_eq!(kinds(&n), ["postal_code_mismatch"]);
    }

    #[test]
    fn lot_readings() {
        let lot = |s: &str| split_lot(&s.chars().collect::<Vec<_>>());
        assert_eq!(lot("一の三").lot, "1-3");
        assert_eq!(lot("九十五").lot, "95");
        assert_eq!(lot("一ノ瀬12").lot, "一ノ瀬12");
        assert_eq!(lot("十日市5").lot, "十日市5");
        assert_eq!(lot("字十三塚4").lot, "字十三塚4");
        assert_eq!(lot("5番3号").lot, "5-3");
        assert_eq!(lot("5番地の3").lot, "5-3");
        assert_eq!(lot("5丿3").lot, "5-3");
        assert_eq!(
            lot("2-1-2号館"),
            Lot {
                lot: "2-1".into(),
                building: "2号館".into()
            }
        );
        assert_eq!(
            lot("1番館"),
            Lot {
                lot: String::new(),
                building: "1番館".into()
            }
        );
        assert_eq!(lot("第3号100").lot, "第3号100");
        assert_eq!(lot("の12").lot, "12");
    }

    #[test]
    fn notes_before_the_address() {
        let n = normalize("（本社）　東京都千代田区霞が関1-2-1", &kanji());
        assert_eq!(n.value.as_deref(), Some("東京都千代田区霞が関一丁目2-1"));
        assert_eq!(n.part("note"), Some("(本社)"));
        // An address wholly in brackets is no note.
        let n = normalize("(東京都千代田区霞が関1-2-1)", &kanji());
        assert_eq!(n.part("note"), None);
        // A note on an address not understood is kept in the parts.
        let n = normalize("(旧)どこか1-2", &kanji());
        assert_eq!(n.part("note"), Some("(旧)"));
    }

    #[test]
    fn notes_in_brackets_are_not_lot_numbers() {
        assert_eq!(
            norm("北海道旭川市四条通十丁目(旭川中央郵便局私書箱第1号)"),
            "北海道旭川市四条通十丁目 (旭川中央郵便局私書箱第1号)"
        );
    }

    #[test]
    fn tokyo_islands_written_like_a_gun() {
        assert_eq!(
            norm("東京都八丈島八丈町大賀郷2466-2"),
            "東京都八丈町大賀郷2466-2"
        );
        // 元町 and 元町一丁目 both exist: two numbers are a lot, three a 丁目.
        assert_eq!(norm("東京都大島町元町1-1"), "東京都大島町元町1-1");
        assert_eq!(norm("東京都大島町元町1-2-3"), "東京都大島町元町一丁目2-3");
    }

    #[test]
    fn similar_town_names() {
        assert_eq!(
            norm("神奈川県横浜市緑区鴨居町2400"),
            "神奈川県横浜市緑区鴨居町2400"
        );
        assert_eq!(
            norm("神奈川県横浜市緑区鴨居2丁目21"),
            "神奈川県横浜市緑区鴨居二丁目21"
        );
    }

    #[test]
    fn never_guesses() {
        // 柳原 is a town of 新潟市北区 and of 名古屋市北区.
        let n = normalize("北区柳原2-1-1", &kanji());
        assert_eq!(kinds(&n), ["ambiguous_city"]);
        assert_eq!(n.value.as_deref(), Some("北区柳原2-1-1"));
        assert!(
            n.issues[0].message.contains("名古屋市北区"),
            "{:?}",
            n.issues
        );
        let n = normalize_with_postal("北区柳原2-1-1", Some("462-0845"), &kanji());
        assert!(n.issues.is_empty(), "{:?}", n.issues);
        assert_eq!(n.value.as_deref(), Some("愛知県名古屋市北区柳原二丁目1-1"));
        // Two 府中市, no town after the name: nothing decides.
        let n = normalize("府中市2-24", &kanji());
        assert_eq!(kinds(&n), ["ambiguous_city"]);

        let n = normalize("東京都千代田区存在しない町1-2", &kanji());
        assert_eq!(kinds(&n), ["unknown_town"]);
        assert_eq!(n.value.as_deref(), Some("東京都千代田区存在しない町1-2"));

        let n = normalize("東京都ありえない市1-2", &kanji());
        assert_eq!(kinds(&n), ["unknown_city"]);
        let n = normalize("どこか1-2", &kanji());
        assert_eq!(kinds(&n), ["unknown_prefecture", "unknown_city"]);
    }

    #[test]
    fn designated_city_without_its_ward() {
        assert_eq!(norm("横浜市日本大通1"), "神奈川県横浜市中区日本大通1");
        assert_eq!(norm("大阪市梅田3-1-3"), "大阪府大阪市北区梅田三丁目1-3");
        assert_eq!(
            norm("名古屋市名駅4-7-1"),
            "愛知県名古屋市中村区名駅四丁目7-1"
        );
        // A town in two wards (吉田町: 中区 and 戸塚区) is not guessed…
        let n = normalize("横浜市吉田町1-1", &kanji());
        assert!(kinds(&n).contains(&"unknown_city"), "{n:?}");
        // …unless the postal code says which.
        let n = normalize_with_postal("横浜市吉田町1-1", Some("231-0041"), &kanji());
        assert_eq!(
            n.value.as_deref(),
            Some("神奈川県横浜市中区吉田町1-1"),
            "{n:?}"
        );
    }

    #[test]
    fn a_written_city_is_believed_over_a_contradicting_postal_code() {
        // The code is for 東京都千代田区; the address names another city.
        let n = normalize_with_postal("秋田市中通2丁目6番1号", Some("100-0001"), &kanji());
        assert_eq!(n.value.as_deref(), Some("秋田県秋田市中通二丁目6-1"));
        assert_eq!(kinds(&n), ["postal_code_mismatch"]);
        // A ward name in many cities: the code's (大阪市北区) has no 滝野川,
        // and 東京都北区 is the only 北区 that has.
        let n = normalize_with_postal("北区滝野川7丁目23-1", Some("530-0001"), &kanji());
        assert_eq!(n.value.as_deref(), Some("東京都北区滝野川七丁目23-1"));
        assert_eq!(kinds(&n), ["postal_code_mismatch"]);
        // A city only one prefecture has, against another prefecture's code.
        let n = normalize_with_postal("千代田区大手町2丁目2-1", Some("010-0001"), &kanji());
        assert_eq!(n.value.as_deref(), Some("東京都千代田区大手町二丁目2-1"));
        assert_eq!(kinds(&n), ["postal_code_mismatch"]);
        // Agreeing code and address, spelled differently (龍ケ崎 / 龍ヶ崎),
        // and a ward against its city's code: no issue.
        let n = normalize_with_postal("茨城県龍ヶ崎市馴柴町218-18", Some("301-0007"), &kanji());
        assert!(n.issues.is_empty(), "{:?}", n.issues);
        let n = normalize_with_postal("札幌市北3条西6-1", Some("060-0003"), &kanji());
        assert!(n.issues.is_empty(), "{:?}", n.issues);
        // Nothing written but the town: the code still completes it.
        let n = normalize_with_postal("中通2丁目6番1号", Some("010-0001"), &kanji());
        assert_eq!(n.value.as_deref(), Some("秋田県秋田市中通二丁目6-1"));
        assert!(n.issues.is_empty(), "{:?}", n.issues);
    }

    #[test]
    fn postal_code_completes() {
        let n = normalize_with_postal("霞が関1-2-1", Some("100-0013"), &kanji());
        assert_eq!(n.value.as_deref(), Some("東京都千代田区霞が関一丁目2-1"));
        for s in [
            "〒100-0013 霞が関1-2-1",
            "〒1000013霞が関1-2-1",
            "100-0013霞が関1-2-1",
        ] {
            let n = normalize(s, &kanji());
            assert_eq!(
                n.value.as_deref(),
                Some("東京都千代田区霞が関一丁目2-1"),
                "{s}"
            );
        }
    }

    #[test]
    fn idempotent_on_examples() {
        for s in [
            "千代田区霞が関1-2-1霞が関ビル5F",
            "八潮市伊勢野208-1",
            "京都市中京区寺町通御池上る上本能寺前町488",
            "札幌市中央区北3条西6-1",
            "東京都千代田区存在しない町1-2",
            "府中市宮西町2-24",
            "長野県長野市大字南長野字幅下692-2",
        ] {
            let once = normalize(s, &kanji());
            let twice = normalize(once.value.as_deref().unwrap(), &kanji());
            assert_eq!(once.value, twice.value, "{s}");
            assert_eq!(once.key, twice.key, "{s}");
        }
    }

    #[test]
    fn empty_and_garbage_do_not_panic() {
        assert_eq!(normalize("", &kanji()), Normalized::empty());
        for s in [
            "-",
            "〒",
            "1",
            "字",
            "大字",
            "東京都",
            "東京都千代田区",
            "京都市中京区上る",
            "〒100-0013",
        ] {
            let _ = normalize(s, &kanji());
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
        // Address-like noise: real place names cut and mixed with numbers,
        // separators and spaces. Never panics; normalizing twice equals once.
        #[test]
        fn idempotent_and_panic_free(
            s in "(東京都|千代田区|京都市中京区|北海道|ニセコ町|霞が関|一丁目|大字|字|伊勢野|八潮市|寺町通|上る|北3条西|[0-9０-９]{1,4}|[-－ー番地号の丁目条 　]|ビル|[ぁ-んァ-ン一-龥]){0,12}"
        ) {
            for opts in [kanji(), AddressOptions { chome: ChomeStyle::Arabic }] {
                let once = normalize(&s, &opts);
                if let Some(v) = once.value.as_deref() {
                    let twice = normalize(v, &opts);
                    proptest::prop_assert_eq!(once.value.as_deref(), twice.value.as_deref(), "input {:?}", s);
                }
            }
        }
    }

    /// A rough timing printed by hand (`cargo test --release -- --ignored
    /// speed --nocapture`); the benchmarks are the measured figures.
    #[test]
    #[ignore]
    fn speed() {
        let inputs = [
            "千代田区霞が関1-2-1 霞が関ビル5F",
            "東京都千代田区霞が関一丁目2番1号",
            "福岡市中央区地行浜2-2-3",
            "八潮市伊勢野208-1",
            "札幌市中央区北3条西6-1",
            "京都市中京区寺町通御池上る上本能寺前町488",
            "京都府与謝郡与謝野町岩滝1798番地1",
            "北海道ニセコ町字富士見55番地",
        ];
        for s in inputs {
            let _ = normalize(s, &kanji());
        }
        let rounds = std::env::var("NAYOSE_ROUNDS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(2000);
        let t = std::time::Instant::now();
        for _ in 0..rounds {
            for s in inputs {
                std::hint::black_box(normalize(std::hint::black_box(s), &kanji()));
            }
        }
        let per = t.elapsed() / (rounds * inputs.len() as u32);
        eprintln!("address::normalize: {per:?} per address");
    }
}
