//! Synthetic Japanese customer files with ground truth, for measuring
//! deduplication (`nayose gen`).
//!
//! Owns: drawing customers (entities) from the data the crate ships — real
//! business names from Japan Post's office list, hand-written surnames and
//! given names, real postal codes and towns from the embedded masters — and
//! writing each of them as one or more records the way a CRM export holds
//! them: other notations, typos, blanks, moves, married names. It also makes
//! *hard negatives*, different customers that look alike (branches of one
//! company, look-alike companies in one building, members of a household,
//! twins, namesakes). Every rate is a named constant with its reason.
//!
//! Does not own: any normalizing or matching (the generator never asks the
//! normalizer whether a value is "clean"), or printing.
//!
//! Determinism: the same [`GenOptions`] give byte-identical files on any
//! machine and any number of threads. A plan of groups of entities is drawn
//! sequentially from stream 0 of a ChaCha8 generator seeded with the seed;
//! each group is then written from its own stream (`group index + 1`), so
//! groups can be rendered in parallel; the rows are finally shuffled with
//! stream 0 again, and ids are given in shuffled order.

mod btob;
mod btoc;
pub mod data;
pub mod fields;
mod names;
pub mod text;

use crate::import::{Format, OutputEncoding, TableWriter};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use std::io;
use std::path::Path;

/// Which kind of customer file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Companies: name, kana, contact person, address, phone, e-mail, 法人番号.
    BtoB,
    /// Consumers: name, reading, birth date, gender, address, phone, e-mail.
    BtoC,
}

impl std::str::FromStr for Kind {
    type Err = String;
    fn from_str(s: &str) -> Result<Kind, String> {
        match s.to_ascii_lowercase().as_str() {
            "btob" | "b2b" => Ok(Kind::BtoB),
            "btoc" | "b2c" => Ok(Kind::BtoC),
            _ => Err(format!("`{s}`: expected btob or btoc")),
        }
    }
}

/// Default share of entities that get duplicate records: real CRM exports
/// that were never deduplicated hold roughly a quarter to a half of their
/// customers more than once; we take the middle.
pub const DEFAULT_DUP_RATE: f64 = 0.35;

/// How many extra records a duplicated entity gets (1–4), skewed towards 1:
/// most customers are entered twice, few five times.
const EXTRA_WEIGHTS: [u32; 4] = [60, 25, 10, 5];

/// How a consumer file was gathered (`--profile`): sets the rates at which
/// its duplicates differ ([`btoc::Rates`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Profile {
    /// Sign-up forms: most fields every time, records close in time.
    #[default]
    Forms,
    /// A CRM gathered over years: birth dates mostly unknown, phones and
    /// e-mails that change, moves, marriages, kana slips, kana-only records,
    /// more namesakes and twins.
    Crm,
}

impl std::str::FromStr for Profile {
    type Err = String;
    fn from_str(s: &str) -> Result<Profile, String> {
        match s.to_ascii_lowercase().as_str() {
            "forms" => Ok(Profile::Forms),
            "crm" => Ok(Profile::Crm),
            _ => Err(format!("`{s}`: expected forms or crm")),
        }
    }
}

#[derive(Debug, Clone)]
pub struct GenOptions {
    pub kind: Kind,
    /// Consumer files only.
    pub profile: Profile,
    /// Exactly this many records.
    pub records: usize,
    pub seed: u64,
    /// Share of entities with 1–4 extra records (0.0–1.0).
    pub dup_rate: f64,
}

impl GenOptions {
    pub fn new(kind: Kind, records: usize, seed: u64) -> GenOptions {
        GenOptions {
            kind,
            profile: Profile::Forms,
            records,
            seed,
            dup_rate: DEFAULT_DUP_RATE,
        }
    }
}

pub const BTOB_HEADERS: [&str; 9] = [
    "id",
    "会社名",
    "会社名カナ",
    "担当者名",
    "郵便番号",
    "住所",
    "電話番号",
    "メールアドレス",
    "法人番号",
];
pub const BTOC_HEADERS: [&str; 9] = [
    "id",
    "氏名",
    "フリガナ",
    "生年月日",
    "性別",
    "郵便番号",
    "住所",
    "電話番号",
    "メールアドレス",
];

