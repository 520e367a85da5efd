//! Rule files (`rules/*.toml`): which normalizer applies to which field, each
//! normalizer's options, user dictionaries, and the field definitions that
//! double as the business's 項目定義シート (type, required, allowed values,
//! definition).
//!
//! Loading fails fast: a syntax error, an unknown key, a wrong value or a
//! contradictory definition is reported with the file, the line and column, and
//! what is wrong. The default Japanese customer rule set (`rules/default.toml`)
//! is compiled into the binary so nayose runs with no files around it; what
//! a file leaves out of `[[field]]`, `[start]`, `[dictionary]` and
//! `[survivorship]` is the built-in rules' (survivorship's groups only
//! along with the built-in fields, which they name).

use crate::record::FieldType;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// The default Japanese customer rule set, as shipped in `rules/default.toml`.
pub const DEFAULT_RULES: &str = include_str!("../../rules/default.toml");

/// A loaded, validated rule set.
#[derive(Debug, Clone)]
pub struct Rules {
    /// Where the rules came from (`None` for the built-in default).
    pub source: Option<PathBuf>,
    pub options: Options,
    pub dictionary: Dictionary,
    /// The field sheet; a file without `[[field]]` has the built-in one,
    /// `field = []` none (each column typed by its content).
    pub fields: Vec<FieldRule>,
    pub matching: MatchingOptions,
    pub survivorship: SurvivorshipOptions,
    /// `[start]`: the model used before the first training. A rule file
    /// without it takes the built-in default's.
    pub start: StartWeights,
}

/// `[start]`: starting weights, so matching works from the first record,
/// before any training. `prior` is P(same customer) for two records drawn at
/// random; `levels.<comparison>.<level> = [m, u]`, where m = P(level | same
/// customer) and u = P(level | different customers), and a comparison is a
/// field type (`company_name`) or a field type and aspect
/// (`company_name:branch`). A level left out weighs 0.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct StartWeights {
    pub prior: f64,
    #[serde(default)]
    pub levels: BTreeMap<String, BTreeMap<String, [f64; 2]>>,
}

/// `[matching]`: blocking, model training, thresholds and clustering for
/// `dedupe`. Every key is optional.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct MatchingOptions {
    /// BM25 candidates per record.
    pub top_k: usize,
    /// An exact key (phone, e-mail, corporate number) shared by more records
    /// than this is not blocked on; it is reported as an oversized block.
    pub max_block: usize,
    /// A bigram in more than this share of the records is left out of the
    /// BM25 query (it costs the most and says the least).
    pub max_term_share: f64,
    /// Pairs with a match probability at or above this are merged into
    /// clusters (the auto-merge band).
    pub match_threshold: f64,
    /// Pairs at or above this and below `match_threshold` are the review band.
    pub review_threshold: f64,
    /// Two groups join a cluster only when at least this share of the pairs
    /// between them were scored and the scored ones are, on average, at
    /// least this likely to be matches (average linkage, the guard against
    /// chaining: [`crate::cluster::dense_enough`]).
    pub min_link_density: f64,
    /// Random pairs sampled to estimate u (all pairs when there are fewer).
    pub random_pairs: u64,
    pub em_iterations: u32,
    /// Seed of the random pair sample.
    pub seed: u64,
    /// Columns (field names or headers) never compared.
    pub ignore: Vec<String>,
    /// What one customer is for a company: an establishment or the company.
    pub entity: Entity,
    /// With labels (`dedupe --labels`): the auto-merge band starts where the
    /// labelled pairs at or above it are at least this share matches
    /// (e.g. 0.995); without enough labels, at `match_threshold`.
    pub auto_merge_precision: Option<f64>,
    /// With labels: the review band starts where at least this share of the
    /// labelled matches lie at or above it (e.g. 0.99).
    pub review_recall: Option<f64>,
}

/// `[matching] entity`: whether two offices of one company are one customer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Entity {
    /// 事業所単位: each office is its own customer. A company name's branch
    /// (`長崎支社` / `長崎営業所`) and two offices' own postal codes
    /// (事業所個別番号) are evidence of two customers.
    #[default]
    Establishment,
    /// 法人単位: the offices of one company are one customer; the branch and
    /// an office's own postal code are not compared.
    Company,
}

