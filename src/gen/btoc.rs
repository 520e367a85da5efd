//! Consumers (BtoC): people, households, twins and namesakes, and the records
//! a CRM holds of them.

use super::data::{GivenName, Surname};
use super::fields::{self, Address, Phone};
use super::names;
use super::{GenRecord, Group, GroupKind};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// Share of people with a landline at home (households always have one):
/// falling fast, but customer files still hold many.
const P_LANDLINE: f64 = 0.4;
/// Share of records that give the landline when the person has both.
const P_SHOW_LANDLINE: f64 = 0.45;
/// Share of people who gave an e-mail address.
const P_EMAIL: f64 = 0.7;
/// A duplicate record that leaves out the building and room.
const P_DROP_BUILDING: f64 = 0.2;
/// One-character typo in an address or an e-mail address.
const P_TYPO_ADDRESS: f64 = 0.02;
const P_TYPO_EMAIL: f64 = 0.01;

/// How a consumer file's duplicates differ: the rates of one profile.
#[derive(Debug, Clone, Copy)]
pub struct Rates {
    /// A duplicate record written after the person moved: new address and phone.
    pub moved: f64,
    /// A duplicate record of a woman under a new surname (marriage), same
    /// given name and birth date; half of these also moved.
    pub surname_change: f64,
    /// A duplicate record with another phone number without a move (a new
    /// mobile, a work number).
    pub new_phone: f64,
    /// A duplicate record with another e-mail address (new provider, a
    /// second address).
    pub new_email: f64,
    /// A duplicate record whose reading has a slip of one kana
    /// (`ヨウコ`/`ユウコ`) or gives the given name another reading.
    pub kana_slip: f64,
    /// A record with the reading only, the kanji name blank (orders taken by
    /// phone, imports from kana-only systems).
    pub only_kana: f64,
    /// Blank cells, per field and record.
    pub blank_kana: f64,
    pub blank_birth: f64,
    pub blank_gender: f64,
    pub blank_postal: f64,
    pub blank_phone: f64,
    pub blank_email: f64,
}

/// Sign-up forms (the default): most fields asked for every time; records
/// close in time.
pub const FORMS: Rates = Rates {
    moved: 0.08,
    surname_change: 0.05,
    new_phone: 0.0,
    new_email: 0.0,
    kana_slip: 0.0,
    only_kana: 0.0,
    blank_kana: 0.06,
    blank_birth: 0.05,
    blank_gender: 0.10,
    blank_postal: 0.04,
    blank_phone: 0.05,
    blank_email: 0.12,
};

/// A CRM that gathered records over years from shops, call centres and
/// campaigns (`nayose gen --profile crm`): birth dates mostly unknown,
/// phones and e-mails that change, moves and marriages between records,
/// readings slipped or alone. Namesakes and twins are drawn more often too
/// ([`super::CRM_NAMESAKES`]).
pub const CRM: Rates = Rates {
    // Years between records: about one Japanese in twenty moves a year.
    moved: 0.20,
    surname_change: 0.10,
    new_phone: 0.25,
    new_email: 0.35,
    kana_slip: 0.05,
    only_kana: 0.04,
    // Kana is left out in shops; birth dates are asked for at few touch points.
    blank_kana: 0.25,
    blank_birth: 0.70,
    blank_gender: 0.40,
    blank_postal: 0.10,
    blank_phone: 0.10,
    blank_email: 0.40,
};

struct Person {
    surname: &'static Surname,
    spelling: &'static str,
    given: &'static GivenName,
    female: bool,
    birth: (u32, u32, u32),
    address: Address,
    home: Option<Phone>,
    mobile: Phone,
    email: Option<String>,
    /// Drawn when a record first needs it.
    moved: Option<(Address, Phone)>,
    married: Option<(&'static Surname, &'static str)>,
}

fn email<R: Rng>(surname: &Surname, given: &GivenName, year: u32, rng: &mut R) -> Option<String> {
    rng.gen_bool(P_EMAIL).then(|| {
        let local = names::email_local(surname.reading, given.reading, rng, Some(year));
        let domain = fields::FREE_MAIL[rng.gen_range(0..fields::FREE_MAIL.len())];
        format!("{local}@{domain}")
    })
}

fn person(rng: &mut ChaCha8Rng) -> Person {
    let surname = names::surname(rng);
    let female = rng.gen_bool(0.5);
    let given = names::given(rng, female);
    let birth = fields::birth_date(rng, 1940..=2005);
    let address = fields::address(rng, None, false);
    let home = rng
        .gen_bool(P_LANDLINE)
        .then(|| fields::landline(rng, address.prefecture));
    Person {
        surname,
        spelling: names::own_spelling(surname, rng),
        given,
        female,
        birth,
        home,
        mobile: fields::mobile(rng),
        email: email(surname, given, birth.0, rng),
        address,
        moved: None,
        married: None,
    }
}

/// Another member of `p`'s household: same surname, address and landline.
fn relative(p: &Person, rng: &mut ChaCha8Rng, twin: bool) -> Person {
    let female = rng.gen_bool(0.5);
    let mut given = names::given(rng, female);
    while given.name == p.given.name {
        given = names::given(rng, female);
    }
    let birth = if twin {
        p.birth
    } else if rng.gen_bool(0.4) {
        // Spouse: a few years apart.
        let y = (p.birth.0 as i32 + rng.gen_range(-5..=5)).clamp(1940, 2005) as u32;
        fields::birth_date(rng, y..=y)
    } else {
        // Child or parent: a generation apart, within 1940–2005.
        let y = p.birth.0 as i32 + if p.birth.0 < 1975 { 28 } else { -28 };
        let y = (y + rng.gen_range(-6..=6)).clamp(1940, 2005) as u32;
        fields::birth_date(rng, y..=y)
    };
    Person {
        surname: p.surname,
        spelling: p.spelling,
        given,
        female,
        birth,
        address: p.address.clone(),
        home: p.home.clone(),
        mobile: fields::mobile(rng),
        email: email(p.surname, given, birth.0, rng),
        moved: None,
        married: None,
    }
}