/// What a group of entities is: one customer, or customers that look alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GroupKind {
    Single,
    /// BtoC: one address and landline, one surname, 2–4 people.
    Household,
    /// BtoC: a household pair with one birth date.
    Twins,
    /// BtoC: two people with the same name, unrelated otherwise.
    Namesakes,
    /// BtoB: 2–4 offices of one company (same name + office name, often the
    /// same 法人番号, other address and phone).
    Branches,
    /// BtoB: two companies with nearly the same name in one building.
    LookAlike,
    /// BtoB: 2–3 offices at one address whose real names begin alike
    /// (`青森地方裁判所` / `青森家庭裁判所`, `千葉大学 医学部` / `千葉大学
    /// 看護学部`), each with its own postal code (事業所個別番号) and phone.
    Site,
}

/// Share of BtoC groups that are households of 2–4 people (about one
/// customer in eight shares an address with another customer: families
/// who each registered).
const P_HOUSEHOLD: f64 = 0.06;
/// Share of BtoC groups that are twins (rare: about 1 birth in 100 is a
/// twin birth, and both must be customers).
const P_TWINS: f64 = 0.002;
/// Share of BtoC groups that are namesake pairs drawn on purpose, on top of
/// the namesakes the Zipf surnames make by chance.
const P_NAMESAKES: f64 = 0.01;
/// The same in a CRM profile: a customer base built over years meets more
/// of the namesakes a Zipf name distribution makes, and keeps twins.
pub const CRM_NAMESAKES: f64 = 0.03;
const CRM_TWINS: f64 = 0.004;
/// Share of BtoB groups that are several offices of one company.
const P_BRANCHES: f64 = 0.05;
/// Share of BtoB groups that are look-alike companies in one building.
const P_LOOKALIKE: f64 = 0.015;
/// Share of BtoB groups that are offices at one address with alike names
/// (courts, universities, public offices, a company's companies): Japan
/// Post's office list has 460 such addresses among 22k offices; a CRM of
/// institutions holds them more often than a random draw would.
const P_SITE: f64 = 0.02;

/// One group in the plan: its kind and the record count of each entity.
#[derive(Debug, Clone)]
pub(crate) struct Group {
    pub kind: GroupKind,
    /// Index of the group (its RNG stream is `index + 1`).
    pub index: u64,
    /// Entity number of the first entity (entity ids are consecutive).
    pub first_entity: u32,
    /// Records of each entity (≥ 1).
    pub records: Vec<u8>,
    /// For a [`GroupKind::Site`]: which site of `data().sites`. Each site is
    /// drawn once per file (twice, it would be one real office written as
    /// two customers); when they run out, groups are single companies.
    pub site: usize,
}

fn plan(opts: &GenOptions, rng: &mut ChaCha8Rng) -> Vec<Group> {
    let dup_rate = opts.dup_rate.clamp(0.0, 1.0);
    let extra_total: u32 = EXTRA_WEIGHTS.iter().sum();
    let mut groups = Vec::with_capacity(opts.records / 2 + 1);
    let mut left = opts.records;
    let mut entity = 0u32;
    let mut sites: Vec<usize> = match opts.kind {
        Kind::BtoB => (0..btob::site_count()).collect(),
        Kind::BtoC => Vec::new(),
    };
    let mut site = 0;
    let (twins, namesakes) = match opts.profile {
        Profile::Forms => (P_TWINS, P_NAMESAKES),
        Profile::Crm => (CRM_TWINS, CRM_NAMESAKES),
    };
    while left > 0 {
        let x: f64 = rng.gen();
        let (kind, n) = match opts.kind {
            Kind::BtoC if x < P_HOUSEHOLD => (GroupKind::Household, rng.gen_range(2..=4)),
            Kind::BtoC if x < P_HOUSEHOLD + twins => (GroupKind::Twins, 2),
            Kind::BtoC if x < P_HOUSEHOLD + twins + namesakes => (GroupKind::Namesakes, 2),
            Kind::BtoB if x < P_BRANCHES => (GroupKind::Branches, rng.gen_range(2..=4)),
            Kind::BtoB if x < P_BRANCHES + P_LOOKALIKE => (GroupKind::LookAlike, 2),
            Kind::BtoB if x < P_BRANCHES + P_LOOKALIKE + P_SITE && !sites.is_empty() => {
                // A random site not drawn before (a partial shuffle).
                let j = rng.gen_range(0..sites.len());
                site = sites.swap_remove(j);
                (GroupKind::Site, 2)
            }
            _ => (GroupKind::Single, 1),
        };
        let mut records = Vec::with_capacity(n);
        for _ in 0..n {
            if left == 0 {
                break;
            }
            let mut r = 1usize;
            if rng.gen_bool(dup_rate) {
                let mut y = rng.gen_range(0..extra_total);
                for (i, w) in EXTRA_WEIGHTS.iter().enumerate() {
                    if y < *w {
                        r += i + 1;
                        break;
                    }
                    y -= w;
                }
            }
            let r = r.min(left);
            left -= r;
            records.push(r as u8);
        }
        let n_entities = records.len() as u32;
        groups.push(Group {
            kind,
            index: groups.len() as u64,
            first_entity: entity,
            records,
            site,
        });
        entity += n_entities;
    }
    groups
}