impl Default for MatchingOptions {
    fn default() -> Self {
        MatchingOptions {
            top_k: 10,
            max_block: 50,
            max_term_share: 0.001,
            match_threshold: 0.9,
            review_threshold: 0.5,
            min_link_density: 0.5,
            random_pairs: 2_000_000,
            em_iterations: 200,
            seed: 42,
            ignore: Vec::new(),
            entity: Entity::Establishment,
            auto_merge_precision: None,
            review_recall: None,
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Options {
    pub company_name: CompanyOptions,
    pub address: AddressOptions,
    pub date: DateOptions,
    pub phone: PhoneOptions,
    pub email: EmailOptions,
}

/// How a company's legal form is written in the display value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LegalFormStyle {
    /// `株式会社ABC商事`
    #[default]
    Full,
    /// `(株)ABC商事`
    Abbreviated,
    /// `ABC商事` (the legal form is still kept as a part)
    Remove,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct CompanyOptions {
    pub legal_form: LegalFormStyle,
    /// Split a trailing branch/office name (`札幌支店`) into the `branch` part.
    pub split_branch: Option<bool>,
}

impl CompanyOptions {
    pub fn split_branch(&self) -> bool {
        self.split_branch.unwrap_or(true)
    }
}

/// How 丁目 numbers are written in an address's display value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChomeStyle {
    /// `霞が関一丁目2-1` (as the address base registry writes it)
    #[default]
    Kanji,
    /// `霞が関1丁目2-1`
    Arabic,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct AddressOptions {
    pub chome: ChomeStyle,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct DateOptions {
    /// Output format: `%Y`, `%m`, `%d` (zero-padded), `%-m`, `%-d`, and
    /// literal text, e.g. `%Y-%m-%d` (default) or `%Y年%-m月%-d日`.
    pub format: String,
}

impl Default for DateOptions {
    fn default() -> Self {
        DateOptions {
            format: "%Y-%m-%d".to_string(),
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PhoneFormat {
    /// `03-1234-5678`
    #[default]
    National,
    /// `+81312345678`
    E164,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct PhoneOptions {
    pub format: PhoneFormat,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct EmailOptions {
    /// Lower-case the local part too (the domain is always lower-cased).
    /// RFC 5321 lets a server treat `Taro@` and `taro@` as different mailboxes;
    /// in practice none does, so the default is `true`.
    pub lowercase_local: bool,
}

impl Default for EmailOptions {
    fn default() -> Self {
        EmailOptions {
            lowercase_local: true,
        }
    }
}

/// User dictionaries, added to the built-in tables.
#[derive(Debug, Clone, Default)]
pub struct Dictionary {
    /// Alias → canonical company name, compared on match keys
    /// (`NTT` ↔ `日本電信電話`): the alias's key becomes the canonical key.
    pub company_aliases: Vec<(String, String)>,
    /// Plain text replacements applied after folding, per field type.
    pub replacements: Vec<Replacement>,
    /// Extra variant → standard kanji pairs for match keys (`髙` → `高`).
    pub variant_kanji: Vec<(char, char)>,
}

#[derive(Debug, Clone)]
pub struct Replacement {
    pub from: String,
    pub to: String,
    /// Field types it applies to; empty = all.
    pub types: Vec<FieldType>,
}

/// One field of the 項目定義シート.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldRule {
    pub name: String,
    pub field_type: FieldType,
    /// Other headers that mean this field (`取引先名`, `company`).
    pub headers: Vec<String>,
    pub required: bool,
    /// 選択肢: when non-empty, the only values allowed; stored folded (text::fold),
    /// as values are compared folded.
    pub allowed: Vec<String>,
    pub definition: String,
    /// A consent flag's most restrictive value (`不可`, `停止`): a golden
    /// record keeps it whenever any member has it.
    pub restrictive: Option<String>,
    /// How a golden record picks this field's value among its members
    /// (`None`: `[survivorship] default`).
    pub survivorship: Option<Survivorship>,
}

/// How a golden record picks a field's value among its members' values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Survivorship {
    /// The value most members hold (ties: the most recent).
    MostFrequent,
    /// The value of the most recently updated member.
    MostRecent,
    /// The longest value (ties: the most recent): `東京都千代田区霞が関一丁目2-1`
    /// over `千代田区霞が関`.
    MostComplete,
    /// The value from the first source in `[survivorship] sources` that has
    /// one (then the most recent).
    SourcePriority,
}

impl Survivorship {
    pub fn as_str(self) -> &'static str {
        match self {
            Survivorship::MostFrequent => "most_frequent",
            Survivorship::MostRecent => "most_recent",
            Survivorship::MostComplete => "most_complete",
            Survivorship::SourcePriority => "source_priority",
        }
    }
}

/// `[survivorship]`: how golden records are built.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct SurvivorshipOptions {
    pub default: Survivorship,
    /// Sources, most trusted first, for `source_priority`.
    pub sources: Vec<String>,
    /// Fields that travel together (an address, its postal code, the
    /// phone): a golden record takes them from one record.
    pub groups: Vec<Vec<String>>,
}

impl Default for SurvivorshipOptions {
    fn default() -> Self {
        SurvivorshipOptions {
            default: Survivorship::MostComplete,
            sources: Vec::new(),
            groups: Vec::new(),
        }
    }
}

/// A rule file that cannot be used: where and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RulesError {
    pub file: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
}

impl fmt::Display for RulesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, "{}:{}:{}: {}", self.file, l, c, self.message),
            (Some(l), None) => write!(f, "{}:{}: {}", self.file, l, self.message),
            _ => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

impl std::error::Error for RulesError {}

// ---- the file format --------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    #[serde(default)]
    rules: Option<Meta>,
    #[serde(default)]
    options: Options,
    #[serde(default)]
    dictionary: Option<DictionaryFile>,
    /// Absent: the built-in definitions; `field = []`: none (each column
    /// typed by its content).
    #[serde(default, rename = "field")]
    fields: Option<Vec<Spanned<FieldFile>>>,
    #[serde(default)]
    matching: MatchingOptions,
    #[serde(default)]
    survivorship: Option<SurvivorshipOptions>,
    #[serde(default)]
    start: Option<Spanned<StartWeights>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // read for validation and documentation only
struct Meta {
    name: Option<String>,
    description: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct DictionaryFile {
    /// canonical name → aliases
    company_aliases: BTreeMap<String, Vec<String>>,
    replace: Vec<Spanned<ReplaceFile>>,
    /// variant → standard
    variant_kanji: BTreeMap<String, Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReplaceFile {
    from: String,
    to: String,
    #[serde(default)]
    types: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FieldFile {
    name: String,
    #[serde(rename = "type")]
    field_type: String,
    #[serde(default)]
    headers: Vec<String>,
    #[serde(default)]
    required: bool,
    #[serde(default)]
    allowed: Vec<String>,
    #[serde(default)]
    definition: String,
    #[serde(default)]
    restrictive: Option<String>,
    #[serde(default)]
    survivorship: Option<Survivorship>,
}

impl Rules {
    /// The built-in default Japanese customer rule set.
    pub fn default_rules() -> Rules {
        Rules::parse(DEFAULT_RULES, "rules/default.toml")
            .expect("the built-in rules/default.toml is valid (checked by tests)")
            .with_source(None)
    }

    /// Load and validate a rule file.
    pub fn load(path: &Path) -> Result<Rules, RulesError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| RulesError {
            file: name.clone(),
            line: None,
            column: None,
            message: format!("cannot read rule file: {e}"),
        })?;
        Ok(Rules::parse(&text, &name)?.with_source(Some(path.to_path_buf())))
    }

    fn with_source(mut self, source: Option<PathBuf>) -> Rules {
        self.source = source;
        self
    }

    /// Parse rule text; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<Rules, RulesError> {
        let at = Locate { text, file };
        let raw: RuleFile = toml::from_str(text).map_err(|e| {
            // toml's own message repeats the location and quotes the source;
            // keep only the explanation.
            at.error(e.span(), e.message().trim().to_string())
        })?;
        let _ = raw.rules;
        check_options(&raw.options, &raw.matching, &at)?;
        // What a file leaves out of these tables is the built-in rules'
        // (which leave out none): a file that only sets options (`[matching]
        // entity = "company"`) keeps the built-in field sheet, weights,
        // dictionary and survivorship; without the sheet every column would
        // be typed by its content alone.
        // Parsed once, and only when the file leaves a table out.
        let base = std::cell::OnceCell::new();
        let built_in = |what: &'static str| {
            if text == DEFAULT_RULES {
                return Err(at.error(None, format!("the built-in rules need {what}")));
            }
            Ok(base.get_or_init(Rules::default_rules))
        };
        let start = match raw.start {
            Some(s) => {
                let span = s.span();
                let start = s.into_inner();
                check_start(&start).map_err(|(path, m)| {
                    let path: Vec<&str> = path.iter().map(String::as_str).collect();
                    at.error(at.span_of(&[&path]).or(Some(span)), m)
                })?;
                start
            }
            None => built_in("a [start] section")?.start.clone(),
        };
        let fields = match &raw.fields {
            Some(f) => fields_of(f, &at)?,
            None => built_in("[[field]]s")?.fields.clone(),
        };
        let survivorship = match raw.survivorship {
            Some(s) => s,
            // The built-in groups name the built-in fields: a file with a
            // sheet of its own starts with none.
            None if raw.fields.is_some() => SurvivorshipOptions::default(),
            None => built_in("[survivorship]")?.survivorship.clone(),
        };
        let dictionary = match &raw.dictionary {
            Some(d) => dictionary_of(d, &at)?,
            None => built_in("[dictionary]")?.dictionary.clone(),
        };
        // A group names fields the rules define (or, with `field = []`,
        // field types, which are then the field names).
        for group in &survivorship.groups {
            for f in group {
                let known = if fields.is_empty() {
                    f.parse::<FieldType>().is_ok()
                } else {
                    fields.iter().any(|d| &d.name == f)
                };
                if !known {
                    let span = text.find(&format!("\"{f}\"")).map(|i| i..i + f.len() + 2);
                    return Err(at.error(
                        span,
                        format!("[survivorship] groups: no field is named `{f}`"),
                    ));
                }
            }
        }
        Ok(Rules {
            source: None,
            dictionary,
            fields,
            options: raw.options,
            matching: raw.matching,
            survivorship,
            start,
        })
    }

    /// The field rule whose name or one of whose headers is `header`
    /// (compared after text folding, case-insensitively).
    pub fn field_for_header(&self, header: &str) -> Option<&FieldRule> {
        let h = header_key(header);
        self.fields
            .iter()
            .find(|f| header_key(&f.name) == h || f.headers.iter().any(|a| header_key(a) == h))
    }

    /// Whether a column (named `header`, following `rule` when one of the
    /// rules' fields matched it) is compared when matching: not a field with
    /// allowed values (選択肢: a consent flag says nothing about who someone
    /// is) and not named in `[matching] ignore` (by header, by rule name or
    /// by one of the rule's headers).
    /// The one definition for the batch job and the service; an id column
    /// is left out by the caller, which knows which column holds the ids.
    pub fn is_compared(&self, header: &str, rule: Option<&FieldRule>) -> bool {
        rule.is_none_or(|r| r.allowed.is_empty())
            && !self
                .matching
                .ignore
                .iter()
                .any(|i| ignores(i, header, rule))
    }

    /// The `[matching] ignore` entries that name none of these columns
    /// (each a header and the field rule it follows): a misspelt entry
    /// leaves the column it meant compared, so the caller says so.
    pub fn ignore_unused<'a>(
        &self,
        columns: impl IntoIterator<Item = (&'a str, Option<&'a FieldRule>)> + Clone,
    ) -> Vec<String> {
        self.matching
            .ignore
            .iter()
            .filter(|i| !columns.clone().into_iter().any(|(h, r)| ignores(i, h, r)))
            .cloned()
            .collect()
    }
}

/// Whether the `[matching] ignore` entry `entry` names the column `header`
/// (following `rule`): by the header, or by the rule's name or one of its
/// headers.
fn ignores(entry: &str, header: &str, rule: Option<&FieldRule>) -> bool {
    let key = header_key(entry);
    key == header_key(header)
        || rule.is_some_and(|r| r.name == entry || r.headers.iter().any(|h| header_key(h) == key))
}

/// Where in a rule file a problem is: turns a byte span into the error.
struct Locate<'a> {
    text: &'a str,
    file: &'a str,
}