pub(super) fn render_group(
    g: &Group,
    rates: &Rates,
    rng: &mut ChaCha8Rng,
    out: &mut Vec<GenRecord>,
) {
    let mut people: Vec<Person> = Vec::with_capacity(g.records.len());
    for i in 0..g.records.len() {
        let p = match (g.kind, people.first()) {
            (GroupKind::Household | GroupKind::Twins, Some(first)) => {
                relative(first, rng, g.kind == GroupKind::Twins)
            }
            (GroupKind::Namesakes, Some(first)) => {
                let mut p = person(rng);
                p.surname = first.surname;
                p.spelling = first.spelling;
                p.given = first.given;
                p.female = first.female;
                p.email = email(p.surname, p.given, p.birth.0, rng);
                p
            }
            _ => {
                let mut p = person(rng);
                if i == 0 && matches!(g.kind, GroupKind::Household | GroupKind::Twins) {
                    p.home = Some(fields::landline(rng, p.address.prefecture));
                }
                p
            }
        };
        people.push(p);
    }
    for (i, p) in people.iter_mut().enumerate() {
        let entity = g.first_entity + i as u32;
        for r in 0..g.records[i] {
            out.push(GenRecord {
                entity,
                fields: record(p, r == 0, rates, rng),
            });
        }
    }
}

fn record(p: &mut Person, first: bool, r: &Rates, rng: &mut ChaCha8Rng) -> Vec<String> {
    let (mut surname, mut spelling) = (p.surname, p.spelling);
    let mut moved = !first && rng.gen_bool(r.moved);
    if !first && p.female && rng.gen_bool(r.surname_change) {
        let (s, sp) = *p.married.get_or_insert_with(|| {
            let mut s = names::surname(rng);
            while s.name == p.surname.name {
                s = names::surname(rng);
            }
            (s, names::own_spelling(s, rng))
        });
        surname = s;
        spelling = sp;
        moved |= rng.gen_bool(0.5);
    }
    let (address, mut phone) = if moved {
        let pref = p.address.prefecture;
        let (a, ph) = p.moved.get_or_insert_with(|| {
            let same_pref = rng.gen_bool(0.6);
            let a = fields::address(rng, same_pref.then_some(pref), false);
            let ph = match p.home {
                Some(_) => fields::landline(rng, a.prefecture),
                None => fields::mobile(rng),
            };
            (a, ph)
        });
        (a.clone(), ph.clone())
    } else {
        let ph = match &p.home {
            Some(h) if rng.gen_bool(P_SHOW_LANDLINE) => h.clone(),
            _ => p.mobile.clone(),
        };
        (p.address.clone(), ph)
    };
    if !first && !moved && rng.gen_bool(r.new_phone) {
        phone = fields::mobile(rng);
    }
    let blank = |rng: &mut ChaCha8Rng, pr: f64| rng.gen_bool(pr);
    let only_kana = rng.gen_bool(r.only_kana);
    let name = if only_kana {
        String::new()
    } else {
        names::render_name(surname, spelling, p.given, rng)
    };
    let kana = if !only_kana && blank(rng, r.blank_kana) {
        String::new()
    } else {
        let mut k = names::render_reading(surname.reading, p.given.reading, rng);
        if !first && rng.gen_bool(r.kana_slip) {
            k = super::text::typo(&k, rng);
        }
        k
    };
    let birth = if blank(rng, r.blank_birth) {
        String::new()
    } else {
        fields::render_date(p.birth, rng)
    };
    let gender = if blank(rng, r.blank_gender) {
        ""
    } else {
        match (rng.gen_range(0..20), p.female) {
            (0..=13, false) => "男性",
            (0..=13, true) => "女性",
            (14..=18, false) => "男",
            (14..=18, true) => "女",
            (_, false) => "M",
            (_, true) => "F",
        }
    };
    let postal = if blank(rng, r.blank_postal) {
        String::new()
    } else {
        fields::render_postal(address.postal, rng)
    };
    let keep_building = first || !rng.gen_bool(P_DROP_BUILDING);
    let mut addr = fields::render_address(&address, rng, keep_building);
    if rng.gen_bool(P_TYPO_ADDRESS) {
        addr = super::text::typo(&addr, rng);
    }
    let phone = if blank(rng, r.blank_phone) {
        String::new()
    } else {
        fields::render_phone(&phone, rng)
    };
    let new_email = !first && rng.gen_bool(r.new_email);
    let email = match &p.email {
        Some(_) if new_email => email(p.surname, p.given, p.birth.0, rng).unwrap_or_default(),
        Some(e) if !blank(rng, r.blank_email) => {
            if rng.gen_bool(P_TYPO_EMAIL) {
                super::text::typo(e, rng)
            } else {
                e.clone()
            }
        }
        _ => String::new(),
    };
    vec![
        name,
        kana,
        birth,
        gender.to_string(),
        postal,
        addr,
        phone,
        email,
    ]
}