/// One generated record: its entity number and its field values (without id).
#[derive(Debug, Clone)]
pub struct GenRecord {
    pub entity: u32,
    pub fields: Vec<String>,
}

/// A generated file in memory: header, rows in output order, and the truth.
#[derive(Debug)]
pub struct Generated {
    pub headers: &'static [&'static str],
    /// Rows in output order; `ids[i]` is the id of `rows[i]`.
    pub rows: Vec<GenRecord>,
    pub ids: Vec<String>,
}

impl Generated {
    pub fn entity_id(&self, row: usize) -> String {
        format!("E{:07}", self.rows[row].entity + 1)
    }
}

/// Groups per parallel task: large enough to amortise the task, small enough
/// to balance two to sixteen threads.
const GROUPS_PER_TASK: usize = 2048;

/// Generate the whole file in memory. Pure: depends on `opts` only.
pub fn generate(opts: &GenOptions) -> Generated {
    // Load the tables (and the postal master) before the threads start.
    let _ = data::data();
    let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
    let groups = plan(opts, &mut rng);
    let rates = match opts.profile {
        Profile::Forms => &btoc::FORMS,
        Profile::Crm => &btoc::CRM,
    };
    let chunks: Vec<Vec<GenRecord>> = groups
        .par_chunks(GROUPS_PER_TASK)
        .map(|chunk| {
            let mut out = Vec::with_capacity(chunk.len() * 2);
            for g in chunk {
                let mut grng = ChaCha8Rng::seed_from_u64(opts.seed);
                grng.set_stream(g.index + 1);
                match opts.kind {
                    Kind::BtoB => btob::render_group(g, &mut grng, &mut out),
                    Kind::BtoC => btoc::render_group(g, rates, &mut grng, &mut out),
                }
            }
            out
        })
        .collect();
    let mut rows: Vec<GenRecord> = Vec::with_capacity(opts.records);
    for c in chunks {
        rows.extend(c);
    }
    if opts.kind == Kind::BtoC {
        let column = BTOC_HEADERS.iter().position(|h| *h == "メールアドレス");
        unique_mailboxes(&mut rows, column.expect("an e-mail column") - 1);
    }
    // Fisher–Yates with the plan's stream: duplicates end up far apart.
    for i in (1..rows.len()).rev() {
        let j = rng.gen_range(0..=i);
        rows.swap(i, j);
    }
    let width = opts.records.to_string().len().max(7);
    let ids = (1..=rows.len()).map(|i| format!("R{i:0width$}")).collect();
    Generated {
        headers: match opts.kind {
            Kind::BtoB => &BTOB_HEADERS,
            Kind::BtoC => &BTOC_HEADERS,
        },
        rows,
        ids,
    }
}