impl Locate<'_> {
    /// Where the value at the first of `paths` the file has is
    /// (`["matching", "review_threshold"]`; a table's path gives its header).
    fn span_of(&self, paths: &[&[&str]]) -> Option<std::ops::Range<usize>> {
        use toml::de::{DeTable, DeValue};
        let doc = DeTable::parse(self.text).ok()?;
        paths.iter().find_map(|path| {
            let (last, tables) = path.split_last()?;
            let mut table = doc.get_ref();
            for k in tables {
                match table.get(*k)?.get_ref() {
                    DeValue::Table(t) => table = t,
                    _ => return None,
                }
            }
            let (key, value) = table.get_key_value(*last)?;
            // A table's span is its contents; its key is where it is named.
            Some(match value.get_ref() {
                DeValue::Table(_) => key.span(),
                _ => value.span(),
            })
        })
    }

    fn error(&self, span: Option<std::ops::Range<usize>>, message: String) -> RulesError {
        let (line, column) = match span {
            Some(s) => {
                let (l, c) = line_col(self.text, s.start);
                (Some(l), Some(c))
            }
            None => (None, None),
        };
        RulesError {
            file: self.file.to_string(),
            line,
            column,
            message,
        }
    }
}

/// Every comparison `[start.levels]` names exists, with its levels, and
/// every probability is in (0, 1]. An error names the key it is about
/// (`["start", "levels", …]`).
fn check_start(start: &StartWeights) -> Result<(), (Vec<String>, String)> {
    let path = |keys: &[&str]| {
        ["start", "levels"]
            .iter()
            .chain(keys)
            .map(|k| k.to_string())
            .collect::<Vec<_>>()
    };
    if !(start.prior > 0.0 && start.prior < 1.0) {
        return Err((
            vec!["start".into(), "prior".into()],
            format!("start.prior {} must be in (0, 1)", start.prior),
        ));
    }
    for (name, levels) in &start.levels {
        let Some(comparator) = crate::matching::start_comparator(name) else {
            return Err((
                path(&[name]),
                format!(
                    "start.levels.{name}: no such comparison (a field type, or \
                 company_name:branch / company_name:legal_form)"
                ),
            ));
        };
        for (label, [m, u]) in levels {
            if !comparator.levels().contains(&label.as_str()) {
                return Err((
                    path(&[name, label]),
                    format!(
                        "start.levels.{name}.{label}: the levels are {}",
                        comparator.levels().join(", ")
                    ),
                ));
            }
            use crate::matching::model::is_probability;
            if !is_probability(*m) || !is_probability(*u) {
                return Err((
                    path(&[name, label]),
                    format!("start.levels.{name}.{label}: m = {m} and u = {u} must be in (0, 1]"),
                ));
            }
        }
    }
    Ok(())
}

