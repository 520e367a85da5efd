//! Dates: Western (`2024-01-05`, `2024/1/5`, `2024.1.5`, `2024年1月5日`,
//! `20240105`, kanji numerals) and Japanese eras (`令和5年4月1日`, `R5.4.1`,
//! `H31/4/30`, `㋿5.4.1`, `平成元年`, `昭和六十四年一月七日`), full width
//! included; an optional weekday in parentheses (`(金)`) and time
//! (`10:30`, `10時30分`) after the date are ignored.
//!
//! Era years are checked against the real era boundaries (明治 from
//! 1868-01-25, 大正 from 1912-07-30, 昭和 from 1926-12-25, 平成 from
//! 1989-01-08, 令和 from 2019-05-01): `平成31年5月1日` does not exist and is an
//! `impossible_date`, as is `2023-02-29`. A two-digit Western year, or a
//! day/month order that cannot be told, is an `ambiguous_date`: a date is
//! never guessed. The display value follows the rules' format (ISO by
//! default); the key is always ISO.

use super::IssueKind;
use super::{text, Normalized};
use crate::rules::DateOptions;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Ymd {
    pub year: i32,
    pub month: u32,
    pub day: u32,
}

struct Era {
    names: &'static [&'static str],
    start: Ymd,
}

const ERAS: [Era; 5] = [
    Era {
        names: &["明治", "明", "M"],
        start: Ymd {
            year: 1868,
            month: 1,
            day: 25,
        },
    },
    Era {
        names: &["大正", "大", "T"],
        start: Ymd {
            year: 1912,
            month: 7,
            day: 30,
        },
    },
    Era {
        names: &["昭和", "昭", "S"],
        start: Ymd {
            year: 1926,
            month: 12,
            day: 25,
        },
    },
    Era {
        names: &["平成", "平", "H"],
        start: Ymd {
            year: 1989,
            month: 1,
            day: 8,
        },
    },
    Era {
        names: &["令和", "令", "R"],
        start: Ymd {
            year: 2019,
            month: 5,
            day: 1,
        },
    },
];

fn is_leap(y: i32) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