/// A mailbox has one owner. Local parts made from names collide between
/// namesakes (at a million consumers, thousands of pairs of people shared
/// one address); where a second person drew an address already taken, it
/// gets digits, as a mail provider would have it — in every record of that
/// person. Rows in generation order, so the result is deterministic.
fn unique_mailboxes(rows: &mut [GenRecord], column: usize) {
    use std::collections::HashMap;
    let mut owner: HashMap<String, u32> = HashMap::new();
    let mut renamed: HashMap<(u32, String), String> = HashMap::new();
    for r in rows.iter_mut() {
        let Some(cell) = r.fields.get_mut(column) else {
            continue;
        };
        if cell.is_empty() {
            continue;
        }
        if let Some(new) = renamed.get(&(r.entity, cell.clone())) {
            *cell = new.clone();
            continue;
        }
        match owner.get(cell.as_str()) {
            None => {
                owner.insert(cell.clone(), r.entity);
            }
            Some(&o) if o == r.entity => {}
            Some(_) => {
                let (local, domain) = cell.split_once('@').unwrap_or((cell.as_str(), ""));
                let free = (2u32..)
                    .map(|n| format!("{local}{n}@{domain}"))
                    .find(|c| !owner.contains_key(c))
                    .expect("a free address");
                owner.insert(free.clone(), r.entity);
                renamed.insert((r.entity, cell.clone()), free.clone());
                *cell = free;
            }
        }
    }
}

/// Counts of what was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenSummary {
    pub records: usize,
    pub entities: usize,
    /// Entities with more than one record.
    pub duplicated_entities: usize,
}

