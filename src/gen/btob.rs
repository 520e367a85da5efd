//! Companies (BtoB): real business names, their offices, look-alike
//! companies, and the records a CRM holds of them.

use super::data::{data, Company, GivenName, SiteOffice, Surname};
use super::fields::{self, Address, Phone};
use super::{names, text};
use super::{GenRecord, Group, GroupKind};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// Share of companies whose 法人番号 is known to the CRM (the column is
/// often filled only for customers that were checked or invoiced).
const P_CORPORATE_NUMBER: f64 = 0.55;
/// Share of companies that list a 0120 number as their phone.
const P_FREEDIAL: f64 = 0.08;
/// A duplicate record written after the company moved: new address and phone.
const P_MOVE: f64 = 0.05;
/// A duplicate record with another contact person of the same company.
const P_OTHER_CONTACT: f64 = 0.25;
/// The legal form left out of the name.
const P_FORM_DROPPED: f64 = 0.07;
/// The legal form written on the wrong side (`株式会社X` for `X株式会社`).
const P_FORM_WRONG_SIDE: f64 = 0.04;
/// Abbreviated legal form: `(株)`, `（株）`, `㈱`.
const P_FORM_ABBREVIATED: f64 = 0.18;
/// English `X Co., Ltd.` for a 株式会社 (rare in Japanese CRMs).
const P_FORM_ENGLISH: f64 = 0.01;
/// A space between the legal form and the name.
const P_FORM_SPACE: f64 = 0.1;
/// Full-width letters and digits in a name that has ASCII.
const P_FULLWIDTH_NAME: f64 = 0.12;
/// Half-width katakana in the name.
const P_HALFWIDTH_NAME: f64 = 0.03;
/// One-character typo in the company name / its reading / the address.
const P_TYPO_NAME: f64 = 0.02;
const P_TYPO_ADDRESS: f64 = 0.02;
/// The reading with the bank-transfer legal form (`ｶ)ﾐﾂﾋﾞｼ`).
const P_BANK_KANA: f64 = 0.12;
/// Blank cells, per field and record.
const P_BLANK_KANA: f64 = 0.12;
const P_BLANK_CONTACT: f64 = 0.10;
const P_BLANK_POSTAL: f64 = 0.03;
const P_BLANK_PHONE: f64 = 0.04;
const P_BLANK_EMAIL: f64 = 0.15;
const P_BLANK_CORPORATE_NUMBER: f64 = 0.25;
/// A duplicate record that leaves out the building and floor.
const P_DROP_BUILDING: f64 = 0.2;

/// Offices: (place, reading, prefecture).
const PLACES: &[(&str, &str, &str)] = &[
    ("札幌", "サッポロ", "北海道"),
    ("仙台", "センダイ", "宮城県"),
    ("東北", "トウホク", "宮城県"),
    ("東京", "トウキョウ", "東京都"),
    ("横浜", "ヨコハマ", "神奈川県"),
    ("埼玉", "サイタマ", "埼玉県"),
    ("千葉", "チバ", "千葉県"),
    ("新潟", "ニイガタ", "新潟県"),
    ("静岡", "シズオカ", "静岡県"),
    ("名古屋", "ナゴヤ", "愛知県"),
    ("中部", "チュウブ", "愛知県"),
    ("金沢", "カナザワ", "石川県"),
    ("北陸", "ホクリク", "石川県"),
    ("京都", "キョウト", "京都府"),
    ("大阪", "オオサカ", "大阪府"),
    ("関西", "カンサイ", "大阪府"),
    ("神戸", "コウベ", "兵庫県"),
    ("岡山", "オカヤマ", "岡山県"),
    ("広島", "ヒロシマ", "広島県"),
    ("中国", "チュウゴク", "広島県"),
    ("高松", "タカマツ", "香川県"),
    ("四国", "シコク", "香川県"),
    ("松山", "マツヤマ", "愛媛県"),
    ("福岡", "フクオカ", "福岡県"),
    ("九州", "キュウシュウ", "福岡県"),
    ("熊本", "クマモト", "熊本県"),
    ("鹿児島", "カゴシマ", "鹿児島県"),
    ("沖縄", "オキナワ", "沖縄県"),
];
const OFFICE_KINDS: &[(&str, &str)] = &[
    ("支店", "シテン"),
    ("営業所", "エイギョウショ"),
    ("支社", "シシャ"),
    ("出張所", "シュッチョウジョ"),
    ("事業所", "ジギョウショ"),
];
/// Trade words that look-alike companies swap (`ABC商事` / `ABC物産`).
const TRADE_WORDS: &[(&str, &str)] = &[
    ("商事", "ショウジ"),
    ("物産", "ブッサン"),
    ("産業", "サンギョウ"),
    ("工業", "コウギョウ"),
    ("興業", "コウギョウ"),
    ("商会", "ショウカイ"),
    ("建設", "ケンセツ"),
    ("電機", "デンキ"),
    ("電気", "デンキ"),
    ("システム", "システム"),
    ("ホールディングス", "ホールディングス"),
];

