//! Criterion benches for single normalizers on typical (messy) values.
//! `cargo bench --bench normalizers`

use criterion::{criterion_group, criterion_main, Criterion};
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

criterion_group!(benches, bench);
criterion_main!(benches);