/// Write a generated file and its truth (`id,entity_id`) as UTF-8 CSV.
pub fn write(g: &Generated, data_path: &Path, truth_path: &Path) -> io::Result<GenSummary> {
    let mut out = TableWriter::create(data_path, Format::Csv, OutputEncoding::Utf8)?;
    out.write_row(g.headers)?;
    let mut cells: Vec<&str> = Vec::with_capacity(g.headers.len());
    for (id, r) in g.ids.iter().zip(&g.rows) {
        cells.clear();
        cells.push(id);
        cells.extend(r.fields.iter().map(String::as_str));
        out.write_row(&cells)?;
    }
    out.finish()?;
    let mut truth = TableWriter::create(truth_path, Format::Csv, OutputEncoding::Utf8)?;
    truth.write_row(&["id", "entity_id"])?;
    let mut per_entity: std::collections::HashMap<u32, usize> = Default::default();
    for (i, id) in g.ids.iter().enumerate() {
        truth.write_row(&[id, &g.entity_id(i)])?;
        *per_entity.entry(g.rows[i].entity).or_default() += 1;
    }
    truth.finish()?;
    Ok(GenSummary {
        records: g.rows.len(),
        entities: per_entity.len(),
        duplicated_entities: per_entity.values().filter(|&&n| n > 1).count(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::master::master;
    use crate::normalize::corporate_number;
    use std::collections::{HashMap, HashSet};

    fn gen(kind: Kind, n: usize, seed: u64) -> Generated {
        generate(&GenOptions::new(kind, n, seed))
    }

    #[test]
    fn deterministic_and_exact() {
        for kind in [Kind::BtoB, Kind::BtoC] {
            let a = gen(kind, 3000, 7);
            let b = gen(kind, 3000, 7);
            let c = gen(kind, 3000, 8);
            assert_eq!(a.rows.len(), 3000);
            let fa: Vec<_> = a.rows.iter().map(|r| (r.entity, &r.fields)).collect();
            let fb: Vec<_> = b.rows.iter().map(|r| (r.entity, &r.fields)).collect();
            let fc: Vec<_> = c.rows.iter().map(|r| (r.entity, &r.fields)).collect();
            assert_eq!(fa, fb);
            assert_ne!(fa, fc);
            assert_eq!(a.ids.iter().collect::<HashSet<_>>().len(), 3000);
            assert!(a.rows.iter().all(|r| r.fields.len() + 1 == a.headers.len()));
        }
        for n in [0, 1, 2, 5] {
            assert_eq!(gen(Kind::BtoC, n, 1).rows.len(), n);
        }
    }

    #[test]
    fn a_mailbox_has_one_owner() {
        // Namesakes' name-made addresses collide at this size without the
        // renaming (measured: 11,441 pairs of people at 1M).
        let mut opts = GenOptions::new(Kind::BtoC, 60_000, 5);
        opts.profile = Profile::Crm;
        let g = generate(&opts);
        let column = BTOC_HEADERS
            .iter()
            .position(|h| *h == "メールアドレス")
            .unwrap()
            - 1;
        let mut owner: HashMap<&str, u32> = HashMap::new();
        let mut renamed = 0;
        for r in &g.rows {
            let e = r.fields[column].as_str();
            if e.is_empty() {
                continue;
            }
            assert_eq!(*owner.entry(e).or_insert(r.entity), r.entity, "{e}");
            renamed += usize::from(e.split('@').next().is_some_and(|l| l.ends_with('2')));
        }
        assert!(renamed > 0, "some second owners were renamed");
    }

    #[test]
    fn corporate_numbers_valid_and_postal_codes_exist() {
        let g = gen(Kind::BtoB, 3000, 3);
        let mut numbers = 0;
        for r in &g.rows {
            let n = &r.fields[7];
            if !n.is_empty() {
                numbers += 1;
                let norm = corporate_number::normalize(n);
                assert!(norm.value.is_some(), "{n}: {:?}", norm.issues);
            }
        }
        assert!(numbers > 500, "{numbers}");
        for (kind, col) in [(Kind::BtoB, 3), (Kind::BtoC, 4)] {
            for r in &gen(kind, 2000, 4).rows {
                let digits: String = r.fields[col]
                    .chars()
                    .filter_map(|c| {
                        c.to_digit(10)
                            .or_else(|| ('０'..='９').contains(&c).then(|| c as u32 - '０' as u32))
                    })
                    .map(|d| char::from_digit(d, 10).unwrap())
                    .collect();
                if !digits.is_empty() {
                    assert!(!master().postal(&digits).is_empty(), "{}", r.fields[col]);
                }
            }
        }
    }

    /// Entities with more than one record, as a share of all entities.
    fn dup_share(g: &Generated) -> f64 {
        let mut per: HashMap<u32, usize> = HashMap::new();
        for r in &g.rows {
            *per.entry(r.entity).or_default() += 1;
        }
        per.values().filter(|&&n| n > 1).count() as f64 / per.len() as f64
    }

    #[test]
    fn duplicates_at_the_configured_rate() {
        let g = gen(Kind::BtoC, 20_000, 5);
        let share = dup_share(&g);
        assert!((share - DEFAULT_DUP_RATE).abs() < 0.03, "{share}");
        let mut opts = GenOptions::new(Kind::BtoB, 20_000, 5);
        opts.dup_rate = 0.1;
        let share = dup_share(&generate(&opts));
        assert!((share - 0.1).abs() < 0.02, "{share}");
        opts.dup_rate = 0.0;
        assert_eq!(dup_share(&generate(&opts)), 0.0);
    }

    /// The lot part of an address with building, notation and prefecture
    /// differences removed is too fiddly to compare; the landline and the
    /// postal code of a household are shared, so compare those.
    #[test]
    fn hard_negatives_exist() {
        let g = gen(Kind::BtoC, 20_000, 6);
        // Households: same surname reading + postal code + phone, other entity.
        let mut seen: HashMap<(String, String, String), u32> = HashMap::new();
        let mut households = 0;
        for r in &g.rows {
            let (kana, postal, phone) = (&r.fields[1], &r.fields[4], &r.fields[6]);
            if kana.is_empty() || postal.is_empty() || phone.is_empty() {
                continue;
            }
            let digits = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
            let family = kana
                .split([' ', '\u{3000}'])
                .next()
                .unwrap_or("")
                .to_string();
            let key = (family, digits(postal), digits(phone));
            match seen.get(&key) {
                Some(&e) if e != r.entity => households += 1,
                _ => {
                    seen.insert(key, r.entity);
                }
            }
        }
        assert!(households > 50, "{households}");
        // Branches: one 法人番号 on several entities.
        let g = gen(Kind::BtoB, 20_000, 6);
        let mut by_number: HashMap<&str, HashSet<u32>> = HashMap::new();
        for r in &g.rows {
            if r.fields[7].len() == 13 {
                by_number.entry(&r.fields[7]).or_default().insert(r.entity);
            }
        }
        let shared = by_number.values().filter(|e| e.len() > 1).count();
        assert!(shared > 50, "{shared}");
    }
}