struct Contact {
    surname: &'static Surname,
    spelling: &'static str,
    given: &'static GivenName,
    local: String,
}

struct Firm {
    /// Name without legal form or office.
    base: String,
    kana: String,
    form: &'static str,
    form_first: bool,
    /// Office name and its reading (`札幌支店`, `サッポロシテン`).
    office: Option<(String, String)>,
    address: Address,
    phone: Phone,
    domain: String,
    corporate_number: Option<String>,
    contacts: Vec<Contact>,
    moved: Option<(Address, Phone)>,
    /// An office of a site, written from Japan Post's name and reading.
    written: Option<&'static SiteOffice>,
}

fn contact(rng: &mut ChaCha8Rng) -> Contact {
    let surname = names::surname(rng);
    let female = rng.gen_bool(0.4);
    let given = names::given(rng, female);
    let local = names::email_local(surname.reading, given.reading, rng, None);
    Contact {
        surname,
        spelling: names::own_spelling(surname, rng),
        given,
        local,
    }
}

fn domain_of(base_kana: &str, rng: &mut ChaCha8Rng) -> String {
    let mut slug: String = text::romaji(base_kana).chars().take(16).collect();
    if slug.len() < 3 {
        slug = format!("corp{}", rng.gen_range(100..10_000));
    }
    format!("{slug}.example.co.jp")
}

fn firm(c: &'static Company, prefecture: Option<&str>, rng: &mut ChaCha8Rng) -> Firm {
    let address = fields::address(rng, prefecture, true);
    let phone = if rng.gen_bool(P_FREEDIAL) {
        fields::freedial(rng)
    } else {
        fields::landline(rng, address.prefecture)
    };
    let domain = domain_of(c.kana, rng);
    let n_contacts = rng.gen_range(1..=3);
    let contacts = (0..n_contacts).map(|_| contact(rng)).collect();
    Firm {
        base: c.base.to_string(),
        kana: c.kana.to_string(),
        form: c.form,
        form_first: c.form_first,
        office: None,
        address,
        phone,
        domain,
        corporate_number: (!c.form.is_empty() && rng.gen_bool(P_CORPORATE_NUMBER))
            .then(|| fields::corporate_number(rng)),
        contacts,
        moved: None,
        written: None,
    }
}

/// An office of a site: its name and reading as Japan Post writes them, its
/// own postal code, at the site's address (another floor), its own phone.
fn site_firm(o: &'static SiteOffice, site: &Address, rng: &mut ChaCha8Rng) -> Firm {
    let d = data();
    let parts: Vec<&str> = o.name.split('\u{3000}').filter(|p| !p.is_empty()).collect();
    let form_at = parts.iter().position(|p| d.legal_forms.contains_key(p));
    let base: String = parts
        .iter()
        .enumerate()
        .filter(|(i, _)| Some(*i) != form_at)
        .map(|(_, p)| *p)
        .collect();
    let kana = written_kana_parts(o).concat();
    let mut address = site.clone();
    address.postal = o.code;
    if let Some((name, _)) = &site.building {
        let (_, room) = fields::building(rng, true);
        address.building = Some((name.clone(), room));
    }
    let form = form_at.map_or("", |i| {
        d.legal_forms
            .get_key_value(parts[i])
            .map_or("", |(k, _)| *k)
    });
    let n_contacts = rng.gen_range(1..=3);
    Firm {
        base,
        domain: domain_of(&kana, rng),
        kana,
        form,
        form_first: form_at == Some(0),
        office: None,
        phone: fields::landline(rng, o.prefecture),
        address,
        corporate_number: (!form.is_empty() && rng.gen_bool(P_CORPORATE_NUMBER))
            .then(|| fields::corporate_number(rng)),
        contacts: (0..n_contacts).map(|_| contact(rng)).collect(),
        moved: None,
        written: Some(o),
    }
}

