//! Criterion benches for single normalizers on typical (messy) values.
//! `cargo bench --bench normalizers`

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use nayose::gen::{self, GenOptions, Kind};
use nayose::normalize::Normalizer;
use nayose::record::FieldType;
use nayose::rules::Rules;
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    let n = Normalizer::new(&Rules::default_rules());
    let cases: [(FieldType, &str); 11] = [
        (FieldType::Text, "ＡＢＣ　ｶﾌﾞｼｷ　テスト①"),
        (
            FieldType::CompanyName,
            "ダイハツ北海道販売　（株）　札幌支店",
        ),
        (FieldType::CompanyKana, "ｶ)ﾀﾞｲﾊﾂﾎﾂｶｲﾄﾞｳﾊﾝﾊﾞｲ"),
        (FieldType::PersonName, "髙橋　一郎 様"),
        (FieldType::PersonKana, "たかはし いちろう"),
        (FieldType::Address, "千代田区霞が関1-2-1 霞が関ビル5F"),
        (FieldType::PostalCode, "〒１００－８９７７"),
        (FieldType::Phone, "(03)3581-4111"),
        (FieldType::Email, "ＩＮＦＯ＠ＥＸＡＭＰＬＥ．ＣＯ．ＪＰ"),
        (FieldType::Date, "平成5年4月1日"),
        (FieldType::CorporateNumber, "T7000012050002"),
    ];
    for (t, v) in cases {
        // Warm lazily built tables (master data) outside the measurement.
        black_box(n.normalize(t, v));
        c.bench_function(&format!("normalize/{t}"), |b| {
            b.iter(|| n.normalize(black_box(t), black_box(v)))
        });
    }
}

/// Addresses a second, one thread, over two mixes: the golden cases (every
/// hard notation: Kyoto streets, shared ward names, lots in kanji, notes,
/// refusals) and 10,000 generated customer addresses (the common case). The
/// per-city town indexes are warm, as they are after the first rows of a file.
fn address_mixes(c: &mut Criterion) {
    let n = Normalizer::new(&Rules::default_rules());
    let golden_path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/normalize/address.tsv");
    let golden: Vec<String> = std::fs::read_to_string(golden_path)
        .expect("fixtures/normalize/address.tsv")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.split('\t').next().unwrap_or("").replace("\\s", " "))
        .collect();
    let mut generated = Vec::new();
    for kind in [Kind::BtoC, Kind::BtoB] {
        let g = gen::generate(&GenOptions::new(kind, 5_000, 1));
        // The headers start with `id`; a row's fields do not.
        let col = g.headers[1..]
            .iter()
            .position(|h| *h == "住所")
            .expect("an address column");
        generated.extend(g.rows.into_iter().map(|r| r.fields[col].clone()));
    }
    let mut group = c.benchmark_group("address");
    for (name, values) in [("golden", &golden), ("generated", &generated)] {
        for v in values.iter() {
            black_box(n.normalize(FieldType::Address, v));
        }
        group.throughput(Throughput::Elements(values.len() as u64));
        group.bench_function(name, |b| {
            b.iter(|| {
                for v in values.iter() {
                    black_box(n.normalize(FieldType::Address, black_box(v)));
                }
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench, address_mixes);
criterion_main!(benches);