/// Options that parse but make no sense together; an error points at the
/// key.
fn check_options(options: &Options, m: &MatchingOptions, at: &Locate) -> Result<(), RulesError> {
    if !valid_date_format(&options.date.format) {
        return Err(at.error(
            at.span_of(&[&["options", "date", "format"]]),
            format!(
                "options.date.format `{}` must contain %Y, %m (or %-m) and %d (or %-d)",
                options.date.format
            ),
        ));
    }
    if !(0.0 < m.review_threshold
        && m.review_threshold <= m.match_threshold
        && m.match_threshold < 1.0)
    {
        return Err(at.error(
            at.span_of(&[
                &["matching", "review_threshold"],
                &["matching", "match_threshold"],
            ]),
            format!(
                "matching: need 0 < review_threshold ({}) <= match_threshold ({}) < 1",
                m.review_threshold, m.match_threshold
            ),
        ));
    }
    for (name, v) in [
        ("auto_merge_precision", m.auto_merge_precision),
        ("review_recall", m.review_recall),
    ] {
        if let Some(v) = v.filter(|v| !(0.0 < *v && *v < 1.0)) {
            return Err(at.error(
                at.span_of(&[&["matching", name]]),
                format!("matching.{name} ({v}) must be between 0 and 1"),
            ));
        }
    }
    if !(0.0..=1.0).contains(&m.min_link_density) {
        return Err(at.error(
            at.span_of(&[&["matching", "min_link_density"]]),
            format!(
                "matching.min_link_density ({}) must be within 0..=1",
                m.min_link_density
            ),
        ));
    }
    Ok(())
}