/// The parts of a site office's reading without legal-form readings
/// (`カブシキガイシヤ`, `(カブ)`), `-` written `ー`.
fn written_kana_parts(o: &SiteOffice) -> Vec<String> {
    let d = data();
    o.kana
        .split(' ')
        .filter(|p| !p.is_empty() && !p.starts_with('('))
        .filter(|p| {
            !d.legal_forms
                .values()
                .any(|l| l.reading.is_some_and(|r| r.replace('ャ', "ヤ") == *p))
        })
        .map(|p| p.replace('-', "ー"))
        .collect()
}

/// A site office's name the way one record writes it: Japan Post's parts
/// joined with a full-width space, a space or nothing; the legal form
/// dropped or abbreviated as in [`render_company_name`].
fn render_written_name(o: &SiteOffice, rng: &mut ChaCha8Rng) -> String {
    let sep = match rng.gen_range(0..10) {
        0..=2 => "\u{3000}",
        3..=5 => " ",
        _ => "",
    };
    let fold = rng.gen_bool(0.5);
    let mut out: Vec<String> = Vec::new();
    for p in o.name.split('\u{3000}').filter(|p| !p.is_empty()) {
        match data().legal_forms.get(p) {
            Some(_) if rng.gen_bool(P_FORM_DROPPED) => {}
            Some(lf) if lf.abbr.is_some() && rng.gen_bool(P_FORM_ABBREVIATED) => {
                out.push(format!("({})", lf.abbr.unwrap_or_default()))
            }
            _ if fold => out.push(text::halfwidth_ascii(p)),
            _ => out.push(p.to_string()),
        }
    }
    let mut name = out.join(sep);
    if rng.gen_bool(P_TYPO_NAME) {
        name = text::typo(&name, rng);
    }
    name
}

fn render_written_kana(o: &SiteOffice, rng: &mut ChaCha8Rng) -> String {
    if rng.gen_bool(P_BLANK_KANA) {
        return String::new();
    }
    let sep = if rng.gen_bool(0.5) { " " } else { "" };
    names::kana_notation(&written_kana_parts(o).join(sep), rng)
}

/// Share of customers drawn from names without a legal form (schools,
/// hospitals, cooperatives, public offices): a minority of a B2B file.
const P_NO_FORM: f64 = 0.12;

fn pick_company(rng: &mut ChaCha8Rng) -> &'static Company {
    let d = data();
    let list = if rng.gen_bool(P_NO_FORM) {
        &d.without_form
    } else {
        &d.with_form
    };
    &d.companies[list[rng.gen_range(0..list.len())] as usize]
}

/// How many sites [`GroupKind::Site`] groups can draw from.
pub(super) fn site_count() -> usize {
    data().sites.len()
}