pub fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(y) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Why a date string is not a date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DateError {
    Unreadable,
    Ambiguous(&'static str),
    Impossible(String),
}

/// Parse a (folded) date string.
pub fn parse(s: &str) -> Result<Ymd, DateError> {
    // Drop a time part: `2024-01-05 10:30`, `2024-01-05T10:30:00+09:00`,
    // `2024年1月5日 10時30分`. Not a `T` at the start: that is the 大正 era.
    let time_at = s.char_indices().find(|&(i, c)| {
        i > 0 && matches!(c, 'T' | ' ') && s[i + c.len_utf8()..].contains([':', '時'])
    });
    let s = match time_at {
        Some((i, _)) => &s[..i],
        None => s,
    };
    let s = strip_weekday(s.trim()).trim();
    let (era, rest) = split_era(s);
    let tokens = number_tokens(rest)?;

    let (y, m, d, y_digits) = match tokens.as_slice() {
        [(t, len)] if era.is_none() && *len == 8 => (t / 10000, (t / 100) % 100, t % 100, 4),
        [(t, len)] if era.is_some() && *len == 6 => (t / 10000, (t / 100) % 100, t % 100, 2),
        [(a, la), (b, _), (c, lc)] => {
            if era.is_none() && *lc == 4 && *la <= 2 {
                // D/M/YYYY or M/D/YYYY: decidable only when one part is over 12.
                if *a > 12 && *b <= 12 {
                    (*c, *b, *a, 4)
                } else if *b > 12 && *a <= 12 {
                    (*c, *a, *b, 4)
                } else {
                    return Err(DateError::Ambiguous("day and month order cannot be told"));
                }
            } else {
                (*a, *b, *c, *la)
            }
        }
        [_, _] => return Err(DateError::Ambiguous("no day")),
        _ => return Err(DateError::Unreadable),
    };

    let year = match era {
        Some(e) => {
            if y == 0 {
                return Err(DateError::Impossible(format!(
                    "there is no year 0 of {}",
                    ERAS[e].names[0]
                )));
            }
            // No era lasted 100 years (明治 45, 昭和 64); a larger number is a
            // typo, and would overflow the year arithmetic.
            if y > 99 {
                return Err(DateError::Impossible(format!(
                    "{}{y}年: no era has a year {y}",
                    ERAS[e].names[0]
                )));
            }
            ERAS[e].start.year + y as i32 - 1
        }
        None if y_digits == 4 => y as i32,
        None if y_digits > 4 => return Err(DateError::Unreadable),
        None => return Err(DateError::Ambiguous("two-digit year without an era")),
    };
    let ymd = Ymd {
        year,
        month: m,
        day: d,
    };
    if !(1..=12).contains(&m) || d == 0 || d > days_in_month(year, m) {
        return Err(DateError::Impossible(format!(
            "{year}-{m:02}-{d:02} does not exist"
        )));
    }
    if let Some(e) = era {
        let start = ERAS[e].start;
        let end = ERAS.get(e + 1).map(|n| n.start);
        if ymd < start || end.is_some_and(|end| ymd >= end) {
            let name = ERAS[e].names[0];
            let span = match end {
                Some(end) => format!("{}–{}", iso(start), iso(prev_day(end))),
                None => format!("from {}", iso(start)),
            };
            return Err(DateError::Impossible(format!(
                "{name}{y}年{m}月{d}日 ({}) is outside {name} ({span})",
                iso(ymd)
            )));
        }
    }
    Ok(ymd)
}

fn iso(d: Ymd) -> String {
    format(d, "%Y-%m-%d")
}

/// The day before `d` (for an era's last day).
fn prev_day(d: Ymd) -> Ymd {
    if d.day > 1 {
        Ymd {
            day: d.day - 1,
            ..d
        }
    } else if d.month > 1 {
        Ymd {
            month: d.month - 1,
            day: days_in_month(d.year, d.month - 1),
            ..d
        }
    } else {
        Ymd {
            year: d.year - 1,
            month: 12,
            day: 31,
        }
    }
}

/// Drop a trailing weekday in parentheses, as Japanese dates are often
/// written: `2024年1月5日(金)`, `(金曜)`, `(金曜日)`.
fn strip_weekday(s: &str) -> &str {
    let Some(inner) = s.strip_suffix(')') else {
        return s;
    };
    let Some(open) = inner.rfind('(') else {
        return s;
    };
    let day = inner[open + 1..].trim();
    let day = day
        .strip_suffix("曜日")
        .or_else(|| day.strip_suffix('曜'))
        .unwrap_or(day);
    if day.chars().count() == 1 && "日月火水木金土".contains(day) {
        &s[..open]
    } else {
        s
    }
}

/// An era prefix (`令和`, `令`, `R`, `r`) and the rest of the string.
fn split_era(s: &str) -> (Option<usize>, &str) {
    for (i, era) in ERAS.iter().enumerate() {
        for name in era.names {
            if let Some(rest) = s.strip_prefix(name) {
                return (Some(i), rest.trim_start());
            }
            // The one-letter Latin abbreviations also in lower case (`r5.4.1`).
            if name.len() == 1
                && s.len() > 1
                && s.as_bytes()[0].eq_ignore_ascii_case(&name.as_bytes()[0])
            {
                let rest = &s[1..];
                if rest.starts_with(|c: char| c.is_ascii_digit()) {
                    return (Some(i), rest);
                }
            }
        }
    }
    (None, s)
}

/// Numbers in a date string with their written length; `元` is 1. Any
/// separator is accepted between them, but letters are not.
fn number_tokens(s: &str) -> Result<Vec<(u32, usize)>, DateError> {
    let mut tokens = Vec::new();
    let mut cur = String::new();
    let flush = |cur: &mut String, tokens: &mut Vec<(u32, usize)>| -> Result<(), DateError> {
        if !cur.is_empty() {
            let n = if cur == "元" {
                1
            } else {
                text::parse_number(cur).ok_or(DateError::Unreadable)?
            };
            // The written length tells a four-digit year from a two-digit
            // one; a kanji numeral with units (二千二十四) is as long as its
            // value's digits, not as its characters.
            let len = if cur.contains(['十', '拾', '百', '千']) {
                n.to_string().len()
            } else {
                cur.chars().count()
            };
            tokens.push((n, len));
            cur.clear();
        }
        Ok(())
    };
    for c in s.chars() {
        if c.is_ascii_digit() || text::is_kanji_numeral(c) || c == '元' {
            cur.push(c);
        } else if matches!(c, '年' | '月' | '日' | '/' | '-' | '.' | ' ' | ',') {
            flush(&mut cur, &mut tokens)?;
        } else {
            return Err(DateError::Unreadable);
        }
    }
    flush(&mut cur, &mut tokens)?;
    Ok(tokens)
}

/// Write a date in a rule's format (`%Y %m %d %-m %-d`).
pub fn format(d: Ymd, fmt: &str) -> String {
    if fmt == "%Y-%m-%d" {
        return std::format!("{:04}-{:02}-{:02}", d.year, d.month, d.day);
    }
    fmt.replace("%Y", &format!("{:04}", d.year))
        .replace("%-m", &d.month.to_string())
        .replace("%-d", &d.day.to_string())
        .replace("%m", &format!("{:02}", d.month))
        .replace("%d", &format!("{:02}", d.day))
}

pub fn normalize(raw: &str, opts: &DateOptions) -> Normalized {
    let folded = text::fold(raw);
    if folded.is_empty() {
        return Normalized::empty();
    }
    match parse(&folded) {
        Ok(d) => Normalized {
            value: Some(format(d, &opts.format)),
            key: Some(format(d, "%Y-%m-%d")),
            ..Normalized::default()
        },
        Err(DateError::Unreadable) => {
            Normalized::invalid(IssueKind::InvalidDate, format!("`{folded}` is not a date"))
        }
        Err(DateError::Ambiguous(why)) => {
            Normalized::invalid(IssueKind::AmbiguousDate, format!("`{folded}`: {why}"))
        }
        Err(DateError::Impossible(what)) => {
            Normalized::invalid(IssueKind::ImpossibleDate, format!("`{folded}`: {what}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Option<String> {
        normalize(s, &DateOptions::default()).value
    }

    #[test]
    fn western_and_era() {
        assert_eq!(v("R5.4.1").as_deref(), Some("2023-04-01"));
        assert_eq!(v("2024年1月5日").as_deref(), Some("2024-01-05"));
        assert_eq!(v("20240105").as_deref(), Some("2024-01-05"));
        assert_eq!(v("㋿5.4.1").as_deref(), Some("2023-04-01"));
        assert_eq!(v("平成元年1月8日").as_deref(), Some("1989-01-08"));
        assert_eq!(v("令和元年5月1日").as_deref(), Some("2019-05-01"));
        assert_eq!(v("昭和六十四年一月七日").as_deref(), Some("1989-01-07"));
        assert_eq!(v("２０２４／０１／０５").as_deref(), Some("2024-01-05"));
        assert_eq!(v("二千二十四年一月五日").as_deref(), Some("2024-01-05"));
        assert_eq!(
            v("2024年1月5日(金) 10時30分").as_deref(),
            Some("2024-01-05")
        );
        assert_eq!(v("T1.7.30 10:00").as_deref(), Some("1912-07-30"));
    }

    #[test]
    fn era_boundaries_are_real() {
        assert_eq!(
            normalize("平成31年5月1日", &DateOptions::default()).issues[0]
                .kind
                .as_str(),
            "impossible_date"
        );
        assert_eq!(
            normalize("昭和64年1月8日", &DateOptions::default()).issues[0]
                .kind
                .as_str(),
            "impossible_date"
        );
        assert_eq!(v("平成31年4月30日").as_deref(), Some("2019-04-30"));
        assert_eq!(
            normalize("2023-02-29", &DateOptions::default()).issues[0]
                .kind
                .as_str(),
            "impossible_date"
        );
        assert_eq!(v("2024-02-29").as_deref(), Some("2024-02-29"));
    }

    #[test]
    fn huge_era_years_are_impossible_not_a_panic() {
        let n = normalize("R2147483647.1.1", &DateOptions::default());
        assert_eq!(n.issues[0].kind.as_str(), "impossible_date");
        assert_eq!(
            normalize("12345-01-01", &DateOptions::default()).issues[0]
                .kind
                .as_str(),
            "invalid_date"
        );
    }

    #[test]
    fn custom_format() {
        let o = DateOptions {
            format: "%Y年%-m月%-d日".into(),
        };
        assert_eq!(
            normalize("2024-01-05", &o).value.as_deref(),
            Some("2024年1月5日")
        );
    }
}