/// The dictionaries as the normalizers use them: aliases, replacements by
/// field type, one-character variant kanji.
fn dictionary_of(raw: &DictionaryFile, at: &Locate) -> Result<Dictionary, RulesError> {
    let mut dictionary = Dictionary::default();
    for (canonical, aliases) in &raw.company_aliases {
        for alias in aliases {
            dictionary
                .company_aliases
                .push((alias.clone(), canonical.clone()));
        }
    }
    for r in &raw.replace {
        let span = r.span();
        let r = r.get_ref();
        if r.from.is_empty() {
            return Err(at.error(Some(span), "replacement with an empty `from`".into()));
        }
        let mut types = Vec::new();
        for t in &r.types {
            types.push(
                t.parse::<FieldType>()
                    .map_err(|m| at.error(Some(span.clone()), m))?,
            );
        }
        dictionary.replacements.push(Replacement {
            from: r.from.clone(),
            to: r.to.clone(),
            types,
        });
    }
    for (variant, standard) in &raw.variant_kanji {
        let span = standard.span();
        let one = |s: &str| {
            let mut it = s.chars();
            match (it.next(), it.next()) {
                (Some(c), None) => Some(c),
                _ => None,
            }
        };
        match (one(variant), one(standard.get_ref())) {
            (Some(v), Some(s)) => dictionary.variant_kanji.push((v, s)),
            _ => {
                return Err(at.error(
                    Some(span),
                    format!(
                        "variant_kanji `{variant}` = `{}`: both sides must be one character",
                        standard.get_ref()
                    ),
                ))
            }
        }
    }
    Ok(dictionary)
}