pub(super) fn render_group(g: &Group, rng: &mut ChaCha8Rng, out: &mut Vec<GenRecord>) {
    let n = g.records.len();
    let mut firms: Vec<Firm> = Vec::with_capacity(n);
    match g.kind {
        GroupKind::Branches => {
            let c = pick_company(rng);
            let mut places: Vec<usize> = (0..PLACES.len()).collect();
            let shared_number = rng.gen_bool(0.8);
            for i in 0..n {
                let j = rng.gen_range(i..places.len());
                places.swap(i, j);
                let (place, reading, pref) = PLACES[places[i]];
                let mut f = firm(c, Some(pref), rng);
                if i == 0 {
                    // The head office: often written without an office name.
                    if rng.gen_bool(0.5) {
                        f.office = Some(("本社".into(), "ホンシャ".into()));
                    }
                } else {
                    let (k, kr) = OFFICE_KINDS[rng.gen_range(0..OFFICE_KINDS.len())];
                    f.office = Some((format!("{place}{k}"), format!("{reading}{kr}")));
                    // One company, one domain and (usually) one 法人番号.
                    f.domain = firms[0].domain.clone();
                    if shared_number {
                        f.corporate_number = firms[0].corporate_number.clone();
                    }
                }
                firms.push(f);
            }
        }
        GroupKind::Site => {
            let site = &data().sites[g.site];
            let mut order: Vec<usize> = (0..site.len()).collect();
            for i in 0..n {
                let j = rng.gen_range(i..order.len());
                order.swap(i, j);
            }
            let first = &site[order[0]];
            let mut address = fields::address(rng, Some(first.prefecture), true);
            address.prefecture = first.prefecture;
            address.city = first.city;
            address.town = first.town.0;
            address.chome = (first.town.1 > 0).then(|| rng.gen_range(1..=first.town.1 as u32));
            for &i in &order[..n] {
                firms.push(site_firm(&site[i], &address, rng));
            }
        }
        GroupKind::LookAlike => {
            let c = pick_company(rng);
            let first = firm(c, None, rng);
            if n > 1 {
                let mut second = firm(c, None, rng);
                let (base, kana) = look_alike(&first.base, &first.kana, rng);
                second.base = base;
                second.kana = kana.clone();
                second.domain = domain_of(&kana, rng);
                // Same building, another floor.
                second.address = first.address.clone();
                if let Some((name, _)) = &first.address.building {
                    let (_, room) = fields::building(rng, true);
                    second.address.building = Some((name.clone(), room));
                }
                firms.push(first);
                firms.push(second);
            } else {
                firms.push(first);
            }
        }
        _ => {
            for _ in 0..n {
                let c = pick_company(rng);
                firms.push(firm(c, None, rng));
            }
        }
    }
    for (i, f) in firms.iter_mut().enumerate() {
        let entity = g.first_entity + i as u32;
        for r in 0..g.records[i] {
            out.push(GenRecord {
                entity,
                fields: record(f, r == 0, rng),
            });
        }
    }
}

/// `ABC商事` → `ABC物産`; a base with no trade word gets one.
fn look_alike(base: &str, kana: &str, rng: &mut ChaCha8Rng) -> (String, String) {
    let other = |w: &str, rng: &mut ChaCha8Rng| loop {
        let t = TRADE_WORDS[rng.gen_range(0..TRADE_WORDS.len())];
        if t.0 != w {
            return t;
        }
    };
    for (w, r) in TRADE_WORDS {
        if let Some(stem) = base.strip_suffix(w) {
            let (nw, nr) = other(w, rng);
            let kstem = kana.strip_suffix(r).unwrap_or(kana);
            return (format!("{stem}{nw}"), format!("{kstem}{nr}"));
        }
    }
    let (nw, nr) = other("", rng);
    (format!("{base}{nw}"), format!("{kana}{nr}"))
}

fn render_company_name(f: &Firm, rng: &mut ChaCha8Rng) -> String {
    if let Some(o) = f.written {
        return render_written_name(o, rng);
    }
    let mut base = f.base.clone();
    if base.is_ascii() || base.chars().any(|c| c.is_ascii_alphanumeric()) {
        if rng.gen_bool(P_FULLWIDTH_NAME) {
            base = text::fullwidth_ascii(&base);
        }
    } else if rng.gen_bool(P_HALFWIDTH_NAME) {
        base = text::halfwidth_kana(&base);
    }
    if rng.gen_bool(P_TYPO_NAME) {
        base = text::typo(&base, rng);
    }
    let mut name = if f.form.is_empty() || rng.gen_bool(P_FORM_DROPPED) {
        base
    } else {
        let lf = data().legal_forms.get(f.form);
        let abbr = lf.and_then(|l| l.abbr);
        let mut first = f.form_first;
        if rng.gen_bool(P_FORM_WRONG_SIDE) {
            first = !first;
        }
        let x: f64 = rng.gen();
        if f.form == "株式会社"
            && x < P_FORM_ENGLISH
            && !f.base.chars().any(crate::normalize::text::is_kanji)
        {
            format!("{base} Co., Ltd.")
        } else if let (Some(a), true) = (abbr, x < P_FORM_ENGLISH + P_FORM_ABBREVIATED) {
            let written = match (rng.gen_range(0..4), f.form) {
                (0, "株式会社") => "㈱".to_string(),
                (0, "有限会社") => "㈲".to_string(),
                (1, _) => format!("（{a}）"),
                _ => format!("({a})"),
            };
            if first {
                format!("{written}{base}")
            } else {
                format!("{base}{written}")
            }
        } else {
            let sp = if rng.gen_bool(P_FORM_SPACE) {
                if rng.gen_bool(0.5) {
                    " "
                } else {
                    "\u{3000}"
                }
            } else {
                ""
            };
            if first {
                format!("{}{sp}{base}", f.form)
            } else {
                format!("{base}{sp}{}", f.form)
            }
        }
    };
    if let Some((office, _)) = &f.office {
        if rng.gen_bool(0.8) {
            name.push(' ');
        }
        name.push_str(office);
    }
    name
}