/// The field definitions (項目定義シート): a known type, a unique name, and a
/// restrictive value among the allowed ones. Allowed values are folded once
/// here: values are compared folded, row after row.
fn fields_of(raw: &[Spanned<FieldFile>], at: &Locate) -> Result<Vec<FieldRule>, RulesError> {
    let mut fields: Vec<FieldRule> = Vec::new();
    for f in raw {
        let span = f.span();
        let f = f.get_ref();
        let field_type = f
            .field_type
            .parse::<FieldType>()
            .map_err(|m| at.error(Some(span.clone()), format!("field `{}`: {m}", f.name)))?;
        if f.name.trim().is_empty() {
            return Err(at.error(Some(span), "field with an empty name".into()));
        }
        if fields.iter().any(|g| g.name == f.name) {
            return Err(at.error(Some(span), format!("field `{}` is defined twice", f.name)));
        }
        let fold = crate::normalize::text::fold;
        let rule = FieldRule {
            name: f.name.clone(),
            field_type,
            headers: f.headers.clone(),
            required: f.required,
            allowed: f.allowed.iter().map(|a| fold(a)).collect(),
            definition: f.definition.clone(),
            restrictive: f.restrictive.as_ref().map(|r| fold(r)),
            survivorship: f.survivorship,
        };
        if let Some(r) = &rule.restrictive {
            if !rule.allowed.contains(r) {
                return Err(at.error(
                    Some(span),
                    format!(
                        "field `{}`: restrictive value `{r}` is not one of its allowed values",
                        rule.name
                    ),
                ));
            }
        }
        fields.push(rule);
    }
    Ok(fields)
}

/// How headers are compared: folded, lower-cased, without spaces, `_` or `-`.
pub fn header_key(h: &str) -> String {
    crate::normalize::text::fold(h)
        .to_lowercase()
        .chars()
        .filter(|c| !matches!(c, ' ' | '_' | '-' | '.'))
        .collect()
}

fn valid_date_format(f: &str) -> bool {
    f.contains("%Y")
        && (f.contains("%m") || f.contains("%-m"))
        && (f.contains("%d") || f.contains("%-d"))
}