fn render_company_kana(f: &Firm, rng: &mut ChaCha8Rng) -> String {
    if let Some(o) = f.written {
        return render_written_kana(o, rng);
    }
    if f.kana.is_empty() || rng.gen_bool(P_BLANK_KANA) {
        return String::new();
    }
    let mut k = f.kana.clone();
    if rng.gen_bool(P_TYPO_NAME) {
        k = text::typo(&k, rng);
    }
    let bank = data().legal_forms.get(f.form).and_then(|l| l.bank);
    if let (Some(b), true) = (bank, rng.gen_bool(P_BANK_KANA)) {
        k = if f.form_first {
            format!("{b}){k}")
        } else {
            format!("{k}({b}")
        };
        // Bank-style readings come from bank systems: half-width.
        if rng.gen_bool(0.7) {
            return text::halfwidth_kana(&k);
        }
    }
    if let Some((_, reading)) = &f.office {
        if rng.gen_bool(0.5) {
            k.push(' ');
            k.push_str(reading);
        }
    }
    names::kana_notation(&k, rng)
}

fn record(f: &mut Firm, first: bool, rng: &mut ChaCha8Rng) -> Vec<String> {
    let moved = !first && rng.gen_bool(P_MOVE);
    let (address, phone) = if moved {
        let pref = f.address.prefecture;
        let (a, p) = f.moved.get_or_insert_with(|| {
            let same_pref = rng.gen_bool(0.7);
            let a = fields::address(rng, same_pref.then_some(pref), true);
            let p = fields::landline(rng, a.prefecture);
            (a, p)
        });
        (a.clone(), p.clone())
    } else {
        (f.address.clone(), f.phone.clone())
    };
    let name = render_company_name(f, rng);
    let kana = render_company_kana(f, rng);
    let ci = if !first && f.contacts.len() > 1 && rng.gen_bool(P_OTHER_CONTACT) {
        rng.gen_range(1..f.contacts.len())
    } else {
        0
    };
    let c = &f.contacts[ci];
    let contact = if rng.gen_bool(P_BLANK_CONTACT) {
        String::new()
    } else {
        names::render_name(c.surname, c.spelling, c.given, rng)
    };
    let postal = if rng.gen_bool(P_BLANK_POSTAL) {
        String::new()
    } else {
        fields::render_postal(address.postal, rng)
    };
    let keep_building = first || !rng.gen_bool(P_DROP_BUILDING);
    let mut addr = fields::render_address(&address, rng, keep_building);
    if rng.gen_bool(P_TYPO_ADDRESS) {
        addr = text::typo(&addr, rng);
    }
    let phone = if rng.gen_bool(P_BLANK_PHONE) {
        String::new()
    } else {
        fields::render_phone(&phone, rng)
    };
    let email = if rng.gen_bool(P_BLANK_EMAIL) {
        String::new()
    } else {
        format!("{}@{}", c.local, f.domain)
    };
    let number = match &f.corporate_number {
        Some(n) if !rng.gen_bool(P_BLANK_CORPORATE_NUMBER) => match rng.gen_range(0..20) {
            0 => text::fullwidth_ascii(n),
            1 => format!("T{n}"),
            _ => n.clone(),
        },
        _ => String::new(),
    };
    vec![name, kana, contact, postal, addr, phone, email, number]
}