/// 1-based line and column (in characters) of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before
        .rsplit('\n')
        .next()
        .map(|l| l.chars().count())
        .unwrap_or(0)
        + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_rules_load() {
        let r = Rules::default_rules();
        assert!(!r.fields.is_empty());
    }

    #[test]
    fn a_survivorship_group_names_known_fields() {
        let r = Rules::default_rules();
        assert!(r.survivorship.groups.iter().flatten().count() >= 3);
        let text = "[survivorship]\ngroups = [[\"address\", \"phone\"]]\n";
        assert!(
            Rules::parse(text, "x.toml").is_ok(),
            "field types without definitions"
        );
        let text = "[survivorship]\ngroups = [[\"address\",\n  \"telephone\"]]\n";
        let e = Rules::parse(text, "x.toml").unwrap_err();
        assert_eq!(e.line, Some(3), "{e}");
        assert!(e.message.contains("telephone"), "{e}");
    }

    #[test]
    fn bad_value_reports_line() {
        let text = "[options.company_name]\nlegal_form = \"short\"\n";
        let e = Rules::parse(text, "x.toml").unwrap_err();
        assert_eq!(e.line, Some(2), "{e}");
        assert!(
            e.message.contains("short") || e.message.contains("variant"),
            "{e}"
        );
    }

    #[test]
    fn starting_weights_are_checked_and_default_to_the_built_in_ones() {
        let built_in = Rules::default_rules().start;
        assert!(built_in.levels.contains_key("company_name:branch"));
        // Every comparison of every field type has starting weights.
        for t in FieldType::ALL {
            let plan = crate::matching::plan(&["x".into()], &[t], &[true], Entity::Establishment);
            for c in &plan {
                let name = crate::matching::start_name(c);
                assert!(built_in.levels.contains_key(&name), "{name}");
            }
            let m = crate::matching::starting_model(&plan, &built_in);
            assert!(m.check_fits(&plan).is_ok());
            assert!(m.training.starting);
        }
        // A file without [start] takes the built-in weights.
        let r = Rules::parse("[options.address]\nchome = \"kanji\"\n", "x.toml").unwrap();
        assert_eq!(r.start, built_in);
        let refused = |text: &str| Rules::parse(text, "x.toml").unwrap_err();
        let e = refused("[start]\nprior = 0.0001\n[start.levels.phonee]\nexact = [0.9, 0.001]\n");
        assert!(e.message.contains("phonee") && e.line.is_some(), "{e}");
        assert_eq!(
            (e.line, e.column),
            (Some(3), Some(15)),
            "the table's name: {e}"
        );
        let e = refused("[start]\nprior = 0.0001\n[start.levels.phone]\nclose = [0.9, 0.001]\n");
        assert!(e.message.contains("exact, different"), "{e}");
        assert_eq!(
            (e.line, e.column),
            (Some(4), Some(9)),
            "the level's value: {e}"
        );
        let e = refused(
            "[start]\nprior = 0.0001\n[start.levels.\"company_name:branch\"]\n\
             same = [0.9, 0.001]\n\n[start.levels.phone]\nexact = [1.5, 0.001]\n",
        );
        assert!(e.message.contains("(0, 1]"), "{e}");
        assert_eq!(e.line, Some(7), "{e}");
        let e = refused("[start]\nprior = 0\n");
        assert!(e.message.contains("start.prior"), "{e}");
        assert_eq!((e.line, e.column), (Some(2), Some(9)), "{e}");
    }

    #[test]
    fn what_a_file_leaves_out_is_the_built_in_rules() {
        let built_in = Rules::default_rules();
        let r = Rules::parse("[matching]\nentity = \"company\"\n", "x.toml").unwrap();
        assert_eq!(r.fields, built_in.fields);
        assert_eq!(r.survivorship, built_in.survivorship);
        assert!(!r.survivorship.groups.is_empty());
        assert_eq!(
            r.dictionary.company_aliases,
            built_in.dictionary.company_aliases
        );
        assert!(!r.dictionary.company_aliases.is_empty());
        assert_eq!(r.start, built_in.start);
        assert_eq!(r.matching.entity, Entity::Company);
        let r = Rules::parse("field = []\n[matching]\nentity = \"company\"\n", "x.toml").unwrap();
        assert!(r.fields.is_empty(), "`field = []`: no definitions");
        // A table the file has replaces the built-in one whole.
        let text = "[[field]]\nname = \"tel\"\ntype = \"phone\"\n\n\
                    [dictionary.company_aliases]\n\"日本航空\" = [\"JL\"]\n";
        let r = Rules::parse(text, "x.toml").unwrap();
        assert_eq!(
            r.fields.len(),
            1,
            "a file's own sheet replaces the built-in one"
        );
        assert_eq!(r.dictionary.company_aliases.len(), 1);
        assert!(
            r.survivorship.groups.is_empty(),
            "the built-in groups name the built-in fields"
        );
    }

    /// `[options]` and `[matching]` are not layered key by key: a key a
    /// file's table leaves out takes the code's default (serde), not the
    /// built-in file's. That is the same value only while the two agree.
    #[test]
    fn the_built_in_options_are_the_code_defaults() {
        let built_in = Rules::default_rules();
        assert_eq!(built_in.matching, MatchingOptions::default());
        // The options as they act (`split_branch` unset is `true`).
        let text = |o: &Options| {
            let mut o = o.clone();
            o.company_name.split_branch = Some(o.company_name.split_branch());
            toml::to_string(&o).unwrap()
        };
        assert_eq!(text(&built_in.options), text(&Options::default()));
        // And so a file's partial table keeps every other built-in value.
        let r = Rules::parse("[options.phone]\nformat = \"e164\"\n", "x.toml").unwrap();
        assert_eq!(r.options.phone.format, PhoneFormat::E164);
        let mut national = r.options.clone();
        national.phone.format = PhoneFormat::National;
        assert_eq!(text(&national), text(&built_in.options));
    }

    #[test]
    fn ignore_names_a_column_by_its_header_its_field_or_an_alias() {
        let text = "[matching]\nignore = [\"電話番号\", \"備考\", \"faxx\"]\n\n\
                    [[field]]\nname = \"phone\"\ntype = \"phone\"\nheaders = [\"TEL\", \"電話番号\"]\n";
        let r = Rules::parse(text, "x.toml").unwrap();
        let phone = r.field_for_header("TEL");
        assert!(phone.is_some());
        // The file calls the phone `TEL`; the rules' other header names it.
        assert!(!r.is_compared("TEL", phone));
        assert!(!r.is_compared("備考", None));
        assert!(r.is_compared("FAX", None));
        let columns = [("TEL", phone), ("備考", None), ("FAX", None)];
        assert_eq!(r.ignore_unused(columns), vec!["faxx".to_string()]);
        assert_eq!(r.ignore_unused([("TEL", phone)]).len(), 2);
    }

    #[test]
    fn options_that_make_no_sense_report_their_key() {
        let refused = |text: &str| Rules::parse(text, "x.toml").unwrap_err();
        let e = refused("[matching]\ntop_k = 10\nmatch_threshold = 0.4\n");
        assert!(e.message.contains("review_threshold"), "{e}");
        // The review threshold is not in the file: the key that is.
        assert_eq!((e.line, e.column), (Some(3), Some(19)), "{e}");
        let e = refused("[matching]\nreview_threshold = 0.95\n");
        assert_eq!(e.line, Some(2), "{e}");
        let e = refused("[matching]\n\nauto_merge_precision = 1.5\n");
        assert_eq!(e.line, Some(3), "{e}");
        let e = refused("[matching]\nmin_link_density = -1\n");
        assert_eq!(e.line, Some(2), "{e}");
        let e = refused("[options]\ndate = { format = \"%Y/%m\" }\n");
        assert!(e.message.contains("%d"), "{e}");
        assert_eq!((e.line, e.column), (Some(2), Some(19)), "{e}");
    }

    #[test]
    fn unknown_key_reports_line() {
        let text = "[options.address]\nchome = \"kanji\"\nchoume = 1\n";
        let e = Rules::parse(text, "x.toml").unwrap_err();
        assert_eq!(e.line, Some(3), "{e}");
    }

    #[test]
    fn unknown_field_type_reports_line() {
        let text = "[[field]]\nname = \"a\"\ntype = \"text\"\n\n[[field]]\nname = \"b\"\ntype = \"phonee\"\n";
        let e = Rules::parse(text, "x.toml").unwrap_err();
        assert!(e.message.contains("phonee"), "{e}");
        assert!(e.line.is_some_and(|l| l >= 5), "{e}");
    }
}
